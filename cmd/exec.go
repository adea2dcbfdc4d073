package cmd

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/agcurl/agcurl/auth"
	"github.com/agcurl/agcurl/internal/termsafe"
)

// ExecOptions are what `agcurl exec` runs with.
type ExecOptions struct {
	IO      *IOStreams
	Profile func() (*profileContext, error)
	// Environ is the environment the command inherits, before the token
	// and AGCURL_PROFILE are added; agcurl's own secrets are already gone
	// from it (see takeSecretEnv).
	Environ func() []string
	// Signals subscribes to the signals passed on to the command; the
	// returned func unsubscribes. Nil passes none on.
	Signals func() (<-chan os.Signal, func())
	// Now is the clock; nil is time.Now.
	Now func() time.Time

	EnvName string
	Command []string
}

const defaultExecEnv = "ACCESS_TOKEN"

// NewCmdExec builds `agcurl exec`. When runF is not nil it is called with
// the parsed and checked options instead of execRun.
func NewCmdExec(f *Factory, runF func(*ExecOptions) error) *cobra.Command {
	o := &ExecOptions{IO: f.IO, Now: f.Now}
	c := &cobra.Command{
		Use:   "exec [--env NAME] -- CMD [ARGS...]",
		Short: "Run a command with a fresh access token in its environment",
		Long: `Run CMD with a valid access token in the environment variable NAME
(ACCESS_TOKEN unless --env says otherwise) and AGCURL_PROFILE set to the
profile's name. NAME cannot be one the system or shells interpret (PATH,
HOME, LD_PRELOAD, ...) nor one of agcurl's own AGCURL_ settings, but for
AGCURL_ACCESS_TOKEN, which an agcurl the command runs then uses as it is. The token has at least half of its lifetime left: it is
refreshed first when less is left. CMD gets agcurl's stdin, stdout and
stderr; agcurl exits with CMD's exit status (128+N when signal N ended it),
127 when CMD was not found and 126 when it could not be run.

On Unix, the signals sent to agcurl (SIGTERM, SIGINT, SIGHUP, SIGQUIT,
SIGUSR1, SIGUSR2) are passed on to CMD. Ctrl-C and Ctrl-\ at a terminal reach
CMD directly, so agcurl does not pass those on a second time when it runs in
the terminal's foreground. On Windows, Ctrl-C reaches CMD from the console.

The token is not renewed while CMD runs: it expires with its lifetime (30
minutes on Authgear by default). For a command that runs longer, point it
at 'agcurl proxy' instead, which attaches a valid token to every request.
Never print the variable: the token in it lets anyone act as you.`,
		Example: `  agcurl exec -- sh -c 'curl -fsS -H "Authorization: Bearer $ACCESS_TOKEN" https://api.example.com/v1/me'
  agcurl exec --env API_TOKEN -- sh -c 'echo "profile $AGCURL_PROFILE: a token of ${#API_TOKEN} characters"'
  agcurl exec --profile staging -- printenv AGCURL_PROFILE`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErrorf("exec: missing the command to run (agcurl exec -- CMD [ARGS...])")
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			o.Command = args
			if err := checkEnvName(o.EnvName); err != nil {
				return err
			}
			o.Profile = f.profileFunc()
			o.Environ = os.Environ
			o.Signals = func() (<-chan os.Signal, func()) {
				ch := make(chan os.Signal, 8)
				signal.Notify(ch, forwardedSignals...)
				return ch, func() { signal.Stop(ch) }
			}
			if runF != nil {
				return runF(o)
			}
			return execRun(c.Context(), o)
		},
	}
	// Everything from CMD on is CMD's, flags included.
	c.Flags().SetInterspersed(false)
	c.Flags().StringVar(&o.EnvName, "env", defaultExecEnv, "name of the environment variable that holds the token")
	return c
}

