package cmd

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"testing"

	"github.com/spf13/cobra"
)

// shapeFactory is a Factory for command-line tests: buffers, an empty
// environment and a config dir of its own. Nothing in it reaches a
// provider; a test that got that far has a bug.
func shapeFactory(t *testing.T, env map[string]string) *Factory {
	t.Helper()
	ios, _, _, _ := TestIO()
	dir := filepath.Join(t.TempDir(), "config")
	return &Factory{
		IO:        ios,
		Getenv:    func(k string) string { return env[k] },
		ConfigDir: func() (string, error) { return dir, nil },
	}
}

// parseArgs runs args through a bare root that has the global flags and
// the one command newCmd builds (with a runF that captures the options),
// and returns what the command line produced: the error of flag parsing
// or checking, if any.
func parseArgs(t *testing.T, f *Factory, newCmd func(*Factory) *cobra.Command, args ...string) error {
	t.Helper()
	f = f.forInvocation()
	root := &cobra.Command{Use: "agcurl", SilenceErrors: true, SilenceUsage: true}
	addGlobalFlags(root, f)
	root.AddCommand(newCmd(f))
	root.SetArgs(args)
	root.SetOut(io.Discard)
	root.SetErr(io.Discard)
	return root.ExecuteContext(context.Background())
}

func TestNewCmdToken(t *testing.T) {
	f := shapeFactory(t, map[string]string{"AGCURL_PROFILE": "from-env"})
	var got *TokenOptions
	capture := func(f *Factory) *cobra.Command {
		return NewCmdToken(f, func(o *TokenOptions) error { got = o; return nil })
	}
	if err := parseArgs(t, f, capture, "token", "--profile", "staging"); err != nil {
		t.Fatal(err)
	}
	p, err := got.Profile()
	if err != nil || p.name != "staging" {
		t.Fatalf("--profile staging resolved to %v (%v)", p, err)
	}
	if err := parseArgs(t, f, capture, "token"); err != nil {
		t.Fatal(err)
	}
	if p, _ := got.Profile(); p.name != "from-env" {
		t.Fatalf("AGCURL_PROFILE: got profile %q", p.name)
	}
	var usage *UsageError
	if err := parseArgs(t, f, capture, "token", "extra"); !errors.As(err, &usage) {
		t.Fatalf("an argument: want a usage error, got %v", err)
	}
	if err := parseArgs(t, f, capture, "token", "--profile", "../x"); err != nil {
		t.Fatal(err) // checked when resolved, not when parsed
	}
	if _, err := got.Profile(); !errors.As(err, &usage) {
		t.Fatalf("a bad profile name: want a usage error, got %v", err)
	}
}

// --color changes only the invocation's own IOStreams, never the caller's.
func TestColorFlagDoesNotChangeTheFactory(t *testing.T) {
	f := shapeFactory(t, nil)
	capture := func(f *Factory) *cobra.Command {
		return NewCmdToken(f, func(o *TokenOptions) error {
			if !o.IO.ColorOut || !o.IO.ColorErr {
				t.Error("--color always did not reach the command's IOStreams")
			}
			return nil
		})
	}
	if err := parseArgs(t, f, capture, "token", "--color", "always"); err != nil {
		t.Fatal(err)
	}
	if f.IO.ColorOut || f.IO.ColorErr {
		t.Fatal("--color always changed the shared Factory's IOStreams")
	}
}
