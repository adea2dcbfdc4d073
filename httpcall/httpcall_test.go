package httpcall

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func readBody(t *testing.T, r *http.Request) string {
	t.Helper()
	if r.Body == nil {
		return ""
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestBuild(t *testing.T) {
	form := writeFile(t, "form.txt", "a=1\r\n&b=2\n")
	bin := writeFile(t, "bin", "x\ny\n")
	stdin := OSOpener{Stdin: strings.NewReader("from-stdin\n")}
	tests := []struct {
		name       string
		opts       Options
		method     string
		body       string
		length     int64
		ctype      string
		replayable bool
		check      func(t *testing.T, r *http.Request)
	}{
		{name: "plain GET", opts: Options{URL: "https://api.example.com/v1/me?x=1"}, method: "GET"},
		{name: "no scheme means https", opts: Options{URL: "api.example.com/v1"}, method: "GET",
			check: func(t *testing.T, r *http.Request) {
				if r.URL.String() != "https://api.example.com/v1" {
					t.Errorf("url %s", r.URL)
				}
			}},
		{name: "data means POST form", opts: Options{URL: "https://h/", Data: []Data{{DataASCII, "a=1"}, {DataASCII, "b=2"}}},
			method: "POST", body: "a=1&b=2", length: 7, ctype: "application/x-www-form-urlencoded", replayable: true},
		{name: "-d @file strips CR LF", opts: Options{URL: "https://h/", Data: []Data{{DataASCII, "@" + form}}},
			method: "POST", body: "a=1&b=2", length: 7, ctype: "application/x-www-form-urlencoded", replayable: true},
		{name: "--data-binary @file keeps bytes", opts: Options{URL: "https://h/", Data: []Data{{DataBinary, "@" + bin}}},
			method: "POST", body: "x\ny\n", length: 4, ctype: "application/x-www-form-urlencoded", replayable: true},
		{name: "--data-raw keeps @", opts: Options{URL: "https://h/", Data: []Data{{DataRaw, "@not-a-file"}}},
			method: "POST", body: "@not-a-file", length: 11, ctype: "application/x-www-form-urlencoded", replayable: true},
		{name: "@- reads stdin, not replayable", opts: Options{URL: "https://h/", Data: []Data{{DataBinary, "@-"}}},
			method: "POST", body: "from-stdin\n", length: -1, ctype: "application/x-www-form-urlencoded"},
		{name: "-X with data", opts: Options{URL: "https://h/", Method: "PATCH", Data: []Data{{DataRaw, "{}"}},
			Headers: []string{"Content-Type: application/json"}},
			method: "PATCH", body: "{}", length: 2, ctype: "application/json", replayable: true},
		{name: "headers: repeat, remove default, empty", opts: Options{URL: "https://h/", UserAgent: "agcurl/test",
			Headers: []string{"X-A: 1", "x-a: 2", "Accept:", "X-Empty;", "Host: other.example"}},
			method: "GET", check: func(t *testing.T, r *http.Request) {
				if got := r.Header.Values("X-A"); len(got) != 2 || got[0] != "1" || got[1] != "2" {
					t.Errorf("X-A = %v", got)
				}
				if _, ok := r.Header["Accept"]; ok {
					t.Error("Accept: should remove the default")
				}
				if v, ok := r.Header["X-Empty"]; !ok || v[0] != "" {
					t.Error("X-Empty; should send an empty header")
				}
				if r.Host != "other.example" || r.Header.Get("User-Agent") != "agcurl/test" {
					t.Errorf("host %q ua %q", r.Host, r.Header.Get("User-Agent"))
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Build(tt.opts, stdin)
			if err != nil {
				t.Fatal(err)
			}
			if r.Method != tt.method {
				t.Errorf("method %s, want %s", r.Method, tt.method)
			}
			if tt.body != "" || tt.length != 0 {
				if r.ContentLength != tt.length {
					t.Errorf("content length %d, want %d", r.ContentLength, tt.length)
				}
			}
			if got := r.Header.Get("Content-Type"); got != tt.ctype {
				t.Errorf("content type %q, want %q", got, tt.ctype)
			}
			if (r.GetBody != nil) != tt.replayable {
				t.Errorf("replayable = %v", r.GetBody != nil)
			}
			if got := readBody(t, r); got != tt.body {
				t.Errorf("body %q, want %q", got, tt.body)
			}
			if r.GetBody != nil {
				b, _ := r.GetBody()
				again, _ := io.ReadAll(b)
				if string(again) != tt.body {
					t.Errorf("replayed body %q", again)
				}
			}
			if tt.check != nil {
				tt.check(t, r)
			}
		})
	}
}

func TestBuildErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing")
	for _, tt := range []struct {
		opts    Options
		usage   bool
		message string
	}{
		{Options{URL: ""}, true, "no URL"},
		{Options{URL: "ftp://h/x"}, true, "unsupported protocol"},
		{Options{URL: "https://"}, true, "no host"},
		{Options{URL: "http://[::1"}, true, "malformed URL"},
		{Options{URL: "https://h/", Headers: []string{"NoColon"}}, true, "invalid header"},
		{Options{URL: "https://h/", Headers: []string{"Bad Name: x"}}, true, "invalid header name"},
		{Options{URL: "https://h/", Method: "GE T"}, true, "invalid method"},
		{Options{URL: "https://h/", Data: []Data{{DataASCII, "@"}}}, true, "names no file"},
		{Options{URL: "https://h/", Data: []Data{{DataBinary, "@" + missing}}}, false, "missing"},
	} {
		_, err := Build(tt.opts, OSOpener{})
		var ue *OptionError
		var re *ReadError
		if err == nil || !strings.Contains(err.Error(), tt.message) {
			t.Errorf("%+v: error %v, want %q", tt.opts, err, tt.message)
			continue
		}
		if tt.usage != errors.As(err, &ue) || (!tt.usage && !errors.As(err, &re)) {
			t.Errorf("%+v: wrong error type %T", tt.opts, err)
		}
	}
}

func TestCheckTokenTarget(t *testing.T) {
	for raw, ok := range map[string]bool{
		"https://api.example.com/x": true,
		"http://127.0.0.1:8080/":    true,
		"http://[::1]/":             true,
		"http://localhost/":         true,
		"http://api.example.com/":   false,
		"http://10.0.0.1/":          false,
		"http://localhost.evil.com": false,
	} {
		u, _ := url.Parse(raw)
		if err := CheckTokenTarget(u); (err == nil) != ok {
			t.Errorf("%s: err %v, want ok=%v", raw, err, ok)
		}
	}
}

func TestRedact(t *testing.T) {
	for _, tt := range [][3]string{
		{"Authorization", "Bearer abc.def", "Bearer <redacted>"},
		{"authorization", "abc", "<redacted>"},
		{"Cookie", "a=b; c=d", "<redacted>"},
		{"Set-Cookie", "session=x; Path=/", "<redacted>"},
		{"Proxy-Authorization", "Basic xyz", "Basic <redacted>"},
		{"X-Other", "Bearer visible", "Bearer visible"},
	} {
		if got := Redact(tt[0], tt[1]); got != tt[2] {
			t.Errorf("Redact(%q, %q) = %q, want %q", tt[0], tt[1], got, tt[2])
		}
	}
}

type fakeTokens struct {
	token     string
	refreshes atomic.Int32
}

func (f *fakeTokens) AccessToken(context.Context) (string, error) { return f.token, nil }
func (f *fakeTokens) Refresh(_ context.Context, rejected string) (string, error) {
	f.refreshes.Add(1)
	f.token = "new-token"
	return f.token, nil
}

func TestDoRetriesOnceAfter401WithReplayedBody(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		b, _ := io.ReadAll(r.Body)
		if r.Header.Get("Authorization") != "Bearer new-token" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Write(b)
	}))
	defer srv.Close()
	req, err := Build(Options{URL: srv.URL, Data: []Data{{DataRaw, "payload"}}}, OSOpener{})
	if err != nil {
		t.Fatal(err)
	}
	ts := &fakeTokens{token: "old-token"}
	var trace bytes.Buffer
	res, err := (&Sender{Client: newClient(t), Tokens: ts, Tracer: VerboseTracer{W: &trace}}).Do(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	resp := res.Response
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "payload" || calls.Load() != 2 || ts.refreshes.Load() != 1 {
		t.Fatalf("body %q calls %d refreshes %d", body, calls.Load(), ts.refreshes.Load())
	}
	if strings.Contains(trace.String(), "old-token") || strings.Contains(trace.String(), "new-token") {
		t.Fatal("trace leaks the token")
	}

	// A 401 with the new token too is returned as is: one retry only.
	ts.token = "old-token"
	srv2 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer srv2.Close()
	calls.Store(0)
	req, _ = Build(Options{URL: srv2.URL}, OSOpener{})
	res, err = (&Sender{Client: newClient(t), Tokens: ts}).Do(context.Background(), req)
	if err != nil || res.Response.StatusCode != 401 || calls.Load() != 2 {
		t.Fatalf("want one retry then 401: %v %d", err, calls.Load())
	}
	res.Response.Body.Close()
}

