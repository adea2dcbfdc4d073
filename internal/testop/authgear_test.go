package testop_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/agcurl/agcurl/internal/browser"
	"github.com/agcurl/agcurl/internal/testop"
)

const defaultScope = "openid offline_access " + testop.FullAccessScope

func start(t *testing.T, opts testop.Options) *testop.Server {
	t.Helper()
	s, err := testop.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// noRedirect is a client that stops at the first answer.
var noRedirect = &http.Client{
	Timeout:       10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

type tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
}

// login signs the test user in with the authorization code flow and PKCE,
// as the CLI does, through the stand-in browser.
func login(t *testing.T, s *testop.Server, scope string) tokens {
	t.Helper()
	codes := make(chan string, 1)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cb := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case codes <- r.URL.Query().Get("code"):
		default:
		}
		io.WriteString(w, "done")
	})}
	go cb.Serve(ln)
	defer cb.Close()
	redirect := "http://" + ln.Addr().String() + "/callback"

	b := make([]byte, 32)
	rand.Read(b)
	verifier := base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"response_type": {"code"}, "client_id": {testop.CLIClientID}, "redirect_uri": {redirect},
		"scope": {scope}, "state": {"st"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
	}
	if err := browser.Follow(context.Background(), s.Issuer+"/oauth2/authorize?"+q.Encode()); err != nil {
		t.Fatalf("login: %v", err)
	}
	code := <-codes
	if code == "" {
		t.Fatal("login: no code")
	}
	resp, err := http.PostForm(s.Issuer+"/oauth2/token", url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect},
		"client_id": {testop.CLIClientID}, "code_verifier": {verifier},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tk tokens
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&tk) != nil || tk.AccessToken == "" {
		t.Fatalf("token exchange: %s", resp.Status)
	}
	return tk
}

type apiErr struct {
	Name    string         `json:"name"`
	Reason  string         `json:"reason"`
	Message string         `json:"message"`
	Code    int            `json:"code"`
	Info    map[string]any `json:"info"`
}

type appSessionResp struct {
	Result *struct {
		AppSessionToken string `json:"app_session_token"`
		ExpireAt        string `json:"expire_at"`
	} `json:"result"`
	Error *apiErr `json:"error"`
}

func postAppSessionToken(t *testing.T, s *testop.Server, contentType, body string) (int, appSessionResp) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.Issuer+"/oauth2/app_session_token", strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	var out appSessionResp
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return resp.StatusCode, out
}

func appSessionToken(t *testing.T, s *testop.Server, refreshToken string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"refresh_token": refreshToken})
	code, out := postAppSessionToken(t, s, "application/json", string(body))
	if code != 200 || out.Result == nil || out.Result.AppSessionToken == "" {
		t.Fatalf("app_session_token: %d %+v", code, out.Error)
	}
	return out.Result.AppSessionToken
}

func settingsURL(s *testop.Server, page, token, state string) string {
	hint := "https://authgear.com/login_hint?" + url.Values{"type": {"app_session_token"}, "app_session_token": {token}}.Encode()
	q := url.Values{
		"response_type": {"none"}, "prompt": {"none"}, "client_id": {testop.CLIClientID},
		"redirect_uri": {s.Issuer + page}, "login_hint": {hint},
	}
	if state != "" {
		q.Set("state", state)
	}
	return s.Issuer + "/oauth2/authorize?" + q.Encode()
}

