package cmd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/agcurl/agcurl/auth"
	"github.com/agcurl/agcurl/httpcall"
	"github.com/agcurl/agcurl/internal/netutil"
	"github.com/agcurl/agcurl/internal/termsafe"
	"github.com/agcurl/agcurl/keychain"
)

// ProxyOptions are what `agcurl proxy` runs with.
type ProxyOptions struct {
	IO      *IOStreams
	Profile func() (*profileContext, error)
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Signals, when set, subscribes to the signals that stop the proxy, so
	// that a second one stops it without waiting; the returned func
	// unsubscribes.
	Signals func() (<-chan os.Signal, func())

	Listen      string
	Target      string // "" is the profile's API base
	AllowRemote bool
	PassAuth    bool
	Quiet       bool
	Insecure    bool
	CACert      string
}

const defaultProxyListen = "127.0.0.1:8080"

// NewCmdProxy builds `agcurl proxy`. When runF is not nil it is called with
// the parsed and checked options instead of proxyRun.
func NewCmdProxy(f *Factory, runF func(*ProxyOptions) error) *cobra.Command {
	o := &ProxyOptions{IO: f.IO, Now: f.Now}
	c := &cobra.Command{
		Use:   "proxy [--listen ADDR] [--target URL]",
		Short: "Serve a local proxy that adds a valid access token to every request",
		Long: `Listen on a local address and forward every request to the target (the
profile's API base unless --target names another) with "Authorization: Bearer
<token>" set from the session, refreshed when due. A frontend dev server,
Postman, a load test or a test suite in any language then calls the proxy's
URL and never handles a token. The proxy and agcurl commands running at the
same time share one session and one refresh.

Safe by default:
  - It listens on loopback only; another address needs --allow-remote, as
    anyone who can reach it would act as you.
  - The client's own Authorization and Cookie headers are removed (keep them
    with --pass-auth; a request that keeps its Authorization gets no token).
  - Requests go to the target's origin only. A redirect comes back to the
    client, not followed; one into the target is rewritten to the proxy.
    A path with a . or .. segment (which could leave the target's path) is
    refused with 400, and so is what a client sends to a forward proxy
    (CONNECT, a full URL): the proxy is not an HTTP_PROXY.
  - The target passes fetch's token rule: https, or http on loopback; the
    profile's API base and allowed origins only, when it sets them.
  - Requests that a web page on another site could make a browser send are
    refused with 403: a Host that is not a loopback name (DNS rebinding), an
    Origin not on loopback, or Sec-Fetch-Site: cross-site without an Origin
    (unless the proxy listens off loopback).

Bodies are streamed both ways, WebSocket upgrades pass through and event
streams (Server-Sent Events) are flushed as they come. When the target
answers 401, the token is refreshed once and the request sent again if its
body was kept: bodies of up to 1 MiB with a Content-Length are, 16 MiB at
one time in all; larger ones, chunked ones and those past the 16 MiB are
streamed, and their 401 is passed back. When the target
refuses the refreshed token too, its 401s are passed back without a refresh
for a minute, as refreshing cannot help. When the session
has ended (revoked or expired), requests get a 401 with a JSON body that says
to run 'agcurl login'; once you have, the proxy uses the new session.

The proxy's URL is printed on stdout. Each request is logged on stderr as one
line (time, method, path, status, duration; the query string is left out, as
it may hold secrets; no header is ever logged); --quiet turns that off.
Ctrl-C stops accepting, lets the requests in flight finish (up to 30s; event
streams and WebSockets are closed at once; a second Ctrl-C stops at once),
and exits with 130. See docs/proxy.md for recipes (Vite, webpack, Postman, k6).`,
		Example: `  agcurl proxy                       # http://127.0.0.1:8080 -> the profile's API base
  agcurl proxy --listen 127.0.0.1:9000 --target https://api.example.com/v1
  agcurl proxy --quiet --listen 127.0.0.1:0 > proxy-url.txt   # any free port`,
		Args: exactArgs(0, ""),
		RunE: func(c *cobra.Command, args []string) error {
			if err := o.validate(); err != nil {
				return err
			}
			o.Profile = f.profileFunc()
			o.Signals = func() (<-chan os.Signal, func()) {
				ch := make(chan os.Signal, 4)
				signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
				return ch, func() { signal.Stop(ch) }
			}
			if runF != nil {
				return runF(o)
			}
			return proxyRun(c.Context(), o)
		},
	}
	fl := c.Flags()
	fl.SortFlags = false
	fl.StringVar(&o.Listen, "listen", defaultProxyListen, "address to listen on, HOST:PORT (port 0: any free port)")
	fl.StringVar(&o.Target, "target", "", "where to forward requests (default: the profile's API base); a URL starting with / is relative to it")
	fl.BoolVar(&o.AllowRemote, "allow-remote", false, "allow --listen on an address other than loopback (dangerous: anyone who reaches it acts as you)")
	fl.BoolVar(&o.PassAuth, "pass-auth", false, "forward the client's own Authorization and Cookie headers instead of removing them")
	fl.BoolVarP(&o.Quiet, "quiet", "q", false, "log nothing on stderr but warnings and errors")
	fl.BoolVarP(&o.Insecure, "insecure", "k", false, "do not verify the target's TLS certificate")
	fl.StringVar(&o.CACert, "cacert", "", "trust the CA certificates in this PEM file for the target")
	return c
}

