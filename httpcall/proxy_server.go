package httpcall

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"mime"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/agcurl/agcurl/internal/netutil"
	"github.com/agcurl/agcurl/internal/termsafe"
)

// DefaultReplayLimit is the largest request body a TokenProxy keeps in
// memory, so that it can send the request again after a 401 and a token
// refresh. Larger bodies, bodies of unknown length (chunked) and bodies
// past ReplayBudget are streamed and never kept: a 401 to them is passed
// back to the client.
const DefaultReplayLimit = 1 << 20

// RefusedTokenPause is how long a TokenProxy passes 401s back without a
// refresh once the target answered 401 to a token it had just refreshed
// for a 401: the target refuses for another reason than the token's age.
const RefusedTokenPause = time.Minute

// DefaultReplayBudget bounds the memory that bodies kept for a resend take,
// all requests in flight together.
const DefaultReplayBudget = 16 << 20

// DefaultDrainTimeout is how long Serve waits, once its context is done,
// for the requests in flight to finish.
const DefaultDrainTimeout = 30 * time.Second

// ProxyConfig configures a TokenProxy; see NewTokenProxy.
type ProxyConfig struct {
	// Target is where every request goes: its scheme, host and path
	// prefix. It must not hold a query, a fragment or credentials.
	Target *url.URL
	// Transport sends the requests; nil uses NewProxyTransport's default.
	// It must be an *http.Transport for the proxy rule below to be checked.
	Transport http.RoundTripper
	// Tokens gives the access token attached to every request.
	Tokens TokenSource
	// Policy says where a token may go; Target must pass it.
	Policy TokenPolicy

	// PassAuth forwards the client's own Authorization and Cookie headers;
	// without it they are removed. A request that keeps its own
	// Authorization gets no token from Tokens.
	PassAuth bool
	// AllowRemote drops the checks that keep browsers on other sites and
	// DNS-rebinding attacks out (see ServeHTTP): for a listener that is not
	// on loopback, where anyone who can reach it may use it anyway.
	AllowRemote bool
	// ReplayLimit is the largest body kept for a resend after a 401;
	// 0 is DefaultReplayLimit, negative keeps none.
	ReplayLimit int64
	// ReplayBudget bounds the bodies kept at one time, all requests
	// together; a body that would go over it is streamed, as a larger one
	// is. 0 is DefaultReplayBudget.
	ReplayBudget int64

	// TokenFailure words the answer to the client when Tokens fails. An
	// answer with status 401 means the session has ended: a 401 from the
	// target whose refresh fails so is replaced by it. Nil answers 502.
	TokenFailure func(err error) ProxyAnswer
	// Log, when set, receives one entry per request, after its response
	// has been sent. It is called from many goroutines at once.
	Log func(ProxyLogEntry)
	// DrainTimeout bounds the wait for requests in flight when Serve stops;
	// 0 is DefaultDrainTimeout.
	DrainTimeout time.Duration
}

// ProxyAnswer is a response the proxy makes itself, as a JSON object
// {"error": Error, "error_description": Description}.
type ProxyAnswer struct {
	Status      int
	Error       string
	Description string
	RetryAfter  time.Duration
}

// ProxyLogEntry describes one request. Its strings are safe to print on a
// terminal and hold no header values and no query string.
type ProxyLogEntry struct {
	Method string
	// Path is the request's path as the client sent it, escaped for a
	// terminal, with "?..." in place of a query string (which may hold
	// secrets).
	Path     string
	Status   int // 0 when no response was sent (the client went away)
	Duration time.Duration
	// Note says what the proxy did besides forwarding, or why it failed.
	Note string
}

// TokenProxy is a reverse proxy to one target that attaches an access token
// to every request: see NewTokenProxy. It is safe for concurrent use.
type TokenProxy struct {
	cfg    ProxyConfig
	rp     *httputil.ReverseProxy
	limit  int64
	prefix string // Target's path, without a trailing slash
	// kept is how many bytes of bodies are kept for a resend, of budget.
	kept, budget int64
	keptMu       sync.Mutex

	// refused is a token that the target answered 401 to right after a
	// refresh made for its 401, and when: refreshing again would not help.
	refusedMu sync.Mutex
	refused   string
	refusedAt time.Time

	stopping atomic.Bool
	mu       sync.Mutex
	inFlight map[*proxyState]struct{}
	idle     chan struct{} // closed and replaced when inFlight empties
}

