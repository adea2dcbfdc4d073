package cmd

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/spf13/cobra"

	"github.com/agcurl/agcurl/httpcall"
)

// untouchedServer is an HTTP server that no test here may reach: it counts
// the requests it gets and fails the test on each.
func untouchedServer(t *testing.T) (url string, hits *atomic.Int64) {
	t.Helper()
	hits = new(atomic.Int64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		t.Errorf("a request reached the network: %s %s", r.Method, r.URL)
	}))
	t.Cleanup(func() {
		srv.Close()
		if n := hits.Load(); n != 0 {
			t.Errorf("%d requests reached the network", n)
		}
	})
	return srv.URL, hits
}

// parseFetch runs `agcurl fetch args...` through a runF that captures the
// options; got is nil when runF was not called.
func parseFetch(t *testing.T, f *Factory, args ...string) (got *FetchOptions, err error) {
	t.Helper()
	capture := func(f *Factory) *cobra.Command {
		return NewCmdFetch(f, func(o *FetchOptions) error { got = o; return nil })
	}
	err = parseArgs(t, f, capture, append([]string{"fetch"}, args...)...)
	return got, err
}

// runFetch runs `agcurl fetch args...` for real (runF nil).
func runFetch(t *testing.T, f *Factory, args ...string) error {
	t.Helper()
	real := func(f *Factory) *cobra.Command { return NewCmdFetch(f, nil) }
	return parseArgs(t, f, real, append([]string{"fetch"}, args...)...)
}

// fetchDefaults are the options of `agcurl fetch URL`.
func fetchDefaults(url string) FetchOptions {
	return FetchOptions{URLs: []string{url}, MaxRedirs: 50, ParallelMax: 50, UserAgent: "agcurl/" + currentBuild().Version}
}

// flagValues is o without its IO and lazy dependencies, for comparing.
func flagValues(o *FetchOptions) FetchOptions {
	v := *o
	v.IO, v.Profile, v.Getenv = nil, nil, nil
	return v
}

func TestNewCmdFetchDefaults(t *testing.T) {
	url, _ := untouchedServer(t)
	f := shapeFactory(t, nil)
	got, err := parseFetch(t, f, url+"/v1/me")
	if err != nil {
		t.Fatal(err)
	}
	if got == nil {
		t.Fatal("runF was not called")
	}
	if want := fetchDefaults(url + "/v1/me"); !reflect.DeepEqual(flagValues(got), want) {
		t.Errorf("defaults:\n got %+v\nwant %+v", flagValues(got), want)
	}
	if got.IO == nil || got.IO.Out != f.IO.Out || got.IO.ErrOut != f.IO.ErrOut {
		t.Error("IO is not the invocation's streams")
	}
	if got.Profile == nil {
		t.Fatal("Profile is not set")
	}
	if p, err := got.Profile(); err != nil || p.name != "default" {
		t.Errorf("Profile() = %v, %v; want the default profile", p, err)
	}
}