func TestAppSessionToken(t *testing.T) {
	s := start(t, testop.Options{})
	tk := login(t, s, defaultScope)
	body, _ := json.Marshal(map[string]string{"refresh_token": tk.RefreshToken})
	before := time.Now().UTC()
	code, out := postAppSessionToken(t, s, "application/json; charset=utf-8", string(body))
	if code != 200 || out.Result == nil || out.Error != nil {
		t.Fatalf("got %d %+v", code, out.Error)
	}
	if len(out.Result.AppSessionToken) < 16 {
		t.Errorf("app_session_token %q", out.Result.AppSessionToken)
	}
	exp, err := time.Parse(time.RFC3339, out.Result.ExpireAt)
	if err != nil {
		t.Fatalf("expire_at %q: %v", out.Result.ExpireAt, err)
	}
	if !strings.HasSuffix(out.Result.ExpireAt, "Z") {
		t.Errorf("expire_at %q is not UTC", out.Result.ExpireAt)
	}
	if d := exp.Sub(before); d < 5*time.Minute-time.Second || d > 5*time.Minute+5*time.Second {
		t.Errorf("expire_at is %v ahead, want 5m", d)
	}
	// A second token for the same refresh token is fine, and different.
	if other := appSessionToken(t, s, tk.RefreshToken); other == out.Result.AppSessionToken {
		t.Error("app session tokens repeat")
	}
	if s.Count("app_session_token") != 2 || s.Count("app_session_token:ok") != 2 || s.Count("app_session_token:refused") != 0 {
		t.Errorf("counts %d %d %d", s.Count("app_session_token"), s.Count("app_session_token:ok"), s.Count("app_session_token:refused"))
	}
}

func TestAppSessionTokenErrors(t *testing.T) {
	s := start(t, testop.Options{})
	noFull := login(t, s, "openid offline_access")
	full := login(t, s, defaultScope)
	cases := []struct {
		name, ct, body       string
		code                 int
		errName, reason, msg string
	}{
		{"unknown refresh token", "application/json", `{"refresh_token":"rt_nope"}`, 403, "Forbidden", "Forbidden", "invalid refresh token"},
		{"empty refresh token", "application/json", `{"refresh_token":""}`, 403, "Forbidden", "Forbidden", "invalid refresh token"},
		{"no full access", "application/json", `{"refresh_token":"` + noFull.RefreshToken + `"}`, 403, "Forbidden", "Forbidden", "the client is not authorized to have full user access"},
		{"form body", "application/x-www-form-urlencoded", "refresh_token=" + full.RefreshToken, 400, "BadRequest", "BadRequest", "request content type is invalid"},
		{"no content type", "", `{"refresh_token":"` + full.RefreshToken + `"}`, 400, "BadRequest", "BadRequest", "request content type is invalid"},
		{"not json", "application/json", `refresh_token`, 400, "Invalid", "ValidationFailed", "invalid request body"},
		{"missing", "application/json", `{}`, 400, "Invalid", "ValidationFailed", "invalid request body"},
		{"not a string", "application/json", `{"refresh_token":1}`, 400, "Invalid", "ValidationFailed", "invalid request body"},
		{"extra field", "application/json", `{"refresh_token":"` + full.RefreshToken + `","x":1}`, 400, "Invalid", "ValidationFailed", "invalid request body"},
		{"array", "application/json", `["x"]`, 400, "Invalid", "ValidationFailed", "invalid request body"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out := postAppSessionToken(t, s, c.ct, c.body)
			if code != c.code || out.Error == nil || out.Result != nil {
				t.Fatalf("got %d %+v", code, out.Error)
			}
			e := out.Error
			if e.Name != c.errName || e.Reason != c.reason || e.Message != c.msg || e.Code != c.code {
				t.Errorf("error %+v", e)
			}
			if c.reason == "ValidationFailed" && e.Info["causes"] == nil {
				t.Errorf("no causes: %+v", e)
			}
		})
	}
	if got := s.Count("app_session_token:refused"); got != int64(len(cases)) {
		t.Errorf("refused %d", got)
	}
	if s.Count("app_session_token:ok") != 0 {
		t.Error("an ok was counted")
	}

	resp, err := http.Get(s.Issuer + "/oauth2/app_session_token")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 {
		t.Errorf("GET: %s", resp.Status)
	}

	// A revoked grant's refresh token is refused.
	s.RevokeAll()
	code, out := postAppSessionToken(t, s, "application/json", `{"refresh_token":"`+full.RefreshToken+`"}`)
	if code != 403 || out.Error == nil || out.Error.Message != "invalid refresh token" {
		t.Errorf("after RevokeAll: %d %+v", code, out.Error)
	}

	// Faults apply as on every path.
	s.Fail("/oauth2/app_session_token", 1, 503, `{"error":"down"}`, 0)
	resp, err = http.Post(s.Issuer+"/oauth2/app_session_token", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 {
		t.Errorf("fault: %s", resp.Status)
	}
}

