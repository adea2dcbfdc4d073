package httpcall

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/agcurl/agcurl/internal/netutil"
	"github.com/agcurl/agcurl/internal/termsafe"
)

// TokenSource gives the access token to attach. It is defined here, by its
// consumer; agcurl's auth.Refresher is adapted to it.
type TokenSource interface {
	// AccessToken returns a token believed valid.
	AccessToken(ctx context.Context) (string, error)
	// Refresh returns a new token after the server rejected rejected.
	Refresh(ctx context.Context, rejected string) (string, error)
}

// ErrNoRefresh is returned by a TokenSource's Refresh when its token cannot
// be renewed; the 401 response is then returned as it is.
var ErrNoRefresh = errors.New("the token cannot be refreshed")

// TokenTargetError reports that the token would go somewhere it must not.
// Nothing was sent.
type TokenTargetError struct {
	Origin string
	Reason string
	Kind   TargetRefusal
	// Profile is the policy's profile, for a NotAllowed refusal.
	Profile string
}

// TargetRefusal says why a token target was refused.
type TargetRefusal int

const (
	// PlainHTTP: plain http to a host that is not loopback.
	PlainHTTP TargetRefusal = iota + 1
	// NotAllowed: an origin outside the profile's allowed origins.
	NotAllowed
	// ProxyCleartext: plain http through a proxy that is not on loopback.
	ProxyCleartext
)

func (e *TokenTargetError) Error() string {
	return fmt.Sprintf("refusing to send the access token to %s: %s", e.Origin, e.Reason)
}

// TokenPolicy says where a token may be sent: https origins, or http on
// loopback, and when AllowedOrigins is not empty, only those origins.
type TokenPolicy struct {
	// AllowedOrigins are origins like "https://api.example.com"; empty
	// allows any origin that passes the scheme rule.
	AllowedOrigins []string
	// Profile names whose policy this is, for the error.
	Profile string
}

// Check returns a *TokenTargetError when the token must not go to u.
func (p TokenPolicy) Check(u *url.URL) error {
	origin := Origin(u)
	if u.Scheme != "https" && !(u.Scheme == "http" && netutil.IsLoopbackHost(u.Hostname())) {
		return &TokenTargetError{Origin: origin, Kind: PlainHTTP, Reason: "plain http is allowed only to loopback"}
	}
	if len(p.AllowedOrigins) == 0 {
		return nil
	}
	for _, a := range p.AllowedOrigins {
		if strings.EqualFold(strings.TrimSuffix(a, "/"), origin) {
			return nil
		}
	}
	return &TokenTargetError{Origin: origin, Kind: NotAllowed, Profile: p.Profile,
		Reason: "it is not among the profile's allowed origins (config key allowed_origins)"}
}

// Origin returns scheme://host[:port] of u, with the default port left out.
func Origin(u *url.URL) string {
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	port := u.Port()
	if (u.Scheme == "https" && port == "443") || (u.Scheme == "http" && port == "80") {
		port = ""
	}
	if port != "" {
		host += ":" + port
	}
	return strings.ToLower(u.Scheme) + "://" + host
}

// CheckTokenTarget is TokenPolicy{}.Check: https, or http on loopback.
func CheckTokenTarget(u *url.URL) error { return TokenPolicy{}.Check(u) }

// checkTokenProxy returns a *TokenTargetError when a token for target
// would cross proxy in cleartext. A token may travel over plain http only
// from loopback to loopback: the policy lets an http target through only on
// loopback, so its proxy, if any, must be on loopback too. An https target
// is reached through a CONNECT tunnel, which the proxy cannot read, and
// passes whatever the proxy. A nil proxy means the request goes directly.
func checkTokenProxy(target, proxy *url.URL) error {
	if proxy == nil || !strings.EqualFold(target.Scheme, "http") || netutil.IsLoopbackHost(proxy.Hostname()) {
		return nil
	}
	return &TokenTargetError{Origin: Origin(target), Kind: ProxyCleartext,
		Reason: fmt.Sprintf("over plain http it would cross the proxy %s, which is not on loopback, in cleartext", proxy.Host)}
}

