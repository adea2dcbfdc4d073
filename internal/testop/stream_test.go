package testop_test

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/agcurl/agcurl/internal/testop"
)

// RFC 6455 1.3's own example.
func TestWebSocketAccept(t *testing.T) {
	if got := testop.WebSocketAccept("dGhlIHNhbXBsZSBub25jZQ=="); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("accept: %q", got)
	}
}

// The WebSocket route needs a token, says whose it is, and echoes.
func TestWebSocketEcho(t *testing.T) {
	s := start(t, testop.Options{})
	tk := login(t, s, defaultScope)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	if _, resp, err := testop.DialWebSocket(ctx, s.APIURL+"/v1/ws", nil); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("without a token: %v %v", resp, err)
	}
	conn, _, err := testop.DialWebSocket(ctx, s.APIURL+"/v1/ws", http.Header{"Authorization": {"Bearer " + tk.AccessToken}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, msg, err := conn.ReadMessage(); err != nil || string(msg) != `{"sub":"alice"}` {
		t.Fatalf("first message %q, %v", msg, err)
	}
	for _, m := range []string{"hello", strings.Repeat("x", 200), strings.Repeat("y", 70000)} {
		if err := conn.WriteText(m); err != nil {
			t.Fatal(err)
		}
		if _, msg, err := conn.ReadMessage(); err != nil || string(msg) != m {
			t.Fatalf("echo of %d bytes: got %d bytes, %v", len(m), len(msg), err)
		}
	}
}

// The event stream sends each event as it comes.
func TestEvents(t *testing.T) {
	s := start(t, testop.Options{})
	tk := login(t, s, defaultScope)
	req, _ := http.NewRequest(http.MethodGet, s.APIURL+"/v1/events?n=2&interval_ms=60000", nil)
	req.Header.Set("Authorization", "Bearer "+tk.AccessToken)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	// The second event comes a minute later: the first must be here now.
	br := bufio.NewReader(resp.Body)
	for _, want := range []string{"id: 1\n", "data: 1\n", "\n"} {
		if line, err := br.ReadString('\n'); line != want {
			t.Fatalf("line %q (%v), want %q", line, err, want)
		}
	}
}
