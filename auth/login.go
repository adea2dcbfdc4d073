package auth

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/oauth2"

	"github.com/agcurl/agcurl/keychain"
)

// DefaultScope is what Authgear's SDKs request: an ID token, a refresh token
// and access to the user's own account.
const DefaultScope = "openid offline_access https://authgear.com/scopes/full-access"

// DefaultRedirectURI is the loopback redirect URI to register for a Native
// App client. Authgear matches redirect URIs exactly, port included, so the
// default port is fixed.
const DefaultRedirectURI = "http://127.0.0.1:53682/callback"

// DefaultLoginTimeout is how long Login waits for the browser to come back.
const DefaultLoginTimeout = 5 * time.Minute

// Browser opens a URL for the user.
type Browser interface {
	Open(url string) error
}

// BrowserLauncher is a Browser whose Open starts a program that may fail
// after Open returns (a $BROWSER command). Launch starts it as Open does
// and returns a channel that receives, once, the program's failure when it
// exits unsuccessfully, or nil when it exits successfully. Login stops
// waiting at once when the program fails.
type BrowserLauncher interface {
	Browser
	Launch(url string) (exited <-chan error, err error)
}

// BrowserExitError reports that the browser program exited with a failure
// before the sign-in finished: no redirect will come from it.
type BrowserExitError struct{ Err error }

func (e *BrowserExitError) Error() string {
	return "the browser failed before the sign-in finished: " + e.Err.Error()
}

func (e *BrowserExitError) Unwrap() error { return e.Err }

// LoginOptions configures one interactive login.
type LoginOptions struct {
	Scope       string // space separated; DefaultScope when empty
	RedirectURI string // DefaultRedirectURI when empty
	// RandomPort listens on a port chosen by the OS and sends that port in
	// redirect_uri, for providers that match loopback redirects on any port.
	RandomPort bool

	// Browser opens the authorization URL; nil means the user opens it by hand.
	Browser Browser
	// ShowURL is called with the authorization URL before waiting, so it can
	// be printed for the user. Required.
	ShowURL func(authURL string, browserErr error)

	Prompt      string
	LoginHint   string
	UILocales   string
	Signup      bool
	SSO         bool
	MaxAge      string
	IDTokenHint string

	// Audience, when not empty, is sent as the audience parameter (space
	// separated), which Auth0 and Ory Hydra read to choose the API the
	// access token is for.
	Audience []string
	// ExtraParams are added to the authorization request as they are
	// (access_type=offline for Google, say); keys agcurl sets itself are
	// refused (see CheckExtraParams).
	ExtraParams map[string]string

	// Paste, when not nil, is read line by line for the final redirect URL
	// (or just the code) pasted by a user whose browser cannot reach the
	// loopback listener; state is checked as for the redirect. Rejected
	// lines are reported to PasteRejected.
	Paste         io.Reader
	PasteRejected func(reason string)

	// Finish, when not nil, is called with the verified session before the
	// browser is told the outcome (to save it): the page says "signed in"
	// only when Finish succeeded, and shows the failure otherwise.
	Finish func(*keychain.Session) error

	Timeout time.Duration // DefaultLoginTimeout when zero
}

// ProviderError is an error the provider returned to the redirect URI
// (error=access_denied and the like), or from its token endpoint.
type ProviderError struct {
	Code        string
	Description string
}

func (e *ProviderError) Error() string {
	if e.Description != "" {
		return fmt.Sprintf("the provider said %q (%s)", e.Description, strconv.Quote(e.Code)[1:len(strconv.Quote(e.Code))-1])
	}
	return fmt.Sprintf("the provider said %s", strconv.Quote(e.Code)[1:len(strconv.Quote(e.Code))-1])
}

// ErrLoginTimeout is returned when the browser did not come back in time.
var ErrLoginTimeout = errors.New("timed out waiting for the browser to finish the login")

// PortBusyError reports that the redirect URI's port is taken.
type PortBusyError struct {
	Addr string
}

func (e *PortBusyError) Error() string {
	return fmt.Sprintf("cannot listen on %s for the login redirect: the port is in use", e.Addr)
}

