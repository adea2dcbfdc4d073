package cmd

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
)

// parseToken runs `agcurl token args...` through a runF that captures the
// options; got is nil when runF was not called.
func parseToken(t *testing.T, f *Factory, args ...string) (got *TokenOptions, err error) {
	t.Helper()
	capture := func(f *Factory) *cobra.Command {
		return NewCmdToken(f, func(o *TokenOptions) error { got = o; return nil })
	}
	err = parseArgs(t, f, capture, append([]string{"token"}, args...)...)
	return got, err
}

// tokenFlags is o's flags alone, for comparing.
type tokenFlags struct{ JSON, Claims, IDToken, RefreshToken, Force bool }

func tokenFlagsOf(o *TokenOptions) tokenFlags {
	return tokenFlags{o.JSON, o.Claims, o.IDToken, o.RefreshToken, o.Force}
}

func TestNewCmdTokenFlags(t *testing.T) {
	f := smallFactory(t, nil)
	for args, want := range map[string]tokenFlags{
		"":                             {},
		"--json":                       {JSON: true},
		"--claims":                     {Claims: true},
		"--claims --json":              {Claims: true, JSON: true},
		"--claims --id-token":          {Claims: true, IDToken: true},
		"--id-token --claims --json":   {Claims: true, IDToken: true, JSON: true},
		"--refresh-token":              {RefreshToken: true},
		"--refresh-token --force":      {RefreshToken: true, Force: true},
		"--force --refresh-token":      {RefreshToken: true, Force: true},
		"--claims --profile staging":   {Claims: true},
		"--refresh-token=true --force": {RefreshToken: true, Force: true},
	} {
		got, err := parseToken(t, f, strings.Fields(args)...)
		if err != nil {
			t.Fatalf("token %s: %v", args, err)
		}
		if got == nil {
			t.Fatalf("token %s: runF was not called", args)
		}
		if tokenFlagsOf(got) != want {
			t.Errorf("token %s: got %+v, want %+v", args, tokenFlagsOf(got), want)
		}
		if got.Getenv == nil || got.Profile == nil {
			t.Errorf("token %s: the environment or the profile is missing", args)
		}
	}
	got, err := parseToken(t, f, "--claims", "--profile", "staging")
	if err != nil {
		t.Fatal(err)
	}
	if p, err := got.Profile(); err != nil || p.name != "staging" {
		t.Fatalf("--profile staging resolved to %v (%v)", p, err)
	}
	smallNothingStored(t, f)
}

// The combinations that make no sense are usage errors, found before the
// run function (and so before any profile, keyring or provider).
func TestNewCmdTokenFlagRules(t *testing.T) {
	f := smallFactory(t, nil)
	for args, want := range map[string]string{
		"--refresh-token --claims":             "--refresh-token cannot be combined",
		"--refresh-token --json":               "--refresh-token cannot be combined",
		"--refresh-token --claims --id-token":  "--refresh-token cannot be combined",
		"--refresh-token --id-token":           "--refresh-token cannot be combined",
		"--id-token":                           "--id-token needs --claims",
		"--id-token --json":                    "--id-token needs --claims",
		"--force":                              "--force goes only with --refresh-token",
		"--json --force":                       "--force goes only with --refresh-token",
		"--claims --force":                     "--force goes only with --refresh-token",
		"--refresh-token extra":                "unexpected argument",
		"--refresh-token --force --json":       "--refresh-token cannot be combined",
		"--claims --id-token --refresh-token":  "--refresh-token cannot be combined",
		"--claims --id-token --json --force":   "--force goes only with --refresh-token",
		"--claims --id-token --json --nothing": "unknown flag",
	} {
		got, err := parseToken(t, f, strings.Fields(args)...)
		smallWantUsage(t, "token "+args, err, want)
		if got != nil {
			t.Errorf("token %s: runF was called", args)
		}
	}
	smallNothingStored(t, f)
}

// tokenIO is a Factory whose standard streams are (or are not) terminals,
// and its stdout.
func tokenIO(t *testing.T, env map[string]string, tty bool) (*Factory, *bytes.Buffer) {
	t.Helper()
	f := smallFactory(t, env)
	ios, _, out, _ := TestIO()
	ios.InTTY, ios.OutTTY, ios.ErrTTY = tty, tty, tty
	f.IO = ios
	return f, out
}

func runToken(t *testing.T, f *Factory, args ...string) error {
	t.Helper()
	real := func(f *Factory) *cobra.Command { return NewCmdToken(f, nil) }
	return parseArgs(t, f, real, append([]string{"token"}, args...)...)
}

