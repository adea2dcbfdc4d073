package httpcall

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

func wireResp(status int, header http.Header, body string) *http.Response {
	return &http.Response{StatusCode: status, Status: http.StatusText(status), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: header, Body: io.NopCloser(strings.NewReader(body)),
		Request: &http.Request{Method: "GET", URL: &url.URL{Scheme: "http", Host: "h", Path: "/a"}}}
}

// writeOut runs WriteOut and returns stdout, stderr and the warnings.
func writeOut(format string, v WriteOutVars) (string, string, []string) {
	var out, errOut bytes.Buffer
	var warns []string
	WriteOut(WriteOutStreams{Stdout: &out, Stderr: &errOut, Warn: func(m string) { warns = append(warns, m) }}, format, v)
	return out.String(), errOut.String(), warns
}

// The format's syntax, as curl 7.88 reads it.
func TestWriteOutSyntax(t *testing.T) {
	v := WriteOutVars{Response: wireResp(200, http.Header{"X-A": {"1"}}, ""), ExitCode: 0}
	for _, c := range []struct{ format, want string }{
		{`%{http_code}`, "200"},
		{`%{HTTP_Code}`, "200"},                       // any case
		{`%%{http_code}`, "%{http_code}"},             // %% is %
		{`a%`, "a%"},                                  // a lone % at the end
		{`%q`, "%q"},                                  // an unknown % sequence as it is
		{`%{http_code`, "%{http_code"},                // no }: as it is
		{`%header{x-a`, "%header{x-a"},                // likewise
		{`[%header{X-A}][%header{nope}]`, "[1][]"},    // a header, or nothing
		{`\n\r\t`, "\n\r\t"},                          // curl's three escapes
		{`\\\q\`, `\\\q\`},                            // others, and \\, as they are
		{`a%{onerror}b`, "a"},                         // the rest only on error
		{`%{redirect_url}|%{errormsg}|`, "||"},        // not known: nothing
		{`%{time_total}`, "0.000000"},                 // seconds, 6 decimals
		{`%{http_connect}%{response_code}`, "000200"}, // three digits
	} {
		got, _, _ := writeOut(c.format, v)
		if got != c.want {
			t.Errorf("%q: got %q, want %q", c.format, got, c.want)
		}
	}
	got, errOut, warns := writeOut(`a%{stderr}b%{bogus}%{CERTS}%{stdout}c`, v)
	if got != "ac" || errOut != "b" {
		t.Errorf("%%{stderr}/%%{stdout}: stdout %q stderr %q", got, errOut)
	}
	if len(warns) != 2 || warns[0] != "unknown --write-out variable: 'bogus'" || !strings.Contains(warns[1], "'certs' is not supported") {
		t.Errorf("warnings %q", warns)
	}
	got, _, _ = writeOut(`a%{onerror}b %{exitcode} %{errormsg}`, WriteOutVars{ExitCode: 7, ErrorMsg: "refused"})
	if got != "ab 7 refused" {
		t.Errorf("on error: %q", got)
	}
}

func TestWriteOutValues(t *testing.T) {
	resp := wireResp(302, http.Header{"Location": {"/b?x=1"}, "Content-Type": {"text/plain"}}, "")
	resp.ProtoMinor = 0
	start := time.Now()
	v := WriteOutVars{Response: resp, URL: "h/a", URLEffective: "http://h/a", Method: "GET", Filename: "-",
		SizeDownload: 1000, SizeUpload: 10, Start: start, End: start.Add(2 * time.Second), URLNum: 3, Referer: "r"}
	got, _, _ := writeOut(`%{redirect_url} %{http_version} %{content_type} %{speed_download} %{speed_upload} `+
		`%{time_total} %{urlnum} %{referer} [%{filename_effective}] [%{scheme}] [%{remote_ip}] %{remote_port}`, v)
	if want := "http://h/b?x=1 1 text/plain 500 5 2.000000 3 r [] [] [] 0"; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

// %{json}: curl's keys in curl's order, with curl's types: null for what
// is not known, numbers, times with 6 decimals.
func TestWriteOutJSON(t *testing.T) {
	start := time.Now()
	got, _, _ := writeOut(`%{json}`, WriteOutVars{Response: wireResp(200, http.Header{"Content-Type": {"a/b"}}, ""),
		URL: "u", URLEffective: "u", Method: "GET", Start: start, End: start.Add(1500 * time.Microsecond)})
	var m map[string]any
	if err := json.Unmarshal([]byte(got), &m); err != nil {
		t.Fatalf("%v: %s", err, got)
	}
	if len(m) != len(writeOutNames) {
		t.Errorf("%d keys, want %d", len(m), len(writeOutNames))
	}
	for k, want := range map[string]any{"http_code": 200.0, "content_type": "a/b", "errormsg": nil, "http_version": "1.1",
		"redirect_url": nil, "filename_effective": nil, "scheme": nil, "exitcode": 0.0, "method": "GET", "local_ip": ""} {
		if m[k] != want {
			t.Errorf("%s: %#v, want %#v", k, m[k], want)
		}
	}
	if !strings.Contains(got, `"time_total":0.001500,`) || !regexp.MustCompile(`^\{"content_type":.*"urlnum":0\}$`).MatchString(got) {
		t.Errorf("json %s", got)
	}
	keys := regexp.MustCompile(`"([a-z_]+)":`).FindAllStringSubmatch(got, -1)
	for i := 1; i < len(keys); i++ {
		if keys[i-1][1] >= keys[i][1] {
			t.Errorf("keys out of order: %s before %s", keys[i-1][1], keys[i][1])
		}
	}
}

func TestHeaderJSON(t *testing.T) {
	h := parseHead([]byte("HTTP/1.1 200 OK\r\nX-B: 1\r\nSet-Cookie: a\r\nx-a: \"q\\\"\r\nset-cookie: b\r\n\r\n"))
	want := "{\"x-b\":[\"1\"],\n\"set-cookie\":[\"a\",\"b\"],\n\"x-a\":[\"\\\"q\\\\\\\"\"]\n}"
	if got := headerJSON(h, false); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if got := headerJSON(nil, false); got != "{\n}" {
		t.Errorf("no response: %q", got)
	}
	if got := jsonString("a\x01\x7f\u00e9", false); got != "\"a\\u0001\x7f\u00e9\"" {
		t.Errorf("jsonString: %q", got)
	}
}

// On a terminal, -w escapes what the server chose; in a pipe it does not.
func TestWriteOutEscapesServerTextOnATerminal(t *testing.T) {
	resp := wireResp(200, http.Header{"X-Evil": {hostileValue}, "Content-Type": {hostileValue}}, "")
	h := parseHead([]byte("HTTP/1.1 200 OK\r\nX-Evil: " + hostileValue + "\r\nContent-Type: " + hostileValue + "\r\n\r\n"))
	v := WriteOutVars{Response: resp, Transfer: &Transfer{Heads: []*Head{h}, chain: []*exchange{{resp: resp, heads: []*Head{h}}}}}
	format := `%header{x-evil}|%{content_type}|%{header_json}|%{json}`
	var tty, pipe bytes.Buffer
	WriteOut(WriteOutStreams{Stdout: &tty, StdoutTTY: true}, format, v)
	WriteOut(WriteOutStreams{Stdout: &pipe}, format, v)
	noRawControls(t, "-w on a terminal", tty.String())
	if !strings.HasPrefix(pipe.String(), hostileValue+"|"+hostileValue+"|") {
		t.Errorf("-w in a pipe: %q, want the bytes as received", pipe.String())
	}
}

func TestWriteResponseHeads(t *testing.T) {
	hop := parseHead([]byte(hopHead))
	final := parseHead([]byte(oddHead))
	tr := &Transfer{Heads: []*Head{hop, final}}
	mk := func(status int) *http.Response { return wireResp(status, http.Header{}, "hello\n") }

	// -D - and -i both on stdout: each line twice, as curl writes it.
	var out bytes.Buffer
	st, err := WriteResponse(Output{Stdout: &out, Include: true, DumpHeader: &out, Transfer: tr}, mk(200))
	if err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	for _, h := range tr.Heads {
		for _, l := range h.Lines() {
			want.WriteString(l + l)
		}
	}
	if out.String() != want.String()+"hello\n" {
		t.Errorf("-D - -i:\n%q\nwant\n%q", out.String(), want.String()+"hello\n")
	}
	if st.SizeHeader != int64(len(hopHead)+len(oddHead)) || st.SizeDownload != 6 {
		t.Errorf("stats %+v", st)
	}

	// --fail: the heads, no body, exit 22.
	out.Reset()
	var dump bytes.Buffer
	_, err = WriteResponse(Output{Stdout: &out, Include: true, DumpHeader: &dump, Fail: true, Transfer: tr}, mk(404))
	if _, ok := err.(*HTTPError); !ok || out.String() != hopHead+oddHead || dump.String() != hopHead+oddHead {
		t.Errorf("--fail: %v, stdout %q, -D %q", err, out.String(), dump.String())
	}

	// No response (the transfer failed after a redirect): the heads that came.
	out.Reset()
	dump.Reset()
	_, err = WriteResponse(Output{Stdout: &out, DumpHeader: &dump, Transfer: &Transfer{Heads: []*Head{hop}}}, nil)
	if err != nil || out.Len() != 0 || dump.String() != hopHead {
		t.Errorf("no response: %v, stdout %q, -D %q", err, out.String(), dump.String())
	}

	// -D - on a terminal: each line escaped, its ending kept.
	evil := parseHead([]byte("HTTP/1.1 200 " + hostileReason + "\r\nX-Evil: " + hostileValue + "\n\r\n"))
	dump.Reset()
	if _, err := WriteResponse(Output{Stdout: io.Discard, DumpHeader: &dump, DumpHeaderTTY: true, Transfer: &Transfer{Heads: []*Head{evil}}}, mk(200)); err != nil {
		t.Fatal(err)
	}
	if want := `HTTP/1.1 200 OK\x1b[2J\ragcurl: all good` + "\r\n" + `X-Evil: a\u009b2J\u202eb\x9bc` + "\n\r\n"; dump.String() != want {
		t.Errorf("-D on a terminal: %q, want %q", dump.String(), want)
	}
}
