package httpcall

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/http/httptrace"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// maxRecordedHead caps the bytes a Recorder keeps of one response head (1xx
// heads included). A longer head is written as net/http parsed it.
const maxRecordedHead = 1 << 20

// Recorder records what curl's -i, -D and -w report of each exchange a
// client makes: the response heads as they came on the wire (header order,
// the case of names, repeated names, 1xx heads and a proxy's answer to
// CONNECT), the timings, the addresses and the sizes.
//
// net/http keeps neither the order nor the case of the header names it
// parses, so for HTTP/1.x the Recorder installs dialers on the client's
// transport that wrap each connection and tap the bytes read while a
// response head is awaited. Plain http (direct or through a proxy) and
// https to the server itself (the Recorder then does the TLS handshake, as
// net/http would) are recorded from the wire. An HTTP/2 response, and an
// https response through an http proxy's CONNECT tunnel (whose TLS layer
// net/http keeps to itself), are written as curl writes HTTP/2 heads, or as
// net/http parsed them: names sorted.
//
// Exchanges are sequential: one request at a time, as a Sender sends them.
type Recorder struct {
	mu        sync.Mutex
	cur       *exchange // between Tracer.Request and Tracer.Response
	list      []*exchange
	installed map[*http.Transport]bool
}

// Install instruments s.Client's transport (an *http.Transport, as
// NewClient makes) and chains the Recorder before s.Tracer; installing it
// again on the same Sender changes nothing. The returned context carries
// the Recorder's httptrace hooks: pass it to s.Do, then call Transfer.
func (r *Recorder) Install(ctx context.Context, s *Sender) context.Context {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s.Client != nil {
		if t, ok := s.Client.Transport.(*http.Transport); ok && !r.installed[t] {
			if r.installed == nil {
				r.installed = map[*http.Transport]bool{}
			}
			r.installed[t] = true
			r.instrument(t)
		}
	}
	if rt, ok := s.Tracer.(recTracer); !ok || rt.r != r {
		s.Tracer = recTracer{r: r, next: s.Tracer}
	}
	return httptrace.WithClientTrace(ctx, r.clientTrace())
}

// exchange is one request and what came back for it.
type exchange struct {
	url    string // the URL requested
	scheme string
	method string
	target string // host:port of the URL, to tell a proxy apart when dialing
	header http.Header

	start, dnsDone, connectStart, connectDone, tlsDone, gotConn, firstByte time.Time

	reused        bool
	local, remote net.Addr
	tlsState      *tls.ConnectionState

	conn       *recConn // the HTTP/1.x connection the response came on
	tap        *tap     // the response bytes read on conn
	written0   int64    // conn's written bytes when the request began
	connectTap *tap     // a proxy's answer to CONNECT

	resp        *http.Response
	heads       []*Head // set by finish
	requestSize int64
	finished    bool
}

func (e *exchange) finish() {
	if e.finished {
		return
	}
	e.finished = true
	if e.connectTap != nil {
		b, _ := e.connectTap.stop()
		e.heads = append(e.heads, splitHeads(b, true)...)
	}
	var wire []*Head
	if e.tap != nil {
		b, complete := e.tap.stop()
		if complete && e.resp != nil {
			wire = splitHeads(b, false)
			if n := len(wire); n == 0 || wire[n-1].Status != e.resp.StatusCode {
				wire = nil
			}
		}
		e.requestSize = e.conn.written.Load() - e.written0
	}
	switch {
	case wire != nil:
		e.heads = append(e.heads, wire...)
	case e.resp != nil:
		e.heads = append(e.heads, rebuildHead(e.resp))
	}
	if e.tap == nil && e.resp != nil {
		e.requestSize = rebuiltRequestSize(e.resp.Request)
	}
}

// response returns the exchange's final head, nil when no response came.
func (e *exchange) response() *Head {
	if e.resp == nil || len(e.heads) == 0 {
		return nil
	}
	return e.heads[len(e.heads)-1]
}

