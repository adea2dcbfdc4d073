package httpcall

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/agcurl/agcurl/internal/termsafe"
)

// WriteOutVars are the facts curl's -w/--write-out shows of a transfer.
type WriteOutVars struct {
	// Transfer is what the Recorder saw; nil leaves the wire facts out
	// (timings but time_total, addresses, sizes of heads and requests).
	Transfer *Transfer
	// Response is the final response, nil when none arrived.
	Response     *http.Response
	URL          string // as given
	URLEffective string // the last URL requested
	URLNum       int    // the URL's index, from 0, among the command's URLs
	Method       string // the last request's method
	Referer      string // --referer, if given
	// Filename is the output file (-o, -O); "" or "-" when the body went
	// to stdout.
	Filename     string
	NumRedirects int
	NumRetries   int
	SizeDownload int64 // the final response's body, as received
	SizeUpload   int64
	// SizeHeader is used when Transfer is nil.
	SizeHeader int64
	// Start is when the transfer began, used when Transfer is nil; End is
	// when it ended (the body written).
	Start, End time.Time
	ExitCode   int
	ErrorMsg   string
}

// WriteOutStreams are where -w writes: Stdout, and Stderr after
// %{stderr}. On a terminal, text from the network (header values, the
// content type, URLs a server chose) is escaped by termsafe.String.
type WriteOutStreams struct {
	Stdout, Stderr       io.Writer
	StdoutTTY, StderrTTY bool
	// Warn gets curl's warnings about the format: an unknown variable.
	Warn func(msg string)
}

// woKind is how curl formats a variable, and its JSON type.
type woKind int

const (
	woString woKind = iota // JSON string, or null when not known
	woLong                 // JSON number
	woTime                 // seconds with 6 decimals
)

// woValue is one variable's value.
type woValue struct {
	kind  woKind
	str   string
	num   int64
	dur   time.Duration
	valid bool // false: printed as nothing, and null in JSON
	net   bool // text chosen by the server
}

func str(s string) woValue                  { return woValue{kind: woString, str: s, valid: true} }
func netStr(s string) woValue               { return woValue{kind: woString, str: s, valid: true, net: true} }
func long(n int64) woValue                  { return woValue{kind: woLong, num: n, valid: true} }
func secs(d time.Duration) woValue          { return woValue{kind: woTime, dur: d, valid: true} }
func maybeStr(s string, ok bool) woValue    { v := str(s); v.valid = ok; return v }
func maybeNetStr(s string, ok bool) woValue { v := netStr(s); v.valid = ok; return v }

// writeOutNames are the variables of curl 7.88 that agcurl knows, in
// curl's order (alphabetical), which %{json} keeps. curl's certs,
// ssl_verify_result and proxy_ssl_verify_result report on OpenSSL's
// verification, which Go's TLS does not expose; they are not supported.
var writeOutNames = []string{
	"content_type", "errormsg", "exitcode", "filename_effective", "ftp_entry_path",
	"http_code", "http_connect", "http_version", "local_ip", "local_port", "method",
	"num_certs", "num_connects", "num_headers", "num_redirects", "num_retries",
	"redirect_url", "referer", "remote_ip", "remote_port", "response_code", "scheme",
	"size_download", "size_header", "size_request", "size_upload", "speed_download",
	"speed_upload", "time_appconnect", "time_connect", "time_namelookup",
	"time_pretransfer", "time_redirect", "time_starttransfer", "time_total", "url",
	"url_effective", "urlnum",
}

// WriteOutVariables returns the names of the -w variables WriteOut knows
// (besides json, header_json, onerror, stdout and stderr), in curl's order.
func WriteOutVariables() []string { return append([]string(nil), writeOutNames...) }

// unsupported are curl's variables that agcurl cannot know.
var unsupported = map[string]bool{"certs": true, "ssl_verify_result": true, "proxy_ssl_verify_result": true}

