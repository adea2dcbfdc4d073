package cmd

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/agcurl/agcurl/internal/testop"
	"github.com/agcurl/agcurl/keychain"
)

// proxyClock is a Factory clock that a test can move forward.
type proxyClock struct{ offset atomic.Int64 }

func (c *proxyClock) now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *proxyClock) advance(d time.Duration) { c.offset.Add(int64(d)) }

// proxyTestEnv is an in-process test environment, logged in, with the
// session in a file (so that agcurl processes the test starts share it)
// and a clock the test can move.
func proxyTestEnv(t *testing.T, opts testop.Options) (*testEnv, *proxyClock, string) {
	t.Helper()
	te := newTestEnv(t, opts)
	clock := &proxyClock{}
	te.f.Now = clock.now
	te.env["AGCURL_STORAGE"] = "file"
	dir, _ := te.f.ConfigDir()
	te.mustRun(t, "configure", "--endpoint", te.srv.Issuer, "--client-id", testop.CLIClientID, "--api-base", te.srv.APIURL)
	te.mustRun(t, "login", "--browser", "--port", "0")
	return te, clock, dir
}

// runningProxy is `agcurl proxy` running in-process.
type runningProxy struct {
	url    string
	errOut *syncBuffer
	cancel context.CancelFunc
	done   chan int
	code   int
	exited bool
}