// NewTokenProxy checks cfg and returns the proxy. The target must pass
// the token policy, and when the transport would reach an http target
// through a proxy that is not on loopback, the token would cross it in
// cleartext: both are refused with a *TokenTargetError, before anything
// is sent.
//
// The proxy forwards each request to Target (a request for /a/b goes to
// Target's path + /a/b), with the client's Authorization and Cookie
// headers removed unless PassAuth, and "Authorization: Bearer <token>"
// set. Request and response bodies are streamed; WebSocket and other
// upgrades are passed through, and event streams are flushed as they
// come. Redirects are not followed: they go back to the client, with a
// Location on the target rewritten to the proxy. A 401 from the target
// makes the proxy refresh the token once and send the request again, when
// its body was kept (see ReplayLimit); when the target answers 401 to the
// new token too, its 401s are passed back without a refresh for
// RefusedTokenPause.
func NewTokenProxy(cfg ProxyConfig) (*TokenProxy, error) {
	if cfg.Target == nil || cfg.Tokens == nil {
		return nil, errors.New("httpcall: NewTokenProxy needs a Target and Tokens")
	}
	if cfg.Target.RawQuery != "" || cfg.Target.Fragment != "" || cfg.Target.User != nil {
		return nil, usagef("the proxy target %s must not hold a query, a fragment or credentials", cfg.Target.Redacted())
	}
	if err := cfg.Policy.Check(cfg.Target); err != nil {
		return nil, err
	}
	if cfg.Transport == nil {
		t, err := NewProxyTransport(ClientOptions{})
		if err != nil {
			return nil, err
		}
		cfg.Transport = t
	}
	if t, ok := cfg.Transport.(*http.Transport); ok && t.Proxy != nil {
		probe := &http.Request{Method: http.MethodGet, URL: cfg.Target, Header: http.Header{}}
		proxy, err := t.Proxy(probe)
		if err != nil {
			return nil, &TransportError{CurlProxy, fmt.Errorf("invalid proxy: %v", err)}
		}
		if err := checkTokenProxy(cfg.Target, proxy); err != nil {
			return nil, err
		}
	}
	if cfg.DrainTimeout <= 0 {
		cfg.DrainTimeout = DefaultDrainTimeout
	}
	p := &TokenProxy{cfg: cfg, limit: cfg.ReplayLimit, inFlight: map[*proxyState]struct{}{}, idle: make(chan struct{})}
	if p.limit == 0 {
		p.limit = DefaultReplayLimit
	}
	p.budget = cfg.ReplayBudget
	if p.budget <= 0 {
		p.budget = DefaultReplayBudget
	}
	p.prefix = strings.TrimSuffix(cfg.Target.EscapedPath(), "/")
	target := *cfg.Target
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(&target)
			if !cfg.PassAuth {
				pr.Out.Header.Del("Authorization")
				pr.Out.Header.Del("Cookie")
			}
		},
		Transport:      &tokenTransport{p: p, base: cfg.Transport},
		ModifyResponse: p.modifyResponse,
		ErrorHandler:   p.errorHandler,
		ErrorLog:       log.New(io.Discard, "", 0),
		BufferPool:     copyBuffers,
		// Event streams and bodies of unknown length are flushed as they
		// come (ReverseProxy's rule); others when its buffer fills.
		FlushInterval: 0,
	}
	return p, nil
}

// copyBuffers are the buffers TokenProxy copies response bodies with,
// reused rather than made for each request.
var copyBuffers = &bufferPool{sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}}

type bufferPool struct{ p sync.Pool }

func (b *bufferPool) Get() []byte  { return *b.p.Get().(*[]byte) }
func (b *bufferPool) Put(s []byte) { b.p.Put(&s) }