func (v WriteOutVars) values() map[string]woValue {
	t := v.Transfer
	e := t.final()
	var final *Head
	if e != nil {
		final = e.response()
	}
	resp := v.Response
	if resp == nil && e != nil {
		// A response that came but was not written: the one a transfer
		// stopped at when it met --max-redirs, as curl reports it.
		resp = e.resp
	}
	code := 0
	if resp != nil {
		code = resp.StatusCode
	}
	ctype, hasCtype := "", false
	switch {
	case final != nil:
		if vs := final.Values("Content-Type"); len(vs) > 0 {
			ctype, hasCtype = vs[0], true
		}
	case resp != nil:
		if vs := resp.Header.Values("Content-Type"); len(vs) > 0 {
			ctype, hasCtype = vs[0], true
		}
	}
	redirect, hasRedirect := "", false
	if resp != nil && isRedirect(code) && resp.Request != nil {
		if loc := resp.Header.Get("Location"); loc != "" {
			if u, err := resp.Request.URL.Parse(loc); err == nil {
				redirect, hasRedirect = u.String(), true
			}
		}
	}
	version := "0"
	if resp != nil {
		switch {
		case resp.ProtoMajor == 1 && resp.ProtoMinor == 0:
			version = "1"
		case resp.ProtoMajor == 1:
			version = "1.1"
		default:
			version = strconv.Itoa(resp.ProtoMajor)
		}
	}
	start := t.start()
	if start.IsZero() {
		start = v.Start
	}
	total := time.Duration(0)
	if !start.IsZero() && !v.End.IsZero() {
		total = max(v.End.Sub(start), time.Microsecond)
	}
	var redirectTime time.Duration
	if t != nil && len(t.chain) > 1 {
		redirectTime = e.start.Sub(start)
	}
	sizeHeader := v.SizeHeader
	var sizeRequest, connects, numCerts, httpConnect int64
	numHeaders := 0
	scheme, hasScheme := "", false
	localIP, remoteIP := "", ""
	var localPort, remotePort int64
	if t != nil {
		sizeHeader = t.SizeHeader()
		for _, x := range t.chain {
			sizeRequest += x.requestSize
			if !x.gotConn.IsZero() && !x.reused {
				connects++
			}
		}
		for _, h := range t.Heads {
			if h.Connect {
				httpConnect = int64(h.Status)
			}
		}
	}
	if n := len(t.heads()); n > 0 {
		numHeaders = t.heads()[n-1].NumHeaders()
	} else if resp != nil {
		numHeaders = rebuildHead(resp).NumHeaders()
	}
	if e != nil {
		if !e.gotConn.IsZero() {
			scheme, hasScheme = strings.ToUpper(e.scheme), true
		}
		localIP, localPort = splitAddr(e.local)
		remoteIP, remotePort = splitAddr(e.remote)
		if e.tlsState != nil {
			numCerts = int64(len(e.tlsState.PeerCertificates))
		}
	}
	speed := func(n int64) int64 {
		us := total.Microseconds()
		if us < 1 {
			return n * 1000000
		}
		return n * 1000000 / us
	}
	return map[string]woValue{
		"content_type":       maybeNetStr(ctype, hasCtype),
		"errormsg":           maybeStr(v.ErrorMsg, v.ExitCode != 0),
		"exitcode":           long(int64(v.ExitCode)),
		"filename_effective": maybeStr(v.Filename, v.Filename != "" && v.Filename != "-"),
		"ftp_entry_path":     maybeStr("", false),
		"http_code":          long(int64(code)),
		"http_connect":       long(httpConnect),
		"http_version":       str(version),
		"local_ip":           str(localIP),
		"local_port":         long(localPort),
		"method":             str(v.Method),
		"num_certs":          long(numCerts),
		"num_connects":       long(connects),
		"num_headers":        long(int64(numHeaders)),
		"num_redirects":      long(int64(v.NumRedirects)),
		"num_retries":        long(int64(v.NumRetries)),
		"redirect_url":       maybeNetStr(redirect, hasRedirect),
		"referer":            maybeStr(v.Referer, v.Referer != ""),
		"remote_ip":          str(remoteIP),
		"remote_port":        long(remotePort),
		"response_code":      long(int64(code)),
		"scheme":             maybeStr(scheme, hasScheme),
		"size_download":      long(v.SizeDownload),
		"size_header":        long(sizeHeader),
		"size_request":       long(sizeRequest),
		"size_upload":        long(v.SizeUpload),
		"speed_download":     long(speed(v.SizeDownload)),
		"speed_upload":       long(speed(v.SizeUpload)),
		"time_appconnect":    secs(t.timing(func(e *exchange) time.Time { return e.tlsDone })),
		"time_connect":       secs(t.timing(func(e *exchange) time.Time { return e.connectDone })),
		"time_namelookup":    secs(t.timing(lookupDone)),
		"time_pretransfer":   secs(t.timing(func(e *exchange) time.Time { return e.gotConn })),
		"time_redirect":      secs(redirectTime),
		"time_starttransfer": secs(t.timing(func(e *exchange) time.Time { return e.firstByte })),
		"time_total":         secs(total),
		"url":                str(v.URL),
		"url_effective":      netStr(v.URLEffective),
		"urlnum":             long(int64(v.URLNum)),
	}
}