// startProxy runs `agcurl proxy --listen 127.0.0.1:0 ARGS...` in-process
// and returns once it prints its URL. The test's end stops it.
func startProxy(t *testing.T, te *testEnv, args ...string) *runningProxy {
	t.Helper()
	out, errOut := &syncBuffer{}, &syncBuffer{}
	f := *te.f
	f.IO = &IOStreams{In: &bytes.Buffer{}, Out: out, ErrOut: errOut}
	ctx, cancel := context.WithCancel(context.Background())
	rp := &runningProxy{errOut: errOut, cancel: cancel, done: make(chan int, 1)}
	go func() { rp.done <- Run(ctx, &f, append([]string{"proxy", "--listen", "127.0.0.1:0"}, args...)) }()
	t.Cleanup(func() { rp.stop() })
	deadline := time.After(20 * time.Second)
	for {
		if line, _, ok := strings.Cut(out.String(), "\n"); ok {
			rp.url = line
			return rp
		}
		select {
		case code := <-rp.done:
			rp.exited, rp.code = true, code
			t.Fatalf("agcurl proxy exited %d before it listened:\n%s", code, errOut.String())
		case <-deadline:
			t.Fatalf("agcurl proxy printed no URL after 20s:\n%s", errOut.String())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// stop interrupts the proxy and returns its exit code.
func (rp *runningProxy) stop() int {
	if !rp.exited {
		rp.cancel()
		rp.code, rp.exited = <-rp.done, true
	}
	return rp.code
}

// proxyClient does not follow redirects, and gives up on a hung request.
var proxyClient = &http.Client{
	Timeout:       30 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

func proxyDo(t *testing.T, method, u string, body io.Reader, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := proxyClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, u, err)
	}
	return resp, string(b)
}

func storedSession(t *testing.T, dir string) *keychain.Session {
	t.Helper()
	s, err := (&keychain.FileStore{Dir: filepath.Join(dir, "sessions")}).Load("default")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type echoed struct {
	Headers    map[string]string `json:"headers"`
	Query      string            `json:"query"`
	BodySize   int64             `json:"body_size"`
	BodySHA256 string            `json:"body_sha256"`
}

func decodeEcho(t *testing.T, body string) echoed {
	t.Helper()
	var e echoed
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("not an echo: %q", body)
	}
	return e
}

// The proxy attaches the token, removes the client's Authorization and
// Cookie (unless --pass-auth), logs one line per request without query
// strings or header values, and never a token.
func TestProxyForwardsWithTheToken(t *testing.T) {
	t.Parallel()
	te, _, dir := proxyTestEnv(t, testop.Options{})
	rp := startProxy(t, te)

	resp, body := proxyDo(t, "GET", rp.url+"/v1/me", nil, nil)
	if resp.StatusCode != 200 || !strings.Contains(body, `"sub":"alice"`) {
		t.Fatalf("GET /v1/me: %s %s", resp.Status, body)
	}
	// The client's own credentials are not the proxy's business.
	resp, body = proxyDo(t, "POST", rp.url+"/v1/echo?api_key=s3cr3t", strings.NewReader("hello"), http.Header{
		"Authorization": {"Bearer not-a-valid-token"}, "Cookie": {"session=abc"}, "X-Custom": {"kept"},
	})
	if resp.StatusCode != 200 {
		t.Fatalf("POST /v1/echo with the client's Authorization: %s %s", resp.Status, body)
	}
	e := decodeEcho(t, body)
	if _, ok := e.Headers["Cookie"]; ok || e.Headers["X-Custom"] != "kept" || e.Query != "api_key=s3cr3t" || e.BodySize != 5 {
		t.Fatalf("what the API got: %+v", e)
	}

	tok := storedSession(t, dir).AccessToken
	log := rp.errOut.String()
	for _, want := range []string{"agcurl: proxying " + rp.url + " -> " + te.srv.APIURL + " with the access token of profile default",
		" GET /v1/me 200 ", " POST /v1/echo?... 200 "} {
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %q:\n%s", want, log)
		}
	}
	for _, secret := range []string{tok, "s3cr3t", "not-a-valid-token", "session=abc"} {
		if strings.Contains(log, secret) {
			t.Errorf("the log holds %q:\n%s", secret, log)
		}
	}
	if code := rp.stop(); code != ExitInterrupted {
		t.Fatalf("exit %d after the interrupt, want %d", code, ExitInterrupted)
	}

	// --pass-auth: the client's Authorization and Cookie go as they are,
	// and the client's token is the one the API judges.
	rp = startProxy(t, te, "--pass-auth")
	resp, body = proxyDo(t, "GET", rp.url+"/v1/echo", nil, http.Header{"Cookie": {"session=abc"}})
	if e := decodeEcho(t, body); resp.StatusCode != 200 || e.Headers["Cookie"] != "session=abc" {
		t.Fatalf("--pass-auth, cookie: %s %+v", resp.Status, e)
	}
	resp, _ = proxyDo(t, "GET", rp.url+"/v1/me", nil, http.Header{"Authorization": {"Bearer not-a-valid-token"}})
	if resp.StatusCode != 401 {
		t.Fatalf("--pass-auth with a bad client token: %s, want the API's 401", resp.Status)
	}
	if n := te.srv.Count("grant:refresh_token"); n != 0 {
		t.Fatalf("a client's own rejected token made the proxy refresh (%d)", n)
	}
}

// --quiet logs nothing per request, and prints no start line.
func TestProxyQuiet(t *testing.T) {
	t.Parallel()
	te, _, _ := proxyTestEnv(t, testop.Options{})
	rp := startProxy(t, te, "--quiet")
	if resp, _ := proxyDo(t, "GET", rp.url+"/v1/me", nil, nil); resp.StatusCode != 200 {
		t.Fatal(resp.Status)
	}
	rp.stop()
	if log := rp.errOut.String(); strings.TrimSpace(log) != "agcurl: interrupted" {
		t.Fatalf("--quiet logged:\n%s", log)
	}
}

// With $AGCURL_ACCESS_TOKEN, the proxy attaches that token and never
// refreshes it: a 401 is passed back.
func TestProxyWithAGCURL_ACCESS_TOKEN(t *testing.T) {
	t.Parallel()
	te, _, dir := proxyTestEnv(t, testop.Options{})
	te.env["AGCURL_ACCESS_TOKEN"] = storedSession(t, dir).AccessToken
	rp := startProxy(t, te)
	if resp, body := proxyDo(t, "GET", rp.url+"/v1/me", nil, nil); resp.StatusCode != 200 {
		t.Fatalf("%s %s", resp.Status, body)
	}
	te.srv.Fail("/v1/me", 1, 401, `{"error":"invalid_token"}`, 0)
	if resp, _ := proxyDo(t, "GET", rp.url+"/v1/me", nil, nil); resp.StatusCode != 401 {
		t.Fatalf("%s, want the 401 passed back", resp.Status)
	}
	if n := te.srv.Count("grant:refresh_token"); n != 0 {
		t.Fatalf("%d refreshes of a given token", n)
	}
	if !strings.Contains(rp.errOut.String(), "with the access token from AGCURL_ACCESS_TOKEN (never refreshed)") {
		t.Fatalf("start line:\n%s", rp.errOut.String())
	}
}

// A request that a web page on another site could make a browser send is
// refused: DNS rebinding (a Host that is not loopback), an Origin that is
// not on loopback, a cross-site request with no Origin.
func TestProxyRefusesBrowserAttacks(t *testing.T) {
	t.Parallel()
	te, _, _ := proxyTestEnv(t, testop.Options{})
	rp := startProxy(t, te)
	u, _ := url.Parse(rp.url)
	for _, tc := range []struct {
		host   string
		header http.Header
		status int
	}{
		{"evil.example:" + u.Port(), nil, 403},
		{"", http.Header{"Origin": {"https://evil.example"}}, 403},
		{"", http.Header{"Origin": {"null"}}, 403},
		{"", http.Header{"Sec-Fetch-Site": {"cross-site"}}, 403},
		{"", http.Header{"Origin": {"http://localhost:5173"}, "Sec-Fetch-Site": {"cross-site"}}, 200},
		{"localhost:" + u.Port(), http.Header{"Sec-Fetch-Site": {"same-origin"}}, 200},
		{"", http.Header{"Sec-Fetch-Site": {"none"}}, 200},
	} {
		req, _ := http.NewRequest("GET", rp.url+"/v1/me", nil)
		req.Header = tc.header
		if req.Header == nil {
			req.Header = http.Header{}
		}
		if tc.host != "" {
			req.Host = tc.host
		}
		resp, err := proxyClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("host %q, %v: %s %s, want %d", tc.host, tc.header, resp.Status, body, tc.status)
		}
	}
	if n := te.srv.Count("api:/v1/me"); n != 3 {
		t.Fatalf("the API saw %d requests, want 3 (the refused ones must not reach it)", n)
	}
}

