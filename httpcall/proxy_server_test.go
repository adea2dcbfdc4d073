package httpcall

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// The log's path is as the client sent it, never with the query, and
// cannot drive a terminal.
func TestProxyLogPath(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		want string
	}{
		{"/v1/me", "/v1/me"},
		{"/v1/orders?api_key=s3cr3t&q=x", "/v1/orders?..."},
		{"/v1/x?", "/v1/x?..."},
		{"/a%20b/%2F", "/a%20b/%2F"},
		{"/\u202eevil", "/%E2%80%AEevil"},
		{"", "/"},
		{"/" + strings.Repeat("a", 300) + "?q", "/" + strings.Repeat("a", maxLogPath-1) + "...(301 bytes)?..."},
		{"/" + strings.Repeat("a", maxLogPath-1), "/" + strings.Repeat("a", maxLogPath-1)},
	} {
		u, err := url.ParseRequestURI(tc.raw)
		if tc.raw == "" {
			u, err = &url.URL{}, nil
		}
		if err != nil {
			t.Fatal(err)
		}
		if got := logPath(u); got != tc.want {
			t.Errorf("logPath(%q) = %q, want %q", tc.raw, got, tc.want)
		}
	}
}

// A Location into the target becomes a path on the proxy; anything else
// is left alone.
func TestProxyLocation(t *testing.T) {
	target, _ := url.Parse("https://api.example.com/v1")
	p, err := NewTokenProxy(ProxyConfig{Target: target, Tokens: fixedTokens("t")})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		loc, want string
		ok        bool
	}{
		{"https://api.example.com/v1/orders/3?x=1#f", "/orders/3?x=1#f", true},
		{"https://API.example.com:443/v1", "/", true},
		{"/v1/health", "/health", true},
		{"/v1/a%2Fb", "/a%2Fb", true},
		{"/v10/x", "", false},                        // not under /v1
		{"https://api.example.com/other", "", false}, // outside the target's path
		{"http://api.example.com/v1/x", "", false},   // another origin (scheme)
		{"https://evil.example/v1/x", "", false},
		{"relative/path", "", false},
		{"javascript:alert(1)", "", false},
		// Dot segments are resolved before the prefix is looked for.
		{"https://api.example.com/v1/../admin", "", false},
		{"/v1/%2e%2e/admin", "", false},
		{"/v1/a/../b", "/b", true},
	} {
		got, ok := p.proxyLocation(tc.loc)
		if ok != tc.ok || got != tc.want {
			t.Errorf("proxyLocation(%q) = %q, %v; want %q, %v", tc.loc, got, ok, tc.want, tc.ok)
		}
	}
}

// NewTokenProxy refuses a target the token must not go to, before
// anything is sent.
func TestNewTokenProxyRefusals(t *testing.T) {
	for _, tc := range []struct {
		target string
		policy TokenPolicy
		kind   TargetRefusal
	}{
		{"http://api.example.com", TokenPolicy{}, PlainHTTP},
		{"https://api.example.com", TokenPolicy{AllowedOrigins: []string{"https://other.example.com"}}, NotAllowed},
	} {
		u, _ := url.Parse(tc.target)
		_, err := NewTokenProxy(ProxyConfig{Target: u, Tokens: fixedTokens("t"), Policy: tc.policy})
		var te *TokenTargetError
		if !errors.As(err, &te) || te.Kind != tc.kind {
			t.Errorf("%s: %v, want refusal %d", tc.target, err, tc.kind)
		}
	}
	u, _ := url.Parse("https://api.example.com/?q=1")
	if _, err := NewTokenProxy(ProxyConfig{Target: u, Tokens: fixedTokens("t")}); err == nil {
		t.Error("a target with a query was taken")
	}
	// A plain-http target on loopback behind a proxy that is not.
	u, _ = url.Parse("http://127.0.0.1:9")
	tr := &http.Transport{Proxy: func(*http.Request) (*url.URL, error) { return url.Parse("http://proxy.example.com:3128") }}
	_, err := NewTokenProxy(ProxyConfig{Target: u, Tokens: fixedTokens("t"), Transport: tr})
	var te *TokenTargetError
	if !errors.As(err, &te) || te.Kind != ProxyCleartext {
		t.Errorf("through a remote proxy: %v", err)
	}
}

type fixedTokens string

func (f fixedTokens) AccessToken(context.Context) (string, error) { return string(f), nil }
func (f fixedTokens) Refresh(context.Context, string) (string, error) {
	return "", ErrNoRefresh
}