// NewProxyTransport returns the transport for a TokenProxy: NewClient's,
// with enough idle connections kept for a client that sends many requests
// at once.
func NewProxyTransport(o ClientOptions) (*http.Transport, error) {
	c, err := NewClient(o)
	if err != nil {
		return nil, err
	}
	t, ok := c.Transport.(*http.Transport)
	if !ok {
		return nil, errors.New("httpcall: NewClient's transport is not an *http.Transport")
	}
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = 128
	t.IdleConnTimeout = 90 * time.Second
	return t, nil
}

// proxyState is one request's bookkeeping, reached through its context.
type proxyState struct {
	start  time.Time
	cancel context.CancelFunc
	status atomic.Int32
	// stream: an event stream or an upgraded connection, which has no end
	// of its own to wait for when the proxy stops.
	stream atomic.Bool
	mu     sync.Mutex
	note   string
}

func (s *proxyState) setNote(n string) {
	s.mu.Lock()
	s.note = n
	s.mu.Unlock()
}

type proxyStateKey struct{}

func stateOf(ctx context.Context) *proxyState {
	s, _ := ctx.Value(proxyStateKey{}).(*proxyState)
	if s == nil {
		s = &proxyState{cancel: func() {}}
	}
	return s
}

// ServeHTTP forwards r; see NewTokenProxy. It first refuses what a client
// sends to a forward proxy (CONNECT, a full URL as the request target).
// Unless AllowRemote, it then refuses, with 403, what a web page on
// another site could make a browser send to a proxy on loopback: a Host
// that is not a loopback name (DNS rebinding), an Origin that is not on
// loopback, and a cross-site request without an Origin (Sec-Fetch-Site:
// cross-site). Last, it refuses a path with a dot segment, which the
// target could resolve to a path outside Target's.
func (p *TokenProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithCancel(r.Context())
	st := &proxyState{start: time.Now(), cancel: cancel}
	p.track(st)
	defer func() {
		cancel()
		p.untrack(st)
		v := recover()
		p.log(r, st)
		if v != nil {
			panic(v) // http.ErrAbortHandler from ReverseProxy: the server ends the connection quietly
		}
	}()
	r = r.WithContext(context.WithValue(ctx, proxyStateKey{}, st))

	if r.Method == http.MethodConnect || !strings.HasPrefix(r.RequestURI, "/") {
		// What a client sends to a forward proxy (HTTP_PROXY): its
		// request is for another server, not for the target.
		status := http.StatusBadRequest
		if r.Method == http.MethodConnect {
			status = http.StatusMethodNotAllowed
		}
		p.answer(w, st, ProxyAnswer{Status: status, Error: "bad_request", Description: "agcurl proxy: this is not a forward proxy " +
			"(CONNECT, or a request for a full URL): send requests to the proxy's own URL, and do not set it as HTTP_PROXY or HTTPS_PROXY"})
		return
	}
	if !p.cfg.AllowRemote {
		if why := refuseBrowserAttack(r); why != "" {
			p.answer(w, st, ProxyAnswer{Status: http.StatusForbidden, Error: "forbidden", Description: "agcurl proxy: " + why})
			return
		}
	}
	if hasDotSegment(r.URL.Path) {
		p.answer(w, st, ProxyAnswer{Status: http.StatusBadRequest, Error: "bad_request", Description: "agcurl proxy: refusing a path " +
			"with a . or .. segment (plain or %-encoded): the target could resolve it to leave the target's path"})
		return
	}
	if p.limit > 0 && r.ContentLength > 0 && r.ContentLength <= p.limit && p.keep(r.ContentLength) {
		// Small enough to keep for a resend after a 401.
		defer p.keep(-r.ContentLength)
		buf := make([]byte, r.ContentLength)
		if _, err := io.ReadFull(r.Body, buf); err != nil {
			st.setNote("reading the request body failed: " + termsafe.String(err.Error()))
			p.answer(w, st, ProxyAnswer{Status: http.StatusBadRequest, Error: "bad_request", Description: "agcurl proxy: could not read the request body"})
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(buf))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf)), nil }
	}
	p.rp.ServeHTTP(w, r)
}