func TestDoDoesNotFollowRedirects(t *testing.T) {
	var leaked atomic.Bool
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			leaked.Store(true)
		}
	}))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL, http.StatusFound)
	}))
	defer srv.Close()
	req, _ := Build(Options{URL: srv.URL}, OSOpener{})
	res, err := (&Sender{Client: newClient(t), Tokens: &fakeTokens{token: "t"}}).Do(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	resp := res.Response
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || leaked.Load() {
		t.Fatalf("status %d leaked %v", resp.StatusCode, leaked.Load())
	}
}

func TestDoRefusesPlainHTTPBeforeAskingForAToken(t *testing.T) {
	req, _ := Build(Options{URL: "http://api.example.com/"}, OSOpener{})
	ts := &fakeTokens{token: "t"}
	_, err := (&Sender{Client: newClient(t), Tokens: ts}).Do(context.Background(), req)
	var te *TokenTargetError
	if !errors.As(err, &te) || te.Kind != PlainHTTP {
		t.Fatalf("want a PlainHTTP TokenTargetError, got %v", err)
	}
}

func TestWriteResponse(t *testing.T) {
	mk := func(status int, body string) *http.Response {
		return &http.Response{StatusCode: status, Status: http.StatusText(status), Proto: "HTTP/1.1",
			Header: http.Header{"Content-Type": {"text/plain"}}, Body: io.NopCloser(strings.NewReader(body))}
	}
	var out bytes.Buffer
	if _, err := WriteResponse(Output{Stdout: &out, Include: true}, mk(200, "hi")); err != nil {
		t.Fatal(err)
	}
	if out.String() != "HTTP/1.1 OK\r\nContent-Type: text/plain\r\n\r\nhi" {
		t.Fatalf("got %q", out.String())
	}
	out.Reset()
	_, err := WriteResponse(Output{Stdout: &out, Fail: true}, mk(404, "nope"))
	var he *HTTPError
	if !errors.As(err, &he) || he.Status != 404 || out.Len() != 0 {
		t.Fatalf("want HTTPError 404 and no output, got %v %q", err, out.String())
	}
	path := filepath.Join(t.TempDir(), "o.txt")
	if _, err := WriteResponse(Output{Stdout: &out, OutputPath: path}, mk(200, "file body")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "file body" || out.Len() != 0 {
		t.Fatalf("file %q stdout %q", b, out.String())
	}
}

// FuzzBuild: no argument makes Build panic, and whatever it accepts is a
// request Go can send.
func FuzzBuild(f *testing.F) {
	f.Add("https://api.example.com/v1?q=1", "GET", "X-A: 1", "a=1", "")
	f.Add("api.example.com", "", "Accept:", "@-", "x")
	f.Add("https://h/", "PUT", "Content-Type: a/b", "@f", "@f")
	f.Add("http://[::1]:80/", "POST", "X;", "@", "")
	f.Add("https://h/%zz", "P\x00T", "A:\r\nB: c", "", "")
	f.Fuzz(func(t *testing.T, rawURL, method, header, data, raw string) {
		opts := Options{URL: rawURL, Method: method, Headers: []string{header}, BaseURL: "https://api.example.com/b"}
		switch len(raw) % 4 {
		case 1:
			opts.Get = true
		case 2:
			opts.Form = []string{raw}
			raw = ""
		case 3:
			opts.Data = append(opts.Data, Data{DataURLEncode, raw})
			raw = ""
		}
		if data != "" {
			opts.Data = append(opts.Data, Data{DataASCII, data})
		}
		if raw != "" {
			opts.Data = append(opts.Data, Data{DataRaw, raw})
		}
		req, err := Build(opts, memOpener{"f": "a\nb", "-": "in"})
		if err != nil {
			return
		}
		if req.URL.Host == "" || (req.URL.Scheme != "http" && req.URL.Scheme != "https") {
			t.Fatalf("accepted a bad URL: %q", rawURL)
		}
		for k, vs := range req.Header {
			for _, v := range vs {
				if strings.ContainsAny(k+v, "\r\n") {
					t.Fatalf("header injection: %q: %q", k, v)
				}
			}
		}
		if req.Body != nil {
			req.Body.Close()
		}
	})
}

// memOpener serves files from memory.
type memOpener map[string]string

func (m memOpener) Open(name string) (io.ReadCloser, error) {
	v, ok := m[name]
	if !ok {
		return nil, os.ErrNotExist
	}
	return io.NopCloser(strings.NewReader(v)), nil
}

func (m memOpener) Size(name string) int64 {
	if v, ok := m[name]; ok && name != "-" {
		return int64(len(v))
	}
	return -1
}

func newClient(t *testing.T) *http.Client {
	t.Helper()
	c, err := NewClient(ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestBuildCurlDataForms(t *testing.T) {
	files := memOpener{"note": "hi there\n", "-": "stdin data"}
	tests := []struct {
		name   string
		opts   Options
		method string
		url    string
		body   string
		ctype  string
	}{
		{"--data-urlencode forms", Options{URL: "https://h/", Data: []Data{
			{DataURLEncode, "a b"}, {DataURLEncode, "=c&d"}, {DataURLEncode, "n=é"}, {DataURLEncode, "f@note"}, {DataURLEncode, "@note"}}},
			"POST", "https://h/", "a+b&c%26d&n=%C3%A9&f=hi+there%0A&hi+there%0A", "application/x-www-form-urlencoded"},
		{"-G appends to an existing query", Options{URL: "https://h/p?x=1", Get: true, Data: []Data{{DataASCII, "a=1"}, {DataURLEncode, "q=a b"}}},
			"GET", "https://h/p?x=1&a=1&q=a+b", "", ""},
		{"-G with -X keeps the method", Options{URL: "https://h/", Get: true, Method: "DELETE", Data: []Data{{DataRaw, "id=3"}}},
			"DELETE", "https://h/?id=3", "", ""},
		{"--json concatenates", Options{URL: "https://h/", Data: []Data{{DataJSON, `{"a":`}, {DataJSON, "@-"}}},
			"POST", "https://h/", `{"a":stdin data`, "application/json"},
		{"-T PUTs and names the file", Options{URL: "https://h/up/", UploadFile: "note"},
			"PUT", "https://h/up/note", "hi there\n", ""},
		{"-T - from stdin keeps the URL", Options{URL: "https://h/up/", UploadFile: "-"},
			"PUT", "https://h/up/", "stdin data", ""},
		{"-I is HEAD", Options{URL: "https://h/", Head: true}, "HEAD", "https://h/", "", ""},
		{"relative URL on the API base", Options{URL: "/v1/me?x=1", BaseURL: "https://api.example.com/base/"},
			"GET", "https://api.example.com/base/v1/me?x=1", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Build(tt.opts, files)
			if err != nil {
				t.Fatal(err)
			}
			if r.Method != tt.method || r.URL.String() != tt.url {
				t.Errorf("%s %s, want %s %s", r.Method, r.URL, tt.method, tt.url)
			}
			if got := readBody(t, r); got != tt.body {
				t.Errorf("body %q, want %q", got, tt.body)
			}
			if got := r.Header.Get("Content-Type"); got != tt.ctype {
				t.Errorf("content type %q, want %q", got, tt.ctype)
			}
		})
	}
}

func TestMultipartLengthIsExactAndBodyReplays(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "cat.jpg")
	os.WriteFile(f, bytes.Repeat([]byte{0xff}, 5000), 0o600)
	r, err := Build(Options{URL: "https://h/", Form: []string{"caption=a cat", "photo=@" + f, "note=<" + f + ";type=text/plain"}}, OSOpener{})
	if err != nil {
		t.Fatal(err)
	}
	body := readBody(t, r)
	if int64(len(body)) != r.ContentLength {
		t.Fatalf("Content-Length %d, body %d bytes", r.ContentLength, len(body))
	}
	if !strings.Contains(body, `filename="cat.jpg"`) || !strings.Contains(body, "Content-Type: image/jpeg") || !strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data; boundary=") {
		t.Fatalf("multipart framing wrong: %q", body[:200])
	}
	b, _ := r.GetBody()
	again, _ := io.ReadAll(b)
	if string(again) != body {
		t.Fatal("replayed multipart body differs")
	}
}