// When the access token is due, the proxy refreshes it through the
// profile's refresher, and shares the session and its one refresh with
// agcurl processes running at the same time, with a refresh token that
// rotates (a second refresh with the old one would fail).
func TestProxyRefreshesAndSharesTheSession(t *testing.T) {
	t.Parallel()
	te, clock, dir := proxyTestEnv(t, testop.Options{RotateRefreshTokens: true})
	rp := startProxy(t, te)
	if resp, body := proxyDo(t, "GET", rp.url+"/v1/me", nil, nil); resp.StatusCode != 200 {
		t.Fatalf("%s %s", resp.Status, body)
	}
	if n := te.srv.Count("grant:refresh_token"); n != 0 {
		t.Fatalf("refreshed %d times with a fresh token", n)
	}

	// The stored token has expired; the proxy reads the store again once
	// its copy is older than sessionRecheck, and refreshes.
	old := expireSession(t, dir)
	clock.advance(sessionRecheck + time.Second)
	if resp, body := proxyDo(t, "GET", rp.url+"/v1/me", nil, nil); resp.StatusCode != 200 {
		t.Fatalf("%s %s", resp.Status, body)
	}
	if n := te.srv.Count("grant:refresh_token"); n != 1 {
		t.Fatalf("%d refreshes by the proxy, want 1", n)
	}
	if s := storedSession(t, dir); s.RefreshToken == old.RefreshToken || s.AccessToken == old.AccessToken {
		t.Fatal("the proxy did not store the refreshed session")
	}

	// Again, with agcurl processes at the same time: one refresh in all.
	expireSession(t, dir)
	clock.advance(sessionRecheck + time.Second)
	env := []string{"AGCURL_CONFIG_DIR=" + dir, "AGCURL_STORAGE=file"}
	var wg sync.WaitGroup
	errs := make(chan string, 16)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				c := agcurlProcess(t, env, "fetch", "-sS", te.srv.APIURL+"/v1/me")
				out, err := c.CombinedOutput()
				if err != nil || !strings.Contains(string(out), `"sub":"alice"`) {
					errs <- fmt.Sprintf("agcurl fetch: %v: %s", err, out)
				}
				return
			}
			req, _ := http.NewRequest("GET", rp.url+"/v1/me", nil)
			resp, err := proxyClient.Do(req)
			if err != nil {
				errs <- err.Error()
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				errs <- fmt.Sprintf("through the proxy: %s %s", resp.Status, b)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if n := te.srv.Count("grant:refresh_token"); n != 2 {
		t.Fatalf("%d refreshes, want 2: one more, shared by the proxy and the fetch processes", n)
	}
}