// CurlCode is the number curl gives a kind of transfer failure (its
// CURLE_* error codes, which curl also exits with). The command line picks
// the exit status for it.
type CurlCode int

// The transfer failures fetch can have, by curl's numbers.
const (
	CurlProxy      CurlCode = 5  // the proxy could not be reached
	CurlResolve    CurlCode = 6  // the host name could not be resolved
	CurlConnect    CurlCode = 7  // the connection failed
	CurlTimeout    CurlCode = 28 // the operation timed out
	CurlTLS        CurlCode = 35 // the TLS handshake failed
	CurlRecv       CurlCode = 56 // the transfer failed while receiving
	CurlClientCert CurlCode = 58 // the client certificate or key cannot be used
	CurlPeerCert   CurlCode = 60 // the server's certificate is not trusted
	CurlDecoding   CurlCode = 61 // the content encoding could not be decoded
	CurlCACert     CurlCode = 77 // the CA file could not be read
)

// CurlCodes lists every CurlCode a TransportError may carry.
var CurlCodes = []CurlCode{CurlProxy, CurlResolve, CurlConnect, CurlTimeout, CurlTLS, CurlRecv, CurlClientCert, CurlPeerCert, CurlDecoding, CurlCACert}

// TransportError is a failure below HTTP, with curl's code for its kind.
type TransportError struct {
	Code CurlCode
	Err  error
}

func (e *TransportError) Error() string { return e.Err.Error() }
func (e *TransportError) Unwrap() error { return e.Err }

// TooManyRedirectsError is curl's exit code 47.
type TooManyRedirectsError struct{ Max int }

func (e *TooManyRedirectsError) Error() string {
	return fmt.Sprintf("maximum (%d) redirects followed", e.Max)
}

// ClassifyError maps a transport error to curl's exit code and a one-line
// message that names the host but not the URL's query. Text in the message
// that may come from the network is escaped with termsafe.String.
func ClassifyError(err error) error {
	if err == nil {
		return nil
	}
	var re *ReadError
	if errors.As(err, &re) {
		return re
	}
	var te *TransportError
	if errors.As(err, &te) {
		return te
	}
	if errors.Is(err, context.Canceled) {
		return context.Canceled
	}
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalidCert x509.CertificateInvalidError
	var recordErr tls.RecordHeaderError
	var alertErr tls.AlertError
	var opErr *net.OpError
	var netErr net.Error
	switch {
	case errors.As(err, &dnsErr):
		return &TransportError{CurlResolve, fmt.Errorf("could not resolve host %s", termsafe.String(dnsErr.Name))}
	case errors.As(err, &certErr), errors.As(err, &unknownAuth), errors.As(err, &hostErr), errors.As(err, &invalidCert):
		return &TransportError{CurlPeerCert, fmt.Errorf("TLS certificate problem: %s; use --cacert to trust its CA, or -k to skip the check", safeCause(err))}
	case errors.As(err, &recordErr), errors.As(err, &alertErr), strings.Contains(err.Error(), "tls: "):
		return &TransportError{CurlTLS, fmt.Errorf("TLS handshake failed: %s", safeCause(err))}
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return &TransportError{CurlTimeout, errors.New("operation timed out")}
	case errors.As(err, &opErr) && opErr.Op == "proxyconnect":
		return &TransportError{CurlProxy, fmt.Errorf("could not connect to the proxy: %s", safeCause(err))}
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return &TransportError{CurlConnect, fmt.Errorf("failed to connect to %s: %s", opErr.Addr, safeCause(opErr.Err))}
	}
	return &TransportError{CurlRecv, fmt.Errorf("transfer failed: %s", safeCause(err))}
}

// safeCause returns the message of err's root cause, safe to print: it may
// hold text from the server, such as a certificate's names or a proxy's
// reason phrase.
func safeCause(err error) string { return termsafe.String(rootCause(err).Error()) }

