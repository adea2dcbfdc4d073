package httpcall

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/agcurl/agcurl/internal/termsafe"
)

// Link is one link-value of a Link header (RFC 8288).
type Link struct {
	Target string   // the URI-Reference between < and >, as sent
	Rel    []string // the relation types of its first rel parameter, lower case
}

// ParseLinks parses the Link header values in h, in order. Commas and
// semicolons inside <...> or quoted strings do not separate; a link-value
// that does not parse is skipped, as are parameters other than the first
// rel (RFC 8288 3.3).
func ParseLinks(h http.Header) []Link {
	var links []Link
	for _, v := range h.Values("Link") {
		for rest := v; ; {
			rest = strings.TrimLeft(rest, " \t,")
			if rest == "" {
				break
			}
			var l Link
			var ok bool
			l, rest, ok = parseLinkValue(rest)
			if ok {
				links = append(links, l)
			}
		}
	}
	return links
}

// parseLinkValue reads one link-value from s and returns what follows it.
func parseLinkValue(s string) (Link, string, bool) {
	var l Link
	if !strings.HasPrefix(s, "<") {
		return l, skipValue(s), false
	}
	end := strings.IndexByte(s, '>')
	if end < 0 {
		return l, "", false
	}
	l.Target = strings.TrimSpace(s[1:end])
	s = s[end+1:]
	relSeen := false
	for {
		s = strings.TrimLeft(s, " \t")
		if !strings.HasPrefix(s, ";") {
			return l, skipValue(s), true
		}
		s = strings.TrimLeft(s[1:], " \t")
		i := strings.IndexAny(s, "=;,")
		name := s
		if i >= 0 {
			name = s[:i]
		}
		name = strings.ToLower(strings.TrimSpace(name))
		value := ""
		if i >= 0 && s[i] == '=' {
			s = strings.TrimLeft(s[i+1:], " \t")
			value, s = paramValue(s)
		} else if i >= 0 {
			s = s[i:]
		} else {
			s = ""
		}
		if name == "rel" && !relSeen {
			relSeen = true
			l.Rel = strings.Fields(strings.ToLower(value))
		}
	}
}

// paramValue reads a token or a quoted-string.
func paramValue(s string) (string, string) {
	if strings.HasPrefix(s, `"`) {
		var b strings.Builder
		for i := 1; i < len(s); i++ {
			switch s[i] {
			case '\\':
				if i+1 < len(s) {
					i++
					b.WriteByte(s[i])
				}
			case '"':
				return b.String(), s[i+1:]
			default:
				b.WriteByte(s[i])
			}
		}
		return b.String(), ""
	}
	i := strings.IndexAny(s, ";,")
	if i < 0 {
		return strings.TrimSpace(s), ""
	}
	return strings.TrimSpace(s[:i]), s[i:]
}

// skipValue skips to the comma that ends a link-value, outside quotes.
func skipValue(s string) string {
	quoted := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && quoted:
			i++
		case c == '"':
			quoted = !quoted
		case c == ',' && !quoted:
			return s[i+1:]
		}
	}
	return ""
}

// NextLink returns the target of the first link in h with the relation
// type "next", resolved against base (the URL the response came from,
// RFC 8288 3.2), without its fragment; nil when there is none. A next link
// that does not parse, or is not http or https, is a *PageLinkError: the
// list goes on, and ending it there would give a part of it as if whole.
func NextLink(h http.Header, base *url.URL) (*url.URL, error) {
	for _, l := range ParseLinks(h) {
		for _, r := range l.Rel {
			if r != "next" {
				continue
			}
			u, err := base.Parse(l.Target)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return nil, &PageLinkError{Origin: shortLink(l.Target), Reason: "it is not an http or https URL"}
			}
			u.Fragment, u.RawFragment = "", ""
			return u, nil
		}
	}
	return nil, nil
}

// shortLink is a link target as an error shows it: its first 100 bytes.
func shortLink(s string) string {
	if len(s) > 100 {
		return s[:100] + "..."
	}
	return s
}

// PageLinkError is a next-page link that --paginate does not follow.
type PageLinkError struct {
	Origin string // the link's origin
	Reason string
}

// Error returns the message, with the server's origin escaped by
// termsafe.String.
func (e *PageLinkError) Error() string {
	return fmt.Sprintf("--paginate: not following the next page at %s: %s", termsafe.String(e.Origin), e.Reason)
}
