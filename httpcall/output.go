package httpcall

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/agcurl/agcurl/internal/termsafe"
	"github.com/itchyny/gojq"
)

// HTTPError is returned by WriteResponse with --fail for a status >= 400;
// curl's exit code 22.
type HTTPError struct {
	Status     int
	StatusText string // "404 Not Found", as the server sent it
}

// Error returns a message with StatusText escaped by termsafe.String, since
// the server chose its reason phrase.
func (e *HTTPError) Error() string {
	return fmt.Sprintf("the requested URL returned error: %s", termsafe.String(e.StatusText))
}

// WriteError is a failure to write the output; curl's exit code 23.
type WriteError struct{ Err error }

func (e *WriteError) Error() string { return e.Err.Error() }
func (e *WriteError) Unwrap() error { return e.Err }

// ErrBinaryOutput is wrapped by the WriteError returned instead of writing
// a binary body to a terminal.
var ErrBinaryOutput = errors.New(`binary output can mess up your terminal; use "--output -" to write it to the terminal anyway, or "--output FILE" to save it to a file`)

// Style is how a body is shown.
type Style int

const (
	// StyleAuto pretty-prints JSON on a terminal and passes bytes through otherwise.
	StyleAuto Style = iota
	// StylePretty always pretty-prints a JSON body.
	StylePretty
	// StyleRaw always passes the bytes through.
	StyleRaw
)

// Output says where and how a response is written, as curl's -i, -D, -o
// and -f, plus agcurl's --jq and pretty-printing.
type Output struct {
	Stdout io.Writer
	// StdoutTTY reports that Stdout is a terminal. Headers written there
	// with -i have the server's control characters escaped (see
	// termsafe.String); elsewhere they are written as received, as curl
	// does.
	StdoutTTY bool
	// Colors, when not nil, colours pretty-printed JSON (and --jq output).
	Colors  *JSONColors
	Include bool // -i: response heads before the body
	// DumpHeader, when not nil, gets every response head (-D), from
	// OpenDumpHeader; DumpHeaderTTY says it is a terminal, where the
	// server's control characters are escaped.
	DumpHeader    io.Writer
	DumpHeaderTTY bool
	// Transfer holds the heads as they came on the wire (see Recorder):
	// every response followed, 1xx heads and a proxy's answer to CONNECT
	// included. When nil, the final response's head is rebuilt from its
	// parsed form.
	Transfer     *Transfer
	OutputPath   string // -o: write here instead of Stdout; "-" is Stdout, even for binary bodies
	Fail         bool   // -f: on status >= 400 write no body and return *HTTPError
	FailWithBody bool   // --fail-with-body: write the body, then return *HTTPError
	Style        Style
	JQ           *gojq.Code // --jq
	Compressed   bool       // decode gzip and deflate bodies
	// Progress, when not nil, gets a progress bar for a transfer to a file
	// that lasts more than a second.
	Progress io.Writer
}

// Stats are figures for --write-out.
type Stats struct {
	SizeDownload int64 // the body's bytes as received (before decoding)
	SizeHeader   int64 // the bytes of every head written
}

// maxBuffered caps what pretty-printing or --jq hold in memory.
const maxBuffered = 64 << 20