// Each curl option lands in its own field, and in no other.
func TestNewCmdFetchFlags(t *testing.T) {
	url, _ := untouchedServer(t)
	data := func(kv ...any) []httpcall.Data {
		var d []httpcall.Data
		for i := 0; i < len(kv); i += 2 {
			d = append(d, httpcall.Data{Kind: kv[i].(httpcall.DataKind), Value: kv[i+1].(string)})
		}
		return d
	}
	tests := []struct {
		args []string
		want func(o *FetchOptions)
	}{
		{[]string{"-X", "PATCH"}, func(o *FetchOptions) { o.Method = "PATCH" }},
		{[]string{"--request", "DELETE"}, func(o *FetchOptions) { o.Method = "DELETE" }},
		{[]string{"-H", "A: 1", "--header", "B: 2", "-H", "A: 3"}, func(o *FetchOptions) { o.Headers = []string{"A: 1", "B: 2", "A: 3"} }},
		{[]string{"-H", "X: a,b"}, func(o *FetchOptions) { o.Headers = []string{"X: a,b"} }}, // no CSV splitting
		{[]string{"-d", "a=1"}, func(o *FetchOptions) { o.Data = data(httpcall.DataASCII, "a=1") }},
		{[]string{"--data", "@body.txt"}, func(o *FetchOptions) { o.Data = data(httpcall.DataASCII, "@body.txt") }},
		{[]string{"--data-binary", "@-"}, func(o *FetchOptions) { o.Data = data(httpcall.DataBinary, "@-") }},
		{[]string{"--json", `{"a":1}`, "--json", `{"b":2}`}, func(o *FetchOptions) { o.Data = data(httpcall.DataJSON, `{"a":1}`, httpcall.DataJSON, `{"b":2}`) }},
		// All data options share one list, in command-line order.
		{[]string{"--data-urlencode", "q=a b", "-d", "x", "--data-raw", "@y", "--data-ascii", "z", "--data-binary", "w"},
			func(o *FetchOptions) {
				o.Data = data(httpcall.DataURLEncode, "q=a b", httpcall.DataASCII, "x", httpcall.DataRaw, "@y",
					httpcall.DataASCII, "z", httpcall.DataBinary, "w")
			}},
		{[]string{"-G", "-d", "q=1"}, func(o *FetchOptions) { o.Get = true; o.Data = data(httpcall.DataASCII, "q=1") }},
		{[]string{"-F", "a=b", "--form", "f=@cat.jpg;type=image/jpeg"}, func(o *FetchOptions) { o.Form = []string{"a=b", "f=@cat.jpg;type=image/jpeg"} }},
		{[]string{"-T", "up.bin"}, func(o *FetchOptions) { o.Uploads = []string{"up.bin"} }},
		{[]string{"--field", "n=1", "--raw-field", "s=x", "--field", "a[]=@f"}, func(o *FetchOptions) {
			o.Fields, o.RawFields = []string{"n=1", "a[]=@f"}, []string{"s=x"}
		}},
		{[]string{"-A", "bot/1"}, func(o *FetchOptions) { o.UserAgent = "bot/1" }},
		{[]string{"--user-agent", ""}, func(o *FetchOptions) { o.UserAgent = "" }}, // given empty: no default
		{[]string{"-e", "https://ref.example"}, func(o *FetchOptions) { o.Referer = "https://ref.example" }},
		{[]string{"--compressed"}, func(o *FetchOptions) { o.Compressed = true }},
		{[]string{"-i"}, func(o *FetchOptions) { o.Include = true }},
		{[]string{"-I"}, func(o *FetchOptions) { o.Head = true }},
		{[]string{"-o", "out.json"}, func(o *FetchOptions) { o.Outputs = []FetchOutput{{Path: "out.json"}} }},
		{[]string{"--output", "-"}, func(o *FetchOptions) { o.Outputs = []FetchOutput{{Path: "-"}} }},
		{[]string{"-O"}, func(o *FetchOptions) { o.Outputs = []FetchOutput{{Remote: true}} }},
		{[]string{"--remote-name"}, func(o *FetchOptions) { o.Outputs = []FetchOutput{{Remote: true}} }},
		{[]string{"--paginate", "--slurp"}, func(o *FetchOptions) { o.Paginate, o.Slurp = true, true }},
		{[]string{"--paginate", "-G", "-d", "per=2"}, func(o *FetchOptions) {
			o.Paginate, o.Get, o.Data = true, true, data(httpcall.DataASCII, "per=2")
		}},
		{[]string{"-Z", "--parallel-max", "3", "--fail-early"}, func(o *FetchOptions) { o.Parallel, o.ParallelMax, o.FailEarly = true, 3, true }},
		{[]string{"--parallel", "--parallel-max", "0"}, func(o *FetchOptions) { o.Parallel = true }},   // curl: out of range is 50
		{[]string{"--parallel", "--parallel-max", "301"}, func(o *FetchOptions) { o.Parallel = true }}, // likewise
		{[]string{"--parallel", "--parallel-max", "300"}, func(o *FetchOptions) { o.Parallel, o.ParallelMax = true, 300 }},
		{[]string{"-s"}, func(o *FetchOptions) { o.Silent = true }},
		{[]string{"-sS"}, func(o *FetchOptions) { o.Silent = true; o.ShowError = true }},
		{[]string{"-v"}, func(o *FetchOptions) { o.Verbose = true }},
		{[]string{"-w", "%{http_code}\n"}, func(o *FetchOptions) { o.WriteOut = "%{http_code}\n" }},
		{[]string{"--write-out", "@fmt.txt"}, func(o *FetchOptions) { o.WriteOut = "@fmt.txt" }}, // read when run
		// An unknown variable is warned about when the -w output is written, as curl does.
		{[]string{"-w", "%{nonsense}"}, func(o *FetchOptions) { o.WriteOut = "%{nonsense}" }},
		{[]string{"-D", "h.txt"}, func(o *FetchOptions) { o.DumpHeader = "h.txt" }},
		{[]string{"--dump-header", "-"}, func(o *FetchOptions) { o.DumpHeader = "-" }},
		{[]string{"-f"}, func(o *FetchOptions) { o.Fail = true }},
		{[]string{"--fail-with-body"}, func(o *FetchOptions) { o.FailWithBody = true }},
		{[]string{"-L"}, func(o *FetchOptions) { o.Location = true }},
		{[]string{"-L", "--max-redirs", "3"}, func(o *FetchOptions) { o.Location = true; o.MaxRedirs = 3 }},
		{[]string{"-L", "--max-redirs", "-1"}, func(o *FetchOptions) { o.Location = true; o.MaxRedirs = -1 }},
		// --location-trusted implies -L; the option keeps what was given.
		{[]string{"--location-trusted", "--max-redirs", "2"}, func(o *FetchOptions) { o.LocationTrusted = true; o.MaxRedirs = 2 }},
		{[]string{"-m", "2.5"}, func(o *FetchOptions) { o.MaxTime = 2.5 }},
		{[]string{"--max-time", "0"}, func(o *FetchOptions) {}},
		{[]string{"--connect-timeout", "3"}, func(o *FetchOptions) { o.ConnectTimeout = 3 }},
		{[]string{"--retry", "4"}, func(o *FetchOptions) { o.Retry = 4 }},
		{[]string{"--retry-delay", "0.5"}, func(o *FetchOptions) { o.RetryDelay = 0.5 }},
		{[]string{"--retry-max-time", "60"}, func(o *FetchOptions) { o.RetryMaxTime = 60 }},
		{[]string{"--retry-connrefused"}, func(o *FetchOptions) { o.RetryConnRefuse = true }},
		{[]string{"-k"}, func(o *FetchOptions) { o.Insecure = true }},
		{[]string{"--cacert", "ca.pem"}, func(o *FetchOptions) { o.CACert = "ca.pem" }},
		{[]string{"-x", "http://proxy:3128"}, func(o *FetchOptions) { o.Proxy = "http://proxy:3128" }},
		{[]string{"--proxy", "socks5://p:1080"}, func(o *FetchOptions) { o.Proxy = "socks5://p:1080" }},
		{[]string{"--http1.1"}, func(o *FetchOptions) { o.HTTP11 = true }},
		{[]string{"--http2"}, func(o *FetchOptions) {}}, // the default
		{[]string{"--http1.1", "--http2"}, func(o *FetchOptions) {}},
		{[]string{"--http2", "--http1.1"}, func(o *FetchOptions) { o.HTTP11 = true }},
		{[]string{"--url-query", "q=a b", "--url-query", "+raw"}, func(o *FetchOptions) { o.URLQuery = []string{"q=a b", "+raw"} }},
		{[]string{"-H", "@headers.txt"}, func(o *FetchOptions) { o.Headers = []string{"@headers.txt"} }}, // read when run
		{[]string{"--output-dir", "dl", "--create-dirs"}, func(o *FetchOptions) { o.OutputDir, o.CreateDirs = "dl", true }},
		{[]string{"--retry-all-errors"}, func(o *FetchOptions) { o.RetryAllErrors = true }},
		{[]string{"-E", "c.pem", "--key", "k.pem"}, func(o *FetchOptions) { o.Cert, o.Key = "c.pem", "k.pem" }},
		{[]string{"--cert", "c.pem"}, func(o *FetchOptions) { o.Cert = "c.pem" }},
		{[]string{"--noproxy", ""}, func(o *FetchOptions) { o.NoProxy = new(string) }},
		{[]string{"--noproxy", "*"}, func(o *FetchOptions) { s := "*"; o.NoProxy = &s }},
		{[]string{"--resolve", "a:443:127.0.0.1", "--resolve", "-a:443"}, func(o *FetchOptions) { o.Resolve = []string{"a:443:127.0.0.1", "-a:443"} }},
		{[]string{"--no-auth"}, func(o *FetchOptions) { o.NoAuth = true }},
		// -H 'Authorization:' also sends no token, but that is decided when
		// the command runs: the option stays as given.
		{[]string{"-H", "Authorization:"}, func(o *FetchOptions) { o.Headers = []string{"Authorization:"} }},
		{[]string{"--jq", ".items[].id"}, func(o *FetchOptions) { o.JQ = ".items[].id" }},
		{[]string{"--raw"}, func(o *FetchOptions) { o.Raw = true }},
		{[]string{"--pretty"}, func(o *FetchOptions) { o.Pretty = true }},
		{[]string{"-fsSL", "--retry", "3", "-O"}, func(o *FetchOptions) {
			o.Fail, o.Silent, o.ShowError, o.Location, o.Retry, o.Outputs = true, true, true, true, 3, []FetchOutput{{Remote: true}}
		}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			got, err := parseFetch(t, shapeFactory(t, nil), append(tt.args, url+"/v1/x")...)
			if err != nil {
				t.Fatal(err)
			}
			want := fetchDefaults(url + "/v1/x")
			tt.want(&want)
			if !reflect.DeepEqual(flagValues(got), want) {
				t.Errorf("\n got %+v\nwant %+v", flagValues(got), want)
			}
		})
	}
	// The URL may come before the options, and may be relative or have no
	// scheme: it is resolved when the command runs.
	for _, u := range []string{"/v1/orders", "api.example.com/v1/me"} {
		got, err := parseFetch(t, shapeFactory(t, nil), u, "-X", "POST")
		if err != nil {
			t.Fatal(err)
		}
		if len(got.URLs) != 1 || got.URLs[0] != u || got.Method != "POST" {
			t.Errorf("%s -X POST: URLs %q, method %q", u, got.URLs, got.Method)
		}
	}
	// Several URLs, with -o, -O and -T paired with them in order wherever
	// they are on the command line.
	got, err := parseFetch(t, shapeFactory(t, nil), "-o", "a", url+"/1", "-T", "t1", url+"/2", "-O", "-T", "t2", url+"/3")
	if err != nil {
		t.Fatal(err)
	}
	wantTargets := []fetchTarget{{URL: url + "/1", Output: "a", Upload: "t1"}, {URL: url + "/2", Remote: true, Upload: "t2", Num: 1}, {URL: url + "/3", Num: 2}}
	if !reflect.DeepEqual(got.targets(), wantTargets) {
		t.Errorf("targets\n got %+v\nwant %+v", got.targets(), wantTargets)
	}
}

