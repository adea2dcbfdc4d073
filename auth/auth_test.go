package auth_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agcurl/agcurl/auth"
	"github.com/agcurl/agcurl/internal/browser"
	"github.com/agcurl/agcurl/internal/testop"
	"github.com/agcurl/agcurl/keychain"
)

type dirLocker string

func (d dirLocker) LockSession(ctx context.Context, profile string) (func(), error) {
	return keychain.LockSession(ctx, string(d), profile)
}

// cli is the CLI client at the test provider.
func cli(info *auth.ProviderInfo) *auth.Client {
	return &auth.Client{Provider: info, ClientID: testop.CLIClientID}
}

func startOP(t *testing.T, opts testop.Options) *testop.Server {
	t.Helper()
	srv, err := testop.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

func discover(t *testing.T, srv *testop.Server) *auth.ProviderInfo {
	t.Helper()
	info, err := auth.Discover(context.Background(), http.DefaultClient, srv.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

func login(t *testing.T, srv *testop.Server, info *auth.ProviderInfo) *keychain.Session {
	t.Helper()
	errs := make(chan error, 1)
	s, err := cli(info).Login(context.Background(), auth.LoginOptions{
		RedirectURI: "http://127.0.0.1:53682/callback",
		RandomPort:  true,
		Browser:     browser.Async{Errs: errs},
		ShowURL:     func(string, error) {},
		Timeout:     20 * time.Second,
	})
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	if err := <-errs; err != nil {
		t.Fatalf("browser: %v", err)
	}
	return s
}

func TestDiscover(t *testing.T) {
	srv := startOP(t, testop.Options{})
	info := discover(t, srv)
	if info.Issuer != srv.Issuer || info.TokenEndpoint != srv.Issuer+"/oauth2/token" || info.RevocationEndpoint != srv.Issuer+"/oauth2/revoke" {
		t.Fatalf("unexpected discovery: %+v", info)
	}
	// A trailing slash in the endpoint is an issuer mismatch unless normalized.
	if _, err := auth.Discover(context.Background(), http.DefaultClient, srv.Issuer+"/"); err == nil || !strings.Contains(err.Error(), "issuer mismatch") {
		t.Fatalf("want issuer mismatch, got %v", err)
	}
	if _, err := auth.Discover(context.Background(), http.DefaultClient, "http://127.0.0.1:1"); err == nil || !strings.Contains(err.Error(), "could not reach") {
		t.Fatalf("want unreachable, got %v", err)
	}
	if _, err := auth.Discover(context.Background(), http.DefaultClient, srv.APIURL); err == nil {
		t.Fatal("API origin has no discovery; want error")
	}
}

func TestNormalizeEndpoint(t *testing.T) {
	for in, want := range map[string]string{
		"https://myapp.authgear.cloud/": "https://myapp.authgear.cloud",
		"http://127.0.0.1:8080":         "http://127.0.0.1:8080",
		"http://localhost:1/":           "http://localhost:1",
	} {
		got, err := auth.NormalizeEndpoint(in)
		if err != nil || got != want {
			t.Errorf("NormalizeEndpoint(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"myapp.authgear.cloud", "http://example.com", "ftp://x", "https://x/?a=b", ""} {
		if _, err := auth.NormalizeEndpoint(bad); err == nil {
			t.Errorf("NormalizeEndpoint(%q): want error", bad)
		}
	}
}

func TestLoginVerifiesAndReturnsSession(t *testing.T) {
	srv := startOP(t, testop.Options{})
	info := discover(t, srv)
	s := login(t, srv, info)
	if s.RefreshToken == "" || s.AccessToken == "" || s.IDToken == "" || s.Subject != "alice" {
		t.Fatalf("incomplete session: sub=%q rt=%v at=%v", s.Subject, s.RefreshToken != "", s.AccessToken != "")
	}
	if got := s.Expiry.Sub(s.ObtainedAt); got < 1790*time.Second || got > 1800*time.Second {
		t.Fatalf("expiry %v after obtained, want ~1800s", got)
	}
	claims, err := cli(info).UserInfo(context.Background(), s.AccessToken, s.Subject)
	if err != nil || !strings.Contains(string(claims), `"sub":"alice"`) {
		t.Fatalf("userinfo: %s %v", claims, err)
	}
}

func TestLoginDenied(t *testing.T) {
	srv := startOP(t, testop.Options{DenyLogin: true})
	info := discover(t, srv)
	_, err := cli(info).Login(context.Background(), auth.LoginOptions{
		RandomPort: true,
		Browser:    browser.Async{}, ShowURL: func(string, error) {}, Timeout: 20 * time.Second,
	})
	var pe *auth.ProviderError
	if !errors.As(err, &pe) || pe.Code != "access_denied" || !strings.Contains(err.Error(), "denied") {
		t.Fatalf("want access_denied, got %v", err)
	}
}

func TestLoginStateMismatchIgnoredThenTimeout(t *testing.T) {
	srv := startOP(t, testop.Options{})
	info := discover(t, srv)
	var authURL string
	_, err := cli(info).Login(context.Background(), auth.LoginOptions{
		RandomPort: true,
		ShowURL: func(u string, _ error) {
			authURL = u
			// A forged callback with the wrong state must be refused.
			ru := redirectFrom(t, u)
			resp, err := http.Get(ru + "?code=forged&state=wrong")
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("forged callback got %s", resp.Status)
			}
		},
		Timeout: 300 * time.Millisecond,
	})
	if !errors.Is(err, auth.ErrLoginTimeout) || authURL == "" {
		t.Fatalf("want timeout, got %v", err)
	}
}

func redirectFrom(t *testing.T, authURL string) string {
	t.Helper()
	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("redirect_uri")
}

func TestLoginAuthURLParams(t *testing.T) {
	srv := startOP(t, testop.Options{})
	info := discover(t, srv)
	ctx, cancel := context.WithCancel(context.Background())
	var got string
	_, err := cli(info).Login(ctx, auth.LoginOptions{
		RandomPort: true,
		Prompt:     "login", LoginHint: "alice@example.com", Signup: true,
		ShowURL: func(u string, _ error) { got = u; cancel() },
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want cancel, got %v", err)
	}
	for _, want := range []string{"code_challenge_method=S256", "x_sso_enabled=false", "prompt=login", "x_page=signup",
		"login_hint=alice%40example.com", "nonce=", "state=", "scope=openid+offline_access+https%3A%2F%2Fauthgear.com%2Fscopes%2Ffull-access"} {
		if !strings.Contains(got, want) {
			t.Errorf("auth URL lacks %q: %s", want, got)
		}
	}
	if strings.Contains(got, "x_device_info") {
		t.Error("auth URL must not send x_device_info")
	}
}

func TestLoginPortBusy(t *testing.T) {
	srv := startOP(t, testop.Options{})
	info := discover(t, srv)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = cli(info).Login(context.Background(), auth.LoginOptions{
		RedirectURI: "http://" + ln.Addr().String() + "/callback",
		ShowURL:     func(string, error) {},
	})
	var busy *auth.PortBusyError
	if !errors.As(err, &busy) || busy.Addr != ln.Addr().String() {
		t.Fatalf("want port busy, got %v", err)
	}
}

func newRefresher(t *testing.T, srv *testop.Server, info *auth.ProviderInfo, store auth.SessionStore, dir string) *auth.Refresher {
	return &auth.Refresher{
		Profile: "default", Client: cli(info),
		Store: store, Locker: dirLocker(dir),
	}
}

func TestRefresherFastPathAndRefresh(t *testing.T) {
	srv := startOP(t, testop.Options{RotateRefreshTokens: true})
	info := discover(t, srv)
	store := &keychain.MemoryStore{}
	s := login(t, srv, info)
	if err := store.Save("default", s); err != nil {
		t.Fatal(err)
	}
	r := newRefresher(t, srv, info, store, t.TempDir())

	got, err := r.Token(context.Background())
	if err != nil || got.AccessToken != s.AccessToken {
		t.Fatalf("fresh token should be returned as is: %v", err)
	}
	if n := srv.Count("grant:refresh_token"); n != 0 {
		t.Fatalf("fast path refreshed %d times", n)
	}

	// Past 90% of its lifetime: refresh, and save the rotated token. (The
	// session is aged rather than the clock moved: the provider's fresh
	// ID token must verify against the real time.)
	aged := *s
	aged.ObtainedAt, aged.Expiry = s.ObtainedAt.Add(-1621*time.Second), s.Expiry.Add(-1621*time.Second)
	if err := store.Save("default", &aged); err != nil {
		t.Fatal(err)
	}
	got, err = r.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got.AccessToken == s.AccessToken || got.RefreshToken == s.RefreshToken || got.Subject != "alice" || got.IDToken == "" {
		t.Fatal("refresh should give new access and (rotated) refresh tokens and keep identity")
	}
	saved, _ := store.Load("default")
	if saved.RefreshToken != got.RefreshToken {
		t.Fatal("rotated refresh token not saved")
	}
	if n := srv.Count("grant:refresh_token"); n != 1 {
		t.Fatalf("refreshes = %d, want 1", n)
	}

	// ForceRefresh with a token someone else already replaced: no refresh.
	if _, err := r.ForceRefresh(context.Background(), s.AccessToken); err != nil {
		t.Fatal(err)
	}
	if n := srv.Count("grant:refresh_token"); n != 1 {
		t.Fatalf("refreshes = %d, want still 1", n)
	}
}

func TestRefresherKeepsSessionOnServerErrorAndClearsOnInvalidGrant(t *testing.T) {
	srv := startOP(t, testop.Options{})
	info := discover(t, srv)
	store := &keychain.MemoryStore{}
	s := login(t, srv, info)
	s.Expiry = s.ObtainedAt // expired
	_ = store.Save("default", s)
	r := newRefresher(t, srv, info, store, t.TempDir())

	for _, f := range []struct {
		status int
		body   string
		delay  time.Duration
	}{
		{503, "upstream down", 0},
		{429, `{"error":"x_rate_limited"}`, 0},
		{200, `not json`, 0},
	} {
		srv.Fail("/oauth2/token", 1, f.status, f.body, f.delay)
		_, err := r.Token(context.Background())
		if err == nil || errors.Is(err, auth.ErrLoginRequired) {
			t.Fatalf("status %d: want a plain error, got %v", f.status, err)
		}
		if strings.Contains(err.Error(), s.RefreshToken) {
			t.Fatal("error leaks the refresh token")
		}
		if _, err := store.Load("default"); err != nil {
			t.Fatalf("status %d: session lost: %v", f.status, err)
		}
	}

	srv.RevokeAll()
	_, err := r.Token(context.Background())
	var lre *auth.LoginRequiredError
	if !errors.Is(err, auth.ErrLoginRequired) || !errors.As(err, &lre) || lre.Profile != "default" {
		t.Fatalf("want login required, got %v", err)
	}
	if _, err := store.Load("default"); !errors.Is(err, keychain.ErrNotFound) {
		t.Fatalf("session should be cleared on invalid_grant: %v", err)
	}
}

func TestRefresherConcurrentOneRefresh(t *testing.T) {
	srv := startOP(t, testop.Options{RotateRefreshTokens: true})
	info := discover(t, srv)
	dir := t.TempDir()
	store := &keychain.FileStore{Dir: filepath.Join(dir, "sessions")}
	s := login(t, srv, info)
	s.Expiry = s.ObtainedAt
	_ = store.Save("default", s)

	var wg sync.WaitGroup
	errs := make(chan error, 30)
	for range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := newRefresher(t, srv, info, store, dir)
			got, err := r.Token(context.Background())
			if err == nil && got.AccessToken == s.AccessToken {
				err = errors.New("got the stale token")
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := srv.Count("grant:refresh_token"); n != 1 {
		t.Fatalf("refreshes = %d, want exactly 1", n)
	}
}

func TestRevoke(t *testing.T) {
	srv := startOP(t, testop.Options{})
	info := discover(t, srv)
	s := login(t, srv, info)
	if err := cli(info).Revoke(context.Background(), s.RefreshToken); err != nil {
		t.Fatal(err)
	}
	// The whole grant is gone: the access token too.
	if _, err := cli(info).UserInfo(context.Background(), s.AccessToken, s.Subject); !errors.Is(err, auth.ErrUnauthorized) {
		t.Fatalf("want unauthorized after revoke, got %v", err)
	}
}
