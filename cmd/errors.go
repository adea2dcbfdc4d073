package cmd

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/agcurl/agcurl/auth"
	"github.com/agcurl/agcurl/httpcall"
	"github.com/agcurl/agcurl/internal/config"
	"github.com/agcurl/agcurl/keychain"
)

// Exit codes. Where fetch fails as curl would, it exits as curl does.
const (
	ExitOK            = 0
	ExitError         = 1
	ExitUsage         = 2
	ExitLoginRequired = 4
	ExitProxy         = int(httpcall.CurlProxy)
	ExitResolve       = int(httpcall.CurlResolve)
	ExitConnect       = int(httpcall.CurlConnect)
	ExitHTTPError     = 22
	ExitWriteError    = 23
	ExitReadError     = 26
	ExitTimeout       = int(httpcall.CurlTimeout)
	ExitTLS           = int(httpcall.CurlTLS)
	ExitTooManyRedirs = 47
	ExitRecv          = int(httpcall.CurlRecv)
	ExitClientCert    = int(httpcall.CurlClientCert)
	ExitPeerCert      = int(httpcall.CurlPeerCert)
	ExitDecoding      = int(httpcall.CurlDecoding)
	ExitCACert        = int(httpcall.CurlCACert)
	ExitCannotRun     = 126 // exec: as a shell's
	ExitNotFound      = 127 // exec: as a shell's
	ExitInterrupted   = 130
)

// exitCodes is the one table of exit codes: `agcurl help exit-codes` is
// made from it, and a test checks that every code exitCode can return is
// in it.
var exitCodes = []struct {
	Code    int
	Meaning string
}{
	{ExitOK, "success"},
	{ExitError, "an error not listed below (a configuration file that cannot be read,\na provider error, ...)"},
	{ExitUsage, "usage error: a bad flag, argument or option combination; nothing was sent"},
	{ExitLoginRequired, "login required: the profile is not configured or not logged in, or its\nsession was revoked or expired; run 'agcurl login' (first 'agcurl configure'\nif it is not configured)"},
	{ExitProxy, "fetch: could not connect to the proxy (as curl)"},
	{ExitResolve, "fetch: could not resolve the host (as curl)"},
	{ExitConnect, "fetch: could not connect (as curl)"},
	{ExitHTTPError, "fetch --fail: the server answered with HTTP status 400 or above (as curl)"},
	{ExitWriteError, "fetch: could not write the output, or refused to write a binary body\nto a terminal (as curl)"},
	{ExitReadError, "fetch: could not read a data file given with @file (as curl)"},
	{ExitTimeout, "fetch: the operation timed out (as curl)"},
	{ExitTLS, "fetch: TLS handshake failed (as curl)"},
	{ExitTooManyRedirs, "fetch -L: too many redirects (as curl)"},
	{ExitRecv, "fetch: the transfer failed while receiving (as curl)"},
	{ExitClientCert, "fetch --cert/--key: the client certificate or key could not be used (as curl)"},
	{ExitPeerCert, "fetch: the server's TLS certificate was not trusted (as curl)"},
	{ExitDecoding, "fetch --compressed: the response could not be decoded (as curl)"},
	{ExitCACert, "fetch --cacert: the CA file could not be read (as curl)"},
	{ExitCannotRun, "exec: the command could not be run (as a shell); otherwise exec exits\nwith the command's own status, 128+N when signal N ended it"},
	{ExitNotFound, "exec: the command was not found (as a shell)"},
	{ExitInterrupted, "interrupted (Ctrl-C)"},
}

// exitCodesHelp is `agcurl help exit-codes`, made from exitCodes.
var exitCodesHelp = func() string {
	var b strings.Builder
	b.WriteString("agcurl exits with one of these codes:\n\n")
	for _, e := range exitCodes {
		lines := strings.Split(e.Meaning, "\n")
		fmt.Fprintf(&b, "    %-4d %s\n", e.Code, lines[0])
		for _, l := range lines[1:] {
			fmt.Fprintf(&b, "         %s\n", l)
		}
	}
	return b.String()
}()

// UsageError is a mistake in the command line; exit code 2.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

func usageErrorf(format string, a ...any) error {
	return &UsageError{Err: fmt.Errorf(format, a...)}
}

// exitError is a failure with an exit code of its own, and its message.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// SilentError carries an exit code for a failure already reported.
type SilentError struct{ Code int }