func rootCause(err error) error {
	for {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
			continue
		}
		var opErr *net.OpError
		if errors.As(err, &opErr) && opErr.Err != nil {
			err = opErr.Err
			continue
		}
		return err
	}
}

// ClientOptions are curl's connection options.
type ClientOptions struct {
	Insecure       bool   // -k
	CACertFile     string // --cacert: PEM file of CAs to trust (instead of the system's)
	Proxy          string // -x; empty uses the environment (HTTPS_PROXY, NO_PROXY, ...)
	HTTP11         bool   // --http1.1; otherwise HTTP/2 is offered over TLS (ALPN), as --http2
	ConnectTimeout time.Duration
	// NoProxy is --noproxy when given (even empty): the hosts reached
	// without a proxy, by NoProxyMatch, in place of $NO_PROXY.
	NoProxy *string
	// Resolve are --resolve entries, [+]HOST:PORT:ADDRESS[,ADDRESS]... or
	// -HOST:PORT, in order.
	Resolve []string
	// Cert is --cert FILE, a PEM client certificate (and its key, unless
	// Key names the key's file), for servers that ask for one.
	Cert string
	Key  string // --key
	// Getenv reads the proxy variables when NoProxy is set; nil is os.Getenv.
	Getenv func(string) string
}

// NewClient returns a client for fetch: proxies as configured, no
// transparent decompression (the body is what the server sent, as with
// curl), and no redirects followed (Sender follows them itself).
//
// Errors are *OptionError for a bad value, *TransportError (CurlCACert) for
// an unusable --cacert, and *TransportError (CurlClientCert) for an unusable
// --cert or --key.
func NewClient(o ClientOptions) (*http.Client, error) {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DisableCompression = true
	dial := (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	if o.ConnectTimeout > 0 {
		dial = (&net.Dialer{Timeout: o.ConnectTimeout, KeepAlive: 30 * time.Second}).DialContext
		t.DialContext = dial
		t.TLSHandshakeTimeout = o.ConnectTimeout
	}
	var resolve resolveMap
	if len(o.Resolve) > 0 {
		var err error
		if resolve, err = parseResolve(o.Resolve); err != nil {
			return nil, err
		}
		t.DialContext = resolve.dialer(dial)
	}
	if o.Proxy != "" {
		pu, err := parseProxy(o.Proxy)
		if err != nil {
			return nil, err
		}
		t.Proxy = http.ProxyURL(pu)
	}
	if o.NoProxy != nil {
		list, base := *o.NoProxy, t.Proxy
		if o.Proxy == "" {
			getenv := o.Getenv
			if getenv == nil {
				getenv = os.Getenv
			}
			base = envProxy(getenv)
		}
		t.Proxy = func(req *http.Request) (*url.URL, error) {
			if NoProxyMatch(req.URL.Hostname(), list) {
				return nil, nil
			}
			return base(req)
		}
	}
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.Insecure {
		tlsConf.InsecureSkipVerify = true
	}
	if o.CACertFile != "" {
		pem, err := os.ReadFile(o.CACertFile)
		if err != nil {
			return nil, &TransportError{CurlCACert, fmt.Errorf("cannot read --cacert file: %v", err)}
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, &TransportError{CurlCACert, fmt.Errorf("--cacert file %s holds no PEM certificates", o.CACertFile)}
		}
		tlsConf.RootCAs = pool
	}
	if o.Key != "" && o.Cert == "" {
		return nil, usagef("--key needs --cert")
	}
	if o.Cert != "" {
		file, _, hasPassword := splitCertArg(o.Cert)
		if hasPassword {
			return nil, usagef("--cert FILE:PASSWORD: agcurl takes no key passwords in argv; decrypt the key into a file " +
				"only you can read (write a colon in a file name as \\:)")
		}
		cert, err := loadClientCert(file, o.Key)
		if err != nil {
			return nil, err
		}
		// Sent whenever the server asks, as curl does, whatever CAs it names.
		tlsConf.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil }
	}
	t.TLSClientConfig = tlsConf
	if o.HTTP11 {
		t.ForceAttemptHTTP2 = false
		t.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
	var rt http.RoundTripper = t
	if resolve != nil {
		rt = &transport{Transport: t, resolve: resolve}
	}
	return &http.Client{
		Transport:     rt,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}, nil
}

// Tracer sees each request as it is sent and each response as it arrives,
// for -v. It must not print the Authorization header's value.
type Tracer interface {
	Request(req *http.Request)
	Response(resp *http.Response)
}

// Sender sends a request as curl would, with the token attached where the
// policy allows, following redirects and retrying when asked.
//
// A token goes over plain http only when neither the target nor the proxy
// that Client's transport picks for the request is off loopback; see
// checkTokenProxy. The proxy is found by calling the Proxy function of
// Client.Transport (http.DefaultTransport when nil), which must be an
// *http.Transport, or what NewClient made, whenever the proxy matters: a
// RoundTripper of another type is taken to send directly. A direct plain
// http request whose host --resolve (ClientOptions.Resolve) sends off
// loopback gets no token either; see checkTokenResolve.
//
// A Sender is safe for concurrent use when its Tokens, Tracer and Warn are.
type Sender struct {
	Client *http.Client // from NewClient: must not follow redirects
	Tokens TokenSource  // nil sends no token
	Policy TokenPolicy
	Tracer Tracer // may be nil

	FollowRedirects bool // -L
	MaxRedirects    int  // --max-redirs; negative is unlimited
	// LocationTrusted keeps the token (and a user Authorization header)
	// on redirects to other origins, as curl's --location-trusted.
	LocationTrusted bool

	Retries          int           // --retry
	RetryDelay       time.Duration // --retry-delay; 0 backs off from 1s, doubling
	RetryMaxTime     time.Duration // --retry-max-time; 0 is no limit
	RetryConnRefused bool          // --retry-connrefused
	// RetryAllErrors retries every transfer failure, as curl's
	// --retry-all-errors, and with FailOnHTTPError every HTTP status of
	// 400 or above too.
	RetryAllErrors  bool
	FailOnHTTPError bool // -f or --fail-with-body: a status >= 400 fails the transfer
	// Warn receives curl's retry warnings; nil discards them.
	Warn func(msg string)
	// Sleep waits d or until ctx is done; nil uses a timer.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Result is what Do leaves for the caller besides the response.
type Result struct {
	Response   *http.Response // the caller must close Body
	URL        *url.URL       // the last URL requested
	Method     string
	Redirects  int
	Retries    int
	UploadSize int64
}

// Do sends req. A token is attached to the first request and to redirect
// hops on the same origin (any origin with LocationTrusted), each after
// TokenPolicy.Check. On a 401 to a request that carried the token, the
// token is refreshed once and the request sent again when its body can be
// replayed.
func (s *Sender) Do(ctx context.Context, req *http.Request) (*Result, error) {
	start := time.Now()
	res := &Result{}
	delay := s.RetryDelay
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			// Only replayable requests get here (checked below).
			fresh, err := cloneWithBody(ctx, req)
			if err != nil {
				return nil, err
			}
			req = fresh
		}
		err := s.doRedirects(ctx, req, res)
		retry, why, after := s.shouldRetry(res, err)
		left := s.Retries - attempt
		if !retry || left <= 0 || (req.GetBody == nil && req.Body != nil && req.Body != http.NoBody) {
			return res, err
		}
		wait := delay
		if wait <= 0 {
			wait = time.Second << min(attempt, 9)
		}
		if after > 0 {
			wait = after
		}
		if s.RetryMaxTime > 0 && time.Since(start)+wait > s.RetryMaxTime {
			return res, err
		}
		if res.Response != nil {
			drainClose(res.Response)
			res.Response = nil
		}
		if s.Warn != nil {
			s.Warn(fmt.Sprintf("Warning: Problem %s. Will retry in %s. %d retr%s left.",
				why, formatWait(wait), left, map[bool]string{true: "y", false: "ies"}[left == 1]))
		}
		if err := s.sleep(ctx, wait); err != nil {
			return nil, err
		}
		res.Retries++
	}
}

