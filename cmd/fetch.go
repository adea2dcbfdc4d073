package cmd

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/itchyny/gojq"
	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/agcurl/agcurl/httpcall"
	"github.com/agcurl/agcurl/internal/termsafe"
)

// FetchOptions are what `agcurl fetch` runs with: the URLs and curl's
// options as given on the command line (the user agent already defaulted),
// its IO streams and, resolved only when it runs, the profile.
type FetchOptions struct {
	IO      *IOStreams
	Profile func() (*profileContext, error)
	// Getenv reads the proxy variables when --noproxy is given.
	Getenv func(string) string

	// URLs are the command's arguments, as given: absolute, relative to the
	// profile's API base when they start with "/", or without a scheme.
	URLs []string

	Method    string
	Headers   []string // -H "Name: value" or @file, as given
	Data      []httpcall.Data
	Get       bool
	Form      []string
	RawFields []string // gh's --raw-field
	Fields    []string // gh's --field
	// Uploads are -T's files; the Nth goes with the Nth URL, as in curl.
	Uploads    []string
	URLQuery   []string
	UserAgent  string
	Referer    string
	Compressed bool
	Include    bool
	Head       bool
	// DumpHeader (-D) is where every response's head goes ("-": stdout).
	DumpHeader string
	// Outputs are -o FILE and -O in command-line order; the Nth is where
	// the Nth URL's body goes (curl's pairing), stdout for URLs without one.
	Outputs         []FetchOutput
	OutputDir       string
	CreateDirs      bool
	Silent          bool
	ShowError       bool
	Verbose         bool
	WriteOut        string
	Fail            bool
	FailWithBody    bool
	Location        bool
	MaxRedirs       int
	LocationTrusted bool
	MaxTime         float64
	ConnectTimeout  float64
	Retry           int
	RetryDelay      float64
	RetryMaxTime    float64
	RetryConnRefuse bool
	RetryAllErrors  bool
	Insecure        bool
	CACert          string
	Cert            string
	Key             string
	Proxy           string
	NoProxy         *string // --noproxy, when given
	Resolve         []string
	HTTP11          bool // --http1.1; --http2 (the default) sets it back
	NoAuth          bool
	JQ              string
	Raw             bool
	Pretty          bool
	Parallel        bool // -Z
	ParallelMax     int
	FailEarly       bool
	Paginate        bool // gh's --paginate
	Slurp           bool // gh's --slurp
}

// FetchOutput is one -o FILE (Path) or -O (Remote).
type FetchOutput struct {
	Path   string
	Remote bool
}

// dataFlag appends to one shared list, so that -d, --data-binary,
// --data-raw, --data-urlencode and --json keep their command-line order,
// as curl joins them.
type dataFlag struct {
	kind httpcall.DataKind
	list *[]httpcall.Data
}

func (d dataFlag) String() string { return "" }
func (d dataFlag) Type() string   { return "data" }
func (d dataFlag) Set(v string) error {
	*d.list = append(*d.list, httpcall.Data{Kind: d.kind, Value: v})
	return nil
}

