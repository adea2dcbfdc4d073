package httpcall

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// wireServer answers on 127.0.0.1 with the raw response routes gives for
// each request's path, keeping connections open between requests. With
// tlsConf it speaks TLS (HTTP/1.1 only). It returns the server's URL and a
// count of the connections it accepted.
func wireServer(t *testing.T, tlsConf *tls.Config, routes map[string]string) (string, *atomic.Int64) {
	t.Helper()
	var ln net.Listener
	var err error
	if tlsConf != nil {
		ln, err = tls.Listen("tcp", "127.0.0.1:0", tlsConf)
	} else {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	conns := &atomic.Int64{}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					_, _ = io.Copy(io.Discard, req.Body)
					resp, ok := routes[req.URL.Path]
					if !ok {
						resp = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
					}
					if _, err := io.WriteString(c, resp); err != nil {
						return
					}
				}
			}()
		}
	}()
	scheme := "http"
	if tlsConf != nil {
		scheme = "https"
	}
	return scheme + "://" + ln.Addr().String(), conns
}

// The heads the tests' server sends: names out of order, in mixed case,
// repeated, padded; a 103 before a response; LF line ends; a folded line.
const (
	oddHead = "HTTP/1.1 200 OK\r\nx-Zeta: 1\r\nContent-Type: text/plain\r\nSET-cookie: a=1\r\n" +
		"x-alpha:   spaced  \r\nSet-Cookie: b=2\r\nContent-Length: 6\r\n\r\n"
	earlyHead = "HTTP/1.1 103 Early Hints\r\nLink: </a>; rel=preload\r\n\r\n"
	finalHead = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\nX-B: 2\r\n\r\n"
	lfHead    = "HTTP/1.1 200 OK\nX-A: 1\nContent-Length: 6\n\n"
	foldHead  = "HTTP/1.1 200 OK\r\nX-Fold: a\r\n b\r\nContent-Length: 6\r\n\r\n"
	hopHead   = "HTTP/1.1 302 Found\r\nLocation: /odd\r\nX-Hop: 1\r\nContent-Length: 0\r\n\r\n"
)

var wireRoutes = map[string]string{
	"/odd":   oddHead + "hello\n",
	"/early": earlyHead + finalHead + "hello\n",
	"/lf":    lfHead + "hello\n",
	"/fold":  foldHead + "hello\n",
	"/redir": hopHead,
}

