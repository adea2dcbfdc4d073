// Package httpcall knows curl, not auth: it builds an HTTP request from
// curl-style options without sending anything, sends it with a bearer token
// set on each request alone (following redirects itself, so the token never
// travels to another origin), retries as curl does, and writes the response
// the way curl does. The token comes from a TokenSource it is given;
// httpcall never stores it or prints it.
package httpcall

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"path"
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
	// DataURLEncode is --data-urlencode: "name=value", "=value", "value",
	// "name@file" or "@file", URL-encoded.
	DataURLEncode
	// DataJSON is --json: like --data-binary, concatenated without '&', and
	// it sets Content-Type and Accept to application/json.
	DataJSON
)

// Data is one data argument.
type Data struct {
	Kind  DataKind
	Value string
}

// Options are the request half of curl's options.
type Options struct {
	Method string // -X; GET, HEAD with -I, PUT with -T, POST with data; when empty
	URL    string
	// BaseURL resolves a URL that starts with "/" (the profile's API base).
	BaseURL    string
	Headers    []string // -H "Name: value"; "Name:" removes a default; "Name;" sends it empty
	Data       []Data   // joined with '&' (--json parts are concatenated)
	Get        bool     // -G: data goes into the query string
	Form       []string // -F multipart fields
	UploadFile string   // -T
	Head       bool     // -I
	UserAgent  string
	Referer    string
	Compressed bool // --compressed: ask for gzip/deflate; WriteResponse decodes
	// RawFields and Fields are gh api's --raw-field and --field (see
	// ParseFields): a JSON object body, POST by default; with Get, or the
	// method GET, the query string instead.
	RawFields []string
	Fields    []string
	// URLQuery are curl's --url-query arguments, appended to the query
	// string in order: --data-urlencode's syntax, or "+text" as it is.
	URLQuery []string
}

