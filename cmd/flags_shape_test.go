package cmd

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// A flag value that does not parse is a usage error that says what the
// flag wants, for every command's flags (fetch's included), never Go's
// parser message.
func TestBadFlagValuesSayWhatIsWanted(t *testing.T) {
	f := shapeFactory(t, nil)
	fetch := func(f *Factory) *cobra.Command {
		return NewCmdFetch(f, func(*FetchOptions) error { t.Error("runF called after a bad flag value"); return nil })
	}
	status := func(f *Factory) *cobra.Command {
		return NewCmdStatus(f, func(*StatusOptions) error { t.Error("runF called after a bad flag value"); return nil })
	}
	for _, tc := range []struct {
		cmd  func(*Factory) *cobra.Command
		args []string
		want string
	}{
		{fetch, []string{"fetch", "-m", "abc", "https://x"}, `invalid argument "abc" for -m/--max-time: want a number of seconds, like 2.5`},
		{fetch, []string{"fetch", "--max-time=1m", "https://x"}, `invalid argument "1m" for -m/--max-time: want a number of seconds, like 2.5`},
		{fetch, []string{"fetch", "--connect-timeout", "x", "https://x"}, `invalid argument "x" for --connect-timeout: want a number of seconds, like 2.5`},
		{fetch, []string{"fetch", "--retry-delay", "x", "https://x"}, `invalid argument "x" for --retry-delay: want a number of seconds, like 2.5`},
		{fetch, []string{"fetch", "--retry", "three", "https://x"}, `invalid argument "three" for --retry: want a whole number, like 3`},
		{fetch, []string{"fetch", "--max-redirs", "1.5", "https://x"}, `invalid argument "1.5" for --max-redirs: want a whole number, like 3`},
		{fetch, []string{"fetch", "-L=yes", "https://x"}, `invalid argument "yes" for -L/--location: want true or false`},
		{status, []string{"status", "--json=maybe"}, `invalid argument "maybe" for --json: want true or false`},
	} {
		err := parseArgs(t, f, tc.cmd, tc.args...)
		var usage *UsageError
		if !errors.As(err, &usage) || err.Error() != tc.want {
			t.Errorf("%q: got %v, want the usage error %q", tc.args, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "strconv") {
			t.Errorf("%q: Go's parser speaks: %v", tc.args, err)
		}
	}
	noProviderReached(t, f)
}

// `agcurl help <TAB>` completes the commands and help topics, with their
// descriptions, and under a command its subcommands.
func TestHelpCompletion(t *testing.T) {
	complete := func(args ...string) []string {
		t.Helper()
		f := shapeFactory(t, nil)
		if code := Run(context.Background(), f, append([]string{"__complete", "help"}, args...)); code != 0 {
			t.Fatalf("__complete help %q: exit %d: %s", args, code, f.IO.ErrOut.(*bytes.Buffer))
		}
		var got []string
		for _, line := range strings.Split(f.IO.Out.(*bytes.Buffer).String(), "\n") {
			if line != "" && !strings.HasPrefix(line, ":") {
				got = append(got, line)
			}
		}
		return got
	}
	all := complete("")
	for _, want := range []string{"fetch\tMake HTTP requests", "exit-codes\tWhat agcurl's exit codes mean",
		"environment\tEnvironment variables", "config\tInspect the configuration", "help\tHelp about any command"} {
		if !slices.ContainsFunc(all, func(s string) bool { return strings.HasPrefix(s, want) }) {
			t.Errorf("help <TAB>: %q lacks %q", all, want)
		}
	}
	if got := complete("con"); len(got) != 2 || !strings.HasPrefix(got[0], "config\t") || !strings.HasPrefix(got[1], "configure\t") {
		t.Errorf("help con<TAB>: %q, want config and configure", got)
	}
	if got := complete("ex"); len(got) != 2 || !strings.HasPrefix(got[0], "exec\t") || !strings.HasPrefix(got[1], "exit-codes\t") {
		t.Errorf("help ex<TAB>: %q, want exec and exit-codes", got)
	}
	if got := complete("config", ""); len(got) != 1 || !strings.HasPrefix(got[0], "list\tList the configured profiles") {
		t.Errorf("help config <TAB>: %q, want list", got)
	}
	if got := complete("fetch", ""); len(got) != 0 {
		t.Errorf("help fetch <TAB>: %q, want nothing", got)
	}
}