// OpenDumpHeader opens -D's destination: "-" is stdout, anything else a
// file created (or emptied) now, as curl does before it sends anything.
func OpenDumpHeader(path string, stdout io.Writer) (io.WriteCloser, error) {
	if path == "-" {
		return nopWriteCloser{stdout}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, &WriteError{fmt.Errorf("cannot write --dump-header file: %w", err)}
	}
	return f, nil
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

// WriteResponse writes what a transfer received as curl would: every head
// to -D, the heads with -i, then the body of resp, and closes the body.
// resp is nil when the transfer failed: the heads of the redirects it had
// followed are still written. The body is streamed; only --jq and
// pretty-printing (at most 64 MiB, past which the bytes pass through as
// they are) hold it in memory. As with curl, --fail writes the heads but
// not the body.
func WriteResponse(o Output, resp *http.Response) (st Stats, err error) {
	if resp != nil {
		defer resp.Body.Close()
	}
	heads := o.Transfer.heads()
	if len(heads) == 0 && resp != nil {
		heads = []*Head{rebuildHead(resp)}
	}
	for _, h := range heads {
		st.SizeHeader += int64(len(h.Bytes))
	}
	failed := resp != nil && (o.Fail || o.FailWithBody) && resp.StatusCode >= 400
	writeBody := resp != nil && (!failed || o.FailWithBody)
	toStdout := o.OutputPath == "" || o.OutputPath == "-"
	var w io.Writer = o.Stdout
	if !toStdout && (writeBody || o.Include && len(heads) > 0) {
		f, err := os.Create(o.OutputPath)
		if err != nil {
			return st, &WriteError{fmt.Errorf("cannot write output file: %w", err)}
		}
		defer func() {
			if cerr := f.Close(); err == nil && cerr != nil {
				err = &WriteError{fmt.Errorf("cannot write output file: %w", cerr)}
			}
		}()
		w = f
	}
	if err := o.writeHeads(heads, w, toStdout && o.StdoutTTY); err != nil {
		return st, err
	}
	if resp == nil {
		return st, nil
	}
	httpErr := &HTTPError{Status: resp.StatusCode, StatusText: resp.Status}
	if !writeBody {
		return st, httpErr
	}
	body := &countingReader{r: resp.Body}
	var r io.Reader = body
	if o.Compressed {
		if r, err = decode(resp.Header, body); err != nil {
			return st, err
		}
	}
	cw := &countingWriter{w: w}
	switch {
	case o.JQ != nil:
		// Colours go to stdout only: on a terminal, or piped when
		// asked for (--color always makes Colors non-nil).
		colors := o.Colors
		if !toStdout {
			colors = nil
		}
		err = writeJQ(cw, r, o.JQ, colors)
	case toStdout && (o.Style == StylePretty || o.Style == StyleAuto && (o.StdoutTTY || o.Colors != nil)) && isJSON(resp.Header.Get("Content-Type")):
		err = writePretty(cw, r, o.Colors)
	case toStdout && o.StdoutTTY && o.OutputPath != "-" && o.Style != StyleRaw:
		err = writeUnlessBinary(cw, r)
	default:
		err = copyBody(cw, r, o.Progress, resp.ContentLength)
	}
	st.SizeDownload = body.n.Load()
	if err != nil {
		return st, err
	}
	if failed {
		return st, httpErr
	}
	return st, nil
}

// writeHeads writes each head, line by line, to -D and (with -i) to w, as
// curl's header callback does: with -D - and -i both on stdout, each line
// comes twice. On a terminal each line is escaped, its line ending kept.
func (o Output) writeHeads(heads []*Head, w io.Writer, wTTY bool) error {
	if o.DumpHeader == nil && !o.Include {
		return nil
	}
	for _, h := range heads {
		for _, line := range h.Lines() {
			if o.DumpHeader != nil {
				if _, err := io.WriteString(o.DumpHeader, safeLine(line, o.DumpHeaderTTY)); err != nil {
					return &WriteError{fmt.Errorf("cannot write the headers: %w", err)}
				}
			}
			if o.Include {
				if _, err := io.WriteString(w, safeLine(line, wTTY)); err != nil {
					return &WriteError{err}
				}
			}
		}
	}
	return nil
}

// safeLine escapes a head's line for a terminal, keeping its line ending.
func safeLine(line string, tty bool) string {
	if !tty {
		return line
	}
	text := strings.TrimRight(line, "\r\n")
	return termsafe.String(text) + line[len(text):]
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	if err != nil {
		err = &WriteError{err}
	}
	return n, err
}

func decode(h http.Header, body io.Reader) (io.Reader, error) {
	switch strings.ToLower(strings.TrimSpace(h.Get("Content-Encoding"))) {
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			return nil, &TransportError{CurlDecoding, fmt.Errorf("bad gzip body: %v", err)}
		}
		return zr, nil
	case "deflate":
		return flate.NewReader(body), nil
	}
	return body, nil
}