func formatWait(d time.Duration) string {
	if d%time.Second == 0 {
		n := int(d / time.Second)
		if n == 1 {
			return "1 second"
		}
		return strconv.Itoa(n) + " seconds"
	}
	return d.String()
}

func (s *Sender) sleep(ctx context.Context, d time.Duration) error {
	if s.Sleep != nil {
		return s.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// retryAll is the problem curl's --retry-all-errors names.
const retryAll = "(retrying all errors)"

// shouldRetry applies curl's --retry rule: timeouts and HTTP 408, 429,
// 500, 502, 503, 504 are transient; refused connections only with
// RetryConnRefused; any transfer failure with RetryAllErrors. It returns
// the problem as the warning names it, and the server's Retry-After, if
// any.
func (s *Sender) shouldRetry(res *Result, err error) (bool, string, time.Duration) {
	if s.Retries <= 0 {
		return false, "", 0
	}
	if err != nil {
		var te *TransportError
		var redirs *TooManyRedirectsError
		if errors.As(err, &te) {
			switch {
			case te.Code == CurlTimeout:
				return true, ": Timeout", 0
			case te.Code == CurlConnect && s.RetryConnRefused:
				return true, ": Connection refused", 0
			case te.Code == CurlRecv:
				return true, ": Transfer failed", 0
			case s.RetryAllErrors:
				return true, retryAll, 0
			}
		}
		if s.RetryAllErrors && errors.As(err, &redirs) {
			return true, retryAll, 0
		}
		return false, "", 0
	}
	switch code := res.Response.StatusCode; {
	case code == 408, code == 429, code == 500, code == 502, code == 503, code == 504:
		return true, ": HTTP error", retryAfter(res.Response.Header.Get("Retry-After"))
	case code >= 400 && s.RetryAllErrors && s.FailOnHTTPError:
		return true, retryAll, 0
	}
	return false, "", 0
}

// retryAfter parses Retry-After as seconds or an HTTP date, capped at 10 minutes.
func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 0 {
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = time.Until(t)
	}
	if d <= 0 {
		return 0
	}
	return min(d, 10*time.Minute)
}

func drainClose(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
}

func cloneWithBody(ctx context.Context, req *http.Request) (*http.Request, error) {
	c := req.Clone(ctx)
	if req.GetBody != nil {
		b, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		c.Body = b
	}
	return c, nil
}

func isRedirect(code int) bool {
	switch code {
	case 301, 302, 303, 307, 308:
		return true
	}
	return false
}

func (s *Sender) doRedirects(ctx context.Context, req *http.Request, res *Result) error {
	first := req.URL
	userAuth := req.Header.Get("Authorization")
	refreshed := false
	var token string
	cur := req.Clone(ctx) // its own headers: the token set below must not stay in req for a retry
	res.Redirects = 0
	for {
		sameOrigin := Origin(cur.URL) == Origin(first)
		trusted := sameOrigin || s.LocationTrusted
		cur.Header.Del("Authorization")
		sentToken := ""
		switch {
		case userAuth != "":
			if trusted {
				cur.Header.Set("Authorization", userAuth)
			}
		case s.Tokens != nil && trusted:
			if err := s.Policy.Check(cur.URL); err != nil {
				return err
			}
			proxy, err := s.proxyFor(cur)
			if err != nil {
				return err
			}
			if err := checkTokenProxy(cur.URL, proxy); err != nil {
				return err
			}
			if err := checkTokenResolve(cur.URL, proxy, s.Client.Transport); err != nil {
				return err
			}
			if token == "" {
				var err error
				if token, err = s.Tokens.AccessToken(ctx); err != nil {
					return err
				}
			}
			cur.Header.Set("Authorization", "Bearer "+token)
			sentToken = token
		}
		counter := countBody(cur)
		resp, err := s.send(cur)
		res.URL, res.Method = cur.URL, cur.Method
		if counter != nil {
			res.UploadSize = counter.n.Load()
		}
		if err != nil {
			return err
		}
		res.Response = resp
		replayable := cur.Body == nil || cur.Body == http.NoBody || cur.GetBody != nil
		if resp.StatusCode == http.StatusUnauthorized && sentToken != "" && !refreshed && replayable {
			// The API rejected the token: refresh once and send again.
			refreshed = true
			newToken, err := s.Tokens.Refresh(ctx, sentToken)
			if errors.Is(err, ErrNoRefresh) {
				return nil
			}
			drainClose(resp)
			res.Response = nil
			if err != nil {
				return err
			}
			token = newToken
			if cur, err = cloneWithBody(ctx, cur); err != nil {
				return err
			}
			continue
		}
		loc := resp.Header.Get("Location")
		if !s.FollowRedirects || !isRedirect(resp.StatusCode) || loc == "" {
			return nil
		}
		if s.MaxRedirects >= 0 && res.Redirects >= s.MaxRedirects {
			drainClose(resp)
			res.Response = nil
			return &TooManyRedirectsError{Max: s.MaxRedirects}
		}
		next, err := cur.URL.Parse(loc)
		if err != nil || (next.Scheme != "http" && next.Scheme != "https") {
			return nil // an unusable Location: return the redirect as is, like curl
		}
		next.Fragment = ""
		method, keepBody := cur.Method, true
		switch {
		case resp.StatusCode == 303 && cur.Method != http.MethodHead:
			method, keepBody = http.MethodGet, false
		case (resp.StatusCode == 301 || resp.StatusCode == 302) && cur.Method == http.MethodPost:
			method, keepBody = http.MethodGet, false
		}
		if keepBody && cur.Body != nil && cur.Body != http.NoBody && cur.GetBody == nil {
			return nil // the body cannot be sent again: stop here, as with any unfollowable redirect
		}
		drainClose(resp)
		res.Response = nil
		nreq, err := http.NewRequestWithContext(ctx, method, next.String(), nil)
		if err != nil {
			return err
		}
		nreq.Header = cur.Header.Clone()
		if Origin(next) != Origin(cur.URL) {
			nreq.Header.Del("Cookie")
		}
		if keepBody && cur.GetBody != nil {
			if nreq.Body, err = cur.GetBody(); err != nil {
				return err
			}
			nreq.GetBody, nreq.ContentLength = cur.GetBody, cur.ContentLength
		} else {
			nreq.Header.Del("Content-Type")
			nreq.Header.Del("Content-Length")
		}
		if next.Host == cur.URL.Host {
			nreq.Host = cur.Host
		}
		cur = nreq
		res.Redirects++
	}
}

type countingReader struct {
	r io.ReadCloser
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func (c *countingReader) Close() error { return c.r.Close() }

func countBody(req *http.Request) *countingReader {
	if req.Body == nil || req.Body == http.NoBody {
		return nil
	}
	c := &countingReader{r: req.Body}
	req.Body = c
	return c
}

// proxyFor returns the proxy that s.Client's transport would send req
// through, or nil when it would send it directly.
func (s *Sender) proxyFor(req *http.Request) (*url.URL, error) {
	rt := s.Client.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	if ft, ok := rt.(*transport); ok {
		rt = ft.Transport
	}
	t, ok := rt.(*http.Transport)
	if !ok || t.Proxy == nil {
		return nil, nil
	}
	proxy, err := t.Proxy(req)
	if err != nil {
		return nil, &TransportError{CurlProxy, fmt.Errorf("invalid proxy: %v", err)}
	}
	return proxy, nil
}

func (s *Sender) send(req *http.Request) (*http.Response, error) {
	if s.Tracer != nil {
		s.Tracer.Request(req)
	}
	resp, err := s.Client.Do(req)
	if err != nil {
		return nil, ClassifyError(err)
	}
	if s.Tracer != nil {
		s.Tracer.Response(resp)
	}
	return resp, nil
}