// keep takes n bytes of the budget for kept bodies, and reports whether
// they were there; a negative n gives them back.
func (p *TokenProxy) keep(n int64) bool {
	p.keptMu.Lock()
	defer p.keptMu.Unlock()
	if n > 0 && p.kept+n > p.budget {
		return false
	}
	p.kept += n
	return true
}

// hasDotSegment reports whether path (decoded once, as url.URL.Path holds
// it) has a segment that a server could take for "." or "..": servers
// differ in what they decode before they resolve dot segments (%2e, %2f,
// a second round of %-decoding), in whether a backslash separates
// segments, and in dropping ";params" from a segment. A client's own path
// never holds one: clients resolve them before they send.
func hasDotSegment(path string) bool {
	for range 2 {
		for _, seg := range strings.FieldsFunc(path, func(r rune) bool { return r == '/' || r == '\\' }) {
			seg, _, _ = strings.Cut(seg, ";")
			if seg == "." || seg == ".." {
				return true
			}
		}
		p, err := url.PathUnescape(path)
		if err != nil || p == path {
			break
		}
		path = p
	}
	return false
}

// refuseBrowserAttack returns why r looks like a request a browser sent for
// a page on another site, or "".
func refuseBrowserAttack(r *http.Request) string {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	// No Host: an HTTP/1.0 client, not a browser (which always sends one).
	if host != "" && !loopbackName(host) {
		return fmt.Sprintf("refusing a request for host %q: only loopback names are served (a web page may be trying DNS rebinding)", termsafe.String(r.Host))
	}
	if origin := r.Header.Get("Origin"); origin != "" {
		u, err := url.Parse(origin)
		if err != nil || u.Host == "" || !loopbackName(u.Hostname()) {
			return fmt.Sprintf("refusing a request from the web page at %s: only pages on loopback may use the proxy", termsafe.String(origin))
		}
		return ""
	}
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		return "refusing a cross-site request from a web page: only pages on loopback may use the proxy"
	}
	return ""
}

// loopbackName reports whether host names loopback, "localhost." (fully
// qualified) included.
func loopbackName(host string) bool {
	return netutil.IsLoopbackHost(strings.TrimSuffix(host, "."))
}

func (p *TokenProxy) track(st *proxyState) {
	p.mu.Lock()
	p.inFlight[st] = struct{}{}
	p.mu.Unlock()
}

func (p *TokenProxy) untrack(st *proxyState) {
	p.mu.Lock()
	delete(p.inFlight, st)
	if len(p.inFlight) == 0 {
		close(p.idle)
		p.idle = make(chan struct{})
	}
	p.mu.Unlock()
}

// InFlight returns how many requests are being served, event streams and
// upgraded connections left out.
func (p *TokenProxy) InFlight() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for st := range p.inFlight {
		if !st.stream.Load() {
			n++
		}
	}
	return n
}

// cancel ends the requests in flight: only the streams, or all.
func (p *TokenProxy) cancel(onlyStreams bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for st := range p.inFlight {
		if !onlyStreams || st.stream.Load() {
			st.cancel()
		}
	}
}

// waitIdle returns when no request is in flight, or when ctx is done.
func (p *TokenProxy) waitIdle(ctx context.Context) error {
	for {
		p.mu.Lock()
		n, idle := len(p.inFlight), p.idle
		p.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-idle:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (p *TokenProxy) log(r *http.Request, st *proxyState) {
	if p.cfg.Log == nil {
		return
	}
	st.mu.Lock()
	note := st.note
	st.mu.Unlock()
	p.cfg.Log(ProxyLogEntry{
		Method: termsafe.String(logCut(r.Method, maxLogMethod)), Path: logPath(r.URL), Status: int(st.status.Load()),
		Duration: time.Since(st.start), Note: note,
	})
}

// maxLogPath and maxLogMethod are the most of a path and of a method a
// log line shows.
const (
	maxLogPath   = 256
	maxLogMethod = 32
)

// logCut returns s cut to n bytes, saying how long it was.
func logCut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return fmt.Sprintf("%s...(%d bytes)", s[:n], len(s))
}

// logPath is u's path as the client sent it, escaped for a terminal and
// cut to maxLogPath bytes, with "?..." for its query: query strings may
// carry secrets (api_key=, code=).
func logPath(u *url.URL) string {
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	path = logCut(path, maxLogPath)
	if u.RawQuery != "" || u.ForceQuery {
		path += "?..."
	}
	return termsafe.String(path)
}

func (p *TokenProxy) answer(w http.ResponseWriter, st *proxyState, a ProxyAnswer) {
	st.status.Store(int32(a.Status))
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	if a.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(int((a.RetryAfter+time.Second-1)/time.Second)))
	}
	w.WriteHeader(a.Status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(map[string]string{"error": a.Error, "error_description": a.Description})
}