// A 401 from the target: one forced refresh and a resend, when the body
// was kept; a body too large to keep, or of unknown length, gets the 401
// back, with no refresh.
func TestProxyReplaysAfter401(t *testing.T) {
	t.Parallel()
	te, _, dir := proxyTestEnv(t, testop.Options{RotateRefreshTokens: true})
	rp := startProxy(t, te)
	before := storedSession(t, dir).AccessToken

	te.srv.Fail("/v1/echo", 1, 401, `{"error":"invalid_token"}`, 0)
	resp, body := proxyDo(t, "POST", rp.url+"/v1/echo", strings.NewReader("a body to send twice"), nil)
	if e := decodeEcho(t, body); resp.StatusCode != 200 || e.BodySize != 20 {
		t.Fatalf("after a 401: %s %s", resp.Status, body)
	}
	if n := te.srv.Count("grant:refresh_token"); n != 1 {
		t.Fatalf("%d refreshes, want 1", n)
	}
	if storedSession(t, dir).AccessToken == before {
		t.Fatal("the refreshed session was not stored")
	}
	if log := rp.errOut.String(); !strings.Contains(log, "POST /v1/echo 200 ") || !strings.Contains(log, "token refreshed, request sent again") {
		t.Fatalf("log:\n%s", log)
	}

	big := bytes.Repeat([]byte("x"), 1<<20+1)
	te.srv.Fail("/v1/echo", 1, 401, `{"error":"invalid_token"}`, 0)
	if resp, _ := proxyDo(t, "POST", rp.url+"/v1/echo", bytes.NewReader(big), nil); resp.StatusCode != 401 {
		t.Fatalf("a body over the limit: %s, want the 401 passed back", resp.Status)
	}
	te.srv.Fail("/v1/echo", 1, 401, `{"error":"invalid_token"}`, 0)
	chunked := io.MultiReader(strings.NewReader("of unknown length")) // not a type whose length net/http knows
	if resp, _ := proxyDo(t, "POST", rp.url+"/v1/echo", chunked, nil); resp.StatusCode != 401 {
		t.Fatalf("a chunked body: %s, want the 401 passed back", resp.Status)
	}
	if n := te.srv.Count("grant:refresh_token"); n != 1 {
		t.Fatalf("%d refreshes, want still 1", n)
	}
	if !strings.Contains(rp.errOut.String(), "401 passed back: the body was not kept") {
		t.Fatalf("log:\n%s", rp.errOut.String())
	}
	// Still fine afterwards, big bodies included.
	resp, body = proxyDo(t, "POST", rp.url+"/v1/echo", bytes.NewReader(big), nil)
	if e := decodeEcho(t, body); resp.StatusCode != 200 || e.BodySize != int64(len(big)) {
		t.Fatalf("%s %s", resp.Status, body)
	}
}

// When the session has ended (revoked: the refresh gets invalid_grant),
// requests get a 401 whose JSON body says to log in, stderr says so once,
// and a new login brings the proxy back without a restart.
func TestProxySessionEnded(t *testing.T) {
	t.Parallel()
	te, _, _ := proxyTestEnv(t, testop.Options{})
	rp := startProxy(t, te)
	if resp, _ := proxyDo(t, "GET", rp.url+"/v1/me", nil, nil); resp.StatusCode != 200 {
		t.Fatal(resp.Status)
	}
	te.srv.RevokeAll()
	for range 3 {
		resp, body := proxyDo(t, "GET", rp.url+"/v1/me", nil, nil)
		var answer struct{ Error, ErrorDescription string }
		_ = json.Unmarshal([]byte(strings.Replace(body, "error_description", "errordescription", 1)), &answer)
		if resp.StatusCode != 401 || resp.Header.Get("Content-Type") != "application/json" ||
			answer.Error != "login_required" || !strings.Contains(body, "run `agcurl login`") {
			t.Fatalf("after revocation: %s %s", resp.Status, body)
		}
	}
	log := rp.errOut.String()
	if n := strings.Count(log, "agcurl: the session was revoked or has expired; run `agcurl login`; until then"); n != 1 {
		t.Fatalf("the message is on stderr %d times, want once:\n%s", n, log)
	}

	te.mustRun(t, "login", "--browser", "--port", "0")
	if resp, body := proxyDo(t, "GET", rp.url+"/v1/me", nil, nil); resp.StatusCode != 200 {
		t.Fatalf("after a new login: %s %s", resp.Status, body)
	}
}

