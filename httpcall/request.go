// Package httpcall knows curl, not auth: it builds an HTTP request from
// curl-style options without sending anything, sends it with a bearer token
// set on that request alone, and writes the response the way curl does.
// The token comes from a TokenSource it is given; httpcall never stores it,
// prints it, or follows a redirect with it.
package httpcall

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"strings"
)

// DataKind says how a data argument is read, as in curl.
type DataKind int

const (
	// DataASCII is -d/--data: "@file" reads a file with CR and LF removed.
	DataASCII DataKind = iota
	// DataBinary is --data-binary: "@file" reads a file as is.
	DataBinary
	// DataRaw is --data-raw: no "@" handling.
	DataRaw
)

// Data is one data argument.
type Data struct {
	Kind  DataKind
	Value string
}

// Options are the request half of curl's options.
type Options struct {
	Method    string // -X; GET, or POST with data, when empty
	URL       string
	Headers   []string // -H "Name: value"; "Name:" removes a default; "Name;" sends it empty
	Data      []Data   // joined with '&', as curl does
	UserAgent string
}

// Opener opens "@file" arguments; "-" is standard input.
type Opener interface {
	Open(name string) (io.ReadCloser, error)
	// Size returns the size of a regular file, or -1 for anything else
	// (standard input, a pipe, a device, a missing file).
	Size(name string) int64
}

// OSOpener opens files from the file system and "-" as Stdin.
type OSOpener struct {
	Stdin io.Reader
}

// Open implements Opener.
func (o OSOpener) Open(name string) (io.ReadCloser, error) {
	if name == "-" {
		if o.Stdin == nil {
			return io.NopCloser(strings.NewReader("")), nil
		}
		return io.NopCloser(o.Stdin), nil
	}
	return os.Open(name)
}

// Size implements Opener.
func (o OSOpener) Size(name string) int64 {
	if name == "-" {
		return -1
	}
	fi, err := os.Stat(name)
	if err != nil || !fi.Mode().IsRegular() {
		return -1
	}
	return fi.Size()
}

// UsageError is a problem with the options themselves; nothing was sent.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// ReadError is a failure to read an "@file"; curl's exit code 26.
type ReadError struct{ Err error }

func (e *ReadError) Error() string { return fmt.Sprintf("read data: %v", e.Err) }
func (e *ReadError) Unwrap() error { return e.Err }

// Build turns opts into a request. It checks that every "@file" can be
// opened but reads none of them: bodies are streamed when sent. When every
// body part can be read again (no standard input), the request has GetBody
// set, so it can be replayed.
func Build(opts Options, open Opener) (*http.Request, error) {
	u, err := ParseURL(opts.URL)
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	h.Set("Accept", "*/*")
	if opts.UserAgent != "" {
		h.Set("User-Agent", opts.UserAgent)
	}
	var userHeaders []headerArg
	for _, raw := range opts.Headers {
		ha, err := parseHeader(raw)
		if err != nil {
			return nil, err
		}
		userHeaders = append(userHeaders, ha)
	}

	body, err := newBody(opts.Data, open)
	if err != nil {
		return nil, err
	}
	method := opts.Method
	if method == "" {
		method = http.MethodGet
		if body != nil {
			method = http.MethodPost
		}
	}
	if !validMethod(method) {
		return nil, &UsageError{fmt.Sprintf("invalid method %q", method)}
	}
	if body != nil {
		h.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	// User headers replace defaults of the same name; repeated ones add up.
	seen := map[string]bool{}
	for _, ha := range userHeaders {
		switch {
		case ha.remove:
			h.Del(ha.name)
		case !seen[ha.name]:
			h.Set(ha.name, ha.value)
		default:
			h.Add(ha.name, ha.value)
		}
		seen[ha.name] = true
	}

	req, err := http.NewRequest(method, u.String(), nil)
	if err != nil {
		return nil, &UsageError{fmt.Sprintf("invalid request: %v", err)}
	}
	req.Header = h
	if host := h.Get("Host"); host != "" {
		req.Host = host
		h.Del("Host")
	}
	if body != nil {
		rc, err := body.open()
		if err != nil {
			return nil, err
		}
		req.Body = rc
		req.ContentLength = body.size
		if body.replayable {
			req.GetBody = body.open
		}
		if req.ContentLength == 0 {
			req.Body = http.NoBody
		}
	}
	return req, nil
}

// ParseURL parses a URL as given on the command line. A URL without a
// scheme gets https://, unlike curl's http://: agcurl sends tokens.
func ParseURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, &UsageError{"no URL given"}
	}
	s := raw
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, &UsageError{fmt.Sprintf("malformed URL %q", raw)}
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, &UsageError{fmt.Sprintf("unsupported protocol %q in %q: use http or https", u.Scheme, raw)}
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, &UsageError{fmt.Sprintf("malformed URL %q: no host", raw)}
	}
	u.Fragment = ""
	return u, nil
}

type headerArg struct {
	name, value string
	remove      bool
}