func TestSettingsThroughBrowser(t *testing.T) {
	s := start(t, testop.Options{})
	tk := login(t, s, defaultScope)
	ctx := context.Background()

	if err := browser.Follow(ctx, s.Issuer+"/settings"); err == nil || !strings.Contains(err.Error(), "Not signed in") {
		t.Errorf("settings without a session: %v", err)
	}
	if s.Count("settings:anonymous") != 1 {
		t.Errorf("settings:anonymous %d", s.Count("settings:anonymous"))
	}

	u := settingsURL(s, "/settings", appSessionToken(t, s, tk.RefreshToken), "")
	if err := browser.Follow(ctx, u); err != nil {
		t.Fatalf("settings: %v", err)
	}
	if s.Count("settings:signed-in") != 1 || s.Count("settings_login:ok") != 1 {
		t.Errorf("signed-in %d, login ok %d", s.Count("settings:signed-in"), s.Count("settings_login:ok"))
	}

	// Single use: the same URL again ends on the sign-in page.
	if err := browser.Follow(ctx, u); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("token reused: %v", err)
	}
	if s.Count("settings_login:login_required") != 1 || s.Count("settings:anonymous") != 2 {
		t.Errorf("login_required %d, anonymous %d", s.Count("settings_login:login_required"), s.Count("settings:anonymous"))
	}

	if err := browser.Follow(ctx, settingsURL(s, "/settings/identities", appSessionToken(t, s, tk.RefreshToken), "")); err != nil {
		t.Fatalf("identities: %v", err)
	}
	if s.Count("settings:identities") != 1 || s.Count("settings:signed-in") != 2 {
		t.Errorf("identities %d, signed-in %d", s.Count("settings:identities"), s.Count("settings:signed-in"))
	}
}

func TestSettingsLanding(t *testing.T) {
	s := start(t, testop.Options{})
	tk := login(t, s, defaultScope)

	resp, err := noRedirect.Get(settingsURL(s, "/settings", appSessionToken(t, s, tk.RefreshToken), "xyz"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("landing: %s", resp.Status)
	}
	if loc := resp.Header.Get("Location"); loc != s.Issuer+"/settings?state=xyz" {
		t.Errorf("Location %q", loc)
	}
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == testop.SessionCookieName {
			session = c
		}
	}
	if session == nil || session.Value == "" || session.Path != "/" || !session.HttpOnly || session.Domain != "" {
		t.Fatalf("session cookie %+v", session)
	}

	get := func(path string, c *http.Cookie) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, s.Issuer+path, nil)
		if c != nil {
			req.AddCookie(c)
		}
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/settings", session); code != 200 || !strings.Contains(body, "Account settings") || !strings.Contains(body, "alice") {
		t.Errorf("settings: %d %s", code, body)
	}
	if code, body := get("/settings/identities", session); code != 200 || !strings.Contains(body, "Account settings") || !strings.Contains(body, "alice") {
		t.Errorf("identities: %d %s", code, body)
	}
	if code, body := get("/settings", &http.Cookie{Name: testop.SessionCookieName, Value: "forged"}); code != 401 || !strings.Contains(body, "Not signed in") {
		t.Errorf("forged cookie: %d %s", code, body)
	}
	if code, _ := get("/settings/other", session); code != 404 {
		t.Errorf("/settings/other: %d", code)
	}

	// prompt=none without a login hint rides on the session cookie.
	q := url.Values{"response_type": {"none"}, "prompt": {"none"}, "client_id": {testop.CLIClientID}, "redirect_uri": {s.Issuer + "/settings"}}
	req, _ := http.NewRequest(http.MethodGet, s.Issuer+"/oauth2/authorize?"+q.Encode(), nil)
	req.AddCookie(session)
	resp, err = noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != 302 || loc != s.Issuer+"/settings" {
		t.Errorf("no hint, with session: %s %q", resp.Status, loc)
	}
	resp, err = noRedirect.Get(s.Issuer + "/oauth2/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc, _ := url.Parse(resp.Header.Get("Location")); resp.StatusCode != 302 || loc.Query().Get("error") != "login_required" {
		t.Errorf("no hint, no session: %s %v", resp.Status, loc)
	}

	// Signing out everywhere ends the settings session too.
	s.RevokeAll()
	if code, body := get("/settings", session); code != 401 || !strings.Contains(body, "Not signed in") {
		t.Errorf("after RevokeAll: %d %s", code, body)
	}
}

