package httpcall

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// rawServer answers every connection on 127.0.0.1 with response, written
// as it is, after reading the request head. It returns the server's URL.
func rawServer(t *testing.T, response string) string {
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
				if _, err := http.ReadRequest(bufio.NewReader(c)); err != nil {
					return
				}
				io.WriteString(c, response)
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

// hostile is what a server can put in a reason phrase and in a header
// value: an escape sequence that clears the screen, and a carriage return
// that lets it overwrite the line with one that looks like agcurl's.
// Go's client refuses control bytes in header values, but not C1 controls
// (U+009B is CSI), bidi overrides and bytes that are not UTF-8.
const (
	hostileReason = "OK\x1b[2J\ragcurl: all good"
	hostileValue  = "a\u009b2J\u202eb\x9bc"
	hostileBody   = "\x1b[2J\r\nagcurl: all good\n"
)

var hostileResponse = "HTTP/1.1 200 " + hostileReason + "\r\n" +
	"X-Evil: " + hostileValue + "\r\n" +
	"Content-Type: text/plain\r\n" +
	"Content-Length: " + strconv.Itoa(len(hostileBody)) + "\r\n" +
	"\r\n" + hostileBody

// noRawControls fails when s holds a byte or rune that a terminal would
// act on.
func noRawControls(t *testing.T, what, s string) {
	t.Helper()
	for _, bad := range []string{"\x1b", "\r", "\u009b", "\u202e", "\x9bc"} {
		if strings.Contains(s, bad) {
			t.Errorf("%s holds raw %q:\n%q", what, bad, s)
		}
	}
}

func TestVerboseTraceEscapesServerText(t *testing.T) {
	srv := rawServer(t, hostileResponse)
	var trace bytes.Buffer
	req, _ := Build(Options{URL: srv + "/x"}, OSOpener{})
	res, err := (&Sender{Client: newClient(t), Tracer: VerboseTracer{W: &trace}}).Do(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Response.Body)
	res.Response.Body.Close()
	if string(body) != hostileBody {
		t.Errorf("body %q, want the bytes sent", body)
	}
	got := trace.String()
	noRawControls(t, "the -v trace", got)
	for _, want := range []string{
		`< HTTP/1.1 200 OK\x1b[2J\ragcurl: all good` + "\n",
		`< X-Evil: a\u009b2J\u202eb\x9bc` + "\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the -v trace lacks %q:\n%q", want, got)
		}
	}
}

func TestIncludeEscapesOnlyOnATerminal(t *testing.T) {
	mk := func() *http.Response {
		return &http.Response{StatusCode: 200, Status: "200 " + hostileReason, Proto: "HTTP/1.1",
			Header: http.Header{"X-Evil": {hostileValue}}, Body: io.NopCloser(strings.NewReader(hostileBody))}
	}
	var raw, tty bytes.Buffer
	stRaw, err := WriteResponse(Output{Stdout: &raw, Include: true, Style: StyleRaw}, mk())
	if err != nil {
		t.Fatal(err)
	}
	wantRaw := "HTTP/1.1 200 " + hostileReason + "\r\nX-Evil: " + hostileValue + "\r\n\r\n" + hostileBody
	if raw.String() != wantRaw {
		t.Errorf("-i to a pipe: got %q, want the bytes as received", raw.String())
	}
	stTTY, err := WriteResponse(Output{Stdout: &tty, StdoutTTY: true, Include: true, Style: StyleRaw}, mk())
	if err != nil {
		t.Fatal(err)
	}
	head, body, _ := strings.Cut(tty.String(), "\r\n\r\n")
	noRawControls(t, "-i headers on a terminal", strings.ReplaceAll(head, "\r\n", "\n"))
	if want := `HTTP/1.1 200 OK\x1b[2J\ragcurl: all good` + "\r\n" + `X-Evil: a\u009b2J\u202eb\x9bc`; head != want {
		t.Errorf("-i headers on a terminal: got %q, want %q", head, want)
	}
	if body != hostileBody {
		t.Errorf("-i body on a terminal: got %q, want the bytes as received", body)
	}
	if stRaw.SizeHeader != stTTY.SizeHeader || stRaw.SizeHeader != int64(len(wantRaw)-len(hostileBody)) {
		t.Errorf("size_header %d and %d, want the received size %d", stRaw.SizeHeader, stTTY.SizeHeader, len(wantRaw)-len(hostileBody))
	}
}

func TestErrorsEscapeServerText(t *testing.T) {
	// A proxy's reason phrase for a refused CONNECT becomes the error.
	proxy := rawServer(t, "HTTP/1.1 403 Forbidden\x1b[2J\ragcurl: all good\r\nContent-Length: 0\r\n\r\n")
	client := newClient(t)
	client.Transport.(*http.Transport).Proxy = http.ProxyURL(mustURL(t, proxy))
	req, _ := Build(Options{URL: "https://127.0.0.1:1/"}, OSOpener{})
	_, err := (&Sender{Client: client}).Do(context.Background(), req)
	var te *TransportError
	if !errors.As(err, &te) {
		t.Fatalf("want a TransportError, got %T %v", err, err)
	}
	noRawControls(t, "the proxy error", err.Error())
	if !strings.Contains(err.Error(), `Forbidden\x1b[2J\ragcurl: all good`) {
		t.Errorf("the proxy error %q lacks the escaped reason", err)
	}

	// A header value Go's client refuses: the error quotes the line.
	srv := rawServer(t, "HTTP/1.1 200 OK\r\nX-Evil: \x1b[2J\r\nContent-Length: 0\r\n\r\n")
	req, _ = Build(Options{URL: srv}, OSOpener{})
	_, err = (&Sender{Client: newClient(t)}).Do(context.Background(), req)
	if err == nil {
		t.Fatal("want an error for a control byte in a header value")
	}
	noRawControls(t, "the malformed header error", err.Error())

	// --fail: the status text is the server's.
	resp := &http.Response{StatusCode: 500, Status: "500 " + hostileReason, Proto: "HTTP/1.1",
		Header: http.Header{}, Body: io.NopCloser(strings.NewReader(""))}
	_, err = WriteResponse(Output{Stdout: io.Discard, Fail: true}, resp)
	var he *HTTPError
	if !errors.As(err, &he) {
		t.Fatalf("want *HTTPError, got %v", err)
	}
	noRawControls(t, "the --fail error", err.Error())
	if want := `the requested URL returned error: 500 OK\x1b[2J\ragcurl: all good`; err.Error() != want {
		t.Errorf("--fail error %q, want %q", err, want)
	}

	// --jq: error(.m) raises a string from the body.
	code, err := CompileJQ("error(.m)")
	if err != nil {
		t.Fatal(err)
	}
	resp = &http.Response{StatusCode: 200, Status: "200 OK", Proto: "HTTP/1.1", Header: http.Header{},
		Body: io.NopCloser(strings.NewReader(`{"m":"\u001b[2J\ragcurl: all good"}`))}
	_, err = WriteResponse(Output{Stdout: io.Discard, JQ: code}, resp)
	var je *JQError
	if !errors.As(err, &je) {
		t.Fatalf("want *JQError, got %v", err)
	}
	noRawControls(t, "the --jq error", err.Error())
}
