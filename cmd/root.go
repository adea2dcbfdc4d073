// Package cmd is agcurl's command line: cobra wiring that parses flags into
// options, validates them, and calls auth, keychain and httpcall. Run is
// what main and the tests call.
package cmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/agcurl/agcurl/internal/termsafe"
)

// Main runs agcurl with the process's arguments and returns the exit code.
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Run(ctx, newFactory(takeSecretEnv()), os.Args[1:])
}

// Run runs one agcurl command line with f and returns the exit code. It is
// the only place that prints errors.
func Run(ctx context.Context, f *Factory, args []string) (code int) {
	defer func() {
		// A bug must not print a Go stack trace (which could hold request
		// data); say so in one line instead.
		if r := recover(); r != nil {
			fmt.Fprintf(f.IO.ErrOut, "agcurl: internal error: %v; please report it\n", r)
			code = ExitError
		}
	}()
	root := NewRootCmd(f)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	code = exitCode(err)
	var silent *SilentError
	if !errors.As(err, &silent) {
		// Error messages carry text from the network (error_description,
		// reason phrases): escape what a terminal would interpret.
		msg := termsafe.String(withRemedy(err).Error())
		if code == ExitInterrupted {
			msg = "interrupted"
		}
		fmt.Fprintf(f.IO.ErrOut, "agcurl: %s\n", msg)
		if code == ExitUsage {
			fmt.Fprintf(f.IO.ErrOut, "Run '%s --help' for usage.\n", commandPath(root, args))
		}
	}
	return code
}

func commandPath(root *cobra.Command, args []string) string {
	c, _, err := root.Find(args)
	if err != nil {
		return root.CommandPath()
	}
	return c.CommandPath()
}

// globalOptions are the flags every command takes.
type globalOptions struct {
	Profile string
	Color   string
}

// NewRootCmd builds the command tree around f.
//
// The tree works on its own copy of f and of f.IO: flags such as --color
// change that copy, never the caller's Factory.
func NewRootCmd(f *Factory) *cobra.Command {
	f = f.forInvocation()
	root := &cobra.Command{
		Use:   "agcurl",
		Short: "Make authorized API calls as a signed-in Authgear user",
		Long: `agcurl signs you in to an Authgear project (or any OpenID Connect provider)
in your browser, keeps the session in the OS keychain, and makes API calls with
a fresh access token attached: curl's manners, without pasting tokens around.

'agcurl help environment' lists the environment variables, and
'agcurl help exit-codes' the exit codes.`,
		Example: `  agcurl configure --endpoint https://myapp.authgear.cloud --client-id 4f2a...
  agcurl login
  agcurl whoami
  agcurl fetch https://api.example.com/v1/orders -X POST -d '{"sku":"A1"}' -H 'Content-Type: application/json'
  agcurl token
  agcurl logout`,
		Version:       currentBuild().Version,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	// Before the completion command is made: it keeps the writer it sees.
	root.SetIn(f.IO.In)
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)
	root.SetVersionTemplate(currentBuild().String())
	addGlobalFlags(root, f)
	root.AddCommand(
		NewCmdConfigure(f, nil),
		NewCmdConfig(f, nil),
		NewCmdLogin(f, nil),
		NewCmdWhoami(f, nil),
		NewCmdToken(f, nil),
		NewCmdFetch(f, nil),
		NewCmdLogout(f, nil),
		NewCmdStatus(f, nil),
		NewCmdSettings(f, nil),
		NewCmdProxy(f, nil),
		NewCmdExec(f, nil),
	)
	root.AddCommand(NewCmdVersion(f, nil), NewCmdProfiles(f, nil), &cobra.Command{
		Use:   "environment",
		Short: "Environment variables, and what wins over what",
		Long:  environmentHelp,
	}, &cobra.Command{
		Use:   "exit-codes",
		Short: "What agcurl's exit codes mean",
		Long:  exitCodesHelp,
	})
	// Unknown subcommands are usage errors.
	root.Args = func(c *cobra.Command, args []string) error {
		if len(args) > 0 {
			return usageErrorf("unknown command %q%s", args[0], didYouMean(c, args[0]))
		}
		return nil
	}
	root.SetHelpCommand(&cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		Long:  "Help for any command or topic: 'agcurl help fetch', 'agcurl help exit-codes'.",
		RunE: func(c *cobra.Command, args []string) error {
			target, rest, err := root.Find(args)
			if err != nil || len(rest) > 0 || (target == root && len(args) > 0) {
				return usageErrorf("no help topic %q%s", strings.Join(args, " "), didYouMean(root, args[0]))
			}
			return target.Help()
		},
		ValidArgsFunction: func(c *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			return helpTopics(root, args, toComplete), cobra.ShellCompDirectiveNoFileComp
		},
	})
	root.RunE = func(c *cobra.Command, args []string) error {
		return c.Help()
	}
	addCompletions(f, root)
	return root
}

// helpTopics completes `agcurl help ARGS TOPIC`: the commands and help
// topics under the command args name that start with toComplete, each with
// its short description.
func helpTopics(root *cobra.Command, args []string, toComplete string) []string {
	parent, rest, err := root.Find(args)
	if err != nil || len(rest) > 0 || (parent == root && len(args) > 0) {
		return nil
	}
	var topics []string
	for _, sub := range parent.Commands() {
		if (sub.IsAvailableCommand() || sub.IsAdditionalHelpTopicCommand() || sub.Name() == "help") &&
			strings.HasPrefix(sub.Name(), toComplete) {
			topics = append(topics, cobra.CompletionWithDesc(sub.Name(), sub.Short))
		}
	}
	return topics
}