// NewCmdFetch builds `agcurl fetch`. When runF is not nil it is called with
// the parsed and checked options instead of fetchRun, so that tests can
// check the command line without sending anything.
func NewCmdFetch(f *Factory, runF func(*FetchOptions) error) *cobra.Command {
	o := &FetchOptions{IO: f.IO, Getenv: f.Getenv}
	var noProxy string
	c := &cobra.Command{
		Use:   "fetch URL...",
		Short: "Make HTTP requests with the access token attached, curl style",
		Long: `Send HTTP requests, curl style, with "Authorization: Bearer <token>" set from
the session (refreshed first if needed). Options have curl's names and
meanings; docs/curl.md lists them, and the curl options agcurl refuses. The
response body goes to stdout byte for byte when stdout is not a terminal
(unless --color always), streamed and never held in memory; on a terminal, or
piped with --color always, JSON is pretty-printed and coloured; on a terminal
binary bodies are not dumped.

Several URLs are fetched one after another (with -Z, at the same time) over
one connection pool and with one token. As in curl, the Nth -o, -O or -T goes
with the Nth URL, the others write to stdout, -w follows each transfer, and
the exit code is the last transfer's (with --fail-early, the first failure's).

As gh api: --field key=value (true, false, null and integers become JSON;
@file reads the value; key[]=v appends, key[sub]=v nests) and --raw-field
key=value (always a string) make a JSON object body, sent with POST unless -X
says otherwise, or with -G (or -X GET) in the query string. --paginate
follows "Link: <...>; rel=next" headers and writes each page in turn;
--jq runs on each page; --slurp merges the JSON array pages into one array
(at most 64 MiB), on which --jq then runs.

Where the token goes: only to https URLs, or plain http on loopback (with
--resolve, only when the address is on loopback too); when the profile sets
an API base or allowed origins, only to those origins; on redirects (-L)
never to another origin, unless --location-trusted; with --paginate never to
a next page on another origin. It never appears in -v traces, -w output or
error messages. If the API answers 401, the token is refreshed once and the
request sent again (when the body can be replayed).

HTTP/2 is used over TLS when the server offers it (--http2, the default);
--http1.1 turns it off. Plain http is HTTP/1.1 (no h2c upgrade).

A URL starting with "/" is relative to the profile's API base
(agcurl configure --api-base). A URL without a scheme gets https://.

Headers (-i, -I, -D): each response's head is written as it came on the
wire for HTTP/1.x, header order, case and repeats kept, and with -L the head
of every redirect and 1xx answer too, as curl does. HTTP/2 heads are written
as curl writes them ("HTTP/2 200", lower-case names) but with the names
sorted, as are https heads through an http proxy, and heads of transfers run
with -Z: net/http keeps no order there. With several URLs, -D gets every
transfer's heads. On a terminal, control characters from the server are
escaped.

Write-out (-w FORMAT, or -w @FILE): after each transfer, FORMAT is written
with curl 7.88's variables filled in, and \n, \r, \t and %% expanded:
  %{content_type} %{errormsg} %{exitcode} %{filename_effective}
  %{ftp_entry_path} %{http_code} %{http_connect} %{http_version}
  %{local_ip} %{local_port} %{method} %{num_certs} %{num_connects}
  %{num_headers} %{num_redirects} %{num_retries} %{redirect_url}
  %{referer} %{remote_ip} %{remote_port} %{response_code} %{scheme}
  %{size_download} %{size_header} %{size_request} %{size_upload}
  %{speed_download} %{speed_upload} %{time_appconnect} %{time_connect}
  %{time_namelookup} %{time_pretransfer} %{time_redirect}
  %{time_starttransfer} %{time_total} %{url} %{url_effective} %{urlnum}
%header{NAME} is a header of the last response, %{header_json} all of them,
%{json} every variable above; %{stderr} and %{stdout} switch the stream and
%{onerror} ends the output unless the transfer failed. Times are seconds
with 6 decimals, speeds bytes per second. An unknown variable is reported
on stderr and left out, as curl does.`,
		Example: `  agcurl fetch https://api.example.com/v1/me
  agcurl fetch https://api.example.com/v1/orders --json '{"sku":"A1"}'
  agcurl fetch https://api.example.com/v1/orders --field sku=A1 --field qty=2 --field gift=true
  agcurl fetch /v1/orders -G --data-urlencode 'q=red shoes' --jq '.items[].id'
  agcurl fetch /v1/orders --url-query 'q=red shoes' --paginate --jq '.items[].id'
  agcurl fetch https://api.example.com/v1/photos -F 'photo=@cat.jpg;type=image/jpeg' -F caption=cat
  agcurl fetch -fsSL --retry 3 https://api.example.com/v1/report -O
  agcurl fetch -Z -o orders.json -o report.csv /v1/orders /v1/report
  agcurl fetch -s -o /dev/null -w '%{http_code} %{time_total}\n' https://api.example.com/v1/health`,
		Args: minimumArgs(1, "URL"),
		RunE: func(c *cobra.Command, args []string) error {
			o.URLs = args
			if o.ParallelMax < 1 || o.ParallelMax > 300 {
				o.ParallelMax = 50 // as curl does with a value out of range
			}
			if !c.Flags().Changed("user-agent") {
				o.UserAgent = "agcurl/" + currentBuild().Version
			}
			if c.Flags().Changed("noproxy") {
				o.NoProxy = &noProxy
			}
			if err := o.validate(c.Flags().Changed("max-redirs")); err != nil {
				return err
			}
			o.Profile = f.profileFunc()
			if runF != nil {
				return runF(o)
			}
			err := fetchRun(c.Context(), o)
			if err != nil && o.Silent && !o.ShowError && exitCode(err) != ExitUsage {
				return &SilentError{Code: exitCode(err)}
			}
			return err
		},
	}
	fl := c.Flags()
	fl.SortFlags = false
	fl.StringVarP(&o.Method, "request", "X", "", "request method (default GET; POST with data; PUT with -T; HEAD with -I)")
	fl.StringArrayVarP(&o.Headers, "header", "H", nil, "header \"Name: value\" (repeatable; \"Name:\" removes a default, \"Name;\" sends it empty); @file: one a line")
	fl.VarP(dataFlag{httpcall.DataASCII, &o.Data}, "data", "d", "request body; @file reads a file (CR/LF removed), @- stdin; repeats join with &")
	fl.Var(dataFlag{httpcall.DataASCII, &o.Data}, "data-ascii", "same as --data")
	fl.Var(dataFlag{httpcall.DataBinary, &o.Data}, "data-binary", "request body; @file reads a file as is, streamed")
	fl.Var(dataFlag{httpcall.DataRaw, &o.Data}, "data-raw", "request body, with no @file meaning")
	fl.Var(dataFlag{httpcall.DataURLEncode, &o.Data}, "data-urlencode", "URL-encoded data: content, =content, name=content, @file or name@file")
	fl.Var(dataFlag{httpcall.DataJSON, &o.Data}, "json", "JSON body (@file, @-), with Content-Type and Accept: application/json; repeats concatenate")
	fl.BoolVarP(&o.Get, "get", "G", false, "put the data (or fields) in the URL's query string and send a GET")
	fl.StringArrayVarP(&o.Form, "form", "F", nil, "multipart field: name=value, name=@file[;type=T][;filename=N], name=<file")
	fl.StringArrayVar(&o.Fields, "field", nil, "JSON body field key=value, as gh api -F: true, false, null and integers typed; @file reads a value; key[]=v, key[sub]=v nest")
	fl.StringArrayVar(&o.RawFields, "raw-field", nil, "JSON body field key=value with a string value, as gh api -f")
	fl.StringArrayVarP(&o.Uploads, "upload-file", "T", nil, "send this file (or - for stdin) as the body, with PUT; one -T a URL, in order")
	fl.StringArrayVar(&o.URLQuery, "url-query", nil, "add to the URL's query string: --data-urlencode's syntax (name=content, name@file, ...), or +text as it is")
	fl.StringVarP(&o.UserAgent, "user-agent", "A", "", "User-Agent header (default \"agcurl/VERSION\")")
	fl.StringVarP(&o.Referer, "referer", "e", "", "Referer header")
	fl.BoolVar(&o.Compressed, "compressed", false, "ask for a compressed response (gzip, deflate) and decompress it")
	fl.BoolVarP(&o.Include, "include", "i", false, "write the status line and response headers before the body")
	fl.BoolVarP(&o.Head, "head", "I", false, "send HEAD and write the status line and headers only")
	fl.StringVarP(&o.DumpHeader, "dump-header", "D", "", "write every response's headers, as received, to this file (\"-\": stdout)")
	fl.VarP(outputFlag{list: &o.Outputs}, "output", "o", "write the body to this file instead of stdout (\"-\": stdout, even binary); one -o or -O a URL, in order")
	fl.VarPF(outputFlag{list: &o.Outputs, remote: true}, "remote-name", "O", "write the body to a file named like the URL's last path segment").NoOptDefVal = "true"
	fl.StringVar(&o.OutputDir, "output-dir", "", "put -o and -O files in this directory")
	fl.BoolVar(&o.CreateDirs, "create-dirs", false, "create the directories -o and -O files go in")
	fl.BoolVarP(&o.Silent, "silent", "s", false, "no progress, warnings or error messages (with -S: still errors)")
	fl.BoolVarP(&o.ShowError, "show-error", "S", false, "with -s: show errors")
	fl.BoolVarP(&o.Verbose, "verbose", "v", false, "trace requests and responses on stderr (token and cookies redacted)")
	fl.StringVarP(&o.WriteOut, "write-out", "w", "", "write this after each transfer (@file: read it from a file); see \"Write-out\" below")
	fl.BoolVarP(&o.Fail, "fail", "f", false, "exit 22 without writing the body when the status is 400 or above")
	fl.BoolVar(&o.FailWithBody, "fail-with-body", false, "exit 22 when the status is 400 or above, after writing the body")
	fl.BoolVarP(&o.Location, "location", "L", false, "follow redirects (the token only to the same origin)")
	fl.IntVar(&o.MaxRedirs, "max-redirs", 50, "with -L: at most this many redirects (-1: no limit)")
	fl.BoolVar(&o.LocationTrusted, "location-trusted", false, "like -L, and send the token to other origins too")
	fl.Float64VarP(&o.MaxTime, "max-time", "m", 0, "give up on a transfer (each URL, each page) after this many seconds in all")
	fl.Float64Var(&o.ConnectTimeout, "connect-timeout", 0, "give up connecting after this many seconds")
	fl.IntVar(&o.Retry, "retry", 0, "retry this many times on timeouts and HTTP 408, 429, 500, 502, 503, 504")
	fl.Float64Var(&o.RetryDelay, "retry-delay", 0, "seconds between retries (default: Retry-After, else 1s doubling)")
	fl.Float64Var(&o.RetryMaxTime, "retry-max-time", 0, "stop retrying after this many seconds")
	fl.BoolVar(&o.RetryConnRefuse, "retry-connrefused", false, "with --retry: also retry refused connections")
	fl.BoolVar(&o.RetryAllErrors, "retry-all-errors", false, "with --retry: retry on any transfer error (and with -f, any HTTP status >= 400)")
	fl.BoolVarP(&o.Insecure, "insecure", "k", false, "do not verify the server's TLS certificate")
	fl.StringVar(&o.CACert, "cacert", "", "trust the CA certificates in this PEM file")
	fl.StringVarP(&o.Cert, "cert", "E", "", "client certificate (PEM; with its key unless --key) for servers that ask for one")
	fl.StringVar(&o.Key, "key", "", "the --cert certificate's private key (PEM, not encrypted)")
	fl.StringVarP(&o.Proxy, "proxy", "x", "", "use this proxy (default: $HTTPS_PROXY, $HTTP_PROXY, $NO_PROXY)")
	fl.StringVar(&noProxy, "noproxy", "", "comma-separated hosts, domains and CIDRs to reach without a proxy (\"*\": all), instead of $NO_PROXY")
	fl.StringArrayVar(&o.Resolve, "resolve", nil, "HOST:PORT:ADDRESS[,ADDRESS]: connect there for HOST:PORT (the URL, Host and TLS name stay)")
	fl.VarPF(httpVersionFlag{&o.HTTP11, true}, "http1.1", "", "use HTTP/1.1 only").NoOptDefVal = "true"
	fl.VarPF(httpVersionFlag{&o.HTTP11, false}, "http2", "", "use HTTP/2 where the server offers it over TLS (the default)").NoOptDefVal = "true"
	fl.BoolVar(&o.NoAuth, "no-auth", false, "send without a token")
	fl.StringVar(&o.JQ, "jq", "", "filter a JSON response with this jq expression (strings print raw)")
	fl.BoolVar(&o.Raw, "raw", false, "write the body as is, even JSON on a terminal")
	fl.BoolVar(&o.Pretty, "pretty", false, "pretty-print a JSON body, even when not on a terminal")
	fl.BoolVar(&o.Paginate, "paginate", false, "follow Link: <...>; rel=\"next\" headers, writing each page in turn (GET only; the token stays on the first page's origin)")
	fl.BoolVar(&o.Slurp, "slurp", false, "with --paginate: merge the JSON array pages into one array (--jq then runs on it)")
	fl.BoolVarP(&o.Parallel, "parallel", "Z", false, "with several URLs: run the transfers at the same time")
	fl.IntVar(&o.ParallelMax, "parallel-max", 50, "with -Z: at most this many transfers at once (1 to 300)")
	fl.BoolVar(&o.FailEarly, "fail-early", false, "with several URLs: stop at the first failed transfer")
	return c
}