// recTracer is the Recorder's Tracer: it opens an exchange as a request
// goes out and closes it when its response arrives.
type recTracer struct {
	r    *Recorder
	next Tracer
}

func (t recTracer) Request(req *http.Request) {
	t.r.begin(req)
	if t.next != nil {
		t.next.Request(req)
	}
}

func (t recTracer) Response(resp *http.Response) {
	t.r.end(resp)
	if t.next != nil {
		t.next.Response(resp)
	}
}

func (r *Recorder) begin(req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cur != nil {
		r.cur.finish()
	}
	port := req.URL.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[strings.ToLower(req.URL.Scheme)]
	}
	e := &exchange{url: req.URL.String(), scheme: strings.ToLower(req.URL.Scheme), method: req.Method,
		target: net.JoinHostPort(req.URL.Hostname(), port), header: req.Header.Clone(), start: time.Now()}
	r.cur = e
	r.list = append(r.list, e)
}

func (r *Recorder) end(resp *http.Response) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cur == nil {
		return
	}
	r.cur.resp = resp
	r.cur.finish()
	r.cur = nil
}

// with runs f on the open exchange, if any, under the lock.
func (r *Recorder) with(f func(e *exchange)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cur != nil {
		f(r.cur)
	}
}

func (r *Recorder) clientTrace() *httptrace.ClientTrace {
	now := time.Now
	return &httptrace.ClientTrace{
		DNSDone: func(info httptrace.DNSDoneInfo) {
			r.with(func(e *exchange) {
				if info.Err == nil && e.dnsDone.IsZero() {
					e.dnsDone = now()
				}
			})
		},
		ConnectStart: func(string, string) {
			r.with(func(e *exchange) {
				if e.connectStart.IsZero() {
					e.connectStart = now()
				}
			})
		},
		ConnectDone: func(_, _ string, err error) {
			r.with(func(e *exchange) {
				if err == nil && e.connectDone.IsZero() {
					e.connectDone = now()
				}
			})
		},
		TLSHandshakeStart: func() {
			// A CONNECT tunnel is up: what follows is TLS.
			r.with(func(e *exchange) {
				if e.connectTap != nil {
					e.connectTap.pause()
				}
			})
		},
		TLSHandshakeDone: func(st tls.ConnectionState, err error) {
			r.with(func(e *exchange) {
				if err == nil && e.tlsDone.IsZero() {
					e.tlsDone = now()
					e.tlsState = &st
				}
			})
		},
		GotConn: func(info httptrace.GotConnInfo) {
			r.with(func(e *exchange) {
				e.gotConn = now()
				e.reused = info.Reused
				if info.Conn == nil {
					return
				}
				e.local, e.remote = info.Conn.LocalAddr(), info.Conn.RemoteAddr()
				if e.connectTap != nil {
					e.connectTap.pause()
				}
				switch c := info.Conn.(type) {
				case *recConn:
					if c.tlsState != nil {
						e.tlsState = c.tlsState
					}
					e.conn, e.written0 = c, c.written.Load()
					e.tap = c.record()
				case *tls.Conn:
					st := c.ConnectionState()
					e.tlsState = &st
				}
			})
		},
		GotFirstResponseByte: func() {
			r.with(func(e *exchange) {
				if e.firstByte.IsZero() {
					e.firstByte = now()
				}
			})
		},
	}
}