// A refresh that fails for a reason that may pass keeps the session, and
// the client gets a 503 with the provider's Retry-After. Until then, the
// next requests get the same answer at once, without a refresh each (a
// busy client would flood a provider that asked for a pause, and wait in
// line behind each attempt); then a request works.
func TestProxyProviderDown(t *testing.T) {
	t.Parallel()
	te, clock, dir := proxyTestEnv(t, testop.Options{})
	rp := startProxy(t, te)
	expireSession(t, dir)
	clock.advance(sessionRecheck + time.Second)
	te.srv.FailWithHeader("/oauth2/token", 100, 503, "Retry-After", "30")
	resp, body := proxyDo(t, "GET", rp.url+"/v1/me", nil, nil)
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "30" || !strings.Contains(body, `"error":"token_unavailable"`) ||
		!strings.Contains(body, "the session was kept") {
		t.Fatalf("provider down: %s %v %s", resp.Status, resp.Header, body)
	}
	attempts := te.srv.Count("/oauth2/token")
	clock.advance(20 * time.Second)
	for range 3 {
		resp, body := proxyDo(t, "GET", rp.url+"/v1/me", nil, nil)
		if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "10" || !strings.Contains(body, "the session was kept") {
			t.Fatalf("within the provider's Retry-After: %s %v %s", resp.Status, resp.Header, body)
		}
	}
	if n := te.srv.Count("/oauth2/token"); n != attempts {
		t.Fatalf("%d more refresh attempts within the provider's Retry-After", n-attempts)
	}
	te.srv.FailWithHeader("/oauth2/token", 0, 503, "Retry-After", "30")
	clock.advance(10 * time.Second)
	if resp, body := proxyDo(t, "GET", rp.url+"/v1/me", nil, nil); resp.StatusCode != 200 {
		t.Fatalf("provider back: %s %s", resp.Status, body)
	}
	if strings.Contains(rp.errOut.String(), "agcurl login") {
		t.Fatalf("a passing failure was taken for the end of the session:\n%s", rp.errOut.String())
	}
}

// Bodies stream through the proxy both ways: the API receives the start of
// an upload while the client is still producing it, and the client
// receives the start of a download while the API is still producing it.
// A proxy that held a whole body would stall both.
func TestProxyStreams(t *testing.T) {
	t.Parallel()
	te, _, _ := proxyTestEnv(t, testop.Options{})
	rp := startProxy(t, te)

	// Upload: 64 MiB made on the fly, never more than 16 MiB ahead of what
	// the API has read. The Content-Length is set: over the replay limit,
	// such a body is streamed too.
	const total, step, ahead = 64 << 20, 1 << 20, 16 << 20
	gen := &gatedBody{total: total, step: step, ready: func(sent int64) error {
		deadline := time.Now().Add(20 * time.Second)
		for sent-te.srv.Count("api:bytes_in") > ahead {
			if time.Now().After(deadline) {
				return fmt.Errorf("the API has read %d bytes of the %d sent after 20s: the proxy holds the body", te.srv.Count("api:bytes_in"), sent)
			}
			time.Sleep(2 * time.Millisecond)
		}
		return nil
	}}
	req, _ := http.NewRequest("POST", rp.url+"/v1/echo", gen)
	req.ContentLength = total
	resp, err := proxyClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if e := decodeEcho(t, string(body)); resp.StatusCode != 200 || e.BodySize != total {
		t.Fatalf("upload: %s %s", resp.Status, body)
	}

	// Download: 1 GiB at 64 KiB every 50ms would take 14 minutes; the
	// first MiB must come through long before.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ = http.NewRequestWithContext(ctx, "GET", rp.url+"/v1/bytes?n=1073741824&pace_ms=50", nil)
	resp, err = proxyClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.CopyN(io.Discard, resp.Body, 1<<20)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("download: %d bytes, then %v: the proxy holds the body", n, err)
	}
}

// gatedBody is a request body made on the fly: step bytes at a time, each
// step only when ready says so.
type gatedBody struct {
	total, step, sent int64
	ready             func(sent int64) error
	left              int64 // of the current step
}