func seconds(s float64) time.Duration {
	return time.Duration(s * float64(time.Second))
}

// validate returns the usage error in o, if any: options that exclude each
// other, bad numbers and a --jq expression that does not compile.
// maxRedirsSet says whether --max-redirs was given. (An unknown -w variable
// is not an error: curl warns when it writes the -w output, and so does
// agcurl.)
func (o *FetchOptions) validate(maxRedirsSet bool) error {
	for _, pair := range [][2]bool{{o.Raw, o.Pretty}, {o.Fail, o.FailWithBody}} {
		if pair[0] && pair[1] {
			return usageErrorf("--raw/--pretty and --fail/--fail-with-body are pairs of which only one may be given")
		}
	}
	for _, u := range o.URLs {
		if err := checkFieldLikeURL(u); err != nil {
			return err
		}
	}
	if len(o.Outputs) > len(o.URLs) {
		return usageErrorf("more -o/-O options (%d) than URLs (%d): each goes with one URL, in order", len(o.Outputs), len(o.URLs))
	}
	if len(o.Uploads) > len(o.URLs) {
		return usageErrorf("more -T options (%d) than URLs (%d): each goes with one URL, in order", len(o.Uploads), len(o.URLs))
	}
	if err := o.checkPaginate(); err != nil {
		return err
	}
	if o.JQ != "" && (o.Raw || o.Pretty) {
		return usageErrorf("--jq cannot be combined with --raw or --pretty")
	}
	for name, v := range map[string]float64{"--max-time": o.MaxTime, "--connect-timeout": o.ConnectTimeout, "--retry-delay": o.RetryDelay, "--retry-max-time": o.RetryMaxTime} {
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return usageErrorf("%s must be a non-negative number of seconds", name)
		}
	}
	if o.Retry < 0 {
		return usageErrorf("--retry must not be negative")
	}
	if maxRedirsSet && !o.Location && !o.LocationTrusted {
		return usageErrorf("--max-redirs needs -L")
	}
	if o.JQ != "" {
		if _, err := httpcall.CompileJQ(o.JQ); err != nil {
			return err
		}
	}
	return nil
}

