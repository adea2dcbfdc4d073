package httpcall

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestBuildURLQuery(t *testing.T) {
	note := writeFile(t, "note.txt", "hi there\n")
	req, err := Build(Options{URL: "https://api.example.com/v1?x=1#frag",
		URLQuery: []string{"q=red shoes", "=a&b", "plain", "n@" + note, "+raw=%41+b", ""}}, OSOpener{})
	if err != nil {
		t.Fatal(err)
	}
	if want := "x=1&q=red+shoes&a%26b&plain&n=hi+there%0A&raw=%41+b&"; req.URL.RawQuery != want {
		t.Errorf("query %q; want %q", req.URL.RawQuery, want)
	}
	// After -G's data, which comes first.
	req, err = Build(Options{URL: "https://api.example.com/v1", Get: true, Data: []Data{{DataASCII, "a=1"}},
		URLQuery: []string{"b=2"}}, OSOpener{})
	if err != nil || req.URL.RawQuery != "a=1&b=2" {
		t.Errorf("-G -d a=1 --url-query b=2: %v %v", req, err)
	}
	// A body stays a body.
	req, err = Build(Options{URL: "https://api.example.com/v1", Data: []Data{{DataASCII, "a=1"}}, URLQuery: []string{"b=2"}}, OSOpener{})
	if err != nil || req.URL.RawQuery != "b=2" || readBody(t, req) != "a=1" || req.Method != "POST" {
		t.Errorf("-d a=1 --url-query b=2: %v %v", req, err)
	}
	var oe *OptionError
	if _, err := Build(Options{URL: "https://api.example.com/", URLQuery: []string{"+a b"}}, OSOpener{}); !errors.As(err, &oe) {
		t.Errorf("a raw query with a space: got %v, want a usage error", err)
	}
	var re *ReadError
	if _, err := Build(Options{URL: "https://api.example.com/", URLQuery: []string{"n@" + filepath.Join(t.TempDir(), "missing")}}, OSOpener{}); !errors.As(err, &re) {
		t.Errorf("a missing file: got %v, want a *ReadError", err)
	}
}

func TestExpandHeaders(t *testing.T) {
	file := writeFile(t, "headers.txt", "X-A: 1\r\n\r\nX-B:  two  \n\nAuthorization:\nX-C;")
	got, err := ExpandHeaders([]string{"X-First: 0", "@" + file, "@-", "X-Last: 9"},
		OSOpener{Stdin: strings.NewReader("X-Stdin: s\n")})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"X-First: 0", "X-A: 1", "X-B:  two  ", "Authorization:", "X-C;", "X-Stdin: s", "X-Last: 9"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("\n got %q\nwant %q", got, want)
	}
	var re *ReadError
	if _, err := ExpandHeaders([]string{"@" + filepath.Join(t.TempDir(), "missing")}, OSOpener{}); !errors.As(err, &re) {
		t.Errorf("a missing file: got %v, want a *ReadError", err)
	}
	var oe *OptionError
	if _, err := ExpandHeaders([]string{"@"}, OSOpener{}); !errors.As(err, &oe) {
		t.Errorf("-H @: got %v, want a usage error", err)
	}
}
