package cmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/agcurl/agcurl/httpcall"
	"github.com/agcurl/agcurl/internal/termsafe"
)

// minimumArgs is cobra.MinimumNArgs with a usage error.
func minimumArgs(n int, what string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) < n {
			return usageErrorf("%s: missing %s", c.Name(), what)
		}
		return nil
	}
}

// outputFlag is -o FILE, or -O (remote): each gives the output of the next
// URL that has none, as curl pairs them.
type outputFlag struct {
	list   *[]FetchOutput
	remote bool
}

func (f outputFlag) String() string { return "" }
func (f outputFlag) Type() string {
	if f.remote {
		return "bool"
	}
	return "string"
}
func (f outputFlag) Set(v string) error {
	if !f.remote {
		*f.list = append(*f.list, FetchOutput{Path: v})
		return nil
	}
	on, err := strconv.ParseBool(v)
	if err == nil && on {
		*f.list = append(*f.list, FetchOutput{Remote: true})
	}
	return err
}

// fetchTarget is one URL and what goes with it.
type fetchTarget struct {
	URL    string
	Output string // -o; "" is stdout
	Remote bool   // -O
	Upload string // -T
	Num    int    // the URL's index among the command's, from 0 (-w's urlnum)
}

// targets pairs the URLs with -o/-O and -T in order, as curl does.
func (o *FetchOptions) targets() []fetchTarget {
	t := make([]fetchTarget, len(o.URLs))
	for i, u := range o.URLs {
		t[i].URL, t[i].Num = u, i
		if i < len(o.Outputs) {
			t[i].Output, t[i].Remote = o.Outputs[i].Path, o.Outputs[i].Remote
		}
		if i < len(o.Uploads) {
			t[i].Upload = o.Uploads[i]
		}
	}
	return t
}

// checkFieldLikeURL refuses an argument such as "a=1" (no scheme, an "=" in
// the host): gh api's -f key=value, where -f is curl's --fail.
func checkFieldLikeURL(u string) error {
	if strings.Contains(u, "://") || strings.HasPrefix(u, "/") {
		return nil
	}
	host, _, _ := strings.Cut(u, "/")
	host, _, _ = strings.Cut(host, "?")
	if strings.Contains(host, "=") {
		return usageErrorf("%q is not a URL: for a body field use --raw-field or --field (-f and -F are curl's --fail and --form)", u)
	}
	return nil
}

// fetchMany makes the transfers of several URLs, one after another or,
// with -Z, up to --parallel-max at once, over one client and connection
// pool and with one token. Every URL is checked first, and for the token
// policy too, so that a bad one stops all before anything is sent. A
// transfer that fails is reported when it does, and the others go on
// (unless --fail-early); the exit code is curl's: the last transfer's,
// or with -Z the last failure's. Errors that no other URL would escape
// (login, usage, an interrupt) end the whole fetch.
func (o *FetchOptions) fetchMany(ctx context.Context, env *fetchEnv, targets []fetchTarget, p *profileContext, noAuth bool) error {
	env.open = &replayStdin{in: o.IO.In}
	urls := make([]*url.URL, len(targets))
	for i, t := range targets {
		u, err := httpcall.ResolveURL(t.URL, env.base)
		if err != nil {
			return err
		}
		if t.Remote {
			if _, err := remoteName(u); err != nil {
				return err
			}
		}
		urls[i] = u
	}
	s, err := o.newSender(ctx, p, noAuth)
	if err != nil {
		return err
	}
	env.sender = s
	if s.Tokens != nil {
		for _, u := range urls {
			if err := s.Policy.Check(u); err != nil {
				return err
			}
		}
	}
	if s.Tokens != nil {
		s.Tokens = &httpcall.SharedTokens{Source: s.Tokens}
	}
	if o.Parallel {
		return o.fetchParallel(ctx, env, targets)
	}
	var last error
	for _, t := range targets {
		err := o.fetchOne(ctx, env, t)
		if err != nil && !transferFailure(err) {
			return err
		}
		if err != nil {
			o.report(err)
			if o.FailEarly {
				return &SilentError{Code: exitCode(err)}
			}
		}
		last = err
	}
	if last != nil {
		return &SilentError{Code: exitCode(last)}
	}
	return nil
}

// fetchOne is one transfer of several.
func (o *FetchOptions) fetchOne(ctx context.Context, env *fetchEnv, t fetchTarget) error {
	req, output, err := o.prepare(env, t)
	if err != nil {
		return err
	}
	if o.Paginate {
		return o.paginate(ctx, env, req, output, t)
	}
	_, err = o.transfer(ctx, env, req, output, t, nil)
	return err
}