// validate returns the usage error in o, if any.
func (o *ProxyOptions) validate() error {
	host, port, err := net.SplitHostPort(o.Listen)
	if err != nil {
		return usageErrorf("--listen %q: want HOST:PORT, e.g. %s", o.Listen, defaultProxyListen)
	}
	if n, err := net.LookupPort("tcp", port); err != nil || n < 0 || n > 65535 {
		return usageErrorf("--listen %q: bad port %q", o.Listen, port)
	}
	if !netutil.IsLoopbackHost(host) && !o.AllowRemote {
		what := "every address of this machine"
		if host != "" && host != "0.0.0.0" && host != "::" {
			what = fmt.Sprintf("%q, which is not loopback", host)
		}
		return usageErrorf("--listen %s would serve %s: anyone who can reach it could call the API as you, "+
			"as the proxy adds your access token to every request; listen on 127.0.0.1, or pass --allow-remote if that is what you want", o.Listen, what)
	}
	if o.Target != "" && !strings.HasPrefix(o.Target, "/") {
		if _, err := httpcall.ResolveURL(o.Target, ""); err != nil {
			return err
		}
	}
	return nil
}

// proxyRun serves the proxy until ctx is done.
func proxyRun(ctx context.Context, o *ProxyOptions) error {
	p, err := o.Profile()
	if err != nil {
		return err
	}
	base := ""
	if p.profile != nil {
		base = p.profile.APIBase
	}
	raw := o.Target
	if raw == "" {
		if base == "" {
			return usageErrorf("agcurl proxy needs a target: pass --target URL, or set the profile's API base with `agcurl configure%s --api-base URL`", p.profileFlag())
		}
		raw = base
	}
	target, err := httpcall.ResolveURL(raw, base)
	if err != nil {
		return err
	}
	if target.RawQuery != "" || target.ForceQuery {
		return usageErrorf("--target %s: a query string cannot be added to every request; leave it out", termsafe.String(target.Redacted()))
	}

	tokens, err := proxyTokens(ctx, p, o)
	if err != nil {
		return err
	}
	transport, err := httpcall.NewProxyTransport(httpcall.ClientOptions{Insecure: o.Insecure, CACertFile: o.CACert})
	if err != nil {
		return err
	}
	defer transport.CloseIdleConnections()
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %v; pick another address with --listen (port 0: any free port)", o.Listen, rootErr(err))
	}
	defer ln.Close() // Serve closes it too; this is for the returns before
	addr := ln.Addr().(*net.TCPAddr)
	// --allow-remote allows a listener off loopback, and only there drops
	// the checks against web pages on other sites: on loopback, they are
	// what keeps those pages out.
	remote := !addr.IP.IsLoopback()
	if remote && !o.AllowRemote {
		return usageErrorf("--listen %s resolved to %s, which is not loopback; pass --allow-remote if that is what you want", o.Listen, addr.IP)
	}
	logLine := proxyLogger(o)
	proxy, err := httpcall.NewTokenProxy(httpcall.ProxyConfig{
		Target:       target,
		Transport:    transport,
		Tokens:       tokens,
		Policy:       tokenPolicy(p),
		PassAuth:     o.PassAuth,
		AllowRemote:  remote,
		TokenFailure: proxyTokenAnswer,
		Log:          logLine,
	})
	var refused *httpcall.TokenTargetError
	if errors.As(err, &refused) {
		return &remediedError{err: err, msg: err.Error() + "; " + proxyTargetRemedy(refused)}
	}
	if err != nil {
		return err
	}
	// Fail now, not on the first request, when there is no session.
	if _, err := tokens.AccessToken(ctx); err != nil {
		return p.withHint(err)
	}
	tokens.warn = func(err error) {
		fmt.Fprintf(o.IO.ErrOut, "agcurl: %s; until then the proxy answers every request with 401\n", termsafe.String(withRemedy(err).Error()))
	}

	url := "http://" + proxyHostPort(o.Listen, addr)
	fmt.Fprintln(o.IO.Out, url)
	if remote {
		host, _, _ := net.SplitHostPort(o.Listen)
		fmt.Fprintf(o.IO.ErrOut, "agcurl: warning: listening on %s, which is not loopback: anyone who can reach this address "+
			"(other machines, other users, web pages in their browsers) can call %s as you, with your access token; "+
			"the proxy has no authentication of its own\n", net.JoinHostPort(host, fmt.Sprint(addr.Port)), httpcall.Origin(target))
	}
	if !o.Quiet {
		whose := "of profile " + p.name
		if tokens.fromEnv {
			whose = "from AGCURL_ACCESS_TOKEN (never refreshed)"
		}
		fmt.Fprintf(o.IO.ErrOut, "agcurl: proxying %s -> %s with the access token %s; Ctrl-C to stop\n",
			url, termsafe.String(strings.TrimSuffix(target.String(), "/")), whose)
	}

	force, served := make(chan struct{}), make(chan struct{})
	defer close(served)
	if o.Signals != nil {
		sigs, stop := o.Signals()
		defer stop()
		go func() {
			// The first signal also ends ctx (Main's); the second stops at once.
			for n := 0; ; {
				select {
				case <-sigs:
					if n++; n == 2 {
						close(force)
						return
					}
				case <-served:
					return
				}
			}
		}()
	}
	err = proxy.Serve(ctx, ln, force, func(n int) {
		fmt.Fprintf(o.IO.ErrOut, "agcurl: stopping: waiting for %d request%s in flight (Ctrl-C again to stop at once)\n", n, map[bool]string{true: "", false: "s"}[n == 1])
	})
	if ctx.Err() != nil {
		return context.Canceled
	}
	return err
}

