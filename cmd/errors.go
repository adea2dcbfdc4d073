package cmd

import (
	"context"
	"errors"
	"fmt"

	"github.com/agcurl/agcurl/auth"
	"github.com/agcurl/agcurl/httpcall"
	"github.com/agcurl/agcurl/keychain"
)

// Exit codes. They are documented in `agcurl help exit-codes`; keep the
// two in step.
const (
	ExitOK            = 0
	ExitError         = 1
	ExitUsage         = 2
	ExitLoginRequired = 4
	ExitReadError     = 26
	ExitHTTPError     = 22
	ExitWriteError    = 23
	ExitTooManyRedirs = 47
	ExitInterrupted   = 130
)

// UsageError is a mistake in the command line; exit code 2.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

func usageErrorf(format string, a ...any) error {
	return &UsageError{Err: fmt.Errorf(format, a...)}
}

// SilentError carries an exit code for a failure already reported.
type SilentError struct{ Code int }

func (e *SilentError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// withRemedy adds to err what the user can do about it, where the lower
// layers only stated the facts; the profile is named when it is not the
// default one.
func withRemedy(err error) error {
	var corrupt *keychain.CorruptSessionError
	var unavailable *keychain.UnavailableError
	switch {
	case errors.As(err, &corrupt):
		return fmt.Errorf("%w; run `%s` to replace it", err, loginCommandFor(corrupt.Profile))
	case errors.As(err, &unavailable):
		return fmt.Errorf("%w; to keep the session in a 0600 file instead, log in with `%s --insecure-storage` or set AGCURL_STORAGE=file",
			err, loginCommandFor(unavailable.Profile))
	}
	return err
}

// loginCommandFor is the command that logs profile in.
func loginCommandFor(profile string) string {
	if profile == "" || profile == "default" {
		return "agcurl login"
	}
	return "agcurl login --profile " + profile
}

// exitCode picks the exit code for err; this is the one place that does.
func exitCode(err error) int {
	var usage *UsageError
	var husage *httpcall.UsageError
	var silent *SilentError
	var httpErr *httpcall.HTTPError
	var transport *httpcall.TransportError
	var readErr *httpcall.ReadError
	var writeErr *httpcall.WriteError
	var redirs *httpcall.TooManyRedirectsError
	var corrupt *keychain.CorruptSessionError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &silent):
		return silent.Code
	case errors.Is(err, context.Canceled):
		return ExitInterrupted
	case errors.As(err, &usage), errors.As(err, &husage):
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
		return transport.Code
	}
	return ExitError
}

const exitCodesHelp = `agcurl exits with one of these codes:

    0    success
    1    an error not listed below (bad configuration, provider error, ...)
    2    usage error: a bad flag, argument or option combination; nothing was sent
    4    login required: not logged in, or the session was revoked or expired;
         run 'agcurl login'
    5    fetch: could not connect to the proxy (as curl)
    6    fetch: could not resolve the host (as curl)
    7    fetch: could not connect (as curl)
    22   fetch --fail: the server answered with HTTP status 400 or above (as curl)
    23   fetch: could not write the output, or refused to write a binary body
         to a terminal (as curl)
    26   fetch: could not read a data file given with @file (as curl)
    28   fetch: the operation timed out (as curl)
    35   fetch: TLS handshake failed (as curl)
    47   fetch -L: too many redirects (as curl)
    56   fetch: the transfer failed while receiving (as curl)
    60   fetch: the server's TLS certificate was not trusted (as curl)
    61   fetch --compressed: the response could not be decoded (as curl)
    77   fetch --cacert: the CA file could not be read (as curl)
    130  interrupted (Ctrl-C)
`