func isJSON(ctype string) bool {
	mt, _, err := mime.ParseMediaType(ctype)
	if err != nil {
		return false
	}
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// copyBody streams r to w, with a progress bar on progress for transfers
// that last more than a second.
func copyBody(w io.Writer, r io.Reader, progress io.Writer, total int64) error {
	buf := make([]byte, 128<<10)
	if progress == nil {
		_, err := io.CopyBuffer(w, r, buf)
		return readOrWriteError(err)
	}
	start := time.Now()
	var last time.Time
	var n int64
	shown := false
	for {
		k, rerr := r.Read(buf)
		if k > 0 {
			if _, err := w.Write(buf[:k]); err != nil {
				return readOrWriteError(err)
			}
			n += int64(k)
			if now := time.Now(); now.Sub(start) > time.Second && now.Sub(last) > 200*time.Millisecond {
				last = now
				shown = true
				fmt.Fprint(progress, "\r"+progressLine(n, total, now.Sub(start)))
			}
		}
		if rerr == io.EOF {
			if shown {
				fmt.Fprint(progress, "\r"+progressLine(n, total, time.Since(start))+"\n")
			}
			return nil
		}
		if rerr != nil {
			if shown {
				fmt.Fprintln(progress)
			}
			return ClassifyError(rerr)
		}
	}
}

func readOrWriteError(err error) error {
	var we *WriteError
	if err == nil || errors.As(err, &we) {
		return err
	}
	return ClassifyError(err)
}

func progressLine(n, total int64, elapsed time.Duration) string {
	rate := float64(n) / elapsed.Seconds()
	if total > 0 {
		pct := float64(n) * 100 / float64(total)
		width := 30
		filled := int(pct / 100 * float64(width))
		return fmt.Sprintf("[%s%s] %5.1f%%  %s / %s  %s/s   ", strings.Repeat("#", filled), strings.Repeat(" ", width-filled),
			pct, humanBytes(float64(n)), humanBytes(float64(total)), humanBytes(rate))
	}
	return fmt.Sprintf("%s  %s/s   ", humanBytes(float64(n)), humanBytes(rate))
}

func humanBytes(b float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	i := 0
	for b >= 1024 && i < len(units)-1 {
		b /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0f %s", b, units[i])
	}
	return fmt.Sprintf("%.1f %s", b, units[i])
}

// writeUnlessBinary refuses to dump a body with NUL bytes in its first 8
// KiB to a terminal, as curl does.
func writeUnlessBinary(w io.Writer, r io.Reader) error {
	br := bufio.NewReaderSize(r, 8<<10)
	peek, err := br.Peek(8 << 10)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return ClassifyError(err)
	}
	if bytes.IndexByte(peek, 0) >= 0 {
		return &WriteError{ErrBinaryOutput}
	}
	return copyBody(w, br, nil, -1)
}

// readCapped reads up to maxBuffered bytes; more reports false.
func readCapped(r io.Reader) ([]byte, bool, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxBuffered+1))
	if err != nil {
		return b, false, ClassifyError(err)
	}
	return b, len(b) <= maxBuffered, nil
}

func writePretty(w io.Writer, r io.Reader, colors *JSONColors) error {
	b, ok, err := readCapped(r)
	if err != nil {
		return err
	}
	if !ok {
		// Too big to pretty-print: pass it through.
		if _, err := w.Write(b); err != nil {
			return err
		}
		return copyBody(w, r, nil, -1)
	}
	var out bytes.Buffer
	if json.Indent(&out, b, "", "  ") != nil {
		_, err := w.Write(b) // not JSON after all
		return err
	}
	if !bytes.HasSuffix(out.Bytes(), []byte("\n")) {
		out.WriteByte('\n')
	}
	pretty := out.Bytes()
	if colors != nil {
		pretty = colors.paint(pretty)
	}
	_, err = w.Write(pretty)
	return err
}

// JQError is an --jq failure: a bad program (exit 2, found before anything
// is sent) or a response it cannot run on.
type JQError struct{ Err error }

// Error returns Err's message escaped by termsafe.String, since a program
// such as error(.message) puts text from the response in it.
func (e *JQError) Error() string { return "--jq: " + termsafe.String(e.Err.Error()) }
func (e *JQError) Unwrap() error { return e.Err }

// CompileJQ compiles a --jq program.
func CompileJQ(expr string) (*gojq.Code, error) {
	q, err := gojq.Parse(expr)
	if err != nil {
		return nil, usagef("invalid --jq expression: %v", err)
	}
	code, err := gojq.Compile(q)
	if err != nil {
		return nil, usagef("invalid --jq expression: %v", err)
	}
	return code, nil
}