func (g *gatedBody) Read(p []byte) (int, error) {
	if g.sent == g.total {
		return 0, io.EOF
	}
	if g.left == 0 {
		if err := g.ready(g.sent); err != nil {
			return 0, err
		}
		g.left = min(g.step, g.total-g.sent)
	}
	n := int(min(int64(len(p)), g.left))
	for i := range n {
		p[i] = byte('a' + (g.sent+int64(i))%26)
	}
	g.sent += int64(n)
	g.left -= int64(n)
	return n, nil
}

// A WebSocket goes through, with the token on its handshake; event streams
// are flushed event by event.
func TestProxyWebSocketAndEvents(t *testing.T) {
	t.Parallel()
	te, _, _ := proxyTestEnv(t, testop.Options{})
	rp := startProxy(t, te)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	conn, resp, err := testop.DialWebSocket(ctx, rp.url+"/v1/ws", nil)
	if err != nil {
		t.Fatalf("websocket through the proxy: %v (%v)", err, resp)
	}
	defer conn.Close()
	if _, msg, err := conn.ReadMessage(); err != nil || string(msg) != `{"sub":"alice"}` {
		t.Fatalf("first message %q, %v", msg, err)
	}
	for _, m := range []string{"hello", strings.Repeat("é", 40000)} {
		if err := conn.WriteText(m); err != nil {
			t.Fatal(err)
		}
		if _, msg, err := conn.ReadMessage(); err != nil || string(msg) != m {
			t.Fatalf("echo: %d bytes, %v", len(msg), err)
		}
	}

	// The second event comes a minute after the first.
	req, _ := http.NewRequestWithContext(ctx, "GET", rp.url+"/v1/events?n=2&interval_ms=60000", nil)
	resp, err = proxyClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	for _, want := range []string{"id: 1\n", "data: 1\n", "\n"} {
		if line, err := br.ReadString('\n'); line != want {
			t.Fatalf("event stream: %q (%v), want %q: the proxy did not flush the event", line, err, want)
		}
	}
}

// Connections are kept alive, the client's to the proxy and the proxy's to
// the API.
func TestProxyKeepsConnectionsAlive(t *testing.T) {
	t.Parallel()
	te, _, _ := proxyTestEnv(t, testop.Options{})
	rp := startProxy(t, te)
	client := &http.Client{Transport: &http.Transport{}, Timeout: 30 * time.Second}
	reused := 0
	for range 5 {
		trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) {
			if i.Reused {
				reused++
			}
		}}
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", rp.url+"/v1/me", nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatal(resp.Status)
		}
	}
	if reused != 4 {
		t.Errorf("the client reused its connection to the proxy %d times of 4", reused)
	}
	if n := te.srv.Count("api:connections"); n != 1 {
		t.Errorf("the proxy opened %d connections to the API for 5 requests in a row, want 1", n)
	}
}

// A redirect is passed back, not followed; one into the target points at
// the proxy.
func TestProxyPassesRedirectsBack(t *testing.T) {
	t.Parallel()
	te, _, _ := proxyTestEnv(t, testop.Options{})
	rp := startProxy(t, te, "--target", te.srv.APIURL+"/v1")
	for _, tc := range []struct{ to, want string }{
		{"https://elsewhere.example/x?y=1", "https://elsewhere.example/x?y=1"},
		{te.srv.APIURL + "/v1/me?z=2", "/me?z=2"},
		{"/v1/health", "/health"},
		{te.srv.APIURL + "/public", te.srv.APIURL + "/public"}, // outside the target's path
	} {
		resp, _ := proxyDo(t, "GET", rp.url+"/redirect?to="+url.QueryEscape(tc.to), nil, nil)
		if resp.StatusCode != 302 || resp.Header.Get("Location") != tc.want {
			t.Errorf("redirect to %s: %s, Location %q, want %q", tc.to, resp.Status, resp.Header.Get("Location"), tc.want)
		}
	}
	if n := te.srv.Count("api:/v1/me") + te.srv.Count("api:/v1/health") + te.srv.Count("api:/public"); n != 0 {
		t.Fatalf("the proxy followed a redirect (%d requests)", n)
	}
	if resp, body := proxyDo(t, "GET", rp.url+"/me", nil, nil); resp.StatusCode != 200 || !strings.Contains(body, "alice") {
		t.Fatalf("GET /me through --target .../v1: %s %s", resp.Status, body)
	}
}

