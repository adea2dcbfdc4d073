package httpcall

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestNoProxyMatch(t *testing.T) {
	tests := []struct {
		host, list string
		want       bool
	}{
		{"example.com", "*", true},
		{"example.com", "", false},
		{"example.com", "example.com", true},
		{"www.example.com", "example.com", true},
		{"WWW.Example.COM.", "example.com", true},
		{"notexample.com", "example.com", false},
		{"example.com", ".example.com", true}, // curl: the leading dot is ignored
		{"a.example.com", ".example.com.", true},
		{"example.org", "foo, example.com ,,example.org", true},
		{"example.org", "foo example.org", true},
		{"x.com", "*,foo", false}, // "*" only alone
		{"192.168.1.7", "192.168.0.0/16", true},
		{"192.169.1.7", "192.168.0.0/16", false},
		{"10.0.0.1", "10.0.0.1", true},
		{"10.0.0.1", "10.0.0.1/0", true}, // a length of 0 compares the whole address
		{"10.0.0.2", "10.0.0.1/0", false},
		{"10.0.0.1", "10.0.0.0/33", false},
		{"fe80::1", "fe80::/10", true},
		{"[fe80::1]", "fe80::/10", true},
		{"2001:db8::1", "fe80::/10", false},
		{"10.0.0.1", "example.com", false},
		{"example.com", "10.0.0.0/8", false},
		{"127.0.0.1", "localhost", false}, // names and addresses are not resolved
	}
	for _, tt := range tests {
		if got := NoProxyMatch(tt.host, tt.list); got != tt.want {
			t.Errorf("NoProxyMatch(%q, %q) = %v; want %v", tt.host, tt.list, got, tt.want)
		}
	}
}