// lookupDone is when the host's address was known: after DNS, at once for
// an IP address, or when an open connection was taken.
func lookupDone(e *exchange) time.Time {
	switch {
	case !e.dnsDone.IsZero():
		return e.dnsDone
	case !e.connectStart.IsZero():
		return e.connectStart
	}
	return e.gotConn
}

func splitAddr(a net.Addr) (string, int64) {
	if a == nil {
		return "", 0
	}
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return "", 0
	}
	p, _ := strconv.ParseInt(port, 10, 64)
	return host, p
}

// heads returns the transfer's heads, nil for a nil Transfer.
func (t *Transfer) heads() []*Head {
	if t == nil {
		return nil
	}
	return t.Heads
}

// finalHead returns the final response's head, rebuilt from resp when the
// Recorder did not see it.
func (v WriteOutVars) finalHead() *Head {
	if e := v.Transfer.final(); e != nil {
		if h := e.response(); h != nil {
			return h
		}
	}
	if v.Response != nil {
		return rebuildHead(v.Response)
	}
	return nil
}

// WriteOut expands format as curl 7.88's -w does: %{variable} (names in
// any case), %header{name}, %{json}, %{header_json}, %{onerror},
// %{stdout} and %{stderr}, %% and \n, \r, \t. An unknown variable is
// reported to s.Warn and left out, as curl does.
func WriteOut(s WriteOutStreams, format string, v WriteOutVars) {
	vals := v.values()
	w, tty := s.Stdout, s.StdoutTTY
	var b strings.Builder
	flush := func() {
		_, _ = io.WriteString(w, b.String())
		b.Reset()
	}
	defer flush()
	text := func(val woValue) string {
		if tty && val.net {
			return termsafe.String(val.str)
		}
		return val.str
	}
	warn := func(msg string) {
		if s.Warn != nil {
			flush()
			s.Warn(msg)
		}
	}
	for i := 0; i < len(format); {
		c := format[i]
		switch {
		case c == '%' && i+1 < len(format) && format[i+1] == '%':
			b.WriteByte('%')
			i += 2
		case c == '%' && i+1 < len(format) && format[i+1] == '{':
			end := strings.IndexByte(format[i:], '}')
			if end < 0 {
				b.WriteString("%{")
				i += 2
				continue
			}
			raw := format[i+2 : i+end]
			name := strings.ToLower(raw)
			i += end + 1
			switch name {
			case "onerror":
				if v.ExitCode == 0 {
					return
				}
			case "stdout":
				flush()
				w, tty = s.Stdout, s.StdoutTTY
			case "stderr":
				flush()
				w, tty = s.Stderr, s.StderrTTY
			case "json":
				b.WriteString(writeOutJSON(vals, tty))
			case "header_json":
				b.WriteString(headerJSON(v.finalHead(), tty))
			default:
				val, ok := vals[name]
				switch {
				case ok && val.valid:
					b.WriteString(formatWriteOut(name, val, text))
				case ok:
				case unsupported[name]:
					warn(fmt.Sprintf("the --write-out variable '%s' is not supported", name))
				default:
					warn(fmt.Sprintf("unknown --write-out variable: '%s'", termsafe.String(raw)))
				}
			}
		case c == '%' && strings.HasPrefix(format[i+1:], "header{"):
			i += len("%header{")
			end := strings.IndexByte(format[i:], '}')
			if end < 0 {
				b.WriteString("%header{")
				continue
			}
			name := format[i : i+end]
			i += end + 1
			if h := v.finalHead(); h != nil && len(name) < 256 {
				if vs := h.Values(name); len(vs) > 0 {
					b.WriteString(text(netStr(vs[0])))
				}
			}
		case c == '%' && i+1 < len(format):
			b.WriteString(format[i : i+2])
			i += 2
		case c == '\\' && i+1 < len(format):
			switch format[i+1] {
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			default:
				b.WriteString(format[i : i+2])
			}
			i += 2
		default:
			b.WriteByte(c)
			i++
		}
	}
}