// An https target: its certificate is checked (--cacert trusts a CA, -k
// skips the check), and a failure to reach it is a 502 that says why.
func TestProxyHTTPSTarget(t *testing.T) {
	t.Parallel()
	te, _, dir := proxyTestEnv(t, testop.Options{})
	te.mustRun(t, "configure", "--allow-origin", te.srv.APITLSURL)
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, te.srv.CACertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"--cacert", ca}, {"-k"}} {
		rp := startProxy(t, te, append([]string{"--target", te.srv.APITLSURL}, args...)...)
		if resp, body := proxyDo(t, "GET", rp.url+"/v1/me", nil, nil); resp.StatusCode != 200 || !strings.Contains(body, "alice") {
			t.Fatalf("%v: %s %s", args, resp.Status, body)
		}
		rp.stop()
	}
	rp := startProxy(t, te, "--target", te.srv.APITLSURL)
	resp, body := proxyDo(t, "GET", rp.url+"/v1/me", nil, nil)
	if resp.StatusCode != 502 || !strings.Contains(body, `"error":"bad_gateway"`) || !strings.Contains(body, "TLS certificate problem") {
		t.Fatalf("an untrusted certificate: %s %s", resp.Status, body)
	}
	if !strings.Contains(rp.errOut.String(), " GET /v1/me 502 ") {
		t.Fatalf("log:\n%s", rp.errOut.String())
	}
}

// Where the proxy refuses to start: no target, a target outside the
// profile's origins, plain http off loopback, a busy port, no session.
func TestProxyStartFailures(t *testing.T) {
	t.Parallel()
	te, _, _ := proxyTestEnv(t, testop.Options{})
	busy := startProxy(t, te)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--target", te.srv.APITLSURL}, ExitError, "refusing to send the access token to " + te.srv.APITLSURL +
			": it is not among the profile's allowed origins (config key allowed_origins); allow it with `agcurl configure --allow-origin ORIGIN`, or choose another --target"},
		{[]string{"--listen", strings.TrimPrefix(busy.url, "http://")}, ExitError, "cannot listen on " + strings.TrimPrefix(busy.url, "http://") + ": address already in use"},
		{[]string{"--target", "/v1?x=1"}, ExitUsage, "a query string cannot be added"},
		{[]string{"--listen", "0.0.0.0:0"}, ExitUsage, "--listen 0.0.0.0:0 would serve every address of this machine: anyone who can reach it could call the API as you"},
		{[]string{"--listen", "192.0.2.1:8080"}, ExitUsage, `would serve "192.0.2.1", which is not loopback`},
		{[]string{"--listen", "nonsense"}, ExitUsage, "want HOST:PORT"},
	} {
		if code := te.run(append([]string{"proxy"}, tc.args...)...); code != tc.code || !strings.Contains(te.errOut.String(), tc.want) {
			t.Errorf("agcurl proxy %s: exit %d, want %d; stderr lacks %q:\n%s", strings.Join(tc.args, " "), code, tc.code, tc.want, te.errOut.String())
		}
	}

	te.mustRun(t, "configure", "--profile", "other", "--endpoint", te.srv.Issuer, "--client-id", testop.CLIClientID)
	if code := te.run("proxy", "--profile", "other", "--listen", "127.0.0.1:0"); code != ExitUsage || !strings.Contains(te.errOut.String(), "needs a target: pass --target URL, or set the profile's API base with `agcurl configure --profile other --api-base URL`") {
		t.Errorf("no target: exit %d: %s", code, te.errOut.String())
	}
	if code := te.run("proxy", "--profile", "other", "--listen", "127.0.0.1:0", "--target", "http://example.com"); code != ExitError || !strings.Contains(te.errOut.String(), "plain http is allowed only to loopback; use an https target") {
		t.Errorf("plain http: exit %d: %s", code, te.errOut.String())
	}
	if code := te.run("proxy", "--profile", "other", "--listen", "127.0.0.1:0", "--target", te.srv.APIURL); code != ExitLoginRequired || !strings.Contains(te.errOut.String(), "not logged in; run `agcurl login --profile other`") {
		t.Errorf("not logged in: exit %d: %s", code, te.errOut.String())
	}
}