func TestParseResolve(t *testing.T) {
	m, err := parseResolve([]string{"API.example.com:443:127.0.0.1", "+b.example:80:[::1],10.0.0.1",
		"[::2]:8080:127.0.0.2", "*:9000:127.0.0.3", "gone.example:443:1.2.3.4", "-gone.example:443"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		host, port string
		want       string
	}{
		{"api.example.com", "443", "127.0.0.1"},
		{"b.example", "80", "::1,10.0.0.1"},
		{"::2", "8080", "127.0.0.2"},
		{"anything", "9000", "127.0.0.3"},
		{"api.example.com", "80", ""},
		{"gone.example", "443", ""},
	} {
		got, _ := m.lookup(tt.host, tt.port)
		if strings.Join(got, ",") != tt.want {
			t.Errorf("%s:%s -> %v; want %s", tt.host, tt.port, got, tt.want)
		}
	}
	for _, bad := range []string{"foo", "host:443", "host:443:", "host:x:1.2.3.4", "host:70000:1.2.3.4",
		"host:443:not-an-ip", ":443:1.2.3.4", "[::1:443:1.2.3.4"} {
		var oe *OptionError
		if _, err := parseResolve([]string{bad}); !errors.As(err, &oe) {
			t.Errorf("%q: got %v, want a usage error", bad, err)
		}
	}
}

// --resolve connects to its address; the URL, Host and the token policy
// keep the name.
func TestResolveConnectsToTheAddress(t *testing.T) {
	var host atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host.Store(r.Host)
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	c, err := NewClient(ClientOptions{Resolve: []string{"api.example.invalid:" + port + ":127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	ts := &countingTokens{}
	s := &Sender{Client: c, Tokens: ts, Policy: TokenPolicy{AllowedOrigins: []string{"http://localhost:" + port}}}
	req, _ := Build(Options{URL: "http://api.example.invalid:" + port + "/x"}, OSOpener{})
	// The policy judges the URL's host: not allowed, and not loopback.
	if _, err := s.Do(context.Background(), req); !isTokenTarget(err) {
		t.Fatalf("want a *TokenTargetError, got %v", err)
	}
	s.Tokens = nil
	res, err := s.Do(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	res.Response.Body.Close()
	if got := host.Load(); got != "api.example.invalid:"+port {
		t.Errorf("Host %v", got)
	}
}

func isTokenTarget(err error) bool {
	var te *TokenTargetError
	return errors.As(err, &te)
}

// A loopback name that --resolve sends elsewhere gets no token over plain
// http, and nothing is dialled.
func TestResolveOffLoopbackGetsNoTokenOverHTTP(t *testing.T) {
	c, err := NewClient(ClientOptions{Resolve: []string{"localhost:8080:192.0.2.1"}})
	if err != nil {
		t.Fatal(err)
	}
	var dials atomic.Int32
	tr := c.Transport.(*transport)
	tr.DialContext = func(context.Context, string, string) (net.Conn, error) {
		dials.Add(1)
		return nil, errors.New("test: dialling is not allowed")
	}
	ts := &countingTokens{}
	s := &Sender{Client: c, Tokens: ts}
	req, _ := Build(Options{URL: "http://localhost:8080/v1/me"}, OSOpener{})
	_, err = s.Do(context.Background(), req)
	var te *TokenTargetError
	if !errors.As(err, &te) || te.Kind != PlainHTTP || !strings.Contains(err.Error(), "192.0.2.1") {
		t.Fatalf("want a PlainHTTP *TokenTargetError naming the address, got %v", err)
	}
	if ts.asked.Load() != 0 || dials.Load() != 0 {
		t.Errorf("token asked %d times, %d dials", ts.asked.Load(), dials.Load())
	}
	// To loopback it is fine.
	c2, _ := NewClient(ClientOptions{Resolve: []string{"localhost:8080:127.0.0.2"}})
	if err := checkTokenResolve(mustURL(t, "http://localhost:8080/"), nil, c2.Transport); err != nil {
		t.Errorf("loopback to loopback: %v", err)
	}
	// https is not judged by address: TLS checks the name.
	if err := checkTokenResolve(mustURL(t, "https://localhost:8080/"), nil, c.Transport); err != nil {
		t.Errorf("https: %v", err)
	}
	// A loopback proxy name that --resolve sends elsewhere is refused too.
	c3, _ := NewClient(ClientOptions{Proxy: "http://localhost:3128", Resolve: []string{"localhost:3128:192.0.2.1"}})
	c3.Transport.(*transport).DialContext = tr.DialContext
	s3 := &Sender{Client: c3, Tokens: ts}
	req, _ = Build(Options{URL: "http://127.0.0.1:8080/v1/me"}, OSOpener{})
	_, err = s3.Do(context.Background(), req)
	if !errors.As(err, &te) || te.Kind != PlainHTTP || !strings.Contains(err.Error(), "192.0.2.1") {
		t.Fatalf("a loopback proxy name sent off loopback: got %v", err)
	}
	if ts.asked.Load() != 0 || dials.Load() != 0 {
		t.Errorf("token asked %d times, %d dials", ts.asked.Load(), dials.Load())
	}
	// ... and its default port is the scheme's.
	if err := checkTokenResolve(mustURL(t, "http://127.0.0.1/"), mustURL(t, "http://localhost"),
		(&transport{Transport: &http.Transport{}, resolve: resolveMap{"localhost:80": {"192.0.2.1"}}})); err == nil {
		t.Error("a proxy without a port: not refused")
	}
}

// --noproxy replaces $NO_PROXY, also for -x; the env proxy is read through
// Getenv.
func TestNoProxyOption(t *testing.T) {
	env := map[string]string{"HTTPS_PROXY": "http://env-proxy:3128", "NO_PROXY": "skip.example"}
	getenv := func(k string) string { return env[k] }
	proxyOf := func(c *http.Client, raw string) string {
		t.Helper()
		req, _ := http.NewRequest("GET", raw, nil)
		u, err := c.Transport.(*http.Transport).Proxy(req)
		if err != nil {
			t.Fatal(err)
		}
		if u == nil {
			return ""
		}
		return u.Host
	}
	list := "direct.example, 10.0.0.0/8"
	c, err := NewClient(ClientOptions{NoProxy: &list, Getenv: getenv})
	if err != nil {
		t.Fatal(err)
	}
	for raw, want := range map[string]string{
		"https://api.direct.example/": "", "https://10.1.2.3/": "",
		"https://skip.example/":  "env-proxy:3128", // $NO_PROXY no longer counts
		"https://other.example/": "env-proxy:3128",
		"http://other.example/":  "", // no HTTP_PROXY
		"https://127.0.0.1/":     "", // loopback never through the environment's proxy
	} {
		if got := proxyOf(c, raw); got != want {
			t.Errorf("%s: proxy %q; want %q", raw, got, want)
		}
	}
	all := "*"
	c, _ = NewClient(ClientOptions{Proxy: "http://p:1", NoProxy: &all})
	if got := proxyOf(c, "https://x.example/"); got != "" {
		t.Errorf("--noproxy '*' with -x: proxy %q", got)
	}
	none := ""
	c, _ = NewClient(ClientOptions{Proxy: "p:1", NoProxy: &none})
	if got := proxyOf(c, "https://x.example/"); got != "p:1" {
		t.Errorf("--noproxy '' with -x: proxy %q", got)
	}
}

// certFiles makes a CA and a client certificate it signs, and writes the
// certificate, its key, and both in one file.
func certFiles(t *testing.T) (pool *x509.CertPool, certFile, keyFile, bothFile string) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	pool = x509.NewCertPool()
	pool.AddCert(ca)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "client"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	certPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	keyPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
	return pool, writeFile(t, "client.pem", certPEM), writeFile(t, "client.key", keyPEM), writeFile(t, "both.pem", certPEM+keyPEM)
}

// --cert and --key: mutual TLS with a server that requires a client
// certificate signed by its CA.
func TestClientCertificate(t *testing.T) {
	pool, certFile, keyFile, bothFile := certFiles(t)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello "+r.TLS.PeerCertificates[0].Subject.CommonName)
	}))
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool}
	srv.StartTLS()
	defer srv.Close()
	serverCA := writeFile(t, "server-ca.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})))

	get := func(o ClientOptions) (string, error) {
		o.CACertFile = serverCA
		c, err := NewClient(o)
		if err != nil {
			return "", err
		}
		s := &Sender{Client: c}
		req, _ := Build(Options{URL: srv.URL + "/"}, OSOpener{})
		res, err := s.Do(context.Background(), req)
		if err != nil {
			return "", err
		}
		defer res.Response.Body.Close()
		b, err := io.ReadAll(res.Response.Body)
		return string(b), err
	}
	for name, o := range map[string]ClientOptions{
		"--cert --key": {Cert: certFile, Key: keyFile},
		"--cert both":  {Cert: bothFile},
	} {
		if got, err := get(o); err != nil || got != "hello client" {
			t.Errorf("%s: %q, %v", name, got, err)
		}
	}
	// Without a certificate the handshake fails.
	if _, err := get(ClientOptions{}); err == nil {
		t.Error("no client certificate: the server answered")
	}
	// Unusable certificates and keys: curl's 58, before anything is sent.
	encrypted := writeFile(t, "enc.key", "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIBvTBXBgkqhkiG9w0BBQ0wSjApBgkqhkiG9w0BBQwwHAQI\n-----END ENCRYPTED PRIVATE KEY-----\n")
	for name, o := range map[string]ClientOptions{
		"missing cert":  {Cert: certFile + ".missing"},
		"missing key":   {Cert: certFile, Key: keyFile + ".missing"},
		"no key":        {Cert: certFile},
		"encrypted key": {Cert: certFile, Key: encrypted},
		"wrong key":     {Cert: certFile, Key: certFile},
	} {
		_, err := NewClient(o)
		var te *TransportError
		if !errors.As(err, &te) || te.Code != CurlClientCert {
			t.Errorf("%s: got %v, want a CurlClientCert *TransportError", name, err)
		}
	}
	// A password in argv is refused; "\:" is a colon in the file name.
	var oe *OptionError
	if _, err := NewClient(ClientOptions{Cert: certFile + ":secret"}); !errors.As(err, &oe) {
		t.Errorf("--cert FILE:PASSWORD: got %v, want a usage error", err)
	}
	if _, err := NewClient(ClientOptions{Key: keyFile}); !errors.As(err, &oe) {
		t.Errorf("--key alone: got %v, want a usage error", err)
	}
	for arg, want := range map[string][3]string{
		`a.pem`:        {"a.pem", "", ""},
		`a.pem:pw`:     {"a.pem", "pw", "yes"},
		`c\:\\a.pem`:   {`c:\a.pem`, "", ""},
		`x\y.pem:p:q`:  {`x\y.pem`, "p:q", "yes"},
		`trailing\`:    {`trailing\`, "", ""},
		`colon\:x:pw:`: {"colon:x", "pw:", "yes"},
	} {
		file, pw, has := splitCertArg(arg)
		if file != want[0] || pw != want[1] || has != (want[2] == "yes") {
			t.Errorf("splitCertArg(%q) = %q, %q, %v", arg, file, pw, has)
		}
	}
}

// --http1.1 and --http2 (the default): h2 over TLS by ALPN, unless --http1.1.
func TestHTTPVersions(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Proto)
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	for http11, want := range map[bool]string{false: "HTTP/2.0", true: "HTTP/1.1"} {
		c, err := NewClient(ClientOptions{Insecure: true, HTTP11: http11})
		if err != nil {
			t.Fatal(err)
		}
		resp, err := c.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != want {
			t.Errorf("HTTP11=%v: the server saw %s; want %s", http11, b, want)
		}
	}
}

// --retry-all-errors: any transfer error is retried, and with -f any
// status of 400 or above, with curl's warning.
func TestRetryAllErrors(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) < 3 {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		io.WriteString(w, "found")
	}))
	defer srv.Close()
	run := func(s *Sender) (int, []string) {
		hits.Store(0)
		var warnings []string
		s.Client, _ = NewClient(ClientOptions{})
		s.Retries = 3
		s.Warn = func(m string) { warnings = append(warnings, m) }
		s.Sleep = func(context.Context, time.Duration) error { return nil }
		req, _ := Build(Options{URL: srv.URL}, OSOpener{})
		res, err := s.Do(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		res.Response.Body.Close()
		return res.Response.StatusCode, warnings
	}
	// Without -f a 404 is no error: it is not retried.
	if code, w := run(&Sender{RetryAllErrors: true}); code != 404 || len(w) != 0 {
		t.Errorf("without -f: %d, %q", code, w)
	}
	if code, w := run(&Sender{FailOnHTTPError: true}); code != 404 || len(w) != 0 {
		t.Errorf("without --retry-all-errors: %d, %q", code, w)
	}
	code, w := run(&Sender{RetryAllErrors: true, FailOnHTTPError: true})
	if code != 200 || len(w) != 2 || w[0] != "Warning: Problem (retrying all errors). Will retry in 1 second. 3 retries left." {
		t.Errorf("with -f: %d, %q", code, w)
	}
	// A refused connection is retried without --retry-connrefused.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	for _, all := range []bool{false, true} {
		var tries int
		c, _ := NewClient(ClientOptions{})
		s := &Sender{Client: c, Retries: 2, RetryAllErrors: all,
			Warn:  func(string) { tries++ },
			Sleep: func(context.Context, time.Duration) error { return nil }}
		req, _ := Build(Options{URL: (&url.URL{Scheme: "http", Host: addr, Path: "/"}).String()}, OSOpener{})
		_, err := s.Do(context.Background(), req)
		var te *TransportError
		if !errors.As(err, &te) || te.Code != CurlConnect {
			t.Fatalf("want CurlConnect, got %v", err)
		}
		if want := map[bool]int{false: 0, true: 2}[all]; tries != want {
			t.Errorf("RetryAllErrors=%v: %d retries; want %d", all, tries, want)
		}
	}
}