func parseHeader(raw string) (headerArg, error) {
	if name, ok := strings.CutSuffix(raw, ";"); ok && !strings.Contains(name, ":") {
		if !validToken(name) {
			return headerArg{}, &UsageError{fmt.Sprintf("invalid header name in %q", raw)}
		}
		return headerArg{name: textproto.CanonicalMIMEHeaderKey(name)}, nil
	}
	name, value, ok := strings.Cut(raw, ":")
	if !ok {
		return headerArg{}, &UsageError{fmt.Sprintf("invalid header %q: want \"Name: value\"", raw)}
	}
	name = strings.TrimSpace(name)
	if !validToken(name) {
		return headerArg{}, &UsageError{fmt.Sprintf("invalid header name in %q", raw)}
	}
	value = strings.TrimSpace(value)
	if strings.ContainsAny(value, "\r\n\x00") {
		return headerArg{}, &UsageError{fmt.Sprintf("invalid header value for %s: control characters", name)}
	}
	return headerArg{name: textproto.CanonicalMIMEHeaderKey(name), value: value, remove: value == ""}, nil
}

func validToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c <= ' ' || c >= 0x7f || strings.IndexByte("()<>@,;:\\\"/[]?={}", c) >= 0 {
			return false
		}
	}
	return true
}

func validMethod(m string) bool { return validToken(m) }

// body is a request body made of data parts joined by '&', opened afresh
// for each send.
type body struct {
	parts      []part
	size       int64 // -1 when unknown
	replayable bool
	opener     Opener
}

type part struct {
	literal string
	file    string // when non-empty, read from this file ("-" is stdin)
	strip   bool   // remove CR and LF (curl's -d @file)
}

func newBody(data []Data, open Opener) (*body, error) {
	if len(data) == 0 {
		return nil, nil
	}
	b := &body{replayable: true, opener: open}
	var size int64
	known := true
	add := func(n int64) {
		if n < 0 {
			known = false
		}
		size += n
	}
	for i, d := range data {
		if i > 0 {
			add(1) // the '&' between parts
		}
		if d.Kind == DataRaw || !strings.HasPrefix(d.Value, "@") {
			b.parts = append(b.parts, part{literal: d.Value})
			add(int64(len(d.Value)))
			continue
		}
		p := part{file: d.Value[1:], strip: d.Kind == DataASCII}
		if p.file == "" {
			return nil, &UsageError{"data argument \"@\" names no file"}
		}
		b.parts = append(b.parts, p)
		n := int64(-1)
		if p.file != "-" {
			n = open.Size(p.file)
		}
		if n < 0 {
			// Standard input, a pipe or a device: read once, as it comes,
			// and not opened here (opening a pipe twice would lose data).
			b.replayable = false
			add(-1)
			continue
		}
		// A regular file: check now that it can be read, so that a bad
		// path fails before anything is sent.
		f, err := open.Open(p.file)
		if err != nil {
			return nil, &ReadError{err}
		}
		f.Close()
		if p.strip {
			n, err = strippedSize(open, p.file)
			if err != nil {
				return nil, &ReadError{err}
			}
		}
		add(n)
	}
	b.size = -1
	if known {
		b.size = size
	}
	return b, nil
}

// strippedSize counts a file's bytes other than CR and LF, streaming.
func strippedSize(open Opener, name string) (int64, error) {
	if name == "-" {
		return -1, errors.New("stdin")
	}
	f, err := open.Open(name)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n, err := io.Copy(io.Discard, &stripReader{r: bufio.NewReader(f)})
	return n, err
}

func (b *body) open() (io.ReadCloser, error) {
	var readers []io.Reader
	var closers []io.Closer
	for i, p := range b.parts {
		if i > 0 {
			readers = append(readers, strings.NewReader("&"))
		}
		if p.file == "" {
			readers = append(readers, strings.NewReader(p.literal))
			continue
		}
		f, err := b.opener.Open(p.file)
		if err != nil {
			for _, c := range closers {
				c.Close()
			}
			return nil, &ReadError{err}
		}
		closers = append(closers, f)
		var r io.Reader = &readErrReader{f}
		if p.strip {
			r = &stripReader{r: r}
		}
		readers = append(readers, r)
	}
	return &multiReadCloser{Reader: io.MultiReader(readers...), closers: closers}, nil
}

type multiReadCloser struct {
	io.Reader
	closers []io.Closer
}

func (m *multiReadCloser) Close() error {
	for _, c := range m.closers {
		c.Close()
	}
	return nil
}

// readErrReader marks errors from reading an @file as ReadError.
type readErrReader struct{ r io.Reader }

func (r *readErrReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF {
		err = &ReadError{err}
	}
	return n, err
}

// stripReader drops CR and LF bytes.
type stripReader struct{ r io.Reader }

func (s *stripReader) Read(p []byte) (int, error) {
	for {
		n, err := s.r.Read(p)
		if n > 0 {
			k := 0
			for _, c := range p[:n] {
				if c != '\r' && c != '\n' {
					p[k] = c
					k++
				}
			}
			if k > 0 || err != nil {
				return k, err
			}
			continue
		}
		return 0, err
	}
}
