package auth

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// Authgear's custom claims, in its access and ID tokens.
const (
	ClaimAuthgearRoles             = "https://authgear.com/claims/user/roles"
	ClaimAuthgearIsAnonymous       = "https://authgear.com/claims/user/is_anonymous"
	ClaimAuthgearIsVerified        = "https://authgear.com/claims/user/is_verified"
	ClaimAuthgearCanReauthenticate = "https://authgear.com/claims/user/can_reauthenticate"
)

// JWTInfo is what a JWT says of itself, read without trusting it, and what
// became of the check of its signature against the provider's keys.
type JWTInfo struct {
	// Header and Claims are the decoded JOSE header and claims set, as
	// the token states them; numbers are json.Number, so that they keep
	// their exact value. Everything in them is unverified unless
	// Signature.Valid, and even then only the provider vouches for it.
	Header map[string]any
	Claims map[string]any
	// Signature is the result of the signature check; DecodeJWT leaves
	// it unchecked.
	Signature SignatureCheck
}

// SignatureCheck is the outcome of checking a JWT's signature against the
// provider's published keys (JWKS).
type SignatureCheck struct {
	// Checked reports that a verdict was reached: Valid is then true or
	// false for a reason. When not Checked (the keys could not be fetched,
	// or the algorithm is one public keys cannot check), Reason says why
	// and nothing is known of the signature.
	Checked bool
	Valid   bool
	// Alg and KeyID are the header's alg and kid.
	Alg   string
	KeyID string
	// Reason says why the signature is invalid or was not checked; it is
	// empty when the signature is valid. It quotes the token's own text,
	// which is untrusted.
	Reason string
}

// MalformedJWTError reports a token that is not a JWS compact
// serialization with a JSON header and a JSON claims set: an opaque token,
// or a broken JWT.
type MalformedJWTError struct{ Reason string }

func (e *MalformedJWTError) Error() string { return "not a JWT: " + e.Reason }

// LooksLikeJWT reports whether raw has the shape of a JWS compact
// serialization (three dot-separated parts, the first a base64url-encoded
// JSON object), as opposed to an opaque token. It checks nothing more.
func LooksLikeJWT(raw string) bool {
	parts := strings.Split(raw, ".")
	return len(parts) == 3 && strings.HasPrefix(parts[0], "eyJ")
}

// DecodeJWT decodes raw's header and claims without verifying anything.
// It fails with a *MalformedJWTError when raw is not a JWT.
func DecodeJWT(raw string) (*JWTInfo, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, &MalformedJWTError{Reason: fmt.Sprintf("it has %d dot-separated parts, not 3", len(parts))}
	}
	header, err := decodeSegment(parts[0], "header")
	if err != nil {
		return nil, err
	}
	claims, err := decodeSegment(parts[1], "claims")
	if err != nil {
		return nil, err
	}
	if _, err := base64.RawURLEncoding.DecodeString(parts[2]); err != nil {
		return nil, &MalformedJWTError{Reason: "its signature is not base64url"}
	}
	info := &JWTInfo{Header: header, Claims: claims}
	info.Signature.Alg, _ = header["alg"].(string)
	info.Signature.KeyID, _ = header["kid"].(string)
	info.Signature.Reason = "not checked"
	return info, nil
}

// decodeSegment decodes one base64url part of a JWT that must hold a JSON
// object.
func decodeSegment(seg, what string) (map[string]any, error) {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return nil, &MalformedJWTError{Reason: "its " + what + " is not base64url"}
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil || m == nil {
		return nil, &MalformedJWTError{Reason: "its " + what + " is not a JSON object"}
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, &MalformedJWTError{Reason: "its " + what + " has data after the JSON object"}
	}
	return m, nil
}

// Time returns the claim name as a time, for the NumericDate claims (exp,
// iat, nbf, auth_time; RFC 7519 2): false when it is missing or not a
// number.
func (i *JWTInfo) Time(name string) (time.Time, bool) {
	n, ok := i.Claims[name].(json.Number)
	if !ok {
		return time.Time{}, false
	}
	f, err := n.Float64()
	// RFC 3339 can write years 0000 to 9999 only; a NumericDate outside
	// 1970..9999 is not a time worth showing as one.
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) || f < 0 || f > 253402300799 {
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), true
}