// The profile is resolved only when asked for, from --profile or the
// environment.
func TestNewCmdFetchProfile(t *testing.T) {
	url, _ := untouchedServer(t)
	f := shapeFactory(t, map[string]string{"AGCURL_PROFILE": "from-env"})
	got, err := parseFetch(t, f, "--profile", "staging", url)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := got.Profile(); err != nil || p.name != "staging" {
		t.Fatalf("--profile staging resolved to %v (%v)", p, err)
	}
	if got, err = parseFetch(t, f, url); err != nil {
		t.Fatal(err)
	}
	if p, err := got.Profile(); err != nil || p.name != "from-env" {
		t.Fatalf("AGCURL_PROFILE: got %v (%v)", p, err)
	}
	// A bad profile name is checked when the profile is resolved, not when
	// the command line is parsed.
	if got, err = parseFetch(t, f, "--profile", "../x", url); err != nil {
		t.Fatal(err)
	}
	var usage *UsageError
	if _, err := got.Profile(); !errors.As(err, &usage) {
		t.Fatalf("a bad profile name: want a usage error, got %v", err)
	}
}

// Every usage error the command line alone can produce comes from RunE,
// before runF or fetchRun: nothing is sent.
func TestNewCmdFetchUsageErrors(t *testing.T) {
	url, _ := untouchedServer(t)
	tests := []struct {
		args []string // the URL is appended
		want string
	}{
		{nil, "fetch: missing URL"}, // with the URL dropped below
		{[]string{"a=1"}, `"a=1" is not a URL: for a body field use --raw-field or --field`},
		{[]string{"-o", "a", "-o", "b"}, "more -o/-O options (2) than URLs (1)"},
		{[]string{"--slurp"}, "--slurp needs --paginate"},
		{[]string{"--paginate", "-X", "DELETE"}, "--paginate follows GET requests only"},
		{[]string{"--paginate", "-I"}, "--paginate follows GET requests only"},
		{[]string{"--paginate", "-T", "f"}, "--paginate follows GET requests only"},
		{[]string{"--paginate", "--json", "{}"}, "--paginate follows GET requests only"},
		{[]string{"--paginate", "-F", "a=b"}, "--paginate follows GET requests only"},
		{[]string{"--paginate", "--raw-field", "a=b"}, "--paginate follows GET requests only"},
		{[]string{"--paginate", "--slurp", "-i"}, "--slurp cannot be combined with -i"},
		{[]string{"-T", "a", "-T", "b"}, "more -T options (2) than URLs (1)"},
		{[]string{"--raw", "--pretty"}, "only one may be given"},
		{[]string{"-f", "--fail-with-body"}, "only one may be given"},
		{[]string{"--fail", "--fail-with-body", "-s"}, "only one may be given"},
		{[]string{"-o", "x", "-O"}, "more -o/-O options (2) than URLs (1)"},
		{[]string{"--jq", ".", "--raw"}, "--jq cannot be combined with --raw or --pretty"},
		{[]string{"--jq", ".", "--pretty"}, "--jq cannot be combined with --raw or --pretty"},
		{[]string{"-m", "-1"}, "--max-time must be a non-negative number of seconds"},
		{[]string{"--max-time", "NaN"}, "--max-time must be a non-negative number of seconds"},
		{[]string{"--max-time", "+Inf"}, "--max-time must be a non-negative number of seconds"},
		{[]string{"--connect-timeout", "-0.5"}, "--connect-timeout must be a non-negative number of seconds"},
		{[]string{"--retry-delay", "-1"}, "--retry-delay must be a non-negative number of seconds"},
		{[]string{"--retry-max-time", "-Inf"}, "--retry-max-time must be a non-negative number of seconds"},
		{[]string{"--retry", "-1"}, "--retry must not be negative"},
		{[]string{"--max-redirs", "3"}, "--max-redirs needs -L"},
		{[]string{"--jq", ".["}, "invalid --jq expression"},
		// Flag values that do not parse, and options agcurl does not have.
		{[]string{"-m", "soon"}, `invalid argument "soon"`},
		{[]string{"--retry", "3.5"}, `invalid argument "3.5"`},
		{[]string{"--max-redirs", "many", "-L"}, `invalid argument "many"`},
		{[]string{"-j"}, "agcurl fetch supports a subset of curl's options"},
		{[]string{"--digest"}, "agcurl fetch supports a subset of curl's options"},
		// curl options for what agcurl does its own way get a hint, which
		// does not repeat the argument (it may hold a password).
		{[]string{"-u", "alice:s3cr3t"}, "agcurl sends the profile's bearer token itself; for another scheme use --no-auth -H 'Authorization: ...'"},
		{[]string{"-sSualice:s3cr3t"}, "--user (-u) is not supported"},
		{[]string{"--user=alice:s3cr3t"}, "--user (-u) is not supported"},
		{[]string{"--oauth2-bearer", "t0k3n"}, "set AGCURL_ACCESS_TOKEN"},
		{[]string{"--cookie", "a=b"}, "--cookie (-b) is not supported: agcurl keeps no cookies; send one with -H 'Cookie: name=value'"},
		{[]string{"-b", "jar.txt"}, "--cookie (-b) is not supported"},
		{[]string{"-c", "jar.txt"}, "--cookie-jar (-c) is not supported"},
		{[]string{"--cookie-jar", "jar.txt"}, "--cookie-jar (-c) is not supported"},
		{[]string{"--color", "sometimes"}, "--color must be auto, always or never"},
	}
	for _, tt := range tests {
		args := append(tt.args, url+"/v1/x")
		if tt.args == nil {
			args = nil
		}
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			got, err := parseFetch(t, shapeFactory(t, nil), args...)
			if got != nil {
				t.Error("runF was called")
			}
			checkUsageError(t, err, tt.want)
			if strings.Contains(err.Error(), "s3cr3t") || strings.Contains(err.Error(), "t0k3n") {
				t.Errorf("the error repeats the argument: %v", err)
			}
			// And for real: fetchRun is not reached, nothing is sent.
			checkUsageError(t, runFetch(t, shapeFactory(t, nil), args...), tt.want)
		})
	}
	// A flag missing its value, at the end.
	got, err := parseFetch(t, shapeFactory(t, nil), url+"/v1/x", "-X")
	if got != nil {
		t.Error("runF was called")
	}
	checkUsageError(t, err, "flag needs an argument")
}