// send sends a GET for u through a fresh Sender on client, recorded, and
// returns the transfer and the body.
func send(t *testing.T, client *http.Client, u string, follow bool) (*Transfer, *Result, string) {
	t.Helper()
	rec := &Recorder{}
	s := &Sender{Client: client, FollowRedirects: follow, MaxRedirects: 5}
	req, err := Build(Options{URL: u}, OSOpener{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Do(rec.Install(context.Background(), s), req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Response.Body)
	res.Response.Body.Close()
	return rec.Transfer(res), res, string(body)
}

func headsOf(tr *Transfer) string {
	var b strings.Builder
	for _, h := range tr.Heads {
		b.Write(h.Bytes)
	}
	return b.String()
}

func TestRecorderKeepsTheWireHeads(t *testing.T) {
	srv, conns := wireServer(t, nil, wireRoutes)
	client := newClient(t)
	for _, c := range []struct {
		path, want string
		follow     bool
	}{
		{"/odd", oddHead, false},
		{"/early", earlyHead + finalHead, false},
		{"/lf", lfHead, false},
		{"/fold", foldHead, false},
		{"/redir", hopHead + oddHead, true},
		{"/redir", hopHead, false},
		{"/odd", oddHead, false}, // again, on the connection kept alive
	} {
		tr, _, body := send(t, client, srv+c.path, c.follow)
		if got := headsOf(tr); got != c.want {
			t.Errorf("%s: heads\n%q\nwant\n%q", c.path, got, c.want)
		}
		for _, h := range tr.Heads {
			if !h.Wire {
				t.Errorf("%s: a head not from the wire", c.path)
			}
		}
		// The request's bytes as counted on the wire: what net/http
		// writes for a GET without a User-Agent.
		for _, e := range tr.chain {
			u := mustURL(t, e.url)
			want := len("GET "+u.RequestURI()+" HTTP/1.1\r\nHost: "+u.Host+"\r\n") +
				len("User-Agent: Go-http-client/1.1\r\nAccept: */*\r\n\r\n")
			if e.requestSize != int64(want) {
				t.Errorf("%s: request size %d, want %d", e.url, e.requestSize, want)
			}
		}
		if c.path != "/redir" || c.follow {
			if body != "hello\n" {
				t.Errorf("%s: body %q", c.path, body)
			}
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections: the test wants them all on one kept alive", n)
	}
}

func TestRecorderParsesFields(t *testing.T) {
	srv, _ := wireServer(t, nil, wireRoutes)
	tr, _, _ := send(t, newClient(t), srv+"/odd", false)
	h := tr.Heads[0]
	want := []Field{{"x-Zeta", "1"}, {"Content-Type", "text/plain"}, {"SET-cookie", "a=1"}, {"x-alpha", "spaced"},
		{"Set-Cookie", "b=2"}, {"Content-Length", "6"}}
	if len(h.Fields) != len(want) {
		t.Fatalf("fields %q", h.Fields)
	}
	for i := range want {
		if h.Fields[i] != want[i] {
			t.Errorf("field %d: %q, want %q", i, h.Fields[i], want[i])
		}
	}
	if h.NumHeaders() != 6 || h.Status != 200 {
		t.Errorf("num_headers %d, status %d", h.NumHeaders(), h.Status)
	}
	if v := h.Values("set-cookie"); len(v) != 2 || v[0] != "a=1" {
		t.Errorf("set-cookie values %q", v)
	}
	tr, _, _ = send(t, newClient(t), srv+"/fold", false)
	if v := tr.Heads[0].Values("x-fold"); len(v) != 1 || v[0] != "a b" || tr.Heads[0].NumHeaders() != 2 {
		t.Errorf("folded: %q, num_headers %d", v, tr.Heads[0].NumHeaders())
	}
}

func TestRecorderOverTLS(t *testing.T) {
	cert, pool := testCert(t)
	srv, _ := wireServer(t, &tls.Config{Certificates: []tls.Certificate{cert}}, wireRoutes)
	client := newClient(t)
	client.Transport.(*http.Transport).TLSClientConfig.RootCAs = pool
	tr, _, body := send(t, client, srv+"/odd", false)
	if got := headsOf(tr); got != oddHead || body != "hello\n" {
		t.Errorf("https heads %q body %q", got, body)
	}
	e := tr.final()
	if e.tlsState == nil || len(e.tlsState.PeerCertificates) != 1 || e.tlsDone.IsZero() {
		t.Errorf("TLS facts not recorded: %+v", e.tlsState)
	}

	// A certificate not trusted: the same error as without the Recorder.
	req, _ := Build(Options{URL: srv + "/odd"}, OSOpener{})
	s := &Sender{Client: newClient(t)}
	_, err := s.Do((&Recorder{}).Install(context.Background(), s), req)
	var te *TransportError
	if !errors.As(err, &te) || te.Code != CurlPeerCert {
		t.Errorf("untrusted certificate: %v", err)
	}
}

func TestRecorderHTTP2(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Date"] = nil
		w.Header().Set("X-Zeta", "1")
		w.Header().Add("Set-Cookie", "a=1")
		w.Header().Add("Set-Cookie", "b=2")
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "hello\n")
	})
	ts := httptest.NewUnstartedServer(h)
	ts.EnableHTTP2 = true
	ts.StartTLS()
	t.Cleanup(ts.Close)
	client := newClient(t)
	client.Transport.(*http.Transport).TLSClientConfig.RootCAs = ts.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	tr, res, body := send(t, client, ts.URL+"/", false)
	if res.Response.ProtoMajor != 2 {
		t.Fatalf("protocol %s, want HTTP/2", res.Response.Proto)
	}
	want := "HTTP/2 200 \r\ncontent-length: 6\r\ncontent-type: text/plain\r\nset-cookie: a=1\r\nset-cookie: b=2\r\nx-zeta: 1\r\n\r\n"
	if got := headsOf(tr); got != want || body != "hello\n" || tr.Heads[0].Wire {
		t.Errorf("HTTP/2 head %q (wire %v), want %q", got, tr.Heads[0].Wire, want)
	}

	// --http1.1 keeps to HTTP/1.1 through the Recorder's TLS dialer.
	c11, _ := NewClient(ClientOptions{HTTP11: true})
	c11.Transport.(*http.Transport).TLSClientConfig.RootCAs = client.Transport.(*http.Transport).TLSClientConfig.RootCAs
	tr, res, _ = send(t, c11, ts.URL+"/", false)
	if res.Response.ProtoMajor != 1 || !tr.Heads[0].Wire || !strings.HasPrefix(headsOf(tr), "HTTP/1.1 200 OK\r\n") {
		t.Errorf("--http1.1: %s, head %q", res.Response.Proto, headsOf(tr))
	}
}