type callbackResult struct {
	code string
	err  error
	// outcome, for a redirect from the browser, receives the login's
	// result so that the page can say whether it worked; nil for a pasted
	// URL.
	outcome chan<- error
}

// IssuerMismatchError reports an authorization response whose iss
// parameter (RFC 9207) is missing or names another issuer: it may come
// from a mix-up attack, and its code is not used.
type IssuerMismatchError struct {
	Want, Got string
}

func (e *IssuerMismatchError) Error() string {
	if e.Got == "" {
		return fmt.Sprintf("the authorization response has no iss parameter, which the provider %s promises (RFC 9207); refusing it", e.Want)
	}
	return fmt.Sprintf("the authorization response comes from issuer %q, not %q (RFC 9207); refusing it", e.Got, e.Want)
}

// checkResponseIssuer applies RFC 9207 to the query of an authorization
// response: when the provider advertises
// authorization_response_iss_parameter_supported, iss must be there; when
// iss is there, it must equal the issuer.
func checkResponseIssuer(p *ProviderInfo, q url.Values) error {
	got, present := q.Get("iss"), q.Has("iss")
	if (present || p.AuthorizationResponseIssParameterSupported) && got != p.Issuer {
		return &IssuerMismatchError{Want: p.Issuer, Got: got}
	}
	return nil
}

