package httpcall

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
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