// connectProxy answers CONNECT with answer and then tunnels to the target.
func connectProxy(t *testing.T, answer string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				req, err := http.ReadRequest(bufio.NewReader(c))
				if err != nil || req.Method != http.MethodConnect {
					return
				}
				up, err := net.Dial("tcp", req.Host)
				if err != nil {
					return
				}
				defer up.Close()
				io.WriteString(c, answer)
				go io.Copy(up, c)
				io.Copy(c, up)
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

func TestRecorderThroughAConnectTunnel(t *testing.T) {
	cert, pool := testCert(t)
	srv, _ := wireServer(t, &tls.Config{Certificates: []tls.Certificate{cert}}, wireRoutes)
	const answer = "HTTP/1.1 200 Connection established\r\nX-Proxy: p\r\n\r\n"
	proxy := connectProxy(t, answer)
	client := newClient(t)
	tt := client.Transport.(*http.Transport)
	tt.TLSClientConfig.RootCAs = pool
	tt.Proxy = http.ProxyURL(mustURL(t, proxy))
	tr, _, body := send(t, client, srv+"/odd", false)
	if body != "hello\n" || len(tr.Heads) != 2 {
		t.Fatalf("body %q, %d heads", body, len(tr.Heads))
	}
	if c := tr.Heads[0]; string(c.Bytes) != answer || !c.Connect || !c.Wire {
		t.Errorf("CONNECT answer %q (connect %v)", c.Bytes, c.Connect)
	}
	// net/http keeps the tunnel's TLS to itself: the head is rebuilt.
	if h := tr.Heads[1]; h.Wire || h.Status != 200 || !strings.HasPrefix(string(h.Bytes), "HTTP/1.1 200 OK\r\n") {
		t.Errorf("head through the tunnel %q", h.Bytes)
	}
}

// A 401 answered by a refresh is not shown; nor is an attempt --retry
// repeated.
func TestTransferLeavesOutRefreshedAndRetriedAnswers(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Date"] = nil
		switch {
		case r.URL.Path == "/hop":
			w.Header().Set("Location", "/api")
			w.WriteHeader(http.StatusFound)
		case r.Header.Get("Authorization") == "Bearer old":
			w.WriteHeader(http.StatusUnauthorized)
		case n.Add(1) == 1:
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			io.WriteString(w, "ok")
		}
	}))
	t.Cleanup(srv.Close)
	rec := &Recorder{}
	s := &Sender{Client: newClient(t), Tokens: &fakeTokens{token: "old"}, FollowRedirects: true, MaxRedirects: 5,
		Retries: 1, Sleep: func(context.Context, time.Duration) error { return nil }}
	req, _ := Build(Options{URL: srv.URL + "/hop"}, OSOpener{})
	res, err := s.Do(rec.Install(context.Background(), s), req)
	if err != nil {
		t.Fatal(err)
	}
	res.Response.Body.Close()
	tr := rec.Transfer(res)
	var statuses []int
	for _, h := range tr.Heads {
		statuses = append(statuses, h.Status)
	}
	// Sent: 302, 401 (refreshed), 503 (retried), then 302, 200.
	if len(statuses) != 2 || statuses[0] != 302 || statuses[1] != 200 {
		t.Errorf("heads shown %v, want [302 200]", statuses)
	}
	if len(tr.chain) != 2 {
		t.Errorf("%d exchanges timed, want 2", len(tr.chain))
	}
}