// Login runs the authorization code flow with PKCE (S256), state and nonce
// through a loopback redirect (RFC 8252), exchanges the code, verifies the
// ID token and returns the new session. It accepts exactly one callback that
// carries the right state; others are answered with an error page and
// ignored. It returns ctx.Err() when ctx is cancelled.
func (c *Client) Login(ctx context.Context, opts LoginOptions) (*keychain.Session, error) {
	scope := opts.Scope
	if scope == "" {
		scope = DefaultScope
	}
	redirect := opts.RedirectURI
	if redirect == "" {
		redirect = DefaultRedirectURI
	}
	ru, err := ParseLoopbackRedirect(redirect)
	if err != nil {
		return nil, err
	}
	extra, err := requestParams(opts.Audience, opts.ExtraParams)
	if err != nil {
		return nil, err
	}
	port := ru.Port()
	if opts.RandomPort {
		port = "0"
	}
	listenHost := ru.Hostname()
	if strings.EqualFold(listenHost, "localhost") {
		listenHost = "127.0.0.1"
	}
	addr := net.JoinHostPort(listenHost, port)
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, &PortBusyError{Addr: addr}
		}
		return nil, fmt.Errorf("cannot listen on %s for the login redirect: %w", addr, err)
	}
	defer ln.Close()
	if opts.RandomPort {
		actual := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
		ru.Host = net.JoinHostPort(ru.Hostname(), actual)
		redirect = ru.String()
	}

	state, nonce := randomString(), randomString()
	verifier := oauth2.GenerateVerifier()
	// The secret, if any, is read now: a keyring that cannot give it
	// fails the login before the browser opens.
	cfg, err := c.oauthConfig(strings.Fields(scope), redirect)
	if err != nil {
		return nil, err
	}
	// The extra parameters go first, so that agcurl's own win.
	params := append(authCodeOptions(extra),
		oauth2.S256ChallengeOption(verifier),
		oauth2.SetAuthURLParam("nonce", nonce),
	)
	if !opts.SSO {
		params = append(params, oauth2.SetAuthURLParam("x_sso_enabled", "false"))
	}
	for k, v := range map[string]string{
		"prompt": opts.Prompt, "login_hint": opts.LoginHint, "ui_locales": opts.UILocales,
		"max_age": opts.MaxAge, "id_token_hint": opts.IDTokenHint,
	} {
		if v != "" {
			params = append(params, oauth2.SetAuthURLParam(k, v))
		}
	}
	if opts.Signup {
		params = append(params, oauth2.SetAuthURLParam("x_page", "signup"))
	}
	authURL := cfg.AuthCodeURL(state, params...)

	results := make(chan callbackResult, 1)
	var once sync.Once
	srv := &http.Server{
		Handler:           callbackHandler(ru.Path, state, c.Provider, results, &once),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()

	if opts.Paste != nil {
		go readPasted(opts.Paste, state, c.Provider, results, &once, opts.PasteRejected)
	}

	var browserErr error
	var browserExit <-chan error
	if l, ok := opts.Browser.(BrowserLauncher); ok {
		browserExit, browserErr = l.Launch(authURL)
	} else if opts.Browser != nil {
		browserErr = opts.Browser.Open(authURL)
	}
	if opts.ShowURL != nil {
		opts.ShowURL(authURL, browserErr)
	}

	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultLoginTimeout
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	var res callbackResult
wait:
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-timer.C:
			return nil, ErrLoginTimeout
		case err := <-browserExit:
			if err == nil {
				browserExit = nil // it handed the URL on, as browsers do
				continue
			}
			select {
			case res = <-results: // the redirect came all the same
				break wait
			default:
				return nil, &BrowserExitError{Err: err}
			}
		case res = <-results:
			break wait
		}
	}
	s, err := c.finishLogin(ctx, opts, cfg, res, verifier, nonce)
	if res.outcome != nil {
		res.outcome <- err
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

// finishLogin exchanges the code, verifies the answer and the ID token,
// and runs opts.Finish.
func (c *Client) finishLogin(ctx context.Context, opts LoginOptions, cfg *oauth2.Config, res callbackResult, verifier, nonce string) (*keychain.Session, error) {
	if res.err != nil {
		return nil, res.err
	}
	hctx := httpContext(ctx, c.HTTP)
	obtained := c.now()
	tok, err := cfg.Exchange(hctx, res.code, oauth2.VerifierOption(verifier))
	err = c.redact(err, cfg.ClientSecret, res.code, verifier)
	if cae := c.clientAuthFailure("code exchange", cfg, err); cae != nil {
		return nil, cae
	}
	if err != nil {
		return nil, tokenEndpointError("code exchange", err)
	}
	if err := checkTokenResponse(tok); err != nil {
		return nil, err
	}
	rawID, _ := tok.Extra("id_token").(string)
	if rawID == "" {
		return nil, errors.New("the provider returned no ID token; is the openid scope requested?")
	}
	idt, err := c.verifyIDToken(ctx, rawID, idTokenCheck{nonce: nonce})
	if err != nil {
		return nil, err
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			return nil, &IDTokenError{Reason: firstLine(err.Error(), 200)}
		}
	}
	s := sessionFromToken(tok, obtained, cfg.Scopes)
	s.Issuer = c.Provider.Issuer
	s.ClientID = c.ClientID
	s.Subject = idt.Subject
	s.IDToken = rawID
	if opts.Finish != nil {
		if err := opts.Finish(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// ParseLoopbackRedirect checks that raw is an http redirect URI on a
// loopback host with an explicit port, as a native app's must be.
func ParseLoopbackRedirect(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || !IsLoopbackHost(u.Hostname()) || u.Port() == "" {
		return nil, fmt.Errorf("invalid redirect URI %q: want http://127.0.0.1:PORT/PATH (loopback, explicit port)", raw)
	}
	if _, err := strconv.ParseUint(u.Port(), 10, 16); err != nil {
		return nil, fmt.Errorf("invalid redirect URI %q: bad port", raw)
	}
	if u.Path == "" {
		u.Path = "/"
	}
	return u, nil
}

func randomString() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// pageHTML is the page the browser shows after the redirect; its title and
// text go in element content only, escaped with html.EscapeString. (Not
// html/template: its package set-up would cost every agcurl run, fetch's
// hot path included, for this one page.)
const pageHTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>agcurl</title>
<style>body{font-family:system-ui,sans-serif;max-width:36em;margin:4em auto;color:#222}</style></head>
<body><h1>%s</h1><p>%s</p></body></html>
`

func writePage(w http.ResponseWriter, status int, title, text string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, pageHTML, html.EscapeString(title), html.EscapeString(text))
}

// pageWait bounds how long the callback page waits for the login to be
// verified and saved before it answers the browser.
const pageWait = 2 * time.Minute

func callbackHandler(path, state string, p *ProviderInfo, results chan<- callbackResult, once *sync.Once) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != path {
			http.NotFound(w, r)
			return
		}
		q := r.URL.Query()
		if q.Get("state") != state {
			writePage(w, http.StatusBadRequest, "Login refused",
				"This response does not belong to the login agcurl started (state mismatch). Return to the terminal.")
			return
		}
		outcome := make(chan error, 1)
		handled := false
		once.Do(func() {
			handled = true
			res := callbackResult{outcome: outcome}
			switch {
			case checkResponseIssuer(p, q) != nil:
				res.err = checkResponseIssuer(p, q)
			case q.Get("error") != "":
				res.err = &ProviderError{Code: q.Get("error"), Description: q.Get("error_description")}
			case q.Get("code") == "":
				res.err = errors.New("the provider redirected back without a code")
			default:
				res.code = q.Get("code")
			}
			results <- res
		})
		if !handled {
			writePage(w, http.StatusConflict, "Already handled", "This login was already completed. Return to the terminal.")
			return
		}
		// Say "signed in" only once the session is verified and saved.
		var err error
		select {
		case err = <-outcome:
		case <-r.Context().Done():
			return
		case <-time.After(pageWait):
			err = errors.New("agcurl did not finish in time")
		}
		if err != nil {
			writePage(w, http.StatusBadRequest, "Login failed", "agcurl could not sign in: "+firstLine(err.Error(), 300)+". Return to the terminal.")
			return
		}
		writePage(w, http.StatusOK, "Signed in", "agcurl is signed in. You can close this tab and return to the terminal.")
	})
}

// readPasted reads lines until one completes the login: a redirect URL
// with the right state (carrying a code or an error), or a bare code.
func readPasted(r io.Reader, state string, p *ProviderInfo, results chan<- callbackResult, once *sync.Once, rejected func(string)) {
	if rejected == nil {
		rejected = func(string) {}
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var res callbackResult
		if strings.Contains(line, "://") || strings.Contains(line, "code=") || strings.Contains(line, "error=") {
			raw := line
			if i := strings.IndexByte(raw, '?'); i >= 0 {
				raw = raw[i+1:]
			}
			q, err := url.ParseQuery(raw)
			switch {
			case err != nil:
				rejected("that is not a redirect URL")
				continue
			case q.Get("state") != state:
				rejected("that URL does not belong to this login (state mismatch)")
				continue
			case checkResponseIssuer(p, q) != nil:
				res.err = checkResponseIssuer(p, q)
			case q.Get("error") != "":
				res.err = &ProviderError{Code: q.Get("error"), Description: q.Get("error_description")}
			case q.Get("code") == "":
				rejected("that URL carries no code")
				continue
			default:
				res.code = q.Get("code")
			}
		} else if p.AuthorizationResponseIssParameterSupported {
			rejected("this provider sends its issuer with the code (RFC 9207), so paste the whole address, not just the code")
			continue
		} else {
			res.code = line
		}
		once.Do(func() { results <- res })
		return
	}
}

func httpContext(ctx context.Context, c *http.Client) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, httpClient(c))
}

// tokenEndpointError turns an error from the token endpoint into a one-line
// error that carries the provider's error code but no token material.
func tokenEndpointError(what string, err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		if re.ErrorCode != "" {
			pe := &ProviderError{Code: re.ErrorCode, Description: re.ErrorDescription}
			return &tokenError{msg: what + ": " + pe.Error(), errs: []error{pe, re}}
		}
		status := "no response"
		if re.Response != nil {
			status = re.Response.Status
		}
		return &tokenError{msg: fmt.Sprintf("%s: the token endpoint answered %s", what, status), errs: []error{re}}
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return fmt.Errorf("%s: could not reach the token endpoint: %v", what, shortNetError(uerr))
	}
	return fmt.Errorf("%s: %w", what, err)
}

// tokenError is a token endpoint's failure in one line, which still
// unwraps to the *oauth2.RetrieveError (for its status and Retry-After)
// and the *ProviderError, if any.
type tokenError struct {
	msg  string
	errs []error
}

func (e *tokenError) Error() string   { return e.msg }
func (e *tokenError) Unwrap() []error { return e.errs }