func TestSettingsLandingRefusals(t *testing.T) {
	s := start(t, testop.Options{AppSessionTokenTTL: 100 * time.Millisecond})
	tk := login(t, s, defaultScope)

	loginRequired := func(t *testing.T, u string) {
		t.Helper()
		resp, err := noRedirect.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != 302 || loc == nil || loc.Path != "/settings" || loc.Query().Get("error") != "login_required" || loc.Query().Get("state") != "s1" {
			t.Errorf("got %s %v", resp.Status, loc)
		}
		for _, c := range resp.Cookies() {
			if c.Name == testop.SessionCookieName {
				t.Errorf("session cookie set: %+v", c)
			}
		}
	}

	t.Run("expired", func(t *testing.T) {
		tok := appSessionToken(t, s, tk.RefreshToken)
		time.Sleep(200 * time.Millisecond)
		loginRequired(t, settingsURL(s, "/settings", tok, "s1"))
	})
	t.Run("unknown token", func(t *testing.T) {
		loginRequired(t, settingsURL(s, "/settings", "nope", "s1"))
	})
	t.Run("bad hint", func(t *testing.T) {
		tok := appSessionToken(t, s, tk.RefreshToken)
		u := strings.Replace(settingsURL(s, "/settings", tok, "s1"), "type%3Dapp_session_token", "type%3Dlogin_id", 1)
		loginRequired(t, u)
	})
	t.Run("grant revoked", func(t *testing.T) {
		tk2 := login(t, s, defaultScope)
		tok := appSessionToken(t, s, tk2.RefreshToken)
		s.RevokeAll()
		loginRequired(t, settingsURL(s, "/settings", tok, "s1"))
	})

	tk = login(t, s, defaultScope)
	bad := func(name string, mutate func(url.Values)) {
		t.Run(name, func(t *testing.T) {
			u, _ := url.Parse(settingsURL(s, "/settings", appSessionToken(t, s, tk.RefreshToken), "s1"))
			q := u.Query()
			mutate(q)
			u.RawQuery = q.Encode()
			resp, err := noRedirect.Get(u.String())
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 400 {
				t.Errorf("got %s, Location %q", resp.Status, resp.Header.Get("Location"))
			}
		})
	}
	bad("unknown client", func(q url.Values) { q.Set("client_id", "nobody") })
	bad("no client", func(q url.Values) { q.Del("client_id") })
	bad("redirect elsewhere", func(q url.Values) { q.Set("redirect_uri", "http://127.0.0.1:1/settings") })
	bad("redirect to another page", func(q url.Values) { q.Set("redirect_uri", s.Issuer+"/oauth2/userinfo") })
	bad("no redirect", func(q url.Values) { q.Del("redirect_uri") })
	if s.Count("settings_login:bad_request") != 5 || s.Count("settings_login:login_required") != 4 || s.Count("settings_login:ok") != 0 {
		t.Errorf("counts bad %d, login_required %d, ok %d", s.Count("settings_login:bad_request"),
			s.Count("settings_login:login_required"), s.Count("settings_login:ok"))
	}
}

func resolve(t *testing.T, s *testop.Server, method, authz string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(method, s.Issuer+"/_resolver/resolve", nil)
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(b) != 0 {
		t.Fatalf("resolve: %s %q", resp.Status, b)
	}
	return resp
}

func authgearHeaders(h http.Header) map[string]string {
	out := map[string]string{}
	for k, v := range h {
		if strings.HasPrefix(k, "X-Authgear-") {
			out[k] = strings.Join(v, ",")
		}
	}
	return out
}