// modifyResponse records the status, marks streams, and points a redirect
// to the target back at the proxy.
func (p *TokenProxy) modifyResponse(res *http.Response) error {
	st := stateOf(res.Request.Context())
	st.status.Store(int32(res.StatusCode))
	ct, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type"))
	if res.StatusCode == http.StatusSwitchingProtocols || ct == "text/event-stream" {
		st.stream.Store(true)
		if p.stopping.Load() {
			st.cancel() // a stream that starts while the proxy stops ends at once
		}
	}
	if loc := res.Header.Get("Location"); loc != "" {
		if rel, ok := p.proxyLocation(loc); ok {
			res.Header.Set("Location", rel)
		}
	}
	return nil
}

// proxyLocation rewrites a Location that points into the target (same
// origin, under its path) to a path on the proxy, so that the client
// follows it through the proxy. Other Locations are left as they are: the
// client follows them, if it does, without the proxy and its token.
func (p *TokenProxy) proxyLocation(loc string) (string, bool) {
	u, err := url.Parse(loc)
	if err != nil {
		return "", false
	}
	if u.Scheme != "" || u.Host != "" {
		if (u.Scheme != "http" && u.Scheme != "https") || Origin(u) != Origin(p.cfg.Target) {
			return "", false
		}
	} else if !strings.HasPrefix(u.Path, "/") {
		return "", false // relative to the request's own path: right as it is
	}
	// Resolve dot segments as the client would, before the prefix is
	// looked for; encoded ones that remain are left for the client (the
	// proxy refuses them).
	u = p.cfg.Target.ResolveReference(u)
	if hasDotSegment(u.Path) {
		return "", false
	}
	path := u.EscapedPath()
	rest, ok := strings.CutPrefix(path, p.prefix)
	if !ok || (rest != "" && !strings.HasPrefix(rest, "/")) {
		return "", false
	}
	if rest == "" {
		rest = "/"
	}
	out := &url.URL{RawQuery: u.RawQuery, ForceQuery: u.ForceQuery, Fragment: u.Fragment}
	if err := setEscapedPath(out, rest); err != nil {
		return "", false
	}
	return out.String(), true
}

func setEscapedPath(u *url.URL, escaped string) error {
	p, err := url.PathUnescape(escaped)
	if err != nil {
		return err
	}
	u.Path, u.RawPath = p, escaped
	if u.EscapedPath() != escaped {
		u.RawPath = ""
	}
	return nil
}

// tokenFailure is an error of the TokenSource, for errorHandler.
type tokenFailure struct{ err error }

func (e *tokenFailure) Error() string { return e.err.Error() }
func (e *tokenFailure) Unwrap() error { return e.err }

func (p *TokenProxy) tokenAnswer(err error) ProxyAnswer {
	if p.cfg.TokenFailure != nil {
		return p.cfg.TokenFailure(err)
	}
	return ProxyAnswer{Status: http.StatusBadGateway, Error: "token_unavailable", Description: "agcurl proxy: no access token: " + err.Error()}
}

func (p *TokenProxy) errorHandler(w http.ResponseWriter, r *http.Request, err error) {
	st := stateOf(r.Context())
	var tf *tokenFailure
	switch {
	case errors.As(err, &tf):
		a := p.tokenAnswer(tf.err)
		st.setNote(termsafe.String(a.Description))
		p.answer(w, st, a)
	case r.Context().Err() != nil:
		// The client went away, or the proxy is stopping: no one to answer.
		st.setNote("cancelled")
	default:
		cerr := ClassifyError(err)
		var te *TransportError
		status := http.StatusBadGateway
		if errors.As(cerr, &te) && te.Code == CurlTimeout {
			status = http.StatusGatewayTimeout
		}
		msg := termsafe.String(cerr.Error())
		st.setNote(msg)
		p.answer(w, st, ProxyAnswer{Status: status, Error: "bad_gateway", Description: "agcurl proxy: " + msg})
	}
}