// removesAuthorization reports whether headers hold -H 'Authorization:',
// which removes the header, as curl does: no token is sent.
func removesAuthorization(headers []string) bool {
	for _, h := range headers {
		if name, value, ok := strings.Cut(h, ":"); ok && strings.EqualFold(strings.TrimSpace(name), "Authorization") && strings.TrimSpace(value) == "" {
			return true
		}
	}
	return false
}

// fetchEnv is what the transfers of one fetch share.
type fetchEnv struct {
	headers  []string // -H, with @file read
	base     string   // the profile's API base
	jq       *gojq.Code
	writeOut string // -w, with @file read
	open     httpcall.Opener
	sender   *httpcall.Sender
	// rec records the heads as they came on the wire and -w's facts;
	// nil with -Z.
	rec *httpcall.Recorder
	// dump is -D's writer, for every transfer's heads; nil without -D.
	dump io.Writer
	// dumpTTY says dump is a terminal: -D - on one, or a file name that
	// is one (-D /dev/stderr, -D /dev/tty).
	dumpTTY bool
}

// fetchRun sends the requests o describes, with the profile's token unless
// o says not to, and writes the responses as curl does.
func fetchRun(ctx context.Context, o *FetchOptions) error {
	headers, err := httpcall.ExpandHeaders(o.Headers, httpcall.OSOpener{Stdin: o.IO.In})
	if err != nil {
		return err
	}
	noAuth := o.NoAuth || removesAuthorization(headers)
	var jq *gojq.Code
	if o.JQ != "" {
		var err error
		if jq, err = httpcall.CompileJQ(o.JQ); err != nil {
			return err
		}
	}
	writeOut := o.WriteOut
	if writeOut != "" {
		var err error
		if writeOut, err = writeOutFormat(o.IO.In, writeOut); err != nil {
			return err
		}
	}

	// The profile is needed for relative URLs and the token; with --no-auth
	// and absolute URLs it is not read at all.
	var p *profileContext
	if !noAuth || slices.ContainsFunc(o.URLs, func(u string) bool { return strings.HasPrefix(u, "/") }) {
		var err error
		if p, err = o.Profile(); err != nil {
			return err
		}
	}
	env := &fetchEnv{headers: headers, jq: jq, writeOut: writeOut, open: httpcall.OSOpener{Stdin: o.IO.In},
		rec: &httpcall.Recorder{}}
	if p != nil && p.profile != nil {
		env.base = p.profile.APIBase
	}
	if o.DumpHeader != "" {
		// Created (emptied) before anything is sent, as curl does.
		name := o.DumpHeader
		if name != "-" && o.CreateDirs {
			if err := os.MkdirAll(filepath.Dir(name), 0o750); err != nil {
				return &httpcall.WriteError{Err: fmt.Errorf("cannot create the directory for %s: %w", name, err)}
			}
		}
		dump, err := httpcall.OpenDumpHeader(name, o.IO.Out)
		if err != nil {
			return err
		}
		defer dump.Close()
		env.dump = dump
		env.dumpTTY = name == "-" && o.IO.OutTTY
		if f, ok := dump.(*os.File); ok {
			env.dumpTTY = isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
		}
	}
	targets := o.targets()
	if len(targets) > 1 {
		return o.fetchMany(ctx, env, targets, p, noAuth)
	}
	req, output, err := o.prepare(env, targets[0])
	if err != nil {
		return err
	}
	if env.sender, err = o.newSender(ctx, p, noAuth); err != nil {
		closeBody(req)
		return err
	}
	if o.Paginate {
		return o.paginate(ctx, env, req, output, targets[0])
	}
	_, err = o.transfer(ctx, env, req, output, targets[0], nil)
	return err
}