// instrument installs the Recorder's dialers on t. A dialer already set
// for TLS is left alone (the heads of https responses are then rebuilt).
func (r *Recorder) instrument(t *http.Transport) {
	dial := t.DialContext
	if dial == nil {
		dial = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	}
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		rc := &recConn{Conn: c}
		r.dialed(rc)
		return rc, nil
	}
	if t.DialTLSContext != nil || t.DialTLS != nil { //nolint:staticcheck // DialTLS is checked, not used
		return
	}
	t.DialTLSContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		raw, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		var cfg *tls.Config
		if t.TLSClientConfig != nil {
			cfg = t.TLSClientConfig.Clone()
		} else {
			cfg = &tls.Config{}
		}
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			raw.Close()
			return nil, err
		}
		if cfg.ServerName == "" {
			cfg.ServerName = host
		}
		target := false
		r.with(func(e *exchange) { target = e.target == addr })
		cfg.NextProtos = []string{"http/1.1"}
		if target && offersHTTP2(t) {
			cfg.NextProtos = []string{"h2", "http/1.1"}
		}
		hctx := ctx
		if t.TLSHandshakeTimeout > 0 {
			var cancel context.CancelFunc
			hctx, cancel = context.WithTimeout(ctx, t.TLSHandshakeTimeout)
			defer cancel()
		}
		tc := tls.Client(raw, cfg)
		if err := tc.HandshakeContext(hctx); err != nil {
			raw.Close()
			if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
				return nil, &TransportError{CurlTimeout, errors.New("TLS handshake timed out")}
			}
			return nil, err
		}
		st := tc.ConnectionState()
		if target {
			r.with(func(e *exchange) {
				e.tlsDone = time.Now()
				e.tlsState = &st
			})
		}
		if st.NegotiatedProtocol == "h2" {
			return tc, nil // net/http's HTTP/2 needs the *tls.Conn itself
		}
		rc := &recConn{Conn: tc, tlsState: &st}
		if !target {
			r.dialed(rc) // a TLS proxy: record its answer to CONNECT
		}
		return rc, nil
	}
}

// offersHTTP2 reports whether t speaks HTTP/2 over TLS: not when
// TLSNextProto was set without "h2" (NewClient's --http1.1) or Protocols
// leave it out.
func offersHTTP2(t *http.Transport) bool {
	if t.TLSNextProto != nil && t.TLSNextProto["h2"] == nil {
		return false
	}
	return t.Protocols == nil || t.Protocols.HTTP2()
}

// dialed starts recording what a new connection reads before it is handed
// to a request: only a proxy's answer to CONNECT comes then.
func (r *Recorder) dialed(c *recConn) {
	r.with(func(e *exchange) {
		if e.connectTap == nil {
			e.connectTap = c.record()
		}
	})
}

// recConn counts the bytes written and passes the bytes read to a tap.
type recConn struct {
	net.Conn
	tlsState *tls.ConnectionState // when the Recorder did the handshake
	written  atomic.Int64
	tap      atomic.Pointer[tap]
}

func (c *recConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if t := c.tap.Load(); t != nil && n > 0 && !t.add(p[:n]) {
		c.tap.CompareAndSwap(t, nil) // stopped: the body streams untouched
	}
	return n, err
}

// Write counts p before it goes out: the answer can come, and the count
// be read, before Write returns.
func (c *recConn) Write(p []byte) (int, error) {
	c.written.Add(int64(len(p)))
	n, err := c.Conn.Write(p)
	if n < len(p) {
		c.written.Add(int64(n - len(p)))
	}
	return n, err
}

// record starts a new tap, ending the one before.
func (c *recConn) record() *tap {
	t := &tap{}
	if old := c.tap.Swap(t); old != nil {
		old.pause()
	}
	return t
}

// tap holds bytes read, up to maxRecordedHead.
type tap struct {
	mu      sync.Mutex
	buf     []byte
	over    bool
	stopped bool
}

// add records p; false once the tap is stopped.
func (t *tap) add(p []byte) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case t.stopped:
		return false
	case t.over:
	case len(t.buf)+len(p) > maxRecordedHead:
		t.over = true
	default:
		t.buf = append(t.buf, p...)
	}
	return true
}

// pause stops recording; stop also returns what was recorded and whether
// it is whole.
func (t *tap) pause() {
	t.mu.Lock()
	t.stopped = true
	t.mu.Unlock()
}

func (t *tap) stop() ([]byte, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stopped = true
	return t.buf, !t.over
}

