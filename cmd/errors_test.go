package cmd

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/agcurl/agcurl/auth"
	"github.com/agcurl/agcurl/httpcall"
	"github.com/agcurl/agcurl/keychain"
)

// Every exit code the program can return is in the one table, and the
// table is what `agcurl help exit-codes` prints.
func TestEveryExitCodeIsDocumented(t *testing.T) {
	documented := map[int]bool{}
	for _, e := range exitCodes {
		if documented[e.Code] {
			t.Errorf("exit code %d is in the table twice", e.Code)
		}
		documented[e.Code] = true
		if !strings.Contains(exitCodesHelp, fmt.Sprintf("\n    %-4d %s", e.Code, strings.SplitN(e.Meaning, "\n", 2)[0])) {
			t.Errorf("exit code %d is not in the help as the table says", e.Code)
		}
	}
	errs := []error{
		nil,
		errors.New("anything else"),
		usageErrorf("bad flag"),
		&httpcall.OptionError{Msg: "bad option"},
		&httpcall.NoAPIBaseError{URL: "/x"},
		&SilentError{Code: ExitLoginRequired},
		&auth.LoginRequiredError{Reason: "not logged in"},
		&keychain.CorruptSessionError{Profile: "p"},
		&httpcall.HTTPError{},
		&httpcall.ReadError{},
		&httpcall.WriteError{},
		&httpcall.TooManyRedirectsError{Max: 1},
		context.Canceled,
		fmt.Errorf("wrapped: %w", context.Canceled),
		&exitError{code: ExitNotFound, msg: "exec: x: command not found"},
		&exitError{code: ExitCannotRun, msg: "exec: cannot run x"},
	}
	for _, c := range httpcall.CurlCodes {
		errs = append(errs, &httpcall.TransportError{Code: c, Err: errors.New("x")})
	}
	for _, err := range errs {
		if code := exitCode(err); !documented[code] {
			t.Errorf("exitCode(%T %v) = %d, which `agcurl help exit-codes` does not list", err, err, code)
		}
	}
	// SilentError codes come from exitCode itself or from the constants.
	for _, code := range []int{ExitLoginRequired, ExitHTTPError} {
		if !documented[code] {
			t.Errorf("exit code %d is not documented", code)
		}
	}
}

// The remedy is added once, and names the profile when it is not the
// default one.
func TestWithRemedy(t *testing.T) {
	err := &auth.LoginRequiredError{Profile: "staging", Reason: "not logged in"}
	got := withRemedy(withRemedy(err)).Error()
	if got != "not logged in; run `agcurl login --profile staging`" {
		t.Fatalf("remedy: %q", got)
	}
	if !errors.Is(withRemedy(err), auth.ErrLoginRequired) {
		t.Fatal("the remedied error lost its kind")
	}
	env := &auth.LoginRequiredError{Reason: "refused", EnvVar: "AGCURL_REFRESH_TOKEN"}
	if got := withRemedy(env).Error(); strings.Contains(got, "agcurl login") || !strings.Contains(got, "AGCURL_REFRESH_TOKEN") {
		t.Fatalf("env remedy: %q", got)
	}
	if got := withRemedy(errors.New("plain")).Error(); got != "plain" {
		t.Fatalf("no remedy expected: %q", got)
	}
}