func (e *SilentError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// remediedError is an error with the remedy already added, so that
// withRemedy adds it once.
type remediedError struct {
	err error
	msg string
}

func (e *remediedError) Error() string { return e.msg }
func (e *remediedError) Unwrap() error { return e.err }

// withRemedy adds to err what the user can do about it: the lower layers
// return typed errors that state the facts, and this is the one place that
// words the remedy, naming --profile NAME when the profile is not the
// default one. It is idempotent.
func withRemedy(err error) error {
	if err == nil {
		return nil
	}
	var done *remediedError
	if errors.As(err, &done) {
		return err
	}
	if r := remedy(err); r != "" {
		return &remediedError{err: err, msg: err.Error() + "; " + r}
	}
	return err
}

func remedy(err error) string {
	var (
		login       *auth.LoginRequiredError
		temporary   *auth.TemporaryError
		portBusy    *auth.PortBusyError
		issuer      *auth.DiscoveryIssuerError
		notFound    *auth.DiscoveryNotFoundError
		browserExit *auth.BrowserExitError
		corrupt     *keychain.CorruptSessionError
		unavailable *keychain.UnavailableError
		noBase      *httpcall.NoAPIBaseError
		target      *httpcall.TokenTargetError
		badConfig   *config.CorruptError
		clientAuth  *auth.ClientAuthError
		noSecret    *ClientSecretMissingError
	)
	switch {
	case errors.As(err, &clientAuth):
		return clientAuthRemedy(clientAuth)
	case errors.As(err, &noSecret):
		return secretMissingRemedy(noSecret)
	case errors.As(err, &badConfig):
		return "fix or remove it, then run `agcurl configure`"
	case errors.As(err, &target):
		switch target.Kind {
		case httpcall.NotAllowed:
			return "allow it with `agcurl configure" + profileFlagFor(target.Profile) +
				" --allow-origin ORIGIN`, or pass --no-auth to send without a token"
		case httpcall.ProxyCleartext:
			return "use https, drop -x (or unset HTTP_PROXY), or pass --no-auth to send without a token"
		}
		return "use https, or pass --no-auth to send without a token"
	case errors.As(err, &login):
		switch {
		case login.EnvVar != "":
			return "the secret in " + login.EnvVar + " no longer works: replace it (see docs/ci.md)"
		case login.MachineClient:
			return "log in again with the current secret: `AGCURL_CLIENT_SECRET=... " +
				strings.Replace(loginCommandFor(login.Profile), "agcurl login", "agcurl login --client-credentials", 1) + "`"
		case login.GivenToken:
			return "give one that is still valid, or sign in with a browser"
		}
		return "run `" + loginCommandFor(login.Profile) + "`"
	case errors.As(err, &temporary):
		if temporary.RetryAfter > 0 {
			return fmt.Sprintf("the session was kept: try again in %s", temporary.RetryAfter.Round(time.Second))
		}
		return "the session was kept: try again later"
	case errors.As(err, &portBusy):
		return "stop what holds it, or configure another port with `agcurl configure --redirect-uri` " +
			"(and register it with the provider), or use `--port 0` if the provider accepts any loopback port"
	case errors.As(err, &issuer):
		return "use the issuer as --endpoint"
	case errors.As(err, &browserExit):
		return "fix $BROWSER, or run login with --no-browser and open the URL yourself"
	case errors.As(err, &notFound):
		r := "the endpoint is the provider's issuer: for Authgear, the project's origin, such as https://myapp.authgear.cloud, " +
			"not an API's URL or a path"
		if notFound.Origin != "" {
			r += "; try --endpoint " + notFound.Origin
		}
		return r
	case errors.As(err, &corrupt):
		return "run `" + loginCommandFor(corrupt.Profile) + "` to replace it"
	case errors.As(err, &unavailable):
		return "to keep the session in a 0600 file instead, log in with `" + loginCommandFor(unavailable.Profile) +
			" --insecure-storage` or set AGCURL_STORAGE=file"
	case errors.As(err, &noBase):
		return "set one with `agcurl configure --api-base https://api.example.com`"
	}
	return ""
}

// loginCommandFor is the command that logs profile in.
func loginCommandFor(profile string) string { return "agcurl login" + profileFlagFor(profile) }

// profileFlagFor is " --profile NAME" for a profile other than the default
// one, else "", for the commands that messages suggest.
func profileFlagFor(profile string) string {
	if profile == "" || profile == "default" {
		return ""
	}
	return " --profile " + profile
}

// exitCode picks the exit code for err; this is the one place that does.
// Every code it returns is in exitCodes.
func exitCode(err error) int {
	var (
		usage     *UsageError
		option    *httpcall.OptionError
		noBase    *httpcall.NoAPIBaseError
		silent    *SilentError
		httpErr   *httpcall.HTTPError
		transport *httpcall.TransportError
		readErr   *httpcall.ReadError
		writeErr  *httpcall.WriteError
		redirs    *httpcall.TooManyRedirectsError
		corrupt   *keychain.CorruptSessionError
		coded     *exitError
	)
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &silent):
		return silent.Code
	case errors.As(err, &coded):
		return coded.code
	case errors.Is(err, context.Canceled):
		return ExitInterrupted
	case errors.As(err, &usage), errors.As(err, &option), errors.As(err, &noBase):
		return ExitUsage
	case errors.Is(err, auth.ErrLoginRequired), errors.As(err, &corrupt):
		return ExitLoginRequired
	case errors.As(err, &httpErr):
		return ExitHTTPError
	case errors.As(err, &readErr):
		return ExitReadError
	case errors.As(err, &writeErr):
		return ExitWriteError
	case errors.As(err, &redirs):
		return ExitTooManyRedirs
	case errors.As(err, &transport):
		return int(transport.Code)
	}
	return ExitError
}