// tokenTransport attaches the token, and on a 401 refreshes it once and
// sends the request again when its body can be replayed.
type tokenTransport struct {
	p    *TokenProxy
	base http.RoundTripper
}

func (t *tokenTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	st := stateOf(ctx)
	if t.p.cfg.PassAuth && req.Header.Get("Authorization") != "" {
		return t.base.RoundTrip(req) // the client's own credentials, as they are
	}
	tok, err := t.p.cfg.Tokens.AccessToken(ctx)
	if err != nil {
		closeBody(req)
		return nil, &tokenFailure{err}
	}
	out := req.Clone(ctx)
	out.Header.Set("Authorization", "Bearer "+tok)
	resp, err := t.base.RoundTrip(out)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		st.setNote("401 passed back: the body was not kept for a resend (larger than the limit, of unknown length, or past the budget for kept bodies)")
		return resp, nil
	}
	if t.p.justRefused(tok) {
		st.setNote("401 passed back: the target refused a token just refreshed for a 401, so another refresh would not help")
		return resp, nil
	}
	fresh, err := t.p.cfg.Tokens.Refresh(ctx, tok)
	if errors.Is(err, ErrNoRefresh) {
		return resp, nil
	}
	if err != nil {
		if t.p.tokenAnswer(err).Status == http.StatusUnauthorized {
			drainClose(resp)
			return nil, &tokenFailure{err}
		}
		st.setNote("401 passed back: the token could not be refreshed: " + termsafe.String(err.Error()))
		return resp, nil
	}
	drainClose(resp)
	again := req.Clone(ctx)
	if req.GetBody != nil {
		if again.Body, err = req.GetBody(); err != nil {
			return nil, err
		}
	}
	again.Header.Set("Authorization", "Bearer "+fresh)
	st.setNote("the target answered 401: token refreshed, request sent again")
	resp, err = t.base.RoundTrip(again)
	if err == nil && resp.StatusCode == http.StatusUnauthorized {
		t.p.refusedMu.Lock()
		t.p.refused, t.p.refusedAt = fresh, time.Now()
		t.p.refusedMu.Unlock()
	}
	return resp, err
}

// justRefused reports whether the target answered 401 to tok right after a
// refresh, less than RefusedTokenPause ago.
func (p *TokenProxy) justRefused(tok string) bool {
	p.refusedMu.Lock()
	defer p.refusedMu.Unlock()
	return tok == p.refused && time.Since(p.refusedAt) < RefusedTokenPause
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// Serve accepts connections on ln until ctx is done, then stops: it stops
// accepting, ends event streams and upgraded connections (they have no end
// to wait for), and waits for the other requests in flight to finish, for
// at most DrainTimeout or until force is closed, before it ends what is
// left. draining, when not nil, is told how many requests it waits for
// (when there are any).
// It returns ctx's error after a stop, or the error that ended serving.
func (p *TokenProxy) Serve(ctx context.Context, ln net.Listener, force <-chan struct{}, draining func(n int)) error {
	srv := &http.Server{
		Handler:           p,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	p.stopping.Store(true)
	p.cancel(true)
	if n := p.InFlight(); n > 0 && draining != nil {
		draining(n)
	}
	dctx, cancel := context.WithTimeout(context.Background(), p.cfg.DrainTimeout)
	defer cancel()
	go func() {
		select {
		case <-force:
			cancel()
		case <-dctx.Done():
		}
	}()
	if err := srv.Shutdown(dctx); err != nil {
		srv.Close()
	}
	if p.waitIdle(dctx) != nil {
		p.cancel(false)
		// Handlers return promptly once cancelled.
		wctx, wcancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = p.waitIdle(wctx)
		wcancel()
	}
	<-served
	return ctx.Err()
}
