package httpcall

import (
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseFieldsTypes(t *testing.T) {
	file := writeFile(t, "value.txt", "from a file\n")
	open := OSOpener{Stdin: strings.NewReader("from stdin")}
	params, err := ParseFields(
		[]string{"robot=Hubot", "off=false", "on=true", "n=12", "at=@" + file},
		[]string{"input=@-", "enabled=true", "disabled=false", "none=null", "count=123", "neg=-7",
			"float=1.5", "word=yes", "path=@" + file, "big=99999999999999999999"},
		open)
	if err != nil {
		t.Fatal(err)
	}
	js, err := FieldsJSON(params)
	if err != nil {
		t.Fatal(err)
	}
	// Keys sorted, as encoding/json (and so gh) writes a map.
	want := `{"at":"@` + strings.ReplaceAll(file, `\`, `\\`) + `","big":"99999999999999999999","count":123,"disabled":false,` +
		`"enabled":true,"float":"1.5","input":"from stdin","n":"12","neg":-7,"none":null,"off":"false","on":"true",` +
		`"path":"from a file\n","robot":"Hubot","word":"yes"}`
	if string(js) != want {
		t.Errorf("\n got %s\nwant %s", js, want)
	}
}

func TestParseFieldsNested(t *testing.T) {
	// The cases of gh's own test: objects, arrays, arrays of objects.
	params, err := ParseFields(
		[]string{"branch[name]=patch-1", "robots[]=Hubot", "robots[]=Dependabot",
			"labels[][name]=bug", "labels[][color]=red", "labels[][colorOptions][]=red", "labels[][colorOptions][]=blue",
			"labels[][name]=feature", "labels[][color]=green", "labels[][colorOptions][]=red",
			"labels[][colorOptions][]=green", "labels[][colorOptions][]=yellow",
			"nested[][key1][key2][key3]=value", "empty[]"},
		[]string{"branch[protections]=true", "ids[]=123", "ids[]=456", "nulls[]=null"},
		OSOpener{})
	if err != nil {
		t.Fatal(err)
	}
	js, _ := FieldsJSON(params)
	want := `{"branch":{"name":"patch-1","protections":true},"empty":[],"ids":[123,456],` +
		`"labels":[{"color":"red","colorOptions":["red","blue"],"name":"bug"},` +
		`{"color":"green","colorOptions":["red","green","yellow"],"name":"feature"}],` +
		`"nested":[{"key1":{"key2":{"key3":"value"}}}],"nulls":[],"robots":["Hubot","Dependabot"]}`
	if string(js) != want {
		t.Errorf("\n got %s\nwant %s", js, want)
	}
}

func TestParseFieldsErrors(t *testing.T) {
	tests := []struct {
		raw, typed []string
		want       string
	}{
		{raw: []string{"novalue"}, want: `invalid field "novalue"`},
		{raw: []string{"=v"}, want: `invalid field "=v"`},
		{raw: []string{"a[b]"}, want: `needs a value`},
		{raw: []string{"a=1", "a=2"}, want: `"a" is given twice`},
		{raw: []string{"a=1", "a[]=2"}, want: `"a" is not an array`},
		{raw: []string{"a=1", "a[b]=2"}, want: `"a" is not an object`},
		{raw: []string{"a[b]=1", "a[][c]=2"}, want: `"a" is not an array`},
		{typed: []string{"f=@"}, want: `names no file`},
		// gh reads these as a=1, {"a":{"a]":1}} and {"a":"y]=1"}.
		{raw: []string{"a[=1"}, want: `invalid field key "a["`},
		{raw: []string{"a]=1"}, want: `invalid field key "a]"`},
		{typed: []string{"a[x=y]=s3cret"}, want: `invalid field key "a[x"`},
		{raw: []string{"a[b]c=1"}, want: `invalid field key`},
		{raw: []string{"a[[b]]=1"}, want: `invalid field key`},
		{raw: []string{"a[b"}, want: `invalid field key`},
	}
	for _, tt := range tests {
		_, err := ParseFields(tt.raw, tt.typed, OSOpener{})
		var oe *OptionError
		if !errors.As(err, &oe) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v %v: got %v, want an *OptionError with %q", tt.raw, tt.typed, err, tt.want)
		}
	}
	_, err := ParseFields(nil, []string{"f=@" + filepath.Join(t.TempDir(), "missing")}, OSOpener{})
	var re *ReadError
	if !errors.As(err, &re) {
		t.Errorf("a missing @file: got %v, want a *ReadError", err)
	}
}

func TestFieldsQuery(t *testing.T) {
	params, err := ParseFields([]string{"q=red shoes", "tags[]=a", "tags[]=b&c", "f[x]=1", "f[y][]=2"},
		[]string{"n=3", "ok=true", "none=null"}, OSOpener{})
	if err != nil {
		t.Fatal(err)
	}
	got := FieldsQuery(params)
	want := "f%5Bx%5D=1&f%5By%5D%5B%5D=2&n=3&none=&ok=true&q=red+shoes&tags%5B%5D=a&tags%5B%5D=b%26c"
	if got != want {
		t.Errorf("\n got %s\nwant %s", got, want)
	}
}

func TestBuildFields(t *testing.T) {
	tests := []struct {
		name   string
		opts   Options
		method string
		url    string
		body   string
		ctype  string
	}{
		{name: "a JSON body, POST", opts: Options{Fields: []string{"n=1"}, RawFields: []string{"s=x"}},
			method: "POST", url: "https://api.example.com/v1?a=b", body: `{"n":1,"s":"x"}`, ctype: "application/json"},
		{name: "-X keeps its method", opts: Options{Method: "PATCH", Fields: []string{"n=1"}},
			method: "PATCH", url: "https://api.example.com/v1?a=b", body: `{"n":1}`, ctype: "application/json"},
		{name: "-G puts them in the query", opts: Options{Get: true, Fields: []string{"n=1"}, RawFields: []string{"q=a b"}},
			method: "GET", url: "https://api.example.com/v1?a=b&n=1&q=a+b"},
		{name: "-X GET too, as gh --method GET", opts: Options{Method: "get", RawFields: []string{"q=x"}},
			method: "get", url: "https://api.example.com/v1?a=b&q=x"},
		{name: "-I -G: HEAD with the query", opts: Options{Head: true, Get: true, RawFields: []string{"q=x"}},
			method: "HEAD", url: "https://api.example.com/v1?a=b&q=x"},
		{name: "-H sets another Content-Type", opts: Options{RawFields: []string{"q=x"}, Headers: []string{"Content-Type: application/vnd.x+json"}},
			method: "POST", url: "https://api.example.com/v1?a=b", body: `{"q":"x"}`, ctype: "application/vnd.x+json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.URL = "https://api.example.com/v1?a=b"
			req, err := Build(tt.opts, OSOpener{})
			if err != nil {
				t.Fatal(err)
			}
			if req.Method != tt.method || req.URL.String() != tt.url {
				t.Errorf("%s %s; want %s %s", req.Method, req.URL, tt.method, tt.url)
			}
			if got := readBody(t, req); got != tt.body {
				t.Errorf("body %q; want %q", got, tt.body)
			}
			if tt.body != "" && (req.ContentLength != int64(len(tt.body)) || req.GetBody == nil) {
				t.Errorf("length %d, replayable %v", req.ContentLength, req.GetBody != nil)
			}
			if got := req.Header.Get("Content-Type"); got != tt.ctype {
				t.Errorf("Content-Type %q; want %q", got, tt.ctype)
			}
		})
	}
	for _, o := range []Options{
		{Fields: []string{"a=1"}, Data: []Data{{DataASCII, "x"}}},
		{RawFields: []string{"a=1"}, Data: []Data{{DataJSON, "{}"}}},
		{Fields: []string{"a=1"}, Form: []string{"f=1"}},
		{Fields: []string{"a=1"}, UploadFile: "x"},
		{Fields: []string{"a=1"}, Head: true},
	} {
		o.URL = "https://api.example.com/"
		var oe *OptionError
		if _, err := Build(o, OSOpener{}); !errors.As(err, &oe) {
			t.Errorf("%+v: got %v, want a usage error", o, err)
		}
	}
}

// -I -G -d: HEAD with the data in the query, as curl sends it (it was
// dropped once).
func TestBuildHeadGetData(t *testing.T) {
	req, err := Build(Options{URL: "https://api.example.com/v1", Head: true, Get: true, Data: []Data{{DataASCII, "q=1"}}}, OSOpener{})
	if err != nil {
		t.Fatal(err)
	}
	if req.Method != http.MethodHead || req.URL.RawQuery != "q=1" {
		t.Errorf("%s %s; want HEAD ...?q=1", req.Method, req.URL)
	}
}