// Head is one response head: the status line, the header lines and the
// empty line that ends them.
type Head struct {
	// Bytes are what -i and -D write: as received, or as rebuilt when the
	// wire form is not known (see Wire).
	Bytes []byte
	// Wire reports that Bytes came from the wire.
	Wire   bool
	Status int
	// Connect marks a proxy's answer to CONNECT.
	Connect bool
	// Fields are the header fields in order: names as received, values
	// with surrounding blanks trimmed and continuation lines joined.
	Fields []Field
}

// Field is one header field.
type Field struct{ Name, Value string }

// Lines returns the head's lines, each with its line ending.
func (h *Head) Lines() []string {
	lines := strings.SplitAfter(string(h.Bytes), "\n")
	if n := len(lines); n > 0 && lines[n-1] == "" {
		lines = lines[:n-1]
	}
	return lines
}

// NumHeaders counts the head's lines that hold a colon, as curl's
// num_headers does (the status line is not a header).
func (h *Head) NumHeaders() int {
	n := 0
	for _, l := range strings.SplitAfter(string(h.Bytes), "\n") {
		if strings.Contains(l, ":") {
			n++
		}
	}
	return n
}

// Values returns the values of name (any case), in order.
func (h *Head) Values(name string) []string {
	var out []string
	for _, f := range h.Fields {
		if strings.EqualFold(f.Name, name) {
			out = append(out, f.Value)
		}
	}
	return out
}

// splitHeads cuts the heads at the start of b: 1xx heads up to the final
// one, or (connect) the one answer to CONNECT. It returns nil when b does
// not hold a whole head.
func splitHeads(b []byte, connect bool) []*Head {
	var heads []*Head
	for len(b) > 0 {
		end := headEnd(b)
		if end < 0 {
			return nil
		}
		h := parseHead(b[:end])
		if h == nil {
			return nil
		}
		h.Connect = connect
		heads = append(heads, h)
		b = b[end:]
		if connect || h.Status < 100 || h.Status > 199 || h.Status == 101 {
			return heads
		}
	}
	return nil
}

// headEnd returns the length of the head at the start of b, through the
// empty line that ends it, or -1.
func headEnd(b []byte) int {
	for i, first := 0, true; ; first = false {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return -1
		}
		line := b[i : i+j+1]
		i += j + 1
		if !first && (len(line) == 1 || (len(line) == 2 && line[0] == '\r')) {
			return i
		}
	}
}

func parseHead(b []byte) *Head {
	lines := strings.SplitAfter(string(b), "\n")
	proto, rest, _ := strings.Cut(strings.TrimRight(lines[0], "\r\n"), " ")
	if !strings.HasPrefix(proto, "HTTP/") || len(rest) < 3 {
		return nil
	}
	code, err := strconv.Atoi(rest[:3])
	if err != nil {
		return nil
	}
	h := &Head{Bytes: b, Wire: true, Status: code}
	for _, l := range lines[1:] {
		l = strings.TrimRight(l, "\r\n")
		if l == "" {
			continue
		}
		if (l[0] == ' ' || l[0] == '\t') && len(h.Fields) > 0 {
			f := &h.Fields[len(h.Fields)-1]
			f.Value = strings.TrimSpace(f.Value + " " + strings.TrimSpace(l))
			continue
		}
		name, value, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		h.Fields = append(h.Fields, Field{name, strings.Trim(value, " \t")})
	}
	return h
}

// rebuildHead writes resp's head as -i shows it when its wire form is not
// known: for HTTP/2 as curl writes it ("HTTP/2 200 " and lower-case
// names), otherwise as Proto and Status with the names canonical; in both,
// names sorted, as net/http keeps no order.
func rebuildHead(resp *http.Response) *Head {
	var b strings.Builder
	h := &Head{Status: resp.StatusCode}
	keys := sortedKeys(resp.Header)
	if resp.ProtoMajor == 2 {
		sort.Slice(keys, func(i, j int) bool { return strings.ToLower(keys[i]) < strings.ToLower(keys[j]) })
		b.WriteString("HTTP/2 " + strconv.Itoa(resp.StatusCode) + " \r\n")
	} else {
		b.WriteString(resp.Proto + " " + resp.Status + "\r\n")
	}
	for _, k := range keys {
		name := k
		if resp.ProtoMajor == 2 {
			name = strings.ToLower(k)
		}
		for _, v := range resp.Header[k] {
			b.WriteString(name + ": " + v + "\r\n")
			h.Fields = append(h.Fields, Field{name, v})
		}
	}
	b.WriteString("\r\n")
	h.Bytes = []byte(b.String())
	return h
}