func formatWriteOut(name string, v woValue, text func(woValue) string) string {
	switch v.kind {
	case woLong:
		if name == "http_code" || name == "response_code" || name == "http_connect" {
			return fmt.Sprintf("%03d", v.num)
		}
		return strconv.FormatInt(v.num, 10)
	case woTime:
		us := v.dur.Microseconds()
		return fmt.Sprintf("%d.%06d", us/1000000, us%1000000)
	}
	return text(v)
}

// writeOutJSON is %{json}: every variable, in curl's order and with its
// JSON type; curl's closing "curl_version" is left out.
func writeOutJSON(vals map[string]woValue, tty bool) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, name := range writeOutNames {
		if i > 0 {
			b.WriteByte(',')
		}
		v := vals[name]
		b.WriteString(`"` + name + `":`)
		switch {
		case !v.valid:
			b.WriteString("null")
		case v.kind == woString:
			s := v.str
			if tty && v.net {
				s = termsafe.String(s)
			}
			b.WriteString(jsonString(s, false))
		default:
			b.WriteString(formatWriteOut("", v, nil))
		}
	}
	b.WriteByte('}')
	return b.String()
}

// headerJSON is %{header_json} as curl writes it: the final response's
// headers, names in lower case in the order they came, a repeated name's
// values gathered where it first came, one name a line.
func headerJSON(h *Head, tty bool) string {
	var b strings.Builder
	b.WriteByte('{')
	if h != nil {
		var names []string
		values := map[string][]string{}
		for _, f := range h.Fields {
			n := strings.ToLower(f.Name)
			if _, seen := values[n]; !seen {
				names = append(names, n)
			}
			values[n] = append(values[n], f.Value)
		}
		for i, n := range names {
			if i > 0 {
				b.WriteString(",\n")
			}
			b.WriteString(jsonString(n, tty) + ":[")
			for j, v := range values[n] {
				if j > 0 {
					b.WriteByte(',')
				}
				b.WriteString(jsonString(v, tty))
			}
			b.WriteByte(']')
		}
	}
	b.WriteString("\n}")
	return b.String()
}

// jsonString quotes s as curl does: \\, \", \b, \f, \n, \r, \t, other
// control characters as \u00XX, all other bytes as they are (escaped by
// termsafe.String first when esc).
func jsonString(s string, esc bool) string {
	if esc {
		s = termsafe.String(s)
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			b.WriteString(`\\`)
		case '"':
			b.WriteString(`\"`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if c < 0x20 {
				fmt.Fprintf(&b, `\u%04x`, c)
			} else {
				b.WriteByte(c)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}