// InspectJWT decodes raw as DecodeJWT does and checks its signature
// against the provider's keys (c.Provider.JWKSURI), fetched through the
// capped client. Only the signature is checked: not the issuer, audience
// or times, which the caller can read from Claims. A provider whose keys
// cannot be fetched leaves the signature unchecked, which is not the same
// as invalid. The error is a *MalformedJWTError for a token that is not a
// JWT, or the context's error.
func (c *Client) InspectJWT(ctx context.Context, raw string) (*JWTInfo, error) {
	info, err := DecodeJWT(raw)
	if err != nil {
		return nil, err
	}
	info.Signature = c.checkSignature(ctx, raw, info.Signature.Alg, info.Signature.KeyID)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return info, nil
}

// jwsAlgs are the signature algorithms public keys can check, as go-oidc
// accepts them.
var jwsAlgs = map[string]bool{
	oidc.RS256: true, oidc.RS384: true, oidc.RS512: true,
	oidc.ES256: true, oidc.ES384: true, oidc.ES512: true,
	oidc.PS256: true, oidc.PS384: true, oidc.PS512: true,
	oidc.EdDSA: true,
}

func (c *Client) checkSignature(ctx context.Context, raw, alg, kid string) SignatureCheck {
	invalid := func(reason string) SignatureCheck {
		return SignatureCheck{Checked: true, Alg: alg, KeyID: kid, Reason: reason}
	}
	unchecked := func(reason string) SignatureCheck {
		return SignatureCheck{Alg: alg, KeyID: kid, Reason: reason}
	}
	switch {
	case alg == "":
		return invalid("its header names no signature algorithm (alg)")
	case strings.EqualFold(alg, "none"):
		return invalid("it is not signed (alg none)")
	case strings.HasPrefix(strings.ToUpper(alg), "HS"):
		return unchecked(fmt.Sprintf("alg %s is a shared-secret (HMAC) signature, which the provider's public keys cannot check", alg))
	case !jwsAlgs[alg]:
		return unchecked(fmt.Sprintf("alg %s is not a supported signature algorithm", alg))
	case strings.HasSuffix(raw, "."):
		return invalid("it has no signature")
	}
	if c.Provider == nil || c.Provider.JWKSURI == "" {
		return unchecked("the provider advertises no keys (jwks_uri)")
	}
	if err := checkSecureURL(c.Provider.JWKSURI); err != nil {
		return unchecked("the provider's keys (jwks_uri): " + err.Error())
	}
	hc := httpClient(c.HTTP)
	probe := &keysProbe{base: hc.Transport}
	kc := *hc
	kc.Transport = probe
	ks := oidc.NewRemoteKeySet(oidc.ClientContext(ctx, &kc), c.Provider.JWKSURI)
	_, err := ks.VerifySignature(ctx, raw)
	switch {
	case err == nil:
		return SignatureCheck{Checked: true, Valid: true, Alg: alg, KeyID: kid}
	case ctx.Err() != nil:
		return unchecked(ctx.Err().Error())
	case probe.failure() != "":
		return unchecked("the provider's keys (JWKS) could not be fetched: " + probe.failure())
	case tooLarge(err):
		return unchecked("the provider's keys (JWKS) could not be read: " + ErrResponseTooLarge.Error())
	case strings.HasPrefix(err.Error(), "fetching keys"):
		return unchecked("the provider's keys (JWKS) could not be read: " + firstLine(strings.TrimPrefix(err.Error(), "fetching keys "), 200))
	case strings.HasPrefix(err.Error(), "oidc: malformed jwt"):
		return invalid("the signature cannot be parsed: " + firstLine(strings.TrimPrefix(err.Error(), "oidc: malformed jwt: "), 200))
	case kid != "":
		return invalid(fmt.Sprintf("no key of the provider's (JWKS) with key id %q verifies it", kid))
	}
	return invalid("no key of the provider's (JWKS) verifies it")
}

// keysProbe records the first failed request for the provider's keys (a
// network error or an error status), so that an outage can be told from
// an invalid signature and named.
type keysProbe struct {
	base http.RoundTripper
	mu   sync.Mutex
	fail string
}

func (k *keysProbe) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := k.base.RoundTrip(req)
	var what string
	switch {
	case tooLarge(err):
		what = ErrResponseTooLarge.Error()
	case err != nil:
		what = shortNetError(&url.Error{Op: req.Method, URL: req.URL.Redacted(), Err: err})
	case resp.StatusCode >= 400:
		what = "the provider answered " + resp.Status
	}
	if what != "" {
		k.mu.Lock()
		if k.fail == "" {
			k.fail = what
		}
		k.mu.Unlock()
	}
	return resp, err
}

func (k *keysProbe) failure() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.fail
}