// prepare builds the request for t and finds where its body goes.
func (o *FetchOptions) prepare(env *fetchEnv, t fetchTarget) (*http.Request, string, error) {
	req, err := httpcall.Build(httpcall.Options{
		Method:     o.Method,
		URL:        t.URL,
		BaseURL:    env.base,
		Headers:    env.headers,
		Data:       o.Data,
		Get:        o.Get,
		Form:       o.Form,
		RawFields:  o.RawFields,
		Fields:     o.Fields,
		URLQuery:   o.URLQuery,
		UploadFile: t.Upload,
		Head:       o.Head,
		UserAgent:  o.UserAgent,
		Referer:    o.Referer,
		Compressed: o.Compressed,
	}, env.open)
	if err != nil {
		return nil, "", err
	}
	output := t.Output
	if t.Remote {
		if output, err = remoteName(req.URL); err != nil {
			closeBody(req)
			return nil, "", err
		}
	}
	if output, err = prepareOutput(o, output); err != nil {
		closeBody(req)
		return nil, "", err
	}
	return req, output, nil
}

// remoteName is -O's file name: the URL's last path segment.
func remoteName(u *url.URL) (string, error) {
	name := path.Base(u.Path)
	if name == "" || name == "/" || name == "." {
		return "", usageErrorf("-O: the URL has no file name to save to; use -o FILE")
	}
	return name, nil
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// newSender returns the Sender for o's transfers: its client, and the
// profile's token unless noAuth.
func (o *FetchOptions) newSender(ctx context.Context, p *profileContext, noAuth bool) (*httpcall.Sender, error) {
	s := &httpcall.Sender{
		FollowRedirects:  o.Location || o.LocationTrusted,
		MaxRedirects:     o.MaxRedirs,
		LocationTrusted:  o.LocationTrusted,
		Retries:          o.Retry,
		RetryDelay:       seconds(o.RetryDelay),
		RetryMaxTime:     seconds(o.RetryMaxTime),
		RetryConnRefused: o.RetryConnRefuse,
		RetryAllErrors:   o.RetryAllErrors,
		FailOnHTTPError:  o.Fail || o.FailWithBody,
	}
	if !o.Silent {
		s.Warn = func(msg string) { fmt.Fprintln(o.IO.ErrOut, msg) }
	}
	if !noAuth {
		ts, err := p.tokens(ctx)
		if err != nil {
			return nil, err
		}
		s.Tokens = ts
		s.Policy = tokenPolicy(p)
	}
	if o.Verbose {
		s.Tracer = httpcall.VerboseTracer{W: o.IO.ErrOut}
	}
	var err error
	s.Client, err = httpcall.NewClient(httpcall.ClientOptions{
		Insecure: o.Insecure, CACertFile: o.CACert, Proxy: o.Proxy, HTTP11: o.HTTP11,
		ConnectTimeout: seconds(o.ConnectTimeout),
		NoProxy:        o.NoProxy, Resolve: o.Resolve, Cert: o.Cert, Key: o.Key, Getenv: o.Getenv,
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// transfer sends req, writes the response to output (stdout when empty),
// or to sink when not nil, and then -w, as curl does for one transfer;
// given is the URL as given, and its place among the command's. The caller
// may read the result's response headers; its body is closed.
func (o *FetchOptions) transfer(ctx context.Context, env *fetchEnv, req *http.Request, output string, given fetchTarget, sink *pageSink) (*httpcall.Result, error) {
	if o.MaxTime > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, seconds(o.MaxTime))
		defer cancel()
	}
	writeOut := env.writeOut

	start := time.Now()
	sendCtx := ctx
	if env.rec != nil {
		sendCtx = env.rec.Install(ctx, env.sender)
	}
	res, err := env.sender.Do(sendCtx, req)
	var transfer *httpcall.Transfer
	if env.rec != nil {
		transfer = env.rec.Transfer(res)
	}
	var resp *http.Response
	if err != nil {
		closeBody(req)
	} else {
		resp = res.Response
	}
	// Written even when the transfer failed: the heads of the redirects
	// it followed go to -i and -D, as curl writes them.
	out := httpcall.Output{
		Stdout:       o.IO.Out,
		StdoutTTY:    o.IO.OutTTY,
		Colors:       jsonColors(o.IO.ColorOut),
		Include:      o.Include || o.Head,
		Transfer:     transfer,
		OutputPath:   output,
		Fail:         o.Fail,
		FailWithBody: o.FailWithBody,
		Compressed:   o.Compressed,
		JQ:           env.jq,
	}
	if env.dump != nil {
		out.DumpHeader, out.DumpHeaderTTY = env.dump, env.dumpTTY
	}
	switch {
	case o.Raw:
		out.Style = httpcall.StyleRaw
	case o.Pretty:
		out.Style = httpcall.StylePretty
	}
	if output != "" && output != "-" && o.IO.ErrTTY && !o.Silent {
		out.Progress = o.IO.ErrOut
	}
	sink.apply(&out)
	st, werr := httpcall.WriteResponse(out, resp)
	if err == nil {
		err = werr
	}
	if ctx.Err() == context.DeadlineExceeded && err != nil {
		err = &httpcall.TransportError{Code: 28, Err: fmt.Errorf("operation timed out after %s", seconds(o.MaxTime))}
	}
	if writeOut != "" {
		v := httpcall.WriteOutVars{
			Transfer: transfer, Response: resp, URL: given.URL, URLNum: given.Num, URLEffective: req.URL.String(), Method: req.Method,
			Referer: o.Referer, Filename: output, SizeDownload: st.SizeDownload, SizeHeader: st.SizeHeader,
			Start: start, End: time.Now(), ExitCode: exitCode(err),
		}
		if res != nil {
			v.NumRedirects, v.NumRetries, v.SizeUpload = res.Redirects, res.Retries, res.UploadSize
			if res.URL != nil {
				v.URLEffective, v.Method = res.URL.String(), res.Method
			}
		}
		if err != nil {
			v.ErrorMsg = termsafe.String(withRemedy(err).Error())
		}
		httpcall.WriteOut(httpcall.WriteOutStreams{
			Stdout: o.IO.Out, Stderr: o.IO.ErrOut, StdoutTTY: o.IO.OutTTY, StderrTTY: o.IO.ErrTTY,
			Warn: func(msg string) { fmt.Fprintln(o.IO.ErrOut, "agcurl: "+msg) },
		}, writeOut, v)
	}
	return res, err
}

// writeOutFormat reads -w @file and -w @- (from stdin) as curl does.
func writeOutFormat(stdin io.Reader, v string) (string, error) {
	name, ok := strings.CutPrefix(v, "@")
	if !ok {
		return v, nil
	}
	r, err := (httpcall.OSOpener{Stdin: stdin}).Open(name)
	if err != nil {
		return "", &httpcall.ReadError{Err: err}
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, 1<<20))
	if err != nil {
		return "", &httpcall.ReadError{Err: err}
	}
	return string(b), nil
}

// tokenPolicy builds the profile's token policy: the API base's origin and
// the allowed origins, when any is set.
func tokenPolicy(p *profileContext) httpcall.TokenPolicy {
	var allowed []string
	if p.profile == nil {
		return httpcall.TokenPolicy{}
	}
	if base := p.profile.APIBase; base != "" {
		if u, err := httpcall.ResolveURL(base, ""); err == nil {
			allowed = append(allowed, httpcall.Origin(u))
		}
	}
	for _, a := range p.profile.AllowedOrigins {
		if u, err := url.Parse(a); err == nil && u.Host != "" {
			allowed = append(allowed, httpcall.Origin(u))
		}
	}
	return httpcall.TokenPolicy{AllowedOrigins: allowed, Profile: p.name}
}