// On a terminal --refresh-token refuses (the secret would stay in the
// scrollback) before reading anything; --force lets it through.
func TestTokenRefreshTokenRefusesATerminal(t *testing.T) {
	f, out := tokenIO(t, nil, true)
	err := runToken(t, f, "--refresh-token")
	smallWantUsage(t, "token --refresh-token on a terminal", err, "refusing to print the refresh token to a terminal")
	if !strings.Contains(err.Error(), "--force") {
		t.Errorf("the refusal does not name --force: %v", err)
	}
	if exitCode(err) != ExitUsage {
		t.Errorf("exit code %d, want %d", exitCode(err), ExitUsage)
	}
	if out.Len() != 0 {
		t.Errorf("stdout: %q", out)
	}
	smallNothingStored(t, f)

	// --force passes the terminal check, and goes on to the profile
	// (not configured here: login required, not a usage error).
	err = runToken(t, f, "--refresh-token", "--force")
	var nc *NotConfiguredError
	if !errors.As(err, &nc) {
		t.Fatalf("--force on a terminal: want the profile's error, got %v", err)
	}
	// Not a terminal: the same.
	f, out = tokenIO(t, nil, false)
	if err := runToken(t, f, "--refresh-token"); !errors.As(err, &nc) {
		t.Fatalf("not a terminal: want the profile's error, got %v", err)
	}
	smallNothingStored(t, f)
}

// With the token from the environment there is no stored refresh token
// to print: refused, naming the variable, before anything is read.
func TestTokenRefreshTokenRefusesTheEnvironment(t *testing.T) {
	for _, env := range []string{"AGCURL_ACCESS_TOKEN", "AGCURL_REFRESH_TOKEN"} {
		for _, tty := range []bool{false, true} {
			f, out := tokenIO(t, map[string]string{env: "secret-from-env"}, tty)
			err := runToken(t, f, "--refresh-token", "--force")
			smallWantUsage(t, env+" set", err, env+" is set")
			if strings.Contains(err.Error(), "secret-from-env") {
				t.Fatalf("the error shows the secret: %v", err)
			}
			if out.Len() != 0 {
				t.Errorf("stdout: %q", out)
			}
			smallNothingStored(t, f)
		}
	}
	f, _ := tokenIO(t, map[string]string{"AGCURL_ACCESS_TOKEN": "x"}, false)
	smallWantUsage(t, "--claims --id-token with AGCURL_ACCESS_TOKEN", runToken(t, f, "--claims", "--id-token"), "AGCURL_ACCESS_TOKEN is set")
}

// --json with AGCURL_ACCESS_TOKEN and no profile: the token, and nothing
// it does not say of itself; no network, nothing stored.
func TestTokenJSONFromTheEnvironment(t *testing.T) {
	f, out := tokenIO(t, map[string]string{"AGCURL_ACCESS_TOKEN": "opaque-token"}, false)
	if err := runToken(t, f, "--json"); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(out.String()), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"access_token": "opaque-token", "token_type": "Bearer", "profile": "default"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
	smallNothingStored(t, f)
}

func TestRelativeTime(t *testing.T) {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	for d, want := range map[time.Duration]string{
		0:                               "now",
		500 * time.Millisecond:          "now",
		45 * time.Second:                "in 45s",
		-3 * time.Minute:                "3m ago",
		12*time.Minute + 59*time.Second: "in 12m",
		5*time.Hour + 3*time.Minute:     "in 5h3m",
		-2 * time.Hour:                  "2h ago",
		72 * time.Hour:                  "in 3d",
	} {
		if got := relativeTime(now.Add(d), now); got != want {
			t.Errorf("%v: got %q, want %q", d, got, want)
		}
	}
}

func TestClaimText(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want string
	}{
		{"plain", "plain"},
		{"red\x1b[31m", `red\x1b[31m`},
		{"\u202eevil", `\u202eevil`},
		{json.Number("1700000000"), "1700000000"},
		{true, "true"},
		{nil, "null"},
		{[]any{"admin", "reader"}, "admin, reader"},
		{[]any{"a\x07"}, `a\a`},
		{[]any{}, "[]"},
		{[]any{"a", json.Number("1")}, `["a",1]`},
		{map[string]any{"k": "v\u0085"}, `{"k":"v\u0085"}`},
	} {
		if got := claimText(tc.in); got != tc.want {
			t.Errorf("claimText(%#v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
