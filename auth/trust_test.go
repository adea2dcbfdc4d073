package auth_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/agcurl/agcurl/auth"
	"github.com/agcurl/agcurl/internal/browser"
	"github.com/agcurl/agcurl/internal/testop"
	"github.com/agcurl/agcurl/keychain"
)

// loginWithFinish runs a browser login whose Finish is finish, and returns
// the login's error and the channel on which the browser reports the page
// it was shown (nil for a 200 "Signed in" page).
func loginWithFinish(t *testing.T, info *auth.ProviderInfo, finish func(*keychain.Session) error) (error, chan error) {
	t.Helper()
	page := make(chan error, 1)
	_, err := cli(info).Login(context.Background(), auth.LoginOptions{
		RedirectURI: "http://127.0.0.1:53682/callback", RandomPort: true,
		Browser: browser.Async{Errs: page}, ShowURL: func(string, error) {},
		Finish: finish, Timeout: 20 * time.Second,
	})
	return err, page
}

// The browser is told "signed in" only after the session was verified and
// saved (trust issue, point 14).
func TestLoginPageWaitsForTheSave(t *testing.T) {
	srv := startOP(t, testop.Options{})
	info := discover(t, srv)

	entered, release := make(chan struct{}), make(chan struct{})
	page := make(chan error, 1)
	done := make(chan error, 1)
	go func() {
		_, err := cli(info).Login(context.Background(), auth.LoginOptions{
			RedirectURI: "http://127.0.0.1:53682/callback", RandomPort: true,
			Browser: browser.Async{Errs: page}, ShowURL: func(string, error) {},
			Finish:  func(*keychain.Session) error { close(entered); <-release; return nil },
			Timeout: 20 * time.Second,
		})
		done <- err
	}()
	select {
	case <-entered:
	case <-time.After(20 * time.Second):
		t.Fatal("Finish was never called")
	}
	select {
	case err := <-page:
		t.Fatalf("the browser got its page (%v) before the session was saved", err)
	case <-time.After(300 * time.Millisecond):
	}
	close(release)
	if err := <-page; err != nil {
		t.Fatalf("browser: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// A login that fails after the redirect (a forged, unsigned ID token; a
// failed save) shows the failure, escaped, not "signed in".
func TestLoginPageShowsFailure(t *testing.T) {
	srv := startOP(t, testop.Options{})
	info := discover(t, srv)

	srv.Forge("", "none", map[string]any{})
	err, page := loginWithFinish(t, info, func(*keychain.Session) error {
		t.Error("Finish called for a login whose ID token is unsigned")
		return nil
	})
	var idErr *auth.IDTokenError
	if !errors.As(err, &idErr) {
		t.Fatalf("want an IDTokenError, got %v", err)
	}
	if perr := <-page; perr == nil || !strings.Contains(perr.Error(), "Login failed") || strings.Contains(perr.Error(), "Signed in") {
		t.Fatalf("page: %v", perr)
	}

	err, page = loginWithFinish(t, info, func(*keychain.Session) error { return errors.New("disk <b>full</b>") })
	if err == nil || !strings.Contains(err.Error(), "disk <b>full</b>") {
		t.Fatalf("want the save's error, got %v", err)
	}
	perr := <-page
	if perr == nil || !strings.Contains(perr.Error(), "disk &lt;b&gt;full&lt;/b&gt;") {
		t.Fatalf("page should show the escaped failure: %v", perr)
	}
}

// endless writes prefix, then filler until the client goes away.
func endless(w http.ResponseWriter, r *http.Request, prefix string) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(prefix))
	chunk := []byte(strings.Repeat("a", 64<<10))
	for r.Context().Err() == nil {
		if _, err := w.Write(chunk); err != nil {
			return
		}
	}
}

// hostileOP is a provider whose discovery, JWKS or userinfo never ends.
func hostileOP(t *testing.T, endlessPath string) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		if endlessPath == "/.well-known/openid-configuration" {
			endless(w, r, `{"issuer":"`)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": srv.URL, "authorization_endpoint": srv.URL + "/authorize", "token_endpoint": srv.URL + "/token",
			"jwks_uri": srv.URL + "/jwks", "userinfo_endpoint": srv.URL + "/userinfo",
		})
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) { endless(w, r, `{"keys":[{"kid":"`) })
	mux.HandleFunc("/userinfo", func(w http.ResponseWriter, r *http.Request) { endless(w, r, `{"sub":"`) })
	mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		enc := base64.RawURLEncoding
		claims, _ := json.Marshal(map[string]any{"iss": srv.URL, "sub": "alice", "aud": "cli", "exp": time.Now().Add(time.Hour).Unix()})
		w.Header().Set("Content-Type", "application/json")
		idt := enc.EncodeToString([]byte(`{"alg":"RS256","kid":"k"}`)) + "." + enc.EncodeToString(claims) + "." + enc.EncodeToString([]byte("sig"))
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 60, "id_token": idt})
	})
	srv = httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// Every provider response is read with a size cap (trust issue, point 15):