func checkUsageError(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want a usage error %q", want)
	}
	if exitCode(err) != ExitUsage {
		t.Errorf("exit code %d (%v); want %d", exitCode(err), err, ExitUsage)
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q; want it to contain %q", err, want)
	}
}

// Usage errors that need the request built (option conflicts checked by
// httpcall, bad headers, -O without a file name) come from fetchRun, still
// before anything is sent.
func TestFetchRunUsageErrorsSendNothing(t *testing.T) {
	url, _ := untouchedServer(t)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-G", "-F", "a=b"}, "-G cannot be combined with -F"},
		{[]string{"-I", "-d", "a"}, "-I cannot be combined"},
		{[]string{"--json", "{}", "-d", "a"}, "--json cannot be combined"},
		{[]string{"--json", "{}", "-G"}, "--json cannot be combined with -G"},
		{[]string{"-F", "a=b", "-d", "c"}, "-F cannot be combined with -d or --json"},
		{[]string{"-T", "up.bin", "-d", "c"}, "-T cannot be combined with -d, --json or -F"},
		{[]string{"-F", "novalue"}, "invalid form field"},
		{[]string{"-H", "no colon"}, "invalid header"},
		{[]string{"-X", "GE T"}, "invalid method"},
		{[]string{"-O", "-s"}, "-O: the URL has no file name to save to"}, // the URL ends in "/"
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			u := url + "/v1/x"
			if tt.args[0] == "-O" {
				u = url + "/"
			}
			args := append([]string{"--no-auth"}, append(tt.args, u)...)
			checkUsageError(t, runFetch(t, shapeFactory(t, nil), args...), tt.want)
		})
	}
	// -H 'Authorization:' sends no token, so the profile is not read: a bad
	// --profile is not what fails, the conflicting options are.
	err := runFetch(t, shapeFactory(t, nil), "--profile", "../x", "-H", "Authorization:", "-G", "-F", "a=b", url+"/v1/x")
	checkUsageError(t, err, "-G cannot be combined with -F")
	// Without it the profile is read first.
	err = runFetch(t, shapeFactory(t, nil), "--profile", "../x", "-G", "-F", "a=b", url+"/v1/x")
	var usage *UsageError
	if !errors.As(err, &usage) || strings.Contains(err.Error(), "-G") {
		t.Errorf("a bad profile name: want its usage error, got %v", err)
	}
}

// -s hides errors other than usage errors (Run then prints nothing); -S
// shows them again.
func TestFetchSilentErrors(t *testing.T) {
	url, _ := untouchedServer(t)
	missing := "@" + filepath.Join(t.TempDir(), "missing.txt")
	err := runFetch(t, shapeFactory(t, nil), "-s", "--no-auth", "-F", "f="+missing, url+"/v1/x")
	var silent *SilentError
	if !errors.As(err, &silent) || silent.Code != ExitReadError {
		t.Errorf("-s with an unreadable file: got %v (%T), want a silent exit %d", err, err, ExitReadError)
	}
	err = runFetch(t, shapeFactory(t, nil), "-sS", "--no-auth", "-F", "f="+missing, url+"/v1/x")
	if errors.As(err, &silent) || exitCode(err) != ExitReadError {
		t.Errorf("-sS with an unreadable file: got %v (%T), want exit %d, shown", err, err, ExitReadError)
	}
	err = runFetch(t, shapeFactory(t, nil), "-s", "--raw", "--pretty", url+"/v1/x")
	if errors.As(err, &silent) || exitCode(err) != ExitUsage {
		t.Errorf("-s with a usage error: got %v (%T), want it shown", err, err)
	}
}