// proxyHostPort is the host:port for the proxy's URL: the name given in
// --listen (localhost stays localhost) with the port actually bound.
func proxyHostPort(listen string, addr *net.TCPAddr) string {
	host, _, _ := net.SplitHostPort(listen)
	if host == "" || net.ParseIP(host) != nil {
		if ip := addr.IP; ip.IsUnspecified() {
			host = "127.0.0.1"
		} else {
			host = ip.String()
		}
	}
	return net.JoinHostPort(host, fmt.Sprint(addr.Port))
}

func rootErr(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		err = op.Err
	}
	var sc *os.SyscallError
	if errors.As(err, &sc) && sc.Err != nil {
		err = sc.Err
	}
	return err
}

// proxyTargetRemedy words what to do about a target the token may not go to.
func proxyTargetRemedy(e *httpcall.TokenTargetError) string {
	switch e.Kind {
	case httpcall.NotAllowed:
		return "allow it with `agcurl configure" + profileFlagFor(e.Profile) + " --allow-origin ORIGIN`, or choose another --target"
	case httpcall.ProxyCleartext:
		return "use an https target, or unset HTTP_PROXY"
	}
	return "use an https target"
}

// proxyTokenAnswer is the proxy's answer when no token can be had: 401
// when the session has ended (the remedy says how to log in again), else
// 503, the session kept.
func proxyTokenAnswer(err error) httpcall.ProxyAnswer {
	msg := "agcurl: " + withRemedy(err).Error()
	if errors.Is(err, auth.ErrLoginRequired) {
		return httpcall.ProxyAnswer{Status: http.StatusUnauthorized, Error: "login_required", Description: msg}
	}
	a := httpcall.ProxyAnswer{Status: http.StatusServiceUnavailable, Error: "token_unavailable", Description: msg}
	var temp *auth.TemporaryError
	if errors.As(err, &temp) {
		a.RetryAfter = temp.RetryAfter
	}
	return a
}

// proxyLogger returns the per-request logger: one line on stderr per
// request, or nil with --quiet.
func proxyLogger(o *ProxyOptions) func(httpcall.ProxyLogEntry) {
	if o.Quiet {
		return nil
	}
	var mu sync.Mutex
	now := o.Now
	if now == nil {
		now = time.Now
	}
	return func(e httpcall.ProxyLogEntry) {
		status := fmt.Sprint(e.Status)
		if e.Status == 0 {
			status = "-"
		}
		line := fmt.Sprintf("%s %s %s %s %dms", now().Format("15:04:05"), e.Method, e.Path, status, e.Duration.Milliseconds())
		if e.Note != "" {
			line += " (" + e.Note + ")"
		}
		mu.Lock()
		fmt.Fprintln(o.IO.ErrOut, line)
		mu.Unlock()
	}
}

