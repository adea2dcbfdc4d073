package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/agcurl/agcurl/httpcall"
)

// maxSlurp caps what --slurp holds: all pages together.
const maxSlurp = 64 << 20

// pageSink takes a page's body in place of the output: --paginate's -o
// file, opened once for all pages, or --slurp's buffer (raw: without
// --jq, which --slurp applies to the whole).
type pageSink struct {
	w   io.Writer
	raw bool
}

// apply points out at the sink: the bytes as they came (or through --jq),
// not pretty-printed, no progress bar.
func (s *pageSink) apply(out *httpcall.Output) {
	if s == nil {
		return
	}
	out.Stdout, out.StdoutTTY, out.OutputPath = s.w, false, ""
	out.Style, out.Progress, out.Colors = httpcall.StyleRaw, nil, nil
	if s.raw {
		out.JQ = nil
	}
}

// checkPaginate returns the usage errors of --paginate and --slurp, as gh
// api has them: pages are fetched with GET, and --slurp needs --paginate.
func (o *FetchOptions) checkPaginate() error {
	if o.Slurp && !o.Paginate {
		return usageErrorf("--slurp needs --paginate")
	}
	if !o.Paginate {
		return nil
	}
	fieldsInBody := len(o.Fields)+len(o.RawFields) > 0 && !o.Get && !strings.EqualFold(o.Method, http.MethodGet)
	body := len(o.Data) > 0 && !o.Get || fieldsInBody || len(o.Form) > 0 || len(o.Uploads) > 0
	if o.Method != "" && !strings.EqualFold(o.Method, http.MethodGet) || body || o.Head {
		return usageErrorf("--paginate follows GET requests only: no -X other than GET, -I, -T, -F, or -d/--json/fields without -G")
	}
	if o.Slurp && o.Include {
		return usageErrorf("--slurp cannot be combined with -i: it writes one JSON array")
	}
	return nil
}

// paginate makes the transfer of req, then of each next page its response
// links to (Link: <...>; rel="next", RFC 8288), until one links to none.
// Each page is a transfer of its own (-w follows each), written to the
// output as it comes; with --slurp the JSON pages are merged into one
// array (array pages' elements in order), written at the end. A next page on another origin than req's is
// not followed when a token or an Authorization header goes with the
// request, nor is a page already fetched or a next link that is not an
// http(s) URL; these end it with a *httpcall.PageLinkError. So does a page that is not 2xx, without error.
func (o *FetchOptions) paginate(ctx context.Context, env *fetchEnv, req *http.Request, output string, given fetchTarget) (err error) {
	var sink *pageSink
	var slurp *slurpBuffer
	switch {
	case o.Slurp:
		slurp = &slurpBuffer{}
		sink = &pageSink{w: slurp, raw: true}
	case output != "" && output != "-":
		f, err := os.Create(output)
		if err != nil {
			closeBody(req)
			return &httpcall.WriteError{Err: fmt.Errorf("cannot write output file: %w", err)}
		}
		defer func() {
			if cerr := f.Close(); err == nil && cerr != nil {
				err = &httpcall.WriteError{Err: fmt.Errorf("cannot write output file: %w", cerr)}
			}
		}()
		sink = &pageSink{w: f}
	}
	first := req.URL
	guarded := env.sender.Tokens != nil || req.Header.Get("Authorization") != ""
	seen := map[string]bool{first.String(): true}
	for page := 1; ; page++ {
		res, err := o.transfer(ctx, env, req, output, given, sink)
		if err != nil {
			if slurp != nil && errors.Is(err, errSlurpTooLarge) {
				return &httpcall.WriteError{Err: fmt.Errorf("--slurp: the pages are larger than %d MiB in all; without --slurp they are streamed", maxSlurp>>20)}
			}
			return err
		}
		if slurp != nil {
			if err := slurp.endPage(page); err != nil {
				return err
			}
		}
		if res.Response.StatusCode/100 != 2 {
			break
		}
		next, err := httpcall.NextLink(res.Response.Header, res.URL)
		if err != nil {
			return err
		}
		if next == nil {
			break
		}
		if guarded && httpcall.Origin(next) != httpcall.Origin(first) {
			return &httpcall.PageLinkError{Origin: httpcall.Origin(next),
				Reason: "another origin than the first page's, and the request carries a token or an Authorization header"}
		}
		if seen[next.String()] {
			return &httpcall.PageLinkError{Origin: httpcall.Origin(next), Reason: "it links back to a page already fetched"}
		}
		seen[next.String()] = true
		nreq, err := http.NewRequestWithContext(ctx, http.MethodGet, next.String(), nil)
		if err != nil {
			return err
		}
		nreq.Header = req.Header.Clone()
		if next.Host == req.URL.Host {
			nreq.Host = req.Host
		}
		req = nreq
	}
	if slurp == nil {
		return nil
	}
	return o.writeSlurp(env, output, slurp.array())
}

// writeSlurp writes --slurp's array as a JSON response is written.
func (o *FetchOptions) writeSlurp(env *fetchEnv, output string, array []byte) error {
	out := httpcall.Output{
		Stdout:     o.IO.Out,
		StdoutTTY:  o.IO.OutTTY,
		Colors:     jsonColors(o.IO.ColorOut),
		OutputPath: output,
		JQ:         env.jq,
	}
	switch {
	case o.Raw:
		out.Style = httpcall.StyleRaw
	case o.Pretty:
		out.Style = httpcall.StylePretty
	}
	resp := &http.Response{
		StatusCode: http.StatusOK, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(bytes.NewReader(array)),
		ContentLength: int64(len(array)),
	}
	_, err := httpcall.WriteResponse(out, resp)
	return err
}

var errSlurpTooLarge = errors.New("--slurp: too large")

// slurpBuffer gathers --slurp's pages, at most maxSlurp bytes in all.
type slurpBuffer struct {
	pages [][]byte
	cur   bytes.Buffer
	total int
}

func (s *slurpBuffer) Write(p []byte) (int, error) {
	if s.total+len(p) > maxSlurp {
		return 0, errSlurpTooLarge
	}
	s.total += len(p)
	return s.cur.Write(p)
}

// endPage keeps the page just written, which must be JSON; an empty one
// (204 No Content) is left out.
func (s *slurpBuffer) endPage(n int) error {
	b := bytes.TrimSpace(s.cur.Bytes())
	defer s.cur.Reset()
	if len(b) == 0 {
		return nil
	}
	if !json.Valid(b) {
		return &httpcall.JQError{Err: fmt.Errorf("--slurp: page %d is not JSON", n)}
	}
	s.pages = append(s.pages, bytes.Clone(b))
	return nil
}

// array is the pages as one JSON array: the elements of the pages that are
// arrays (a paginated list's pages) merged in order, and any other page as
// one element of its own.
func (s *slurpBuffer) array() []byte {
	items := make([][]byte, 0, len(s.pages))
	for _, p := range s.pages {
		if p[0] == '[' { // valid JSON, trimmed: an array
			if inner := bytes.TrimSpace(p[1 : len(p)-1]); len(inner) > 0 {
				items = append(items, inner)
			}
			continue
		}
		items = append(items, p)
	}
	return append(append([]byte{'['}, bytes.Join(items, []byte{','})...), ']', '\n')
}