// checkEnvName refuses a variable name that a shell could not use.
func checkEnvName(name string) error {
	ok := name != ""
	for i, c := range name {
		if !(c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || i > 0 && c >= '0' && c <= '9') {
			ok = false
		}
	}
	if !ok {
		return usageErrorf("--env %q: want an environment variable name (letters, digits and _, not starting with a digit)", termsafe.String(name))
	}
	upper := strings.ToUpper(name) // Windows' names ignore case
	switch {
	case upper == "AGCURL_PROFILE":
		return usageErrorf("--env %s: that variable holds the profile's name; choose another", name)
	case strings.HasPrefix(upper, "AGCURL_") && upper != "AGCURL_ACCESS_TOKEN":
		return usageErrorf("--env %s: AGCURL_ variables are agcurl's own settings, for an agcurl the command runs; "+
			"choose another name (AGCURL_ACCESS_TOKEN is the one that takes an access token)", name)
	case slices.Contains(systemEnv, upper) || strings.HasPrefix(upper, "LD_") || strings.HasPrefix(upper, "DYLD_"):
		return usageErrorf("--env %s: the system or shells interpret that variable: a token in it would break the command, "+
			"or show in its error messages; choose a name of your own, such as %s", name, defaultExecEnv)
	}
	return nil
}

// systemEnv are variables, besides the dynamic loader's (LD_*, DYLD_*),
// whose value the system or shells interpret.
var systemEnv = []string{"PATH", "HOME", "SHELL", "TMPDIR", "IFS", "ENV", "BASH_ENV", "CDPATH", "PATHEXT", "COMSPEC", "SYSTEMROOT"}

// execRun runs o.Command with the token in its environment and returns
// its exit status as a *SilentError (nil for 0).
func execRun(ctx context.Context, o *ExecOptions) error {
	p, err := o.Profile()
	if err != nil {
		return err
	}
	tok, err := execToken(ctx, p, o)
	if err != nil {
		return err
	}
	var env []string
	if o.Environ != nil {
		env = o.Environ()
	}
	env = append(withoutEnv(env, o.EnvName, "AGCURL_PROFILE"), o.EnvName+"="+tok, "AGCURL_PROFILE="+p.name)

	c := exec.Command(o.Command[0], o.Command[1:]...)
	c.Env = env
	c.Stdin, c.Stdout, c.Stderr = o.IO.In, o.IO.Out, o.IO.ErrOut
	var sigs <-chan os.Signal
	if o.Signals != nil {
		ch, stop := o.Signals()
		defer stop()
		sigs = ch
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := c.Start(); err != nil {
		name := termsafe.String(o.Command[0])
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
			return &exitError{code: ExitNotFound, msg: fmt.Sprintf("exec: %s: command not found", name)}
		}
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // "fork/exec NAME: " says it twice
		}
		return &exitError{code: ExitCannotRun, msg: fmt.Sprintf("exec: cannot run %s: %s", name, termsafe.String(err.Error()))}
	}
	// From here on the command decides when it ends: agcurl's own
	// interruption (ctx) is the command's to handle, through the signals.
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	for {
		select {
		case sig := <-sigs:
			if forwardSignal(sig) {
				_ = c.Process.Signal(sig)
			}
		case err := <-done:
			code := exitStatus(c.ProcessState)
			var ee *exec.ExitError
			if err != nil && !errors.As(err, &ee) {
				// Waiting failed (copying stdin or stdout): say so.
				return &exitError{code: max(code, ExitError), msg: "exec: " + termsafe.String(err.Error())}
			}
			if code == 0 {
				return nil
			}
			return &SilentError{Code: code}
		}
	}
}

// execToken returns a valid access token with at least half of its
// lifetime left: a command may run a while with it.
func execToken(ctx context.Context, p *profileContext, o *ExecOptions) (string, error) {
	if at := p.f.Getenv("AGCURL_ACCESS_TOKEN"); at != "" {
		if err := checkTokenText("AGCURL_ACCESS_TOKEN", at); err != nil {
			return "", err
		}
		return at, nil
	}
	r, s, err := p.session(ctx)
	if err != nil {
		return "", err
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	if !s.Expiry.IsZero() && auth.Renewable(s) {
		life := s.Expiry.Sub(s.ObtainedAt)
		if life > 0 && s.Expiry.Sub(now()) < life/2 {
			if s, err = r.ForceRefresh(ctx, s.AccessToken); err != nil {
				return "", p.withHint(err)
			}
		}
	}
	return s.AccessToken, nil
}

// withoutEnv returns env without the entries for names.
func withoutEnv(env []string, names ...string) []string {
	out := make([]string, 0, len(env)+len(names))
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		drop := false
		for _, n := range names {
			if envKeyEqual(k, n) {
				drop = true
			}
		}
		if !drop {
			out = append(out, kv)
		}
	}
	return out
}
