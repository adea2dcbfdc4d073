package httpcall

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
)

// remoteProxy is a proxy off this machine (TEST-NET-1, RFC 5737). Tests
// never dial it: noDialTransport fails every dial instead.
const remoteProxy = "http://192.0.2.1:8080"

// countingTokens counts AccessToken calls.
type countingTokens struct{ asked atomic.Int32 }

func (c *countingTokens) AccessToken(context.Context) (string, error) {
	c.asked.Add(1)
	return "secret-token", nil
}

func (c *countingTokens) Refresh(context.Context, string) (string, error) { return "", ErrNoRefresh }

// noDialTransport returns a client whose transport uses proxy and records,
// then fails, every dial, so that nothing reaches the network.
func noDialTransport(proxy func(*http.Request) (*url.URL, error), dials *atomic.Int32) *http.Client {
	t := &http.Transport{
		Proxy: proxy,
		DialContext: func(context.Context, string, string) (net.Conn, error) {
			dials.Add(1)
			return nil, errors.New("test: dialling is not allowed")
		},
	}
	return &http.Client{Transport: t, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestDoRefusesPlainHTTPThroughRemoteProxy(t *testing.T) {
	var dials atomic.Int32
	ts := &countingTokens{}
	s := &Sender{Client: noDialTransport(http.ProxyURL(mustURL(t, remoteProxy)), &dials), Tokens: ts}
	req, _ := Build(Options{URL: "http://127.0.0.1:1/v1/me"}, OSOpener{})
	_, err := s.Do(context.Background(), req)
	var te *TokenTargetError
	if !errors.As(err, &te) || te.Kind != ProxyCleartext {
		t.Fatalf("want a ProxyCleartext *TokenTargetError, got %T %v", err, err)
	}
	for _, want := range []string{"192.0.2.1:8080", "cleartext"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if n := ts.asked.Load(); n != 0 {
		t.Errorf("the token source was asked %d times", n)
	}
	if n := dials.Load(); n != 0 {
		t.Errorf("%d connections were attempted", n)
	}
}

func TestDoRefusesPlainHTTPThroughRemoteProxyOnRedirect(t *testing.T) {
	var reached atomic.Bool
	second := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached.Store(true) }))
	defer second.Close()
	first := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, second.URL+"/next", http.StatusFound)
	}))
	defer first.Close()
	secondHost := mustURL(t, second.URL).Host
	// As with NO_PROXY: the first server is reached directly, the second
	// only through the remote proxy.
	proxy := func(r *http.Request) (*url.URL, error) {
		if r.URL.Host == secondHost {
			return url.Parse(remoteProxy)
		}
		return nil, nil
	}
	var dials atomic.Int32
	client := noDialTransport(proxy, &dials)
	client.Transport.(*http.Transport).DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if addr != mustURL(t, first.URL).Host {
			dials.Add(1)
			return nil, errors.New("test: dialling is not allowed")
		}
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	ts := &countingTokens{}
	s := &Sender{Client: client, Tokens: ts, FollowRedirects: true, MaxRedirects: -1, LocationTrusted: true}
	req, _ := Build(Options{URL: first.URL}, OSOpener{})
	_, err := s.Do(context.Background(), req)
	var te *TokenTargetError
	if !errors.As(err, &te) {
		t.Fatalf("want *TokenTargetError, got %T %v", err, err)
	}
	if te.Origin != Origin(mustURL(t, second.URL)) {
		t.Errorf("origin %q, want the redirect's", te.Origin)
	}
	if reached.Load() || dials.Load() != 0 {
		t.Errorf("the redirect was sent: reached %v, dials %d", reached.Load(), dials.Load())
	}
}

func TestDoSendsPlainHTTPThroughLoopbackProxy(t *testing.T) {
	var gotAuth, gotURI atomic.Value
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth.Store(r.Header.Get("Authorization"))
		gotURI.Store(r.RequestURI)
		w.Write([]byte("via proxy"))
	}))
	defer proxy.Close()
	for _, host := range []string{"127.0.0.1", "localhost"} {
		pu := mustURL(t, strings.Replace(proxy.URL, "127.0.0.1", host, 1))
		client := newClient(t)
		client.Transport.(*http.Transport).Proxy = http.ProxyURL(pu)
		req, _ := Build(Options{URL: "http://127.0.0.1:1/v1/me"}, OSOpener{})
		res, err := (&Sender{Client: client, Tokens: &countingTokens{}}).Do(context.Background(), req)
		if err != nil {
			t.Fatalf("proxy %s: %v", pu, err)
		}
		res.Response.Body.Close()
		if gotAuth.Load() != "Bearer secret-token" || gotURI.Load() != "http://127.0.0.1:1/v1/me" {
			t.Errorf("proxy %s got Authorization %q for %q", pu, gotAuth.Load(), gotURI.Load())
		}
	}
}

func TestDoSendsHTTPSThroughRemoteProxy(t *testing.T) {
	var dials atomic.Int32
	ts := &countingTokens{}
	s := &Sender{Client: noDialTransport(http.ProxyURL(mustURL(t, remoteProxy)), &dials), Tokens: ts}
	req, _ := Build(Options{URL: "https://api.example.com/v1/me"}, OSOpener{})
	_, err := s.Do(context.Background(), req)
	var te *TokenTargetError
	if errors.As(err, &te) {
		t.Fatalf("https through a proxy is refused: %v", err)
	}
	// The check passed: the token was attached and the (fake) dial to the
	// proxy failed.
	if ts.asked.Load() != 1 || dials.Load() != 1 {
		t.Fatalf("asked %d dials %d err %v", ts.asked.Load(), dials.Load(), err)
	}
}

// TestDoTokenThroughProxies checks the rule for each kind of proxy: plain
// http carries the token only from loopback to loopback.
func TestDoTokenThroughProxies(t *testing.T) {
	for _, tt := range []struct {
		target, proxy string
		ok            bool
	}{
		{"http://127.0.0.1:8080/", "", true},
		{"http://127.0.0.1:8080/", "http://127.0.0.1:3128", true},
		{"http://localhost/", "http://localhost:3128", true},
		{"http://[::1]/", "http://[::1]:3128", true},
		{"http://127.0.0.1/", "https://127.0.0.2:3128", true},
		{"http://127.0.0.1/", remoteProxy, false},
		{"http://localhost/", "https://proxy.example.com", false},
		{"http://127.0.0.1/", "socks5://192.0.2.1:1080", false},
		{"http://127.0.0.1/", "http://localhost.evil.com:3128", false},
		{"https://api.example.com/", remoteProxy, true},
		{"https://127.0.0.1/", "socks5://192.0.2.1:1080", true},
	} {
		var proxy func(*http.Request) (*url.URL, error)
		if tt.proxy != "" {
			proxy = http.ProxyURL(mustURL(t, tt.proxy))
		}
		var dials atomic.Int32
		ts := &countingTokens{}
		req, _ := Build(Options{URL: tt.target}, OSOpener{})
		_, err := (&Sender{Client: noDialTransport(proxy, &dials), Tokens: ts}).Do(context.Background(), req)
		var te *TokenTargetError
		if refused := errors.As(err, &te); refused == tt.ok {
			t.Errorf("%s via %q: err %v, want ok=%v", tt.target, tt.proxy, err, tt.ok)
		} else if refused && (ts.asked.Load() != 0 || dials.Load() != 0) {
			t.Errorf("%s via %q: refused after asking for the token (%d) or dialling (%d)", tt.target, tt.proxy, ts.asked.Load(), dials.Load())
		}
	}
}