// an endless discovery document, JWKS or userinfo is a clear error, not
// unbounded memory.
func TestProviderResponsesAreCapped(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	srv := hostileOP(t, "/.well-known/openid-configuration")
	_, err := auth.Discover(ctx, srv.Client(), srv.URL)
	if !errors.Is(err, auth.ErrResponseTooLarge) {
		t.Fatalf("endless discovery: want ErrResponseTooLarge, got %v", err)
	}

	srv = hostileOP(t, "/jwks")
	info, err := auth.Discover(ctx, srv.Client(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	_, err = (&auth.Client{Provider: info, ClientID: "cli", HTTP: srv.Client()}).WithRefreshToken(ctx, "rt")
	if err == nil || !strings.Contains(err.Error(), "exceeds 1024 KiB") {
		t.Fatalf("endless JWKS: want the size error, got %v", err)
	}

	_, err = (&auth.Client{Provider: info, ClientID: "cli", HTTP: srv.Client()}).UserInfo(ctx, "at", "alice")
	if !errors.Is(err, auth.ErrResponseTooLarge) {
		t.Fatalf("endless userinfo: want ErrResponseTooLarge, got %v", err)
	}
	if ctx.Err() != nil {
		t.Fatal("the capped reads did not return before the deadline")
	}
}

// The cached provider data is checked like discovery's (trust issue,
// point 7).
func TestCheckProvider(t *testing.T) {
	good := func() *auth.ProviderInfo {
		return &auth.ProviderInfo{Issuer: "https://id.example", AuthorizationEndpoint: "https://id.example/a",
			TokenEndpoint: "https://id.example/t", JWKSURI: "https://id.example/k", UserinfoEndpoint: "http://127.0.0.1:9/u"}
	}
	if err := auth.CheckProvider(good(), "https://id.example"); err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(*auth.ProviderInfo){
		"issuer":     func(p *auth.ProviderInfo) { p.Issuer = "https://evil.example" },
		"token":      func(p *auth.ProviderInfo) { p.TokenEndpoint = "http://evil.example/t" },
		"revocation": func(p *auth.ProviderInfo) { p.RevocationEndpoint = "http://evil.example/r" },
		"userinfo":   func(p *auth.ProviderInfo) { p.UserinfoEndpoint = "ftp://127.0.0.1/u" },
		"device":     func(p *auth.ProviderInfo) { p.DeviceAuthorizationEndpoint = "http://10.0.0.1/d" },
		"jwks":       func(p *auth.ProviderInfo) { p.JWKSURI = "" },
		"userinfo@":  func(p *auth.ProviderInfo) { p.UserinfoEndpoint = "https://user:pw@id.example/u" },
	} {
		p := good()
		mutate(p)
		if err := auth.CheckProvider(p, "https://id.example"); err == nil {
			t.Errorf("%s: a bad provider passed the check", name)
		}
	}
}