func TestRetryAfter(t *testing.T) {
	if retryAfter("3") != 3*time.Second || retryAfter("") != 0 || retryAfter("junk") != 0 || retryAfter("99999") != 10*time.Minute {
		t.Fatal("Retry-After seconds")
	}
	if d := retryAfter(time.Now().Add(5 * time.Second).UTC().Format(http.TimeFormat)); d < 3*time.Second || d > 5*time.Second {
		t.Fatalf("Retry-After date: %v", d)
	}
}

func TestWriteOut(t *testing.T) {
	resp := &http.Response{StatusCode: 201, ProtoMajor: 1, ProtoMinor: 1, Header: http.Header{"Content-Type": {"application/json"}, "X-Id": {"7"}},
		Request: &http.Request{URL: &url.URL{Scheme: "https", Host: "h", Path: "/a"}}}
	var out, errOut bytes.Buffer
	var warnings []string
	start := time.Now()
	WriteOut(WriteOutStreams{Stdout: &out, Stderr: &errOut, Warn: func(m string) { warnings = append(warnings, m) }},
		`%{http_code} %header{X-ID} %%{x} %{HTTP_VERSION}\t%{bogus}%{stderr}%{size_download} %{time_total}\n`,
		WriteOutVars{Response: resp, SizeDownload: 42, Start: start, End: start.Add(1500 * time.Millisecond)})
	if out.String() != "201 7 %{x} 1.1\t" || errOut.String() != "42 1.500000\n" {
		t.Fatalf("stdout %q stderr %q", out.String(), errOut.String())
	}
	if len(warnings) != 1 || warnings[0] != "unknown --write-out variable: 'bogus'" {
		t.Fatalf("warnings %q", warnings)
	}
}

// A retry after a refresh sends the new token: the token set on one
// attempt must not stay in the request as if the user had given it.
func TestRetryAfterRefreshSendsTheNewToken(t *testing.T) {
	var auths []string
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auths = append(auths, r.Header.Get("Authorization"))
		switch {
		case r.Header.Get("Authorization") != "Bearer new-token":
			w.WriteHeader(http.StatusUnauthorized)
		case n.Add(1) == 1:
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(srv.Close)
	s := &Sender{Client: newClient(t), Tokens: &fakeTokens{token: "old"}, Retries: 1,
		Sleep: func(context.Context, time.Duration) error { return nil }}
	req, _ := Build(Options{URL: srv.URL}, OSOpener{})
	res, err := s.Do(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	res.Response.Body.Close()
	if res.Response.StatusCode != 200 || strings.Join(auths, ",") != "Bearer old,Bearer new-token,Bearer new-token" {
		t.Errorf("status %d; sent %q", res.Response.StatusCode, auths)
	}
}
