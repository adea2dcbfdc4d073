package cmd

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/agcurl/agcurl/httpcall"
)

type fetchOptions struct {
	Method     string
	Headers    []string
	Data       []string
	DataBinary []string
	DataRaw    []string
	Include    bool
	Output     string
	Silent     bool
	ShowError  bool
	Verbose    bool
	Fail       bool
	NoAuth     bool
	UserAgent  string
	dataOrder  []httpcall.Data
}

func newFetchCmd(f *Factory, g *globalOptions) *cobra.Command {
	o := &fetchOptions{}
	c := &cobra.Command{
		Use:   "fetch URL",
		Short: "Make an HTTP request with the access token attached, curl style",
		Long: `Send one HTTP request, curl style, with "Authorization: Bearer <token>" set from
the session (refreshed first if needed). The response body goes to stdout
byte for byte and is streamed, never held in memory; -i adds the status line
and headers, -v traces the exchange on stderr with the token redacted.

The token is attached only to https URLs, or plain http on loopback. It is
never sent to a redirect target: redirects are not followed. If the API
answers 401, the token is refreshed once and the request sent again (when its
body can be replayed). A URL without a scheme gets https://.`,
		Example: `  agcurl fetch https://api.example.com/v1/me
  agcurl fetch https://api.example.com/v1/orders -X POST -H 'Content-Type: application/json' -d '{"sku":"A1"}'
  agcurl fetch https://api.example.com/v1/upload --data-binary @photo.jpg -H 'Content-Type: image/jpeg'
  agcurl fetch -fsS https://api.example.com/v1/report -o report.csv
  agcurl fetch -v https://api.example.com/v1/me 2>trace.txt`,
		Args: exactArgs(1, "URL"),
		RunE: func(c *cobra.Command, args []string) error {
			err := fetchRun(c.Context(), f, g, o, args[0])
			if err != nil && o.Silent && !o.ShowError && exitCode(err) != ExitUsage {
				return &SilentError{Code: exitCode(err)}
			}
			return err
		},
	}
	fl := c.Flags()
	fl.SortFlags = false
	fl.StringVarP(&o.Method, "request", "X", "", "request method (default GET, or POST with data)")
	fl.StringArrayVarP(&o.Headers, "header", "H", nil, "header \"Name: value\" (repeatable; \"Name:\" removes a default header)")
	fl.StringArrayVarP(&o.Data, "data", "d", nil, "request body; @file reads a file (CR/LF removed), @- stdin (repeatable, joined with &)")
	fl.StringArrayVar(&o.DataBinary, "data-binary", nil, "request body; @file reads a file as is")
	fl.StringArrayVar(&o.DataRaw, "data-raw", nil, "request body, with no @file meaning")
	fl.BoolVarP(&o.Include, "include", "i", false, "write the status line and response headers before the body")
	fl.StringVarP(&o.Output, "output", "o", "", "write the body to this file instead of stdout")
	fl.BoolVarP(&o.Silent, "silent", "s", false, "no error messages (with -S: still show errors)")
	fl.BoolVarP(&o.ShowError, "show-error", "S", false, "with -s: show errors")
	fl.BoolVarP(&o.Verbose, "verbose", "v", false, "trace request and response headers on stderr (token redacted)")
	fl.BoolVarP(&o.Fail, "fail", "f", false, "exit 22 without writing the body when the status is 400 or above")
	fl.BoolVar(&o.NoAuth, "no-auth", false, "send without a token")
	fl.StringVarP(&o.UserAgent, "user-agent", "A", "agcurl/"+version, "User-Agent header")
	return c
}

// data returns the data arguments in command-line order per kind. pflag
// keeps each flag's values in order; curl joins them all in order given,
// which for mixed kinds is approximated as -d, then --data-binary, then
// --data-raw.
func (o *fetchOptions) data() []httpcall.Data {
	var out []httpcall.Data
	for _, v := range o.Data {
		out = append(out, httpcall.Data{Kind: httpcall.DataASCII, Value: v})
	}
	for _, v := range o.DataBinary {
		out = append(out, httpcall.Data{Kind: httpcall.DataBinary, Value: v})
	}
	for _, v := range o.DataRaw {
		out = append(out, httpcall.Data{Kind: httpcall.DataRaw, Value: v})
	}
	return out
}

func fetchRun(ctx context.Context, f *Factory, g *globalOptions, o *fetchOptions, rawURL string) error {
	req, err := httpcall.Build(httpcall.Options{
		Method:    o.Method,
		URL:       rawURL,
		Headers:   o.Headers,
		Data:      o.data(),
		UserAgent: o.UserAgent,
	}, httpcall.OSOpener{Stdin: f.IO.In})
	if err != nil {
		return err
	}
	var ts httpcall.TokenSource
	if !o.NoAuth {
		p, err := resolveProfile(f, g)
		if err != nil {
			return err
		}
		r, err := p.refresher()
		if err != nil {
			return err
		}
		ts = refresherTokens{r}
	}
	var tr httpcall.Tracer
	if o.Verbose {
		tr = httpcall.VerboseTracer{W: f.IO.ErrOut}
	}
	resp, err := httpcall.Do(ctx, f.FetchClient, req, ts, tr)
	if err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return err
	}
	return httpcall.WriteResponse(httpcall.Output{
		Stdout:     f.IO.Out,
		Include:    o.Include,
		OutputPath: o.Output,
		Fail:       o.Fail,
	}, resp)
}