// Opener opens "@file" arguments; "-" is standard input.
type Opener interface {
	Open(name string) (io.ReadCloser, error)
	// Size returns the size of a regular file, or -1 for anything else
	// (standard input, a pipe, a device, a missing file), unless the
	// Opener holds it: then its size, and Open may be called again.
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

// NoAPIBaseError reports a relative URL given without an API base to
// resolve it against; nothing was sent.
type NoAPIBaseError struct{ URL string }

func (e *NoAPIBaseError) Error() string {
	return fmt.Sprintf("relative URL %q needs an API base", e.URL)
}

// OptionError is a problem with the request options themselves (a bad
// header, an unreadable combination); nothing was sent.
type OptionError struct{ Msg string }

func (e *OptionError) Error() string { return e.Msg }

func usagef(format string, a ...any) error { return &OptionError{fmt.Sprintf(format, a...)} }

// ReadError is a failure to read an "@file"; curl's exit code 26.
type ReadError struct{ Err error }

func (e *ReadError) Error() string { return fmt.Sprintf("read data: %v", e.Err) }
func (e *ReadError) Unwrap() error { return e.Err }

// Build turns opts into a request. Bodies are streamed when sent; Build
// only checks that each "@file" can be opened, except where curl reads the
// data whole (--data-urlencode, -G), which it reads. When every body part
// can be read again (no standard input or pipe), the request has GetBody
// set, so it can be replayed after a 401, a redirect or a retry.
func Build(opts Options, open Opener) (*http.Request, error) {
	if err := checkConflicts(opts); err != nil {
		return nil, err
	}
	u, err := ResolveURL(opts.URL, opts.BaseURL)
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	h.Set("Accept", "*/*")
	if opts.UserAgent != "" {
		h.Set("User-Agent", opts.UserAgent)
	}
	if opts.Referer != "" {
		h.Set("Referer", opts.Referer)
	}
	if opts.Compressed {
		h.Set("Accept-Encoding", "deflate, gzip")
	}
	var userHeaders []headerArg
	for _, raw := range opts.Headers {
		ha, err := parseHeader(raw)
		if err != nil {
			return nil, err
		}
		userHeaders = append(userHeaders, ha)
	}

	var b *body
	method := opts.Method
	defaultMethod := http.MethodGet
	if opts.Head {
		defaultMethod = http.MethodHead
	}
	// checkConflicts leaves -I with nothing that makes a body.
	switch {
	case opts.Get && len(opts.Data) > 0:
		q, err := queryFromData(opts.Data, open)
		if err != nil {
			return nil, err
		}
		appendQuery(u, q)
	case hasFields(opts):
		params, err := ParseFields(opts.RawFields, opts.Fields, open)
		if err != nil {
			return nil, err
		}
		if fieldsInQuery(opts) {
			appendQuery(u, FieldsQuery(params))
			break
		}
		js, err := FieldsJSON(params)
		if err != nil {
			return nil, err
		}
		b = literalBody(string(js))
		h.Set("Content-Type", "application/json")
		defaultMethod = http.MethodPost
	case len(opts.Form) > 0:
		if b, err = newMultipartBody(opts.Form, open); err != nil {
			return nil, err
		}
		h.Set("Content-Type", "multipart/form-data; boundary="+b.boundary)
		defaultMethod = http.MethodPost
	case opts.UploadFile != "":
		if b, err = newDataBody([]Data{{DataBinary, "@" + opts.UploadFile}}, open); err != nil {
			return nil, err
		}
		if strings.HasSuffix(u.Path, "/") && opts.UploadFile != "-" {
			u.Path += path.Base(opts.UploadFile)
			u.RawPath = ""
		}
		defaultMethod = http.MethodPut
	case len(opts.Data) > 0:
		if b, err = newDataBody(opts.Data, open); err != nil {
			return nil, err
		}
		if opts.Data[0].Kind == DataJSON {
			h.Set("Content-Type", "application/json")
			h.Set("Accept", "application/json")
		} else {
			h.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		defaultMethod = http.MethodPost
	}
	if len(opts.URLQuery) > 0 {
		q, err := urlQuery(opts.URLQuery, open)
		if err != nil {
			return nil, err
		}
		appendQuery(u, q)
	}
	if method == "" {
		method = defaultMethod
	}
	if !validToken(method) {
		return nil, usagef("invalid method %q", method)
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
		return nil, usagef("invalid request: %v", err)
	}
	req.Header = h
	if host := h.Get("Host"); host != "" {
		req.Host = host
		h.Del("Host")
	}
	if b != nil {
		rc, err := b.open()
		if err != nil {
			return nil, err
		}
		req.Body = rc
		req.ContentLength = b.size
		if b.replayable {
			req.GetBody = b.open
		}
		if req.ContentLength == 0 {
			rc.Close()
			req.Body = http.NoBody
			req.GetBody = func() (io.ReadCloser, error) { return http.NoBody, nil }
		}
	}
	return req, nil
}

func hasFields(o Options) bool { return len(o.RawFields)+len(o.Fields) > 0 }

// fieldsInQuery says whether fields go to the query string: with -G, or
// when the method is GET, as gh api sends them with --method GET.
func fieldsInQuery(o Options) bool { return o.Get || strings.EqualFold(o.Method, http.MethodGet) }

// appendQuery adds q to u's query string, after what is there.
func appendQuery(u *url.URL, q string) {
	if q == "" {
		return
	}
	if u.RawQuery != "" {
		u.RawQuery += "&" + q
	} else {
		u.RawQuery = q
	}
}

// urlQuery joins curl's --url-query arguments with "&": each is encoded
// as --data-urlencode's are, except that one starting with "+" is taken
// as it is, without the "+".
func urlQuery(args []string, open Opener) (string, error) {
	parts := make([]string, 0, len(args))
	for _, a := range args {
		if raw, ok := strings.CutPrefix(a, "+"); ok {
			if strings.ContainsFunc(raw, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
				return "", usagef("malformed --url-query %q: a space or control character needs encoding", a)
			}
			parts = append(parts, raw)
			continue
		}
		v, err := urlEncodeData(a, open)
		if err != nil {
			return "", err
		}
		parts = append(parts, v)
	}
	return strings.Join(parts, "&"), nil
}

// literalBody is a body held in memory, replayable.
func literalBody(s string) *body {
	return &body{size: int64(len(s)), replayable: true, open: func() (io.ReadCloser, error) {
		return io.NopCloser(strings.NewReader(s)), nil
	}}
}

func checkConflicts(o Options) error {
	if hasFields(o) {
		switch {
		case len(o.Data) > 0 || len(o.Form) > 0 || o.UploadFile != "":
			return usagef("--field and --raw-field cannot be combined with -d, --json, -F or -T")
		case o.Head && !o.Get:
			return usagef("-I cannot be combined with --field or --raw-field without -G")
		}
	}
	hasData := len(o.Data) > 0
	jsonParts := 0
	for _, d := range o.Data {
		if d.Kind == DataJSON {
			jsonParts++
		}
	}
	switch {
	case jsonParts > 0 && jsonParts != len(o.Data):
		return usagef("--json cannot be combined with -d, --data-binary, --data-raw or --data-urlencode")
	case jsonParts > 0 && o.Get:
		return usagef("--json cannot be combined with -G")
	case o.Get && len(o.Form) > 0:
		return usagef("-G cannot be combined with -F")
	case o.Head && (hasData && !o.Get || len(o.Form) > 0 || o.UploadFile != ""):
		return usagef("-I cannot be combined with -d, --json, -F or -T")
	case len(o.Form) > 0 && hasData:
		return usagef("-F cannot be combined with -d or --json")
	case o.UploadFile != "" && (hasData && !o.Get || len(o.Form) > 0):
		return usagef("-T cannot be combined with -d, --json or -F")
	}
	return nil
}

// ResolveURL parses a URL as given on the command line. One that starts
// with "/" is resolved against base. One without a scheme gets https://,
// unlike curl's http://: agcurl sends tokens.
func ResolveURL(raw, base string) (*url.URL, error) {
	if raw == "" {
		return nil, usagef("no URL given")
	}
	if strings.HasPrefix(raw, "/") && !strings.HasPrefix(raw, "//") {
		if base == "" {
			return nil, &NoAPIBaseError{URL: raw}
		}
		b, err := ResolveURL(base, "")
		if err != nil {
			return nil, usagef("invalid API base %q", RedactURL(base))
		}
		rel, err := url.Parse(raw)
		if err != nil {
			return nil, usagef("malformed URL %q", RedactURL(raw))
		}
		b.Path = strings.TrimSuffix(b.Path, "/") + rel.Path
		b.RawPath = ""
		b.RawQuery = rel.RawQuery
		return b, nil
	}
	s := raw
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, usagef("malformed URL %q", RedactURL(raw))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, usagef("unsupported protocol %q in %q: use http or https", u.Scheme, RedactURL(raw))
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, usagef("malformed URL %q: no host", RedactURL(raw))
	}
	if u.User != nil {
		return nil, usagef("malformed URL %q: credentials in URLs are not supported", RedactURL(raw))
	}
	u.Fragment = ""
	return u, nil
}

// RedactURL hides the credentials in a URL as given on the command line,
// which need not parse: the password of its userinfo becomes "xxxxx", and
// so does a user name given alone, which is often a token
// (https://TOKEN@host/). It is for error messages, which must not repeat a
// secret the user typed.
func RedactURL(raw string) string {
	prefix, rest := "", raw
	if i := strings.Index(raw, "://"); i >= 0 {
		prefix, rest = raw[:i+3], raw[i+3:]
	} else if strings.HasPrefix(raw, "//") {
		prefix, rest = "//", raw[2:]
	}
	// The userinfo ends at the last "@" before the path, query or
	// fragment. A password may hold "/?#" unescaped (a malformed URL, but
	// one that still holds a secret): "user:pa/ss@host" reads as host
	// "user" with a port that is not a number, so then take the last "@".
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	at := strings.LastIndex(rest[:end], "@")
	if at < 0 {
		hostport := rest[:end]
		if i := strings.Index(hostport, "]"); strings.HasPrefix(hostport, "[") && i >= 0 {
			hostport = hostport[i+1:]
		}
		_, port, ok := strings.Cut(hostport, ":")
		if !ok || strings.Trim(port, "0123456789") == "" {
			return raw
		}
		if at = strings.LastIndex(rest, "@"); at < 0 {
			return raw
		}
	}
	user, _, hasPass := strings.Cut(rest[:at], ":")
	if !hasPass {
		user = "xxxxx"
	} else {
		user += ":xxxxx"
	}
	return prefix + user + rest[at:]
}

type headerArg struct {
	name, value string
	remove      bool
}

func parseHeader(raw string) (headerArg, error) {
	if name, ok := strings.CutSuffix(raw, ";"); ok && !strings.Contains(name, ":") {
		if !validToken(name) {
			return headerArg{}, usagef("invalid header name in %q", raw)
		}
		return headerArg{name: textproto.CanonicalMIMEHeaderKey(name)}, nil
	}
	name, value, ok := strings.Cut(raw, ":")
	if !ok {
		return headerArg{}, usagef("invalid header %q: want \"Name: value\"", raw)
	}
	name = strings.TrimSpace(name)
	if !validToken(name) {
		return headerArg{}, usagef("invalid header name in %q", raw)
	}
	value = strings.TrimSpace(value)
	if strings.ContainsAny(value, "\r\n\x00") {
		return headerArg{}, usagef("invalid header value for %s: control characters", name)
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

// body is a request body opened afresh for each send.
type body struct {
	size       int64 // -1 when unknown
	replayable bool
	boundary   string // multipart only
	open       func() (io.ReadCloser, error)
}

type part struct {
	literal string
	file    string // when non-empty, read from this file ("-" is stdin)
	strip   bool   // remove CR and LF (curl's -d @file)
}

// sizer adds up part sizes; one unknown size makes the total unknown.
type sizer struct {
	n     int64
	known bool
}

func (s *sizer) add(n int64) {
	if n < 0 {
		s.known = false
	}
	s.n += n
}

func (s *sizer) total() int64 {
	if !s.known {
		return -1
	}
	return s.n
}

// filePart checks an @file argument: a regular file must open now, so that
// a bad path fails before anything is sent; what has no size in advance
// (standard input, a pipe or a device) is read once, as it comes, and not
// opened here (opening a pipe twice would lose data). It returns the size,
// or -1.
func filePart(open Opener, name string) (int64, error) {
	n := open.Size(name)
	if n < 0 {
		return -1, nil
	}
	f, err := open.Open(name)
	if err != nil {
		return 0, &ReadError{err}
	}
	f.Close()
	return n, nil
}

func newDataBody(data []Data, open Opener) (*body, error) {
	var parts []part
	sz := sizer{known: true}
	replayable := true
	for i, d := range data {
		if i > 0 && d.Kind != DataJSON {
			parts = append(parts, part{literal: "&"})
			sz.add(1)
		}
		switch {
		case d.Kind == DataURLEncode:
			v, err := urlEncodeData(d.Value, open)
			if err != nil {
				return nil, err
			}
			parts = append(parts, part{literal: v})
			sz.add(int64(len(v)))
			continue
		case d.Kind == DataRaw || !strings.HasPrefix(d.Value, "@"):
			parts = append(parts, part{literal: d.Value})
			sz.add(int64(len(d.Value)))
			continue
		}
		p := part{file: d.Value[1:], strip: d.Kind == DataASCII}
		if p.file == "" {
			return nil, usagef("data argument \"@\" names no file")
		}
		parts = append(parts, p)
		n, err := filePart(open, p.file)
		if err != nil {
			return nil, err
		}
		if n < 0 {
			replayable = false
		} else if p.strip {
			if n, err = strippedSize(open, p.file); err != nil {
				return nil, &ReadError{err}
			}
		}
		sz.add(n)
	}
	return &body{size: sz.total(), replayable: replayable, open: func() (io.ReadCloser, error) {
		return openParts(parts, open)
	}}, nil
}

// strippedSize counts a regular file's bytes other than CR and LF, streaming.
func strippedSize(open Opener, name string) (int64, error) {
	f, err := open.Open(name)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return io.Copy(io.Discard, &stripReader{r: bufio.NewReader(f)})
}

func openParts(parts []part, open Opener) (io.ReadCloser, error) {
	readers := make([]io.Reader, 0, len(parts))
	var closers []io.Closer
	for _, p := range parts {
		if p.file == "" {
			readers = append(readers, strings.NewReader(p.literal))
			continue
		}
		f, err := open.Open(p.file)
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

// readAllData reads a data argument whole, as curl does for -G and
// --data-urlencode.
func readAllData(open Opener, name string) (string, error) {
	f, err := open.Open(name)
	if err != nil {
		return "", &ReadError{err}
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 64<<20))
	if err != nil {
		return "", &ReadError{err}
	}
	return string(b), nil
}

func queryFromData(data []Data, open Opener) (string, error) {
	var parts []string
	for _, d := range data {
		switch {
		case d.Kind == DataURLEncode:
			v, err := urlEncodeData(d.Value, open)
			if err != nil {
				return "", err
			}
			parts = append(parts, v)
		case d.Kind != DataRaw && strings.HasPrefix(d.Value, "@"):
			v, err := readAllData(open, d.Value[1:])
			if err != nil {
				return "", err
			}
			if d.Kind == DataASCII {
				v = strings.NewReplacer("\r", "", "\n", "").Replace(v)
			}
			parts = append(parts, v)
		default:
			parts = append(parts, d.Value)
		}
	}
	return strings.Join(parts, "&"), nil
}

// urlEncodeData applies curl's --data-urlencode rules.
func urlEncodeData(v string, open Opener) (string, error) {
	i := strings.IndexAny(v, "=@")
	if i < 0 {
		return escape(v), nil
	}
	name, rest := v[:i], v[i+1:]
	content := rest
	if v[i] == '@' {
		var err error
		if content, err = readAllData(open, rest); err != nil {
			return "", err
		}
	}
	if name == "" {
		return escape(content), nil
	}
	return name + "=" + escape(content), nil
}

// escape percent-encodes all but RFC 3986's unreserved characters, as
// curl_easy_escape does, and writes a space as "+", as curl's
// --data-urlencode does since 7.77 (application/x-www-form-urlencoded).
func escape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		switch {
		case 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~':
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('+')
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func randomBoundary() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "agcurl-" + hex.EncodeToString(b)
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