// exactArgs is cobra.ExactArgs with a usage error.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) != n {
			if len(args) < n {
				return usageErrorf("%s: missing %s", c.Name(), what)
			}
			return usageErrorf("%s: unexpected argument %q", c.Name(), args[n])
		}
		return nil
	}
}

const environmentHelp = `Settings are taken from, in this order (the first that is set wins):
command-line flags, then environment variables, then the configuration file.

  AGCURL_PROFILE        profile to use (--profile wins over it; then the
                        configured default profile; then "default")
  AGCURL_ENDPOINT       provider endpoint, over the profile's (discovery then
                        runs on each invocation unless it equals the profile's)
  AGCURL_CLIENT_ID      client id, over the profile's
  AGCURL_ACCESS_TOKEN   use this access token as is: nothing is read from or
                        stored in the keyring, and it is never refreshed
                        (like gh's GH_TOKEN)
  AGCURL_REFRESH_TOKEN  refresh from this token in memory for this process
                        only; nothing is stored. If the provider rotates it,
                        a warning says so: the secret it came from is then dead
  AGCURL_CLIENT_SECRET  the client secret for 'agcurl login --client-credentials'
                        (otherwise read from stdin; never from argv), and, for
                        a profile configured with --client-secret or by the
                        environment alone, over its stored secret
  AGCURL_STORAGE        "keyring" or "file": where sessions are kept, over what
                        the profile recorded at login
  AGCURL_CONFIG_DIR     configuration directory (default: agcurl/ under the OS
                        user config directory, e.g. ~/.config/agcurl)
  XDG_RUNTIME_DIR       where fetch keeps a copy of a keyring session's access
                        token (never its refresh token); unset: no copy (see
                        docs/security.md)
  NO_COLOR              no colour (--color always wins over it)
  BROWSER               the command that opens the sign-in page
  CI                    when set, login never opens a browser without --browser
  HTTPS_PROXY, HTTP_PROXY, NO_PROXY
                        proxies for fetch (-x wins over them)

AGCURL_ACCESS_TOKEN wins over AGCURL_REFRESH_TOKEN, which wins over the stored
session. Without a terminal agcurl never opens a browser, prompts, or waits
on stdin unless a flag asks it to; it fails at once with exit code 4 and
names these options.
`

// addGlobalFlags gives root the flags every command takes, bound to
// f.global, and the handling they need before any command runs. Tests that
// run one command under a bare root use it too.
func addGlobalFlags(root *cobra.Command, f *Factory) {
	g := f.global
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		if c.Name() == "fetch" {
			err = fetchFlagError(err)
		}
		return &UsageError{Err: flagValueError(err)}
	})
	root.PersistentFlags().StringVar(&g.Profile, "profile", "", "profile to use (default: $AGCURL_PROFILE, the default profile, or \"default\")")
	root.PersistentFlags().StringVar(&g.Color, "color", "auto", "colour output: auto (on a terminal, unless NO_COLOR is set), always or never")
	root.PersistentPreRunE = func(c *cobra.Command, args []string) error {
		switch g.Color {
		case "auto":
		case "always":
			f.IO.ColorOut, f.IO.ColorErr = true, true
		case "never":
			f.IO.ColorOut, f.IO.ColorErr = false, false
		default:
			return usageErrorf("--color must be auto, always or never")
		}
		return nil
	}
}

// didYouMean suggests the commands whose names are close to name (cobra's
// Levenshtein distance of 2, or a prefix), as "; did you mean fetch?".
func didYouMean(c *cobra.Command, name string) string {
	if c.SuggestionsMinimumDistance <= 0 {
		c.SuggestionsMinimumDistance = 2
	}
	s := c.SuggestionsFor(name)
	if len(s) == 0 {
		return ""
	}
	return "; did you mean " + strings.Join(s, " or ") + "?"
}

// flagValueError rewords pflag's error for a flag value that does not
// parse ("strconv.ParseFloat: parsing ...") to say what the flag wants;
// other errors are returned as they are.
func flagValueError(err error) error {
	var bad *pflag.InvalidValueError
	if !errors.As(err, &bad) {
		return err
	}
	fl := bad.GetFlag()
	name := "--" + fl.Name
	if fl.Shorthand != "" {
		name = "-" + fl.Shorthand + "/" + name
	}
	var want string
	switch fl.Value.Type() {
	case "float64", "float32":
		want = "a number, like 2.5"
		if strings.Contains(fl.Usage, "second") {
			want = "a number of seconds, like 2.5"
		}
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		want = "a whole number, like 3"
	case "duration":
		want = "a duration like 5s or 2m"
		if _, err := strconv.ParseFloat(bad.GetValue(), 64); err == nil {
			want += " (with its unit: " + bad.GetValue() + "s, not " + bad.GetValue() + ")"
		}
	case "bool":
		want = "true or false"
	default:
		return fmt.Errorf("invalid argument %q for %s: %w", bad.GetValue(), name, bad.Unwrap())
	}
	return fmt.Errorf("invalid argument %q for %s: want %s", bad.GetValue(), name, want)
}
