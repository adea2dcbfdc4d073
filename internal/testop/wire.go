package testop

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// WireBody is the body /v1/wire answers with.
const WireBody = `{"wire":true}` + "\n"

// wireHead returns the head /v1/wire writes for a request with query q:
//
//	hop=N    a 302 to /v1/wire?hop=N-1 (to /v1/wire from hop=1)
//	early=1  a 103 Early Hints head before the answer
//	code=N   status N instead of 200
//	plain=1  no name repeated (for %{header_json}, which curl 7.88 gets
//	         wrong on repeated names)
//
// The heads have no Date and no other varying value, their names are out
// of order, in mixed case and repeated, and one value is padded with
// blanks, so that a client that rebuilds heads from a parsed map, or
// trims or re-cases them, shows a difference.
func wireHead(q url.Values, bodyLen int) string {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	if n, _ := strconv.Atoi(get("hop")); n > 0 {
		loc := "/v1/wire"
		if n > 1 {
			loc += "?hop=" + strconv.Itoa(n-1)
		}
		return "HTTP/1.1 302 Found\r\nx-Hop: " + strconv.Itoa(n) + "\r\nLocation: " + loc + "\r\nContent-Length: 0\r\n\r\n"
	}
	var b strings.Builder
	if get("early") == "1" {
		b.WriteString("HTTP/1.1 103 Early Hints\r\nLink: </v1/me>; rel=preload\r\n\r\n")
	}
	code := http.StatusOK
	if c, err := strconv.Atoi(get("code")); err == nil && c >= 200 && c <= 599 {
		code = c
	}
	fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\nX-Zeta: last-first\r\ncontent-type: application/json\r\n", code, http.StatusText(code))
	if get("plain") != "1" {
		b.WriteString("Set-Cookie: a=1\r\n")
	}
	b.WriteString("x-Mixed-CASE:   padded value  \r\n")
	if get("plain") != "1" {
		b.WriteString("set-cookie: b=2\r\n")
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n", bodyLen)
	return b.String()
}

// wire serves /v1/wire: it takes the connection over from net/http (whose
// writer sorts and re-cases header names and adds Date) and answers this
// request and any later ones the client sends on the same connection,
// checking each one's token as the API does.
func (s *Server) wire(w http.ResponseWriter, r *http.Request) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "/v1/wire needs HTTP/1.1", http.StatusHTTPVersionNotSupported)
		return
	}
	// The body is read before the answer, as a server that keeps the
	// connection must; then the client has sent it all.
	_, _ = io.Copy(io.Discard, r.Body)
	conn, brw, err := hj.Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	for req := r; ; {
		if req != nil && !s.answerWire(conn, req) {
			return
		}
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		next, err := http.ReadRequest(brw.Reader)
		if err != nil {
			return
		}
		if _, err := io.Copy(io.Discard, next.Body); err != nil {
			return
		}
		s.inc("api:" + next.URL.Path)
		if next.URL.Path != "/v1/wire" {
			_, _ = conn.Write([]byte("HTTP/1.1 421 Misdirected Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"))
			return
		}
		if _, ok := s.introspect(next); !ok {
			_, _ = conn.Write([]byte("HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer error=\"invalid_token\"\r\nContent-Length: 0\r\n\r\n"))
			req = nil
			continue
		}
		req = next
	}
}

// answerWire writes the answer to r; false when the connection failed.
func (s *Server) answerWire(conn net.Conn, r *http.Request) bool {
	head := wireHead(r.URL.Query(), len(WireBody))
	out := head
	if r.Method != http.MethodHead && !strings.HasPrefix(head[strings.LastIndex(head, "HTTP/1.1 "):], "HTTP/1.1 302") {
		out += WireBody
	}
	_, err := conn.Write([]byte(out))
	return err == nil
}
