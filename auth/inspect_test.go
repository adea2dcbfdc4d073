package auth_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/agcurl/agcurl/auth"
	"github.com/agcurl/agcurl/internal/testop"
)

// jwksServer serves one RSA public key, key id "k1", at /jwks: with status
// 200, or what *status says; hits counts the requests.
type jwksServer struct {
	key    *rsa.PrivateKey
	url    string
	client *http.Client
	status atomic.Int32
	body   atomic.Value // string: served instead of the key set when set
	hits   atomic.Int64
}

func newJWKSServer(t *testing.T) *jwksServer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	js := &jwksServer{key: key}
	set, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		js.hits.Add(1)
		if s := js.status.Load(); s != 0 {
			http.Error(w, "keys are down", int(s))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if b, ok := js.body.Load().(string); ok {
			_, _ = w.Write([]byte(b))
			return
		}
		_, _ = w.Write(set)
	}))
	t.Cleanup(srv.Close)
	js.url, js.client = srv.URL+"/jwks", srv.Client()
	return js
}

func (js *jwksServer) authClient() *auth.Client {
	return &auth.Client{Provider: &auth.ProviderInfo{Issuer: "https://issuer.example", JWKSURI: js.url}, ClientID: "cli", HTTP: js.client}
}

// sign makes a JWT of claims, signed with key under key id kid.
func sign(t *testing.T, key *rsa.PrivateKey, kid string, claims map[string]any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func seg(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestInspectJWTValid(t *testing.T) {
	js := newJWKSServer(t)
	exp := time.Now().Add(10 * time.Minute).Truncate(time.Second)
	raw := sign(t, js.key, "k1", map[string]any{"sub": "alice", "exp": exp.Unix(), "iat": 1.5e9,
		auth.ClaimAuthgearRoles: []string{"admin"}})
	info, err := js.authClient().InspectJWT(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	want := auth.SignatureCheck{Checked: true, Valid: true, Alg: "RS256", KeyID: "k1"}
	if info.Signature != want {
		t.Fatalf("signature %+v, want %+v", info.Signature, want)
	}
	if info.Claims["sub"] != "alice" || info.Header["typ"] != "JWT" || info.Header["kid"] != "k1" {
		t.Fatalf("header %v, claims %v", info.Header, info.Claims)
	}
	if got, ok := info.Time("exp"); !ok || !got.Equal(exp) {
		t.Fatalf("exp: %v %v, want %v", got, ok, exp)
	}
	if got, ok := info.Time("iat"); !ok || got.Unix() != 1.5e9 {
		t.Fatalf("iat: %v %v", got, ok)
	}
	if _, ok := info.Time("sub"); ok {
		t.Fatal("sub read as a time")
	}
	if _, ok := info.Time("nbf"); ok {
		t.Fatal("a missing nbf read as a time")
	}
	// Numbers keep their exact value.
	if n, ok := info.Claims["exp"].(json.Number); !ok || n.String() != strconv.FormatInt(exp.Unix(), 10) {
		t.Fatalf("exp is %T %v", info.Claims["exp"], info.Claims["exp"])
	}
}

func TestInspectJWTInvalidSignatures(t *testing.T) {
	js := newJWKSServer(t)
	c := js.authClient()
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	good := sign(t, js.key, "k1", map[string]any{"sub": "alice"})
	parts := strings.Split(good, ".")
	for name, tc := range map[string]struct {
		raw    string
		reason string
	}{
		"claims changed":       {parts[0] + "." + seg(map[string]any{"sub": "mallory"}) + "." + parts[2], `with key id "k1"`},
		"another key, same id": {sign(t, other, "k1", map[string]any{"sub": "alice"}), `with key id "k1"`},
		"unknown key id":       {sign(t, other, "k9", map[string]any{"sub": "alice"}), `with key id "k9"`},
		"no signature":         {parts[0] + "." + parts[1] + ".", "no signature"},
	} {
		info, err := c.InspectJWT(context.Background(), tc.raw)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if s := info.Signature; !s.Checked || s.Valid || !strings.Contains(s.Reason, tc.reason) {
			t.Errorf("%s: signature %+v, want invalid, saying %q", name, s, tc.reason)
		}
		if info.Claims["sub"] == nil {
			t.Errorf("%s: the claims are not shown", name)
		}
	}
}

// alg none is invalid at once: no keys are fetched.
func TestInspectJWTAlgNone(t *testing.T) {
	js := newJWKSServer(t)
	raw := seg(map[string]any{"alg": "none"}) + "." + seg(map[string]any{"sub": "mallory"}) + "."
	info, err := js.authClient().InspectJWT(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	if s := info.Signature; !s.Checked || s.Valid || s.Alg != "none" || !strings.Contains(s.Reason, "not signed") {
		t.Fatalf("signature %+v", s)
	}
	if info.Claims["sub"] != "mallory" {
		t.Fatalf("claims %v", info.Claims)
	}
	for _, alg := range []string{"HS256", "ES256K"} {
		raw := seg(map[string]any{"alg": alg}) + "." + seg(map[string]any{"sub": "x"}) + ".c2ln"
		info, err := js.authClient().InspectJWT(context.Background(), raw)
		if err != nil {
			t.Fatal(err)
		}
		if s := info.Signature; s.Checked || s.Valid || !strings.Contains(s.Reason, alg) {
			t.Fatalf("alg %s: signature %+v, want not checked", alg, s)
		}
	}
	raw = seg(map[string]any{"typ": "JWT"}) + "." + seg(map[string]any{"sub": "x"}) + ".c2ln"
	if info, _ := js.authClient().InspectJWT(context.Background(), raw); !info.Signature.Checked || info.Signature.Valid {
		t.Fatalf("no alg: signature %+v, want invalid", info.Signature)
	}
	if n := js.hits.Load(); n != 0 {
		t.Fatalf("%d requests for keys that could not help", n)
	}
}

func TestInspectJWTMalformed(t *testing.T) {
	js := newJWKSServer(t)
	hdr, body := seg(map[string]any{"alg": "RS256"}), seg(map[string]any{"sub": "x"})
	for name, raw := range map[string]string{
		"opaque":                "rt_0123456789abcdef",
		"two parts":             hdr + "." + body,
		"JWE":                   hdr + ".a.b.c.d",
		"header not base64url":  "eyJ!!!." + body + ".c2ln",
		"claims not base64url":  hdr + ".e30=." + "c2ln",
		"signature not base64":  hdr + "." + body + ".***",
		"claims not an object":  hdr + "." + seg([]int{1}) + ".c2ln",
		"header not JSON":       base64.RawURLEncoding.EncodeToString([]byte("alg")) + "." + body + ".c2ln",
		"trailing data":         base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256"}{}`)) + "." + body + ".c2ln",
		"padded claims segment": hdr + "." + base64.URLEncoding.EncodeToString([]byte(`{"sub":"x"}`)) + ".c2ln",
	} {
		_, err := js.authClient().InspectJWT(context.Background(), raw)
		var m *auth.MalformedJWTError
		if !errors.As(err, &m) {
			t.Errorf("%s: want a *MalformedJWTError, got %v", name, err)
		}
		if _, err := auth.DecodeJWT(raw); !errors.As(err, &m) {
			t.Errorf("%s: DecodeJWT: want a *MalformedJWTError, got %v", name, err)
		}
	}
	if n := js.hits.Load(); n != 0 {
		t.Fatalf("%d requests for keys for tokens that are not JWTs", n)
	}
	if !auth.LooksLikeJWT(hdr+"."+body+".c2ln") || auth.LooksLikeJWT("rt_abc") || auth.LooksLikeJWT("a.b.c") {
		t.Fatal("LooksLikeJWT")
	}
}

// Keys that cannot be had leave the signature unchecked, which is not
// invalid; the claims are still read.
func TestInspectJWTKeysUnavailable(t *testing.T) {
	js := newJWKSServer(t)
	raw := sign(t, js.key, "k1", map[string]any{"sub": "alice"})

	js.status.Store(http.StatusServiceUnavailable)
	info, err := js.authClient().InspectJWT(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	if s := info.Signature; s.Checked || s.Valid || !strings.Contains(s.Reason, "could not be fetched") || !strings.Contains(s.Reason, "503") {
		t.Fatalf("503: signature %+v, want not checked", s)
	}
	if info.Claims["sub"] != "alice" {
		t.Fatalf("claims %v", info.Claims)
	}

	js.status.Store(0)
	js.body.Store("this is not a key set")
	info, err = js.authClient().InspectJWT(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	if s := info.Signature; s.Checked || s.Valid || !strings.Contains(s.Reason, "could not be read") {
		t.Fatalf("garbage keys: signature %+v, want not checked", s)
	}

	c := js.authClient()
	c.Provider.JWKSURI = ""
	if info, _ := c.InspectJWT(context.Background(), raw); info.Signature.Checked {
		t.Fatalf("no jwks_uri: signature %+v, want not checked", info.Signature)
	}
	c.Provider.JWKSURI = "http://keys.example.com/jwks"
	if info, _ := c.InspectJWT(context.Background(), raw); info.Signature.Checked || !strings.Contains(info.Signature.Reason, "non-https") {
		t.Fatalf("cleartext jwks_uri: signature %+v, want not checked", info.Signature)
	}

	// Unreachable.
	c = js.authClient()
	c.Provider.JWKSURI = "http://127.0.0.1:1/jwks"
	info, err = c.InspectJWT(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	if s := info.Signature; s.Checked || !strings.Contains(s.Reason, "could not be fetched") {
		t.Fatalf("unreachable: signature %+v, want not checked", s)
	}
}

// The JWKS is read through the capped client.
func TestInspectJWTKeysTooLarge(t *testing.T) {
	js := newJWKSServer(t)
	raw := sign(t, js.key, "k1", map[string]any{"sub": "alice"})
	js.body.Store(`{"keys":[` + strings.Repeat(" ", auth.MaxResponseBytes) + `]}`)
	info, err := js.authClient().InspectJWT(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	if s := info.Signature; s.Checked || !strings.Contains(s.Reason, auth.ErrResponseTooLarge.Error()) {
		t.Fatalf("signature %+v, want not checked: too large", s)
	}
}

// Against the bundled provider: its JWT access tokens and ID tokens verify
// with its published keys.
func TestInspectJWTAtTheProvider(t *testing.T) {
	srv := startOP(t, testop.Options{JWTAccessTokens: true})
	info := discover(t, srv)
	s := login(t, srv, info)
	for name, raw := range map[string]string{"access token": s.AccessToken, "ID token": s.IDToken} {
		got, err := cli(info).InspectJWT(context.Background(), raw)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if sig := got.Signature; !sig.Checked || !sig.Valid || sig.Alg != "RS256" || sig.KeyID == "" {
			t.Fatalf("%s: signature %+v", name, sig)
		}
		if got.Claims["sub"] != "alice" {
			t.Fatalf("%s: claims %v", name, got.Claims)
		}
	}
}
