package httpcall

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// WriteOutVars are the values curl's -w/--write-out can show.
type WriteOutVars struct {
	Response     *http.Response // nil when no response arrived
	URLEffective string
	URL          string // as given
	Method       string
	NumRedirects int
	NumRetries   int
	SizeDownload int64
	SizeUpload   int64
	SizeHeader   int64
	TimeStart    time.Duration // to the first response byte
	TimeTotal    time.Duration
	ExitCode     int
	ErrorMsg     string
}

func (v WriteOutVars) values() map[string]any {
	code, ctype, redirect := 0, "", ""
	if v.Response != nil {
		code = v.Response.StatusCode
		ctype = v.Response.Header.Get("Content-Type")
		if isRedirect(code) {
			if u, err := v.Response.Request.URL.Parse(v.Response.Header.Get("Location")); err == nil {
				redirect = u.String()
			}
		}
	}
	return map[string]any{
		"http_code": code, "response_code": code, "content_type": ctype,
		"size_download": v.SizeDownload, "size_upload": v.SizeUpload, "size_header": v.SizeHeader,
		"time_total": v.TimeTotal.Seconds(), "time_starttransfer": v.TimeStart.Seconds(),
		"url_effective": v.URLEffective, "url": v.URL, "method": v.Method,
		"num_redirects": v.NumRedirects, "num_retries": v.NumRetries, "redirect_url": redirect,
		"exitcode": v.ExitCode, "errormsg": v.ErrorMsg,
	}
}

// CheckWriteOut reports an unknown %{variable} in format before anything is sent.
func CheckWriteOut(format string) error {
	known := WriteOutVars{}.values()
	for rest := format; ; {
		i := strings.Index(rest, "%{")
		if i < 0 {
			return nil
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return nil
		}
		name := rest[i+2 : i+j]
		rest = rest[i+j+1:]
		if _, ok := known[name]; ok || name == "json" || name == "header_json" || name == "stdout" || name == "stderr" ||
			strings.HasPrefix(name, "header{") {
			continue
		}
		return usagef("unknown --write-out variable %%{%s}", name)
	}
}

// WriteOut expands format, as curl's -w, to stdout; %{stderr} and
// %{stdout} switch the stream for what follows.
func WriteOut(stdout, stderr io.Writer, format string, v WriteOutVars) {
	vals := v.values()
	w := stdout
	var b strings.Builder
	flush := func() {
		_, _ = io.WriteString(w, b.String())
		b.Reset()
	}
	for i := 0; i < len(format); i++ {
		c := format[i]
		switch {
		case c == '\\' && i+1 < len(format):
			i++
			switch format[i] {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case '\\':
				b.WriteByte('\\')
			default:
				b.WriteByte('\\')
				b.WriteByte(format[i])
			}
		case c == '%' && i+1 < len(format) && format[i+1] == '%':
			b.WriteByte('%')
			i++
		case c == '%' && i+1 < len(format) && format[i+1] == '{':
			j := strings.IndexByte(format[i:], '}')
			if j < 0 {
				b.WriteString(format[i:])
				i = len(format)
				continue
			}
			name := format[i+2 : i+j]
			// %{header{name}} ends with "}}".
			if strings.HasPrefix(name, "header{") && i+j+1 < len(format) && format[i+j+1] == '}' {
				j++
				name = format[i+2 : i+j]
			}
			i += j
			switch {
			case name == "stdout":
				flush()
				w = stdout
			case name == "stderr":
				flush()
				w = stderr
			case name == "json":
				out, _ := json.Marshal(vals)
				b.Write(out)
			case name == "header_json":
				b.Write(headerJSON(v.Response))
			case strings.HasPrefix(name, "header{") && strings.HasSuffix(name, "}"):
				if v.Response != nil {
					b.WriteString(strings.Join(v.Response.Header.Values(name[len("header{"):len(name)-1]), ", "))
				}
			default:
				if x, ok := vals[name]; ok {
					b.WriteString(formatValue(name, x))
				} else {
					b.WriteString("%{" + name + "}")
				}
			}
		default:
			b.WriteByte(c)
		}
	}
	flush()
}

func formatValue(name string, x any) string {
	switch x := x.(type) {
	case float64:
		return strconv.FormatFloat(x, 'f', 6, 64)
	case int:
		if name == "http_code" || name == "response_code" {
			return fmt.Sprintf("%03d", x)
		}
		return strconv.Itoa(x)
	default:
		return fmt.Sprint(x)
	}
}

func headerJSON(resp *http.Response) []byte {
	m := map[string][]string{}
	if resp != nil {
		for k, vs := range resp.Header {
			m[strings.ToLower(k)] = vs
		}
	}
	out, _ := json.Marshal(m) // keys sorted
	return out
}