// sharedTokens is the proxy's token source: the profile's refresher, as
// every command uses it (same lock, same stored session, so that the proxy
// and other agcurl processes make one refresh between them), with the
// session it last read kept in memory for a few seconds, so that a busy
// proxy does not read the keyring for every request. When the session
// ends, it says so on stderr once, until a later login brings it back. A
// failure that may pass is given again, without a new attempt, for the
// provider's Retry-After (or failurePause).
type sharedTokens struct {
	r   *auth.Refresher
	now func() time.Time
	// warn is told once that the session has ended.
	warn    func(error)
	fromEnv bool
	static  string // $AGCURL_ACCESS_TOKEN

	mu     sync.Mutex
	s      *keychain.Session
	readAt time.Time
	ended  bool
	// failed is the last failure that may pass (the provider is down or
	// rate-limits), given again without a new attempt until failedUntil.
	failed      error
	failedUntil time.Time
}

// failurePause is how long the proxy gives a failure that may pass again
// without another attempt, when the provider gave no Retry-After; a
// Retry-After is honoured up to maxFailurePause.
const (
	failurePause    = 5 * time.Second
	maxFailurePause = 5 * time.Minute
)

// sessionRecheck is how long the proxy uses the session it read before it
// reads the stored one again (to see a logout, a login or another
// process's refresh).
const sessionRecheck = 5 * time.Second

// refreshTimeout bounds a refresh made on behalf of every request waiting.
const refreshTimeout = 2 * time.Minute

func proxyTokens(ctx context.Context, p *profileContext, o *ProxyOptions) (*sharedTokens, error) {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	t := &sharedTokens{now: now}
	if at := p.f.Getenv("AGCURL_ACCESS_TOKEN"); at != "" {
		if err := checkTokenText("AGCURL_ACCESS_TOKEN", at); err != nil {
			return nil, err
		}
		t.static, t.fromEnv = at, true
		return t, nil
	}
	r, err := p.refresher(ctx)
	if err != nil {
		return nil, p.withHint(err)
	}
	t.r = r
	return t, nil
}

func (t *sharedTokens) AccessToken(ctx context.Context) (string, error) {
	if t.fromEnv {
		return t.static, nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if t.s != nil && now.Sub(t.readAt) < sessionRecheck && auth.Fresh(t.s, now) {
		return t.s.AccessToken, nil
	}
	if err := t.pausedFailure(now); err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refreshTimeout)
	defer cancel()
	s, err := t.r.Token(ctx)
	return t.took(s, err)
}

func (t *sharedTokens) Refresh(ctx context.Context, rejected string) (string, error) {
	if t.fromEnv {
		return "", httpcall.ErrNoRefresh
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.s != nil && t.s.AccessToken != rejected && auth.Fresh(t.s, t.now()) {
		return t.s.AccessToken, nil // another request refreshed it meanwhile
	}
	if err := t.pausedFailure(t.now()); err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refreshTimeout)
	defer cancel()
	s, err := t.r.ForceRefresh(ctx, rejected)
	return t.took(s, err)
}

// took records the outcome of a read or refresh; t.mu is held.
func (t *sharedTokens) took(s *keychain.Session, err error) (string, error) {
	if err != nil {
		t.s = nil
		if errors.Is(err, auth.ErrLoginRequired) {
			if !t.ended && t.warn != nil {
				t.warn(err)
			}
			t.ended = true
			return "", err
		}
		pause := failurePause
		var temp *auth.TemporaryError
		if errors.As(err, &temp) && temp.RetryAfter > 0 {
			pause = min(temp.RetryAfter, maxFailurePause)
		}
		t.failed, t.failedUntil = err, t.now().Add(pause)
		return "", err
	}
	t.s, t.readAt, t.ended, t.failed = s, t.now(), false, nil
	return s.AccessToken, nil
}

// pausedFailure returns the last failure that may pass while it is paused
// (its Retry-After counting down), or nil; t.mu is held.
func (t *sharedTokens) pausedFailure(now time.Time) error {
	if t.failed == nil || !now.Before(t.failedUntil) {
		return nil
	}
	var temp *auth.TemporaryError
	if errors.As(t.failed, &temp) {
		return &auth.TemporaryError{Err: t.failed, RetryAfter: t.failedUntil.Sub(now)}
	}
	return t.failed
}
