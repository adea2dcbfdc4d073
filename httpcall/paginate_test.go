package httpcall

import (
	"errors"
	"net/http"
	"testing"
)

func TestNextLink(t *testing.T) {
	base := mustURL(t, "https://api.example.com/v1/items?page=1")
	tests := []struct {
		name  string
		links []string
		want  string // "" when there is no next page
	}{
		{"absolute, among others", []string{`<https://api.example.com/v1/items?page=2>; rel="next", <https://api.example.com/v1/items?page=9>; rel="last"`},
			"https://api.example.com/v1/items?page=2"},
		{"relative path", []string{`</v2/items?page=2>; rel=next`}, "https://api.example.com/v2/items?page=2"},
		{"relative query", []string{`<?page=3>; rel="next"`}, "https://api.example.com/v1/items?page=3"},
		{"relative segment", []string{`<more>; rel="next"`}, "https://api.example.com/v1/more"},
		{"several relation types, any case", []string{`<p2>; REL="prev NEXT"`}, "https://api.example.com/v1/p2"},
		{"commas and semicolons in the URL and in quotes", []string{
			`<https://x.example/?a=1,2;b>; title="x, y; <z>"; rel="next"`}, "https://x.example/?a=1,2;b"},
		{"quotes with escapes before", []string{`<a>; title="say \"hi\", then"; rel="prev", <b>; rel="next"`},
			"https://api.example.com/v1/b"},
		{"in the second header", []string{`<a>; rel="first"`, `<b>; rel="next"`}, "https://api.example.com/v1/b"},
		{"only the first rel counts", []string{`<a>; rel="prev"; rel="next"`}, ""},
		{"garbage skipped", []string{`garbage; rel="next", <c>; rel=next`}, "https://api.example.com/v1/c"},
		{"an unclosed <", []string{`<c; rel=next`}, ""},
		{"the fragment dropped", []string{`<d#frag>; rel=next`}, "https://api.example.com/v1/d"},
		{"no next", []string{`<a>; rel="last"`}, ""},
		{"no header", nil, ""},
		{"anchor-like param without value", []string{`<e>; crossorigin; rel=next`}, "https://api.example.com/v1/e"},
	}
	for _, tt := range tests {
		h := http.Header{}
		for _, l := range tt.links {
			h.Add("Link", l)
		}
		u, err := NextLink(h, base)
		got := ""
		if u != nil {
			got = u.String()
		}
		if got != tt.want || err != nil {
			t.Errorf("%s: %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
}

// A next link that cannot be followed is an error, not the end of the
// list: ending there would pass a part of the list off as all of it.
func TestNextLinkUnusable(t *testing.T) {
	base := mustURL(t, "https://api.example.com/v1/items?page=1")
	for _, link := range []string{
		`<ftp://files.example/x>; rel=next`,
		`<http://127.0.0.1:1\@127.0.0.1:2/p>; rel=next`,
		`<http://[::1/p>; rel=next`,
		`<mailto:a@b.example>; rel=next`,
		`<http:///nohost>; rel=next`,
	} {
		h := http.Header{"Link": {link}}
		u, err := NextLink(h, base)
		var pe *PageLinkError
		if u != nil || !errors.As(err, &pe) {
			t.Errorf("%s: %v, %v; want a *PageLinkError", link, u, err)
		}
	}
}

func TestPageLinkErrorEscapes(t *testing.T) {
	e := &PageLinkError{Origin: "https://evil\x1b[31m.example", Reason: "r"}
	if got := e.Error(); got != `--paginate: not following the next page at https://evil\x1b[31m.example: r` {
		t.Errorf("%q", got)
	}
}