// writeJQ runs code on the JSON body and writes each result: strings as
// they are (like jq -r), other values as indented JSON.
func writeJQ(w io.Writer, r io.Reader, code *gojq.Code, colors *JSONColors) error {
	b, ok, err := readCapped(r)
	if err != nil {
		return err
	}
	if !ok {
		return &JQError{fmt.Errorf("the response is larger than %d MiB", maxBuffered>>20)}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return &JQError{errors.New("the response is not JSON")}
	}
	iter := code.Run(v)
	for {
		x, ok := iter.Next()
		if !ok {
			return nil
		}
		if err, isErr := x.(error); isErr {
			var halt *gojq.HaltError
			if errors.As(err, &halt) && halt.Value() == nil {
				return nil
			}
			return &JQError{err}
		}
		var out []byte
		if s, isStr := x.(string); isStr {
			out = []byte(s)
		} else {
			out, err = json.MarshalIndent(x, "", "  ")
			if err != nil {
				return &JQError{err}
			}
			if colors != nil {
				out = colors.paint(out)
			}
		}
		if _, err := w.Write(append(out, '\n')); err != nil {
			return err
		}
	}
}

// JSONColors style the parts of JSON; the caller supplies them (agcurl
// uses fatih/color), so that this package stays free of terminal concerns.
type JSONColors struct {
	Key, String, Number, Literal, Punct func(string) string
}

// paint colours indented JSON token by token.
func (c *JSONColors) paint(b []byte) []byte {
	var out bytes.Buffer
	for i := 0; i < len(b); {
		ch := b[i]
		switch {
		case ch == '"':
			j := i + 1
			for j < len(b) && b[j] != '"' {
				if b[j] == '\\' {
					j++
				}
				j++
			}
			j = min(j+1, len(b))
			k := j
			for k < len(b) && (b[k] == ' ' || b[k] == '\n') {
				k++
			}
			style := c.String
			if k < len(b) && b[k] == ':' {
				style = c.Key
			}
			out.WriteString(style(string(b[i:j])))
			i = j
		case ch == '-' || (ch >= '0' && ch <= '9'):
			j := i
			for j < len(b) && strings.IndexByte("+-0123456789.eE", b[j]) >= 0 {
				j++
			}
			out.WriteString(c.Number(string(b[i:j])))
			i = j
		case ch == 't' || ch == 'f' || ch == 'n':
			j := i
			for j < len(b) && b[j] >= 'a' && b[j] <= 'z' {
				j++
			}
			out.WriteString(c.Literal(string(b[i:j])))
			i = j
		case strings.IndexByte("{}[],:", ch) >= 0:
			out.WriteString(c.Punct(string(ch)))
			i++
		default:
			out.WriteByte(ch)
			i++
		}
	}
	return out.Bytes()
}

func sortedKeys(h http.Header) []string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
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

// VerboseTracer writes curl -v style traces to W, with sensitive header
// values redacted. Every string it writes is escaped with termsafe.String,
// so that a reason phrase, a header or a redirect's URL chosen by the
// server cannot drive the terminal or fake a line of the trace.
type VerboseTracer struct {
	W io.Writer
}

// Request implements Tracer.
func (t VerboseTracer) Request(req *http.Request) {
	var b strings.Builder
	esc := termsafe.String
	fmt.Fprintf(&b, "* Connecting to %s\n", esc(req.URL.Host))
	fmt.Fprintf(&b, "> %s %s HTTP/1.1\n", esc(req.Method), esc(req.URL.RequestURI()))
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	fmt.Fprintf(&b, "> Host: %s\n", esc(host))
	for _, k := range sortedKeys(req.Header) {
		for _, v := range req.Header[k] {
			fmt.Fprintf(&b, "> %s: %s\n", esc(k), esc(Redact(k, v)))
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
	esc := termsafe.String
	fmt.Fprintf(&b, "< %s %s\n", esc(resp.Proto), esc(resp.Status))
	for _, k := range sortedKeys(resp.Header) {
		for _, v := range resp.Header[k] {
			fmt.Fprintf(&b, "< %s: %s\n", esc(k), esc(Redact(k, v)))
		}
	}
	b.WriteString("<\n")
	_, _ = io.WriteString(t.W, b.String())
}