// --allow-remote serves another address, says why that is dangerous, and
// serves requests whatever their Host.
func TestProxyAllowRemote(t *testing.T) {
	t.Parallel()
	te, _, _ := proxyTestEnv(t, testop.Options{})
	out, errOut := &syncBuffer{}, &syncBuffer{}
	f := *te.f
	f.IO = &IOStreams{In: &bytes.Buffer{}, Out: out, ErrOut: errOut}
	ctx, cancel := context.WithCancel(context.Background())
	done, exited := make(chan struct{}), make(chan int, 1)
	go func() {
		exited <- Run(ctx, &f, []string{"proxy", "--listen", "0.0.0.0:0", "--allow-remote"})
		close(done)
	}()
	defer func() { cancel(); <-done }()
	line, err := waitForLine(done, out, "http://")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut.String(), "agcurl: warning: listening on 0.0.0.0:") || !strings.Contains(errOut.String(), "can call "+te.srv.APIURL+" as you") {
		t.Fatalf("no warning:\n%s", errOut.String())
	}
	req, _ := http.NewRequest("GET", line+"/v1/me", nil)
	req.Host = "my-laptop.lan"
	resp, err := proxyClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("%s", resp.Status)
	}
}

// --allow-remote with a listener on loopback has nothing to allow: the
// checks against web pages on other sites stay on.
func TestProxyAllowRemoteOnLoopback(t *testing.T) {
	t.Parallel()
	te, _, _ := proxyTestEnv(t, testop.Options{})
	rp := startProxy(t, te, "--allow-remote")
	for _, h := range []http.Header{{"Origin": {"https://evil.example"}}, {"Sec-Fetch-Site": {"cross-site"}}} {
		if resp, body := proxyDo(t, "GET", rp.url+"/v1/me", nil, h); resp.StatusCode != 403 {
			t.Errorf("%v: %s %s, want 403", h, resp.Status, body)
		}
	}
	req, _ := http.NewRequest("GET", rp.url+"/v1/me", nil)
	req.Host = "rebound.evil.example"
	resp, err := proxyClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Errorf("Host rebound.evil.example: %s, want 403", resp.Status)
	}
	if n := te.srv.Count("api:/v1/me"); n != 0 {
		t.Fatalf("the API got %d requests", n)
	}
	if strings.Contains(rp.errOut.String(), "warning") {
		t.Fatalf("a warning for a loopback listener:\n%s", rp.errOut.String())
	}
}

// Ctrl-C: the proxy stops accepting, closes event streams at once, lets
// the requests in flight finish, and exits 130.
func TestProxyInterruptDrains(t *testing.T) {
	t.Parallel()
	srv, env, _ := loggedIn(t, testop.Options{})
	c := agcurlProcess(t, env, "proxy", "--listen", "127.0.0.1:0", "--target", srv.APIURL)
	stdout, err := c.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errOut syncBuffer
	c.Stderr = &errOut
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("no URL: %v\n%s", err, errOut.String())
	}
	proxyURL := strings.TrimSpace(line)

	events, err := proxyClient.Get(proxyURL + "/v1/events?n=2&interval_ms=60000")
	if err != nil {
		t.Fatal(err)
	}
	defer events.Body.Close()
	br := bufio.NewReader(events.Body)
	if l, _ := br.ReadString('\n'); l != "id: 1\n" {
		t.Fatalf("event stream: %q", l)
	}
	slow := make(chan string, 1)
	go func() {
		resp, err := proxyClient.Get(proxyURL + "/v1/slow?ms=1500")
		if err != nil {
			slow <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		slow <- resp.Status + " " + string(b)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for srv.Count("api:/v1/slow") < 1 {
		if time.Now().After(deadline) {
			t.Fatal("the slow request never reached the API")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := c.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if got := <-slow; !strings.HasPrefix(got, "200 OK") {
		t.Fatalf("the request in flight: %s", got)
	}
	if _, err := io.Copy(io.Discard, br); err == nil {
		t.Log("event stream ended cleanly")
	}
	err = c.Wait()
	if code := c.ProcessState.ExitCode(); code != ExitInterrupted {
		t.Fatalf("exit %d (%v), want 130:\n%s", code, err, errOut.String())
	}
	log := errOut.String()
	for _, want := range []string{"agcurl: stopping: waiting for 1 request in flight", " GET /v1/slow?... 200 ", "agcurl: interrupted"} {
		if !strings.Contains(log, want) {
			t.Errorf("stderr lacks %q:\n%s", want, log)
		}
	}
	if _, err := proxyClient.Get(proxyURL + "/v1/me"); err == nil {
		t.Error("the proxy still answers after it exited")
	}
}
