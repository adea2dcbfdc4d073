package cmd

import (
	"context"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// smallFactory is shapeFactory with a provider that fails the test when
// anything reaches it: an HTTP client and a keyring that report any use.
func smallFactory(t *testing.T, env map[string]string) *Factory {
	t.Helper()
	f := shapeFactory(t, env)
	f.HTTPClient = &http.Client{Transport: smallRoundTripper{t}}
	f.Keyring = smallKeyring{t}
	return f
}

type smallRoundTripper struct{ t *testing.T }

func (rt smallRoundTripper) RoundTrip(r *http.Request) (*http.Response, error) {
	rt.t.Errorf("a request reached the network: %s %s", r.Method, r.URL)
	return nil, errors.New("no network in command-line tests")
}

type smallKeyring struct{ t *testing.T }

func (k smallKeyring) Get(service, user string) (string, error) {
	k.t.Errorf("the keyring was read: %s %s", service, user)
	return "", errors.New("no keyring in command-line tests")
}

func (k smallKeyring) Set(service, user, _ string) error {
	k.t.Errorf("the keyring was written: %s %s", service, user)
	return errors.New("no keyring in command-line tests")
}

func (k smallKeyring) Delete(service, user string) error {
	k.t.Errorf("the keyring was written: %s %s", service, user)
	return errors.New("no keyring in command-line tests")
}

// smallNothingStored fails the test when anything was written under the
// factory's config dir (config, sessions, locks).
func smallNothingStored(t *testing.T, f *Factory) {
	t.Helper()
	dir, err := f.ConfigDir()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the command line wrote under the config dir %s (%v)", dir, err)
	}
}

// smallWantUsage fails the test unless err is a usage error that says want.
func smallWantUsage(t *testing.T, args string, err error, want string) {
	t.Helper()
	var usage *UsageError
	if !errors.As(err, &usage) {
		t.Fatalf("%s: want a usage error, got %v", args, err)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("%s: the usage error %q does not say %q", args, err, want)
	}
}

func TestNewCmdWhoami(t *testing.T) {
	f := smallFactory(t, map[string]string{"AGCURL_PROFILE": "from-env"})
	var got *WhoamiOptions
	calls := 0
	capture := func(f *Factory) *cobra.Command {
		return NewCmdWhoami(f, func(o *WhoamiOptions) error { got = o; calls++; return nil })
	}

	if err := parseArgs(t, f, capture, "whoami"); err != nil {
		t.Fatal(err)
	}
	if got.JSON {
		t.Error("whoami: JSON is on by default")
	}
	if got.IO == nil || got.Getenv == nil || got.Profile == nil {
		t.Fatalf("whoami: options without their dependencies: %+v", got)
	}
	if got.Getenv("AGCURL_PROFILE") != "from-env" {
		t.Error("whoami: Getenv is not the factory's")
	}
	if p, err := got.Profile(); err != nil || p.name != "from-env" {
		t.Fatalf("whoami: AGCURL_PROFILE resolved to %v (%v)", p, err)
	}

	if err := parseArgs(t, f, capture, "whoami", "--json", "--profile", "staging"); err != nil {
		t.Fatal(err)
	}
	if !got.JSON {
		t.Error("whoami --json: JSON is off")
	}
	if p, err := got.Profile(); err != nil || p.name != "staging" {
		t.Fatalf("whoami --profile staging resolved to %v (%v)", p, err)
	}

	before := calls
	smallWantUsage(t, "whoami extra", parseArgs(t, f, capture, "whoami", "extra"), `unexpected argument "extra"`)
	smallWantUsage(t, "whoami --all", parseArgs(t, f, capture, "whoami", "--all"), "unknown flag: --all")
	smallWantUsage(t, "whoami --json=maybe", parseArgs(t, f, capture, "whoami", "--json=maybe"), "invalid argument")
	if calls != before {
		t.Fatal("a usage error still reached runF")
	}
	smallNothingStored(t, f)
}

func TestNewCmdStatus(t *testing.T) {
	f := smallFactory(t, nil)
	var got *StatusOptions
	calls := 0
	capture := func(f *Factory) *cobra.Command {
		return NewCmdStatus(f, func(o *StatusOptions) error { got = o; calls++; return nil })
	}

	if err := parseArgs(t, f, capture, "status"); err != nil {
		t.Fatal(err)
	}
	if got.JSON {
		t.Error("status: JSON is on by default")
	}
	if got.IO == nil || got.Getenv == nil || got.Profile == nil {
		t.Fatalf("status: options without their dependencies: %+v", got)
	}
	if p, err := got.Profile(); err != nil || p.name != "default" {
		t.Fatalf("status: the profile resolved to %v (%v), want default", p, err)
	}

	if err := parseArgs(t, f, capture, "status", "--json", "--profile", "staging"); err != nil {
		t.Fatal(err)
	}
	if !got.JSON {
		t.Error("status --json: JSON is off")
	}
	if p, err := got.Profile(); err != nil || p.name != "staging" {
		t.Fatalf("status --profile staging resolved to %v (%v)", p, err)
	}

	before := calls
	smallWantUsage(t, "status extra", parseArgs(t, f, capture, "status", "extra"), `unexpected argument "extra"`)
	smallWantUsage(t, "status --all", parseArgs(t, f, capture, "status", "--all"), "unknown flag: --all")
	if calls != before {
		t.Fatal("a usage error still reached runF")
	}
	smallNothingStored(t, f)
}