func TestRecorderCapsTheHead(t *testing.T) {
	big := "HTTP/1.1 200 OK\r\nX-Big: " + strings.Repeat("a", 1<<16) + "\r\n"
	head := big + strings.Repeat("X-More: "+strings.Repeat("b", 60000)+"\r\n", 20) + "Content-Length: 2\r\n\r\n"
	srv, _ := wireServer(t, nil, map[string]string{"/big": head + "ok"})
	tr, _, body := send(t, newClient(t), srv+"/big", false)
	if body != "ok" || len(tr.Heads) != 1 || tr.Heads[0].Wire || tr.Heads[0].Status != 200 {
		t.Errorf("a head over the cap: body %q, wire %v", body, tr.Heads[0].Wire)
	}
}

func TestSplitHeads(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int
	}{
		{earlyHead + finalHead + "body", 2},
		{lfHead + "body\n\n", 1},
		{"HTTP/1.1 100 Continue\r\n\r\n" + oddHead, 2},
		{"HTTP/1.1 200 OK\r\nX: 1\r\n", 0}, // not whole
		{"garbage\r\n\r\n", 0},
		{earlyHead, 0}, // no final head
	} {
		if got := len(splitHeads([]byte(c.in), false)); got != c.want {
			t.Errorf("splitHeads(%q): %d heads, want %d", c.in, got, c.want)
		}
	}
}

func testCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	ts := httptest.NewTLSServer(http.NotFoundHandler())
	ts.Close()
	cert := ts.TLS.Certificates[0]
	return cert, ts.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
}

// One Recorder serves a Sender for several transfers: installed again it
// neither wraps the connections twice nor records an exchange twice.
func TestRecorderInstalledAgain(t *testing.T) {
	srv, _ := wireServer(t, nil, wireRoutes)
	rec := &Recorder{}
	s := &Sender{Client: newClient(t)}
	for i := 0; i < 3; i++ {
		req, _ := Build(Options{URL: srv + "/odd"}, OSOpener{})
		res, err := s.Do(rec.Install(context.Background(), s), req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Response.Body)
		res.Response.Body.Close()
		tr := rec.Transfer(res)
		if headsOf(tr) != oddHead || len(tr.chain) != 1 {
			t.Fatalf("transfer %d: %d exchanges, heads %q", i, len(tr.chain), headsOf(tr))
		}
	}
	if _, ok := s.Tracer.(recTracer).next.(recTracer); ok {
		t.Error("the Recorder is chained twice")
	}
}

// BenchmarkDownload streams a 64 MiB body, with and without the Recorder:
// once the head is in, the Recorder's connection passes reads through.
func BenchmarkDownload(b *testing.B) {
	const size = 64 << 20
	chunk := bytes.Repeat([]byte("a"), 1<<16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(size))
		for n := 0; n < size; n += len(chunk) {
			w.Write(chunk)
		}
	}))
	b.Cleanup(srv.Close)
	for _, recorded := range []bool{false, true} {
		b.Run(map[bool]string{false: "plain", true: "recorded"}[recorded], func(b *testing.B) {
			client, _ := NewClient(ClientOptions{})
			s := &Sender{Client: client}
			rec := &Recorder{}
			b.SetBytes(size)
			for i := 0; i < b.N; i++ {
				ctx := context.Background()
				if recorded {
					ctx = rec.Install(ctx, s)
				}
				req, _ := Build(Options{URL: srv.URL}, OSOpener{})
				res, err := s.Do(ctx, req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, res.Response.Body)
				res.Response.Body.Close()
				rec.Transfer(res)
			}
		})
	}
}