func TestResolver(t *testing.T) {
	for _, jwt := range []bool{false, true} {
		t.Run("jwt="+strconv.FormatBool(jwt), func(t *testing.T) {
			s := start(t, testop.Options{JWTAccessTokens: jwt})
			before := time.Now().Add(-time.Second).Unix()
			tk := login(t, s, defaultScope)
			after := time.Now().Unix()

			for _, m := range []string{http.MethodGet, http.MethodHead} {
				h := authgearHeaders(resolve(t, s, m, "Bearer "+tk.AccessToken).Header)
				at, err := strconv.ParseInt(h["X-Authgear-Session-Authenticated-At"], 10, 64)
				if err != nil || at < before || at > after {
					t.Errorf("%s: authenticated at %q", m, h["X-Authgear-Session-Authenticated-At"])
				}
				delete(h, "X-Authgear-Session-Authenticated-At")
				want := map[string]string{
					"X-Authgear-Session-Valid": "true", "X-Authgear-User-Id": "alice",
					"X-Authgear-User-Anonymous": "false", "X-Authgear-User-Verified": "true",
					"X-Authgear-User-Can-Reauthenticate": "true", "X-Authgear-User-Roles": "admin,reader",
					"X-Authgear-Session-Amr": "pwd",
				}
				if !equalMaps(h, want) {
					t.Errorf("%s: headers %v", m, h)
				}
			}
			if h := authgearHeaders(resolve(t, s, http.MethodGet, "").Header); len(h) != 0 {
				t.Errorf("no token: %v", h)
			}
			// Not a bearer token (an empty one included): no session, as at Authgear.
			for _, none := range []string{"Basic Zm9vOmJhcg==", "Bearer "} {
				if h := authgearHeaders(resolve(t, s, http.MethodGet, none).Header); len(h) != 0 {
					t.Errorf("%q: %v", none, h)
				}
			}
			for _, bad := range []string{"Bearer nope", "Bearer " + tk.AccessToken + "x"} {
				if h := authgearHeaders(resolve(t, s, http.MethodGet, bad).Header); !equalMaps(h, map[string]string{"X-Authgear-Session-Valid": "false"}) {
					t.Errorf("%q: %v", bad, h)
				}
			}
			// A machine's token is no user's session.
			cc := clientCredentials(t, s)
			if h := authgearHeaders(resolve(t, s, http.MethodGet, "Bearer "+cc).Header); !equalMaps(h, map[string]string{"X-Authgear-Session-Valid": "false"}) {
				t.Errorf("client credentials: %v", h)
			}
			s.RevokeAll()
			if h := authgearHeaders(resolve(t, s, http.MethodGet, "Bearer "+tk.AccessToken).Header); !equalMaps(h, map[string]string{"X-Authgear-Session-Valid": "false"}) {
				t.Errorf("revoked: %v", h)
			}
			if s.Count("resolver") != 9 || s.Count("resolver:valid") != 2 || s.Count("resolver:invalid") != 4 || s.Count("resolver:anonymous") != 3 {
				t.Errorf("counts %d valid %d invalid %d anonymous %d", s.Count("resolver"), s.Count("resolver:valid"),
					s.Count("resolver:invalid"), s.Count("resolver:anonymous"))
			}
		})
	}
}

func TestResolverExpiredToken(t *testing.T) {
	s := start(t, testop.Options{AccessTokenTTL: time.Second})
	tk := login(t, s, defaultScope)
	if h := authgearHeaders(resolve(t, s, http.MethodGet, "Bearer "+tk.AccessToken).Header); h["X-Authgear-Session-Valid"] != "true" {
		t.Fatalf("fresh: %v", h)
	}
	time.Sleep(1100 * time.Millisecond)
	if h := authgearHeaders(resolve(t, s, http.MethodGet, "Bearer "+tk.AccessToken).Header); !equalMaps(h, map[string]string{"X-Authgear-Session-Valid": "false"}) {
		t.Errorf("expired: %v", h)
	}
}