// BenchmarkTokenProxy measures the proxy's own cost per request: a small
// GET through it to a loopback server, with keep-alive on both sides.
func BenchmarkTokenProxy(b *testing.B) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer t" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		io.WriteString(w, `{"ok":true}`)
	}))
	defer backend.Close()
	target, _ := url.Parse(backend.URL)
	p, err := NewTokenProxy(ProxyConfig{Target: target, Tokens: fixedTokens("t")})
	if err != nil {
		b.Fatal(err)
	}
	front := httptest.NewServer(p)
	defer front.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Get(front.URL + "/x")
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatal(resp.Status)
			}
		}
	})
}

// recordingBackend is a target that records the request targets it is
// sent, and answers status.
type recordingBackend struct {
	*httptest.Server
	mu   sync.Mutex
	uris []string
}

func newRecordingBackend(t *testing.T, status int) *recordingBackend {
	b := &recordingBackend{}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		b.uris = append(b.uris, r.Method+" "+r.RequestURI)
		b.mu.Unlock()
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(status)
	}))
	t.Cleanup(b.Close)
	return b
}

func (b *recordingBackend) seen() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.uris...)
}

// rawProxyRequest sends the request line and headers as they are (no
// client cleans them) to the proxy at addr, and returns the status.
func rawProxyRequest(t *testing.T, addr, requestLine string, headers ...string) (int, string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	req := requestLine + "\r\n" + strings.Join(append(headers, "Connection: close"), "\r\n") + "\r\n\r\n"
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("%s: %v", requestLine, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// What the proxy sends goes to the target's path prefix and nowhere else:
// a path that a server would resolve out of --target's path (dot segments,
// encoded or not, with a backslash, with ;params), a forward-proxy request
// (CONNECT, a full URL) are refused before anything is sent.
func TestProxyKeepsRequestsUnderTheTarget(t *testing.T) {
	backend := newRecordingBackend(t, 200)
	target, _ := url.Parse(backend.URL + "/v1")
	p, err := NewTokenProxy(ProxyConfig{Target: target, Tokens: fixedTokens("t")})
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(p)
	defer front.Close()
	addr := strings.TrimPrefix(front.URL, "http://")
	host := "Host: " + addr
	for _, tc := range []struct {
		line   string
		status int
		want   string
	}{
		{"GET /../admin HTTP/1.1", 400, "leave the target's path"},
		{"GET /a/../../admin HTTP/1.1", 400, "leave the target's path"},
		{"GET /%2e%2e/admin HTTP/1.1", 400, "leave the target's path"},
		{"GET /%2E%2e%2Fadmin HTTP/1.1", 400, "leave the target's path"},
		{"GET /..%5cadmin HTTP/1.1", 400, "leave the target's path"},
		{`GET /..\admin HTTP/1.1`, 400, "leave the target's path"},
		{"GET /..;/admin HTTP/1.1", 400, "leave the target's path"},
		{"GET /%252e%252e/admin HTTP/1.1", 400, "leave the target's path"},
		{"GET /./me HTTP/1.1", 400, "leave the target's path"},
		{"CONNECT " + addr + " HTTP/1.1", 405, "not a forward proxy"},
		{"GET http://" + addr + "/me HTTP/1.1", 400, "not a forward proxy"},
		{"GET * HTTP/1.1", 400, "not a forward proxy"},
	} {
		status, body := rawProxyRequest(t, addr, tc.line, host)
		if status != tc.status || !strings.Contains(body, tc.want) {
			t.Errorf("%s: %d %s, want %d and %q", tc.line, status, body, tc.status, tc.want)
		}
	}
	if seen := backend.seen(); len(seen) != 0 {
		t.Fatalf("the target was sent %q", seen)
	}
	// Names that merely hold dots are fine.
	for _, path := range []string{"/me", "/files/a..b", "/...", "/.well-known/x", "/v1//x"} {
		if status, body := rawProxyRequest(t, addr, "GET "+path+" HTTP/1.1", host); status != 200 {
			t.Errorf("GET %s: %d %s", path, status, body)
		}
	}
	if seen := backend.seen(); len(seen) != 5 || seen[1] != "GET /v1/files/a..b" {
		t.Fatalf("the target was sent %q", seen)
	}
}

// The DNS-rebinding check refuses a Host that is not a loopback name, and
// takes every way of writing one: the fully qualified "localhost.", and
// no Host at all (an HTTP/1.0 client; a browser always sends one).
func TestProxyHostCheck(t *testing.T) {
	backend := newRecordingBackend(t, 200)
	target, _ := url.Parse(backend.URL)
	p, err := NewTokenProxy(ProxyConfig{Target: target, Tokens: fixedTokens("t")})
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(p)
	defer front.Close()
	addr := strings.TrimPrefix(front.URL, "http://")
	_, port, _ := net.SplitHostPort(addr)
	for _, tc := range []struct {
		line, host string
		status     int
	}{
		{"GET /me HTTP/1.1", "Host: localhost.:" + port, 200},
		{"GET /me HTTP/1.1", "Host: LOCALHOST:" + port, 200},
		{"GET /me HTTP/1.1", "Host: [::1]:" + port, 200},
		{"GET /me HTTP/1.1", "Host: 127.0.0.1", 200},
		{"GET /me HTTP/1.0", "X-No-Host: 1", 200},
		{"GET /me HTTP/1.1", "Host: evil.example.:" + port, 403},
		{"GET /me HTTP/1.1", "Host: localhost.evil.example:" + port, 403},
		{"GET /me HTTP/1.1", "Host: 127.0.0.1.nip.io:" + port, 403},
		{"GET /me HTTP/1.1", "Host: localhost..:" + port, 403},
	} {
		if status, body := rawProxyRequest(t, addr, tc.line, tc.host); status != tc.status {
			t.Errorf("%s, %s: %d %s, want %d", tc.line, tc.host, status, body, tc.status)
		}
	}
}

// renewingTokens renews its token on every Refresh, and counts them.
type renewingTokens struct {
	mu        sync.Mutex
	n         int
	refreshes int
}

func (c *renewingTokens) AccessToken(context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return fmt.Sprintf("token-%d", c.n), nil
}

func (c *renewingTokens) Refresh(_ context.Context, rejected string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if rejected == fmt.Sprintf("token-%d", c.n) {
		c.n++
		c.refreshes++
	}
	return fmt.Sprintf("token-%d", c.n), nil
}

// A target that answers 401 whatever the token (an endpoint that wants
// another audience, or says 401 for "forbidden"): the first 401 costs one
// refresh and a resend; once a new token got a 401 too, the next requests
// get their 401 back without another refresh each, which would flood the
// provider with refreshes that cannot help.
func TestProxyTargetThatAlways401s(t *testing.T) {
	backend := newRecordingBackend(t, http.StatusUnauthorized)
	target, _ := url.Parse(backend.URL)
	tokens := &renewingTokens{}
	var notes []string
	var mu sync.Mutex
	p, err := NewTokenProxy(ProxyConfig{Target: target, Tokens: tokens, Log: func(e ProxyLogEntry) {
		mu.Lock()
		notes = append(notes, e.Note)
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(p)
	defer front.Close()
	for range 5 {
		resp, err := http.Post(front.URL+"/x", "text/plain", strings.NewReader("body"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Fatalf("%s, want the target's 401", resp.Status)
		}
	}
	if tokens.refreshes != 1 || len(backend.seen()) != 6 {
		t.Fatalf("%d refreshes and %d requests at the target for 5 requests, want 1 and 6", tokens.refreshes, len(backend.seen()))
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(notes[4], "401 passed back: the target refused a token just refreshed") {
		t.Fatalf("log notes %q", notes)
	}
}

// A log entry stays short whatever the client sends: a method of any
// length (HTTP allows one) is cut like a path.
func TestProxyLogEntryIsBounded(t *testing.T) {
	backend := newRecordingBackend(t, 200)
	target, _ := url.Parse(backend.URL)
	entries := make(chan ProxyLogEntry, 1)
	p, err := NewTokenProxy(ProxyConfig{Target: target, Tokens: fixedTokens("t"), Log: func(e ProxyLogEntry) { entries <- e }})
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(p)
	defer front.Close()
	addr := strings.TrimPrefix(front.URL, "http://")
	rawProxyRequest(t, addr, strings.Repeat("M", 100000)+" /"+strings.Repeat("p", 100000)+" HTTP/1.1", "Host: "+addr)
	e := <-entries
	if len(e.Method) > 100 || len(e.Path) > maxLogPath+100 {
		t.Fatalf("a log entry with a method of %d bytes and a path of %d", len(e.Method), len(e.Path))
	}
}

// The proxy's own answers, which repeat what the client sent (a Host, an
// Origin), are JSON that no browser may take for a page.
func TestProxyAnswersAreNotSniffed(t *testing.T) {
	backend := newRecordingBackend(t, 200)
	target, _ := url.Parse(backend.URL)
	p, err := NewTokenProxy(ProxyConfig{Target: target, Tokens: fixedTokens("t")})
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(p)
	defer front.Close()
	req, _ := http.NewRequest("GET", front.URL+"/x", nil)
	req.Header.Set("Origin", "https://evil.example/<script>")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 || resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("%s %v", resp.Status, resp.Header)
	}
}

// Hop-by-hop tricks cannot take the token off a request, and the proxy
// neither passes on the client's forwarding headers nor adds its own
// (they would tell the target about the client's machine).
func TestProxyHopByHopAndForwardingHeaders(t *testing.T) {
	got := make(chan http.Header, 1)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got <- r.Header.Clone() }))
	defer backend.Close()
	target, _ := url.Parse(backend.URL)
	p, err := NewTokenProxy(ProxyConfig{Target: target, Tokens: fixedTokens("t")})
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(p)
	defer front.Close()
	addr := strings.TrimPrefix(front.URL, "http://")
	if status, body := rawProxyRequest(t, addr, "GET /x HTTP/1.1", "Host: "+addr,
		"Connection: Authorization, X-Forwarded-For, keep-alive", "Authorization: Bearer client",
		"X-Forwarded-For: 203.0.113.9", "X-Forwarded-Host: evil.example", "X-Forwarded-Proto: https", "Forwarded: for=203.0.113.9",
		"Proxy-Authorization: Basic c2VjcmV0"); status != 200 {
		t.Fatalf("%d %s", status, body)
	}
	h := <-got
	if h.Get("Authorization") != "Bearer t" {
		t.Errorf("Authorization %q, want the proxy's token", h.Get("Authorization"))
	}
	for _, k := range []string{"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "Forwarded", "Proxy-Authorization", "Connection"} {
		if v, ok := h[k]; ok {
			t.Errorf("the target got %s: %q", k, v)
		}
	}
}

// A 401 from a target that read part of the body first: the resend sends
// the whole body again, from its start.
func TestProxyReplaySendsTheWholeBody(t *testing.T) {
	var mu sync.Mutex
	var bodies []string
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "Bearer token-0" {
			b := make([]byte, 3)
			io.ReadFull(r.Body, b)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		mu.Unlock()
	}))
	defer backend.Close()
	target, _ := url.Parse(backend.URL)
	p, err := NewTokenProxy(ProxyConfig{Target: target, Tokens: &renewingTokens{}})
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(p)
	defer front.Close()
	resp, err := http.Post(front.URL+"/x", "text/plain", strings.NewReader("the whole body"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || len(bodies) != 1 || bodies[0] != "the whole body" {
		t.Fatalf("%s; the target got %q", resp.Status, bodies)
	}
}

// The bodies kept for a resend have a budget in all, not only each: with
// the budget taken by requests in flight, a small body is streamed, and
// its 401 passed back.
func TestProxyReplayBudget(t *testing.T) {
	inA, releaseA := make(chan struct{}), make(chan struct{})
	var releaseOnce sync.Once
	release := func() { releaseOnce.Do(func() { close(releaseA) }) }
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		switch {
		case r.URL.Path == "/a":
			close(inA)
			<-releaseA
		case r.Header.Get("Authorization") == "Bearer token-0":
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	defer backend.Close()
	target, _ := url.Parse(backend.URL)
	tokens := &renewingTokens{}
	p, err := NewTokenProxy(ProxyConfig{Target: target, Tokens: tokens, ReplayBudget: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(p)
	defer front.Close()
	defer release() // before the servers close: they wait for /a
	doneA := make(chan error, 1)
	go func() {
		resp, err := http.Post(front.URL+"/a", "text/plain", bytes.NewReader(make([]byte, 1<<20)))
		if err == nil {
			resp.Body.Close()
		}
		doneA <- err
	}()
	<-inA
	resp, err := http.Post(front.URL+"/b", "text/plain", strings.NewReader("small"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || tokens.refreshes != 0 {
		t.Fatalf("with the budget taken: %s after %d refreshes, want the 401 passed back", resp.Status, tokens.refreshes)
	}
	release()
	if err := <-doneA; err != nil {
		t.Fatal(err)
	}
	resp, err = http.Post(front.URL+"/b", "text/plain", strings.NewReader("small"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || tokens.refreshes != 1 {
		t.Fatalf("with the budget back: %s after %d refreshes, want a resend", resp.Status, tokens.refreshes)
	}
}