// fetchParallel runs the transfers -Z style. Output from transfers that
// write to stdout at the same time interleaves a write at a time, as with
// curl; progress bars are left out.
func (o *FetchOptions) fetchParallel(ctx context.Context, env *fetchEnv, targets []fetchTarget) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	streams := *o.IO
	var outMu sync.Mutex
	streams.Out = &lockedWriter{w: o.IO.Out, mu: &outMu}
	streams.ErrOut = &lockedWriter{w: o.IO.ErrOut, mu: &outMu}
	streams.ErrTTY = false
	po := *o
	po.IO = &streams
	s := *env.sender
	if s.Warn != nil {
		s.Warn = func(msg string) { fmt.Fprintln(streams.ErrOut, msg) }
	}
	if s.Tracer != nil {
		s.Tracer = httpcall.VerboseTracer{W: streams.ErrOut}
	}
	pe := *env
	pe.sender = &s
	// A Recorder follows one exchange at a time: -Z's heads are rebuilt
	// from the responses instead, and -D's writes are serialised.
	pe.rec = nil
	if pe.dump != nil {
		pe.dump = &lockedWriter{w: pe.dump, mu: &outMu}
	}
	env = &pe

	var (
		mu       sync.Mutex
		fatal    error
		lastFail error
		stopped  bool
		wg       sync.WaitGroup
	)
	slots := make(chan struct{}, o.ParallelMax)
launch:
	for _, t := range targets {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			break launch
		}
		mu.Lock()
		stop := stopped
		mu.Unlock()
		if stop {
			<-slots
			break
		}
		wg.Add(1)
		go func(t fetchTarget) {
			defer wg.Done()
			defer func() { <-slots }()
			err := po.fetchOne(ctx, env, t)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
			case stopped:
				// Cancelled by the failure that stopped the others.
			case !transferFailure(err):
				fatal, stopped = err, true
				cancel()
			default:
				po.report(err)
				lastFail = err
				if o.FailEarly {
					stopped = true
					cancel()
				}
			}
		}(t)
	}
	wg.Wait()
	if fatal != nil {
		return fatal
	}
	if lastFail != nil {
		return &SilentError{Code: exitCode(lastFail)}
	}
	return ctx.Err()
}

// transferFailure says whether err is one transfer's failure, after which
// the other URLs are still tried, as curl does: not one that they would
// all have (login, usage, the token policy) or an interrupt.
func transferFailure(err error) bool {
	var (
		transport *httpcall.TransportError
		httpErr   *httpcall.HTTPError
		writeErr  *httpcall.WriteError
		readErr   *httpcall.ReadError
		redirs    *httpcall.TooManyRedirectsError
		jqErr     *httpcall.JQError
		pageErr   *httpcall.PageLinkError
	)
	return errors.As(err, &transport) || errors.As(err, &httpErr) || errors.As(err, &writeErr) ||
		errors.As(err, &readErr) || errors.As(err, &redirs) || errors.As(err, &jqErr) || errors.As(err, &pageErr)
}

// report prints one transfer's failure as Run prints an error, unless -s
// (without -S) keeps it quiet.
func (o *FetchOptions) report(err error) {
	if o.Silent && !o.ShowError {
		return
	}
	fmt.Fprintf(o.IO.ErrOut, "agcurl: %s\n", termsafe.String(withRemedy(err).Error()))
}

// lockedWriter serialises writes to w.
type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// maxStdinReplay caps standard input held to send it to several URLs.
const maxStdinReplay = 64 << 20

// replayStdin opens files as httpcall.OSOpener does, but reads standard
// input once, when first opened, and gives each opener the same bytes,
// since curl reads -d @- once for all URLs. Files are still streamed.
type replayStdin struct {
	in   io.Reader
	once sync.Once
	data []byte
	err  error
}

func (r *replayStdin) Open(name string) (io.ReadCloser, error) {
	if name != "-" {
		return httpcall.OSOpener{}.Open(name)
	}
	if err := r.read(); err != nil {
		return nil, err
	}
	return io.NopCloser(bytes.NewReader(r.data)), nil
}

// Size is standard input's size, once read, so that each URL gets it with
// a Content-Length, as curl sends -d @-.
func (r *replayStdin) Size(name string) int64 {
	if name != "-" {
		return httpcall.OSOpener{}.Size(name)
	}
	if r.read() != nil {
		return -1 // Open reports the error
	}
	return int64(len(r.data))
}

func (r *replayStdin) read() error {
	r.once.Do(func() {
		if r.in == nil {
			return
		}
		r.data, r.err = io.ReadAll(io.LimitReader(r.in, maxStdinReplay+1))
		if r.err == nil && len(r.data) > maxStdinReplay {
			r.err = fmt.Errorf("standard input is larger than %d MiB, too large to send to several URLs", maxStdinReplay>>20)
		}
	})
	return r.err
}