func TestResolverSessionCookie(t *testing.T) {
	s := start(t, testop.Options{})
	tk := login(t, s, defaultScope)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	resp, err := c.Get(settingsURL(s, "/settings", appSessionToken(t, s, tk.RefreshToken), ""))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("settings: %s", resp.Status)
	}
	resp, err = c.Get(s.Issuer + "/_resolver/resolve")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if h := authgearHeaders(resp.Header); h["X-Authgear-Session-Valid"] != "true" || h["X-Authgear-User-Id"] != "alice" {
		t.Errorf("cookie: %v", h)
	}
}

func clientCredentials(t *testing.T, s *testop.Server) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.Issuer+"/oauth2/token", strings.NewReader("grant_type=client_credentials&scope=openid"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(testop.MachineClientID, testop.MachineClientSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tk tokens
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&tk) != nil || tk.AccessToken == "" {
		t.Fatalf("client credentials: %s", resp.Status)
	}
	return tk.AccessToken
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func jwtClaims(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(b, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

func TestJWTAccessTokenClaims(t *testing.T) {
	s := start(t, testop.Options{JWTAccessTokens: true})
	tk := login(t, s, defaultScope)
	check := func(what, token string) {
		c := jwtClaims(t, token)
		p := testop.AuthgearClaimPrefix
		if c["sub"] != "alice" || c[p+"is_anonymous"] != false || c[p+"is_verified"] != true || c[p+"can_reauthenticate"] != true {
			t.Errorf("%s: claims %v", what, c)
		}
		roles, _ := c[p+"roles"].([]any)
		if len(roles) != 2 || roles[0] != "admin" || roles[1] != "reader" {
			t.Errorf("%s: roles %v", what, c[p+"roles"])
		}
	}
	check("code", tk.AccessToken)
	resp, err := http.PostForm(s.Issuer+"/oauth2/token", url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {tk.RefreshToken}, "client_id": {testop.CLIClientID},
	})
	if err != nil {
		t.Fatal(err)
	}
	var rt tokens
	json.NewDecoder(resp.Body).Decode(&rt)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("refresh: %s", resp.Status)
	}
	check("refresh", rt.AccessToken)

	// A machine's token carries no user claims.
	for k := range jwtClaims(t, clientCredentials(t, s)) {
		if strings.HasPrefix(k, testop.AuthgearClaimPrefix) {
			t.Errorf("client credentials token has %s", k)
		}
	}
	// The userinfo endpoint still accepts the token with the extra claims.
	req, _ := http.NewRequest(http.MethodGet, s.Issuer+"/oauth2/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+rt.AccessToken)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("userinfo: %s", resp.Status)
	}
}

func TestNoAuthgearExtras(t *testing.T) {
	s := start(t, testop.Options{NoAuthgearExtras: true, JWTAccessTokens: true})
	tk := login(t, s, defaultScope)
	for k := range jwtClaims(t, tk.AccessToken) {
		if strings.HasPrefix(k, testop.AuthgearClaimPrefix) {
			t.Errorf("token has %s", k)
		}
	}
	resp, err := http.Post(s.Issuer+"/oauth2/app_session_token", "application/json",
		strings.NewReader(`{"refresh_token":"`+tk.RefreshToken+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("app_session_token: %s", resp.Status)
	}
	for _, p := range []string{"/settings", "/settings/identities", "/_resolver/resolve"} {
		req, _ := http.NewRequest(http.MethodGet, s.Issuer+p, nil)
		req.Header.Set("Authorization", "Bearer "+tk.AccessToken)
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 404 || len(authgearHeaders(resp.Header)) != 0 {
			t.Errorf("%s: %s %v", p, resp.Status, authgearHeaders(resp.Header))
		}
	}
	// The provider itself gets response_type=none and does not sign the
	// browser in to settings.
	if err := browser.Follow(context.Background(), settingsURL(s, "/settings", "whatever", "")); err == nil {
		t.Error("settings landing succeeded without Authgear's extras")
	}
	for _, k := range []string{"app_session_token", "resolver", "settings:signed-in", "settings:anonymous", "settings_login:ok"} {
		if s.Count(k) != 0 {
			t.Errorf("%s counted", k)
		}
	}
}