// rebuiltRequestSize is the size of req as HTTP/1.1 would send it: used
// when the bytes were not counted on the wire (HTTP/2, TLS through a
// proxy).
func rebuiltRequestSize(req *http.Request) int64 {
	if req == nil {
		return 0
	}
	n := len(req.Method) + 1 + len(req.URL.RequestURI()) + len(" HTTP/1.1\r\n")
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	n += len("Host: \r\n") + len(host)
	for k, vs := range req.Header {
		for _, v := range vs {
			n += len(k) + 2 + len(v) + 2
		}
	}
	if req.ContentLength > 0 {
		n += len("Content-Length: \r\n") + len(strconv.FormatInt(req.ContentLength, 10)) + int(req.ContentLength)
	}
	return int64(n + 2)
}

// Transfer is what one transfer (a request and the redirects it followed)
// received, for -i, -D and -w. Its zero value is a transfer that sent
// nothing.
type Transfer struct {
	// Heads are the heads -i and -D write, in order: each exchange's answer
	// to CONNECT and 1xx heads, then its response's head; the redirects
	// followed, then the last response.
	Heads []*Head
	chain []*exchange // the exchanges the timings add up: those shown, and the last
}

// Transfer returns what the transfer that ended with res (nil when none
// came back) received, and starts afresh for the next. Of the exchanges
// recorded it keeps those of the last attempt that a user sees: the
// redirects res followed and its last exchange. A 401 answered by a
// refresh and sent again, and attempts that --retry repeated, are left out.
func (r *Recorder) Transfer(res *Result) *Transfer {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cur != nil {
		r.cur.finish()
		r.cur = nil
	}
	list := r.list
	r.list = nil
	t := &Transfer{}
	if len(list) == 0 {
		return t
	}
	last := list[len(list)-1]
	chain := []*exchange{last}
	need := 0
	if res != nil {
		need = res.Redirects
	}
	for i := len(list) - 2; i >= 0 && need > 0; i-- {
		e := list[i]
		if e.resp == nil {
			break
		}
		if e.resp.StatusCode == http.StatusUnauthorized {
			continue // answered by a refresh, and sent again
		}
		if !isRedirect(e.resp.StatusCode) {
			break
		}
		chain = append([]*exchange{e}, chain...)
		need--
	}
	t.chain = chain
	for _, e := range chain {
		t.Heads = append(t.Heads, e.heads...)
	}
	return t
}

// final returns the last exchange, nil when nothing was sent.
func (t *Transfer) final() *exchange {
	if t == nil || len(t.chain) == 0 {
		return nil
	}
	return t.chain[len(t.chain)-1]
}

// start is when the transfer's first exchange began.
func (t *Transfer) start() time.Time {
	if t == nil || len(t.chain) == 0 {
		return time.Time{}
	}
	return t.chain[0].start
}

// SizeHeader is the size of every head, as curl's size_header.
func (t *Transfer) SizeHeader() int64 {
	if t == nil {
		return 0
	}
	var n int64
	for _, h := range t.Heads {
		n += int64(len(h.Bytes))
	}
	return n
}

// timings adds up, over the exchanges, each one's time from its start to
// an event, as curl does over redirects (at least 1µs when the event came).
func (t *Transfer) timing(event func(e *exchange) time.Time) time.Duration {
	if t == nil {
		return 0
	}
	var d time.Duration
	for _, e := range t.chain {
		at := event(e)
		if at.IsZero() {
			continue
		}
		d += max(at.Sub(e.start), time.Microsecond)
	}
	return d
}
