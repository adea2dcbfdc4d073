package testop

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// streamRoutes adds the API endpoints that test streaming through a proxy:
//
//	GET /v1/ws                  a WebSocket (RFC 6455) that echoes every
//	                            message; its first message is the token's
//	                            subject, {"sub":"alice"}
//	GET /v1/events?n=N&interval_ms=M
//	                            Server-Sent Events: N events "data: i",
//	                            each flushed at once, M ms apart
//
// and the counters "api:bytes_in" (request body bytes that /v1/echo has
// read, as it reads them) and "api:connections" (connections the API has
// accepted).
func (s *Server) streamRoutes(mux *http.ServeMux) {
	mux.HandleFunc("/v1/ws", func(w http.ResponseWriter, r *http.Request) {
		conn, err := acceptWebSocket(w, r)
		if err != nil {
			return
		}
		defer conn.Close()
		sub, _ := introspectionFrom(r)["sub"].(string)
		if err := conn.WriteMessage(opText, []byte(`{"sub":"`+sub+`"}`)); err != nil {
			return
		}
		for {
			op, msg, err := conn.ReadMessage()
			if err != nil {
				return
			}
			if err := conn.WriteMessage(op, msg); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("/v1/events", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		interval, _ := strconv.Atoi(r.URL.Query().Get("interval_ms"))
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-cache")
		w.WriteHeader(http.StatusOK)
		rc := http.NewResponseController(w)
		for i := 1; i <= n; i++ {
			if i > 1 && interval > 0 {
				select {
				case <-time.After(time.Duration(interval) * time.Millisecond):
				case <-r.Context().Done():
					return
				}
			}
			if _, err := fmt.Fprintf(w, "id: %d\ndata: %d\n\n", i, i); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
		}
	})
}

// countingBody counts the bytes read from a request body under key.
type countingBody struct {
	io.ReadCloser
	s   *Server
	key string
}

func (c countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.s.add(c.key, int64(n))
	return n, err
}

// WebSocket opcodes.
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xa
)

// maxWSMessage caps what one WebSocket frame may carry here.
const maxWSMessage = 1 << 20

// wsGUID is RFC 6455's key suffix.
const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// WebSocketAccept is the Sec-WebSocket-Accept value for key (RFC 6455 4.2.2).
func WebSocketAccept(key string) string {
	h := sha1.Sum([]byte(key + wsGUID))
	return base64.StdEncoding.EncodeToString(h[:])
}

func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// acceptWebSocket answers a WebSocket handshake and takes the connection
// over; it answers 400 and returns an error for anything else.
func acceptWebSocket(w http.ResponseWriter, r *http.Request) (*WebSocketConn, error) {
	key := r.Header.Get("Sec-WebSocket-Key")
	if r.Method != http.MethodGet || !headerHasToken(r.Header, "Connection", "upgrade") ||
		!headerHasToken(r.Header, "Upgrade", "websocket") || r.Header.Get("Sec-WebSocket-Version") != "13" || key == "" {
		http.Error(w, "a WebSocket handshake was expected", http.StatusBadRequest)
		return nil, errors.New("not a WebSocket handshake")
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		http.Error(w, "cannot take the connection over", http.StatusInternalServerError)
		return nil, err
	}
	fmt.Fprintf(brw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", WebSocketAccept(key))
	if err := brw.Flush(); err != nil {
		conn.Close()
		return nil, err
	}
	return &WebSocketConn{conn: conn, r: brw.Reader, client: false}, nil
}

// WebSocketConn is one end of a WebSocket, with just enough of RFC 6455
// for tests: unfragmented messages of up to 1 MiB, pings answered, close
// echoed. It is not safe for concurrent use.
type WebSocketConn struct {
	conn   net.Conn
	r      *bufio.Reader
	client bool // a client masks what it sends
}

// DialWebSocket opens a WebSocket to rawURL (http:// or ws://, on a plain
// connection) with header added to the handshake. On a handshake that
// fails it returns the response, body closed, with the error.
func DialWebSocket(ctx context.Context, rawURL string, header http.Header) (*WebSocketConn, *http.Response, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, nil, err
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return nil, nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	var nonce [16]byte
	rand.Read(nonce[:])
	key := base64.StdEncoding.EncodeToString(nonce[:])
	req := &http.Request{Method: http.MethodGet, URL: &url.URL{Path: u.EscapedPath(), RawQuery: u.RawQuery}, Host: u.Host,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: http.Header{}}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Sec-WebSocket-Key", key)
	if err := req.Write(conn); err != nil {
		conn.Close()
		return nil, nil, err
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		resp.Body.Close()
		conn.Close()
		return nil, resp, fmt.Errorf("websocket handshake: %s", resp.Status)
	}
	if got := resp.Header.Get("Sec-WebSocket-Accept"); got != WebSocketAccept(key) {
		conn.Close()
		return nil, resp, fmt.Errorf("websocket handshake: Sec-WebSocket-Accept %q, want %q", got, WebSocketAccept(key))
	}
	return &WebSocketConn{conn: conn, r: br, client: true}, resp, nil
}

// Close closes the connection without a closing handshake.
func (c *WebSocketConn) Close() error { return c.conn.Close() }

// WriteText sends a text message.
func (c *WebSocketConn) WriteText(msg string) error { return c.WriteMessage(opText, []byte(msg)) }

// WriteMessage sends one unfragmented frame with opcode op.
func (c *WebSocketConn) WriteMessage(op byte, msg []byte) error {
	hdr := []byte{0x80 | op}
	mask := byte(0)
	if c.client {
		mask = 0x80
	}
	switch n := len(msg); {
	case n < 126:
		hdr = append(hdr, mask|byte(n))
	case n <= 0xffff:
		hdr = append(hdr, mask|126, byte(n>>8), byte(n))
	default:
		hdr = binary.BigEndian.AppendUint64(append(hdr, mask|127), uint64(n))
	}
	payload := msg
	if c.client {
		var key [4]byte
		rand.Read(key[:])
		hdr = append(hdr, key[:]...)
		payload = make([]byte, len(msg))
		for i := range msg {
			payload[i] = msg[i] ^ key[i%4]
		}
	}
	if _, err := c.conn.Write(append(hdr, payload...)); err != nil {
		return err
	}
	return nil
}

// ReadMessage returns the next text or binary message, answering pings
// and echoing a close (then returning io.EOF).
func (c *WebSocketConn) ReadMessage() (op byte, msg []byte, err error) {
	for {
		var h [2]byte
		if _, err := io.ReadFull(c.r, h[:]); err != nil {
			return 0, nil, err
		}
		fin, op, masked := h[0]&0x80 != 0, h[0]&0x0f, h[1]&0x80 != 0
		if masked == c.client {
			return 0, nil, errors.New("websocket: a frame masked the wrong way")
		}
		n := uint64(h[1] & 0x7f)
		switch n {
		case 126:
			var b [2]byte
			if _, err := io.ReadFull(c.r, b[:]); err != nil {
				return 0, nil, err
			}
			n = uint64(binary.BigEndian.Uint16(b[:]))
		case 127:
			var b [8]byte
			if _, err := io.ReadFull(c.r, b[:]); err != nil {
				return 0, nil, err
			}
			n = binary.BigEndian.Uint64(b[:])
		}
		if n > maxWSMessage || !fin || op == opContinuation {
			return 0, nil, errors.New("websocket: fragmented or too large a message")
		}
		var key [4]byte
		if masked {
			if _, err := io.ReadFull(c.r, key[:]); err != nil {
				return 0, nil, err
			}
		}
		msg := make([]byte, n)
		if _, err := io.ReadFull(c.r, msg); err != nil {
			return 0, nil, err
		}
		if masked {
			for i := range msg {
				msg[i] ^= key[i%4]
			}
		}
		switch op {
		case opText, opBinary:
			return op, msg, nil
		case opPing:
			if err := c.WriteMessage(opPong, msg); err != nil {
				return 0, nil, err
			}
		case opPong:
		case opClose:
			_ = c.WriteMessage(opClose, msg)
			return 0, nil, io.EOF
		default:
			return 0, nil, fmt.Errorf("websocket: unknown opcode %d", op)
		}
	}
}
