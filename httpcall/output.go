package httpcall

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
)

// HTTPError is returned by WriteResponse with --fail for a status >= 400;
// curl's exit code 22.
type HTTPError struct {
	Status int
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("the requested URL returned error: %d", e.Status)
}

// Output says where and how a response is written, as curl's -i, -o and -f.
type Output struct {
	Stdout     io.Writer
	Include    bool   // -i: status line and headers before the body
	OutputPath string // -o: write the body to this file; "-" or "" is Stdout
	Fail       bool   // -f: on status >= 400 write nothing and return *HTTPError
}

// WriteResponse writes resp as curl would and closes its body. The body is
// streamed, never held whole in memory.
func WriteResponse(out Output, resp *http.Response) (err error) {
	defer resp.Body.Close()
	if out.Fail && resp.StatusCode >= 400 {
		return &HTTPError{Status: resp.StatusCode}
	}
	if out.Include {
		if _, err := io.WriteString(out.Stdout, formatHead(resp)); err != nil {
			return err
		}
	}
	w := out.Stdout
	if out.OutputPath != "" && out.OutputPath != "-" {
		f, err := os.Create(out.OutputPath)
		if err != nil {
			return fmt.Errorf("cannot write output file: %w", err)
		}
		defer func() {
			if cerr := f.Close(); err == nil && cerr != nil {
				err = fmt.Errorf("cannot write output file: %w", cerr)
			}
		}()
		w = f
	}
	buf := make([]byte, 64<<10)
	if _, err := io.CopyBuffer(w, resp.Body, buf); err != nil {
		return ClassifyError(err)
	}
	return nil
}

func formatHead(resp *http.Response) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\r\n", resp.Proto, resp.Status)
	writeHeaders(&b, "", resp.Header)
	b.WriteString("\r\n")
	return b.String()
}

// sensitive headers whose values -v never shows.
var sensitive = map[string]bool{
	"Authorization": true, "Proxy-Authorization": true, "Cookie": true, "Set-Cookie": true,
}

// Redact returns the header value to show for name: the scheme alone for
// Authorization ("Bearer <redacted>"), "<redacted>" for cookies.
func Redact(name, value string) string {
	if !sensitive[http.CanonicalHeaderKey(name)] {
		return value
	}
	if scheme, _, ok := strings.Cut(value, " "); ok && !strings.Contains(scheme, "=") {
		return scheme + " <redacted>"
	}
	return "<redacted>"
}

func writeHeaders(b *strings.Builder, prefix string, h http.Header) {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			fmt.Fprintf(b, "%s%s: %s\r\n", prefix, k, v)
		}
	}
}

// VerboseTracer writes curl -v style traces to W, with sensitive header
// values redacted.
type VerboseTracer struct {
	W io.Writer
}

// Request implements Tracer.
func (t VerboseTracer) Request(req *http.Request) {
	var b strings.Builder
	fmt.Fprintf(&b, "* Connecting to %s\n", req.URL.Host)
	fmt.Fprintf(&b, "> %s %s HTTP/1.1\n", req.Method, req.URL.RequestURI())
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	fmt.Fprintf(&b, "> Host: %s\n", host)
	keys := make([]string, 0, len(req.Header))
	for k := range req.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range req.Header[k] {
			fmt.Fprintf(&b, "> %s: %s\n", k, Redact(k, v))
		}
	}
	if req.ContentLength > 0 {
		fmt.Fprintf(&b, "> Content-Length: %d\n", req.ContentLength)
	}
	b.WriteString(">\n")
	_, _ = io.WriteString(t.W, b.String())
}

// Response implements Tracer.
func (t VerboseTracer) Response(resp *http.Response) {
	var b strings.Builder
	fmt.Fprintf(&b, "< %s %s\n", resp.Proto, resp.Status)
	keys := make([]string, 0, len(resp.Header))
	for k := range resp.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range resp.Header[k] {
			fmt.Fprintf(&b, "< %s: %s\n", k, Redact(k, v))
		}
	}
	b.WriteString("<\n")
	_, _ = io.WriteString(t.W, b.String())
}