func TestNewCmdLogout(t *testing.T) {
	f := smallFactory(t, map[string]string{"AGCURL_PROFILE": "from-env"})
	var got *LogoutOptions
	calls := 0
	capture := func(f *Factory) *cobra.Command {
		return NewCmdLogout(f, func(o *LogoutOptions) error { got = o; calls++; return nil })
	}

	if err := parseArgs(t, f, capture, "logout"); err != nil {
		t.Fatal(err)
	}
	if got.All {
		t.Error("logout: All is on by default")
	}
	if got.IO == nil || got.Profile == nil || got.factory == nil {
		t.Fatalf("logout: options without their dependencies: %+v", got)
	}
	if p, err := got.Profile(); err != nil || p.name != "from-env" {
		t.Fatalf("logout: AGCURL_PROFILE resolved to %v (%v)", p, err)
	}

	if err := parseArgs(t, f, capture, "logout", "--profile", "staging"); err != nil {
		t.Fatal(err)
	}
	if got.All {
		t.Error("logout --profile staging: All is on")
	}
	if p, err := got.Profile(); err != nil || p.name != "staging" {
		t.Fatalf("logout --profile staging resolved to %v (%v)", p, err)
	}

	// --all with $AGCURL_PROFILE set is not --profile: no usage error.
	if err := parseArgs(t, f, capture, "logout", "--all"); err != nil {
		t.Fatal(err)
	}
	if !got.All {
		t.Error("logout --all: All is off")
	}
	// --all=false leaves --profile free.
	if err := parseArgs(t, f, capture, "logout", "--all=false", "--profile", "staging"); err != nil {
		t.Fatal(err)
	}
	if got.All {
		t.Error("logout --all=false: All is on")
	}

	before := calls
	for _, args := range [][]string{
		{"logout", "--all", "--profile", "staging"},
		{"logout", "--profile", "staging", "--all"},
		{"--profile", "staging", "logout", "--all"},
		{"logout", "--all", "--profile="}, // set, even to nothing
	} {
		smallWantUsage(t, strings.Join(args, " "), parseArgs(t, f, capture, args...), "--all and --profile cannot be used together")
	}
	smallWantUsage(t, "logout extra", parseArgs(t, f, capture, "logout", "extra"), `unexpected argument "extra"`)
	smallWantUsage(t, "logout --all extra", parseArgs(t, f, capture, "logout", "--all", "extra"), `unexpected argument "extra"`)
	smallWantUsage(t, "logout --json", parseArgs(t, f, capture, "logout", "--json"), "unknown flag: --json")
	if calls != before {
		t.Fatal("a usage error still reached runF")
	}
	smallNothingStored(t, f)
}

func TestNewCmdVersion(t *testing.T) {
	f := smallFactory(t, nil)
	var got *VersionOptions
	calls := 0
	capture := func(f *Factory) *cobra.Command {
		return NewCmdVersion(f, func(o *VersionOptions) error { got = o; calls++; return nil })
	}
	if err := parseArgs(t, f, capture, "version"); err != nil {
		t.Fatal(err)
	}
	if calls != 1 || got.IO == nil {
		t.Fatalf("version: runF called %d times, options %+v", calls, got)
	}
	smallWantUsage(t, "version extra", parseArgs(t, f, capture, "version", "extra"), `unexpected argument "extra"`)
	smallWantUsage(t, "version --json", parseArgs(t, f, capture, "version", "--json"), "unknown flag: --json")
	if calls != 1 {
		t.Fatal("a usage error still reached runF")
	}
	smallNothingStored(t, f)
}

// `agcurl version` prints what `agcurl --version` prints, and only that.
func TestVersionRunOutput(t *testing.T) {
	ios, _, out, errOut := TestIO()
	if err := versionRun(context.Background(), &VersionOptions{IO: ios}); err != nil {
		t.Fatal(err)
	}
	want := currentBuild().String()
	if out.String() != want || errOut.Len() != 0 {
		t.Fatalf("versionRun printed %q on stdout and %q on stderr, want %q and nothing", out, errOut, want)
	}
	if !strings.HasPrefix(want, "agcurl version ") || strings.Count(want, "\n") != 2 {
		t.Fatalf("unexpected version text %q", want)
	}

	for _, args := range [][]string{{"version"}, {"--version"}} {
		f := smallFactory(t, nil)
		_, _, out, _ := TestIO()
		f.IO.Out = out
		if code := Run(context.Background(), f, args); code != ExitOK || out.String() != want {
			t.Fatalf("agcurl %s: exit %d, printed %q, want %q", args[0], code, out, want)
		}
	}
}
