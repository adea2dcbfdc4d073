package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
)

// TokenOptions are what `agcurl token` runs with: its output and, resolved
// only when it runs, the profile.
type TokenOptions struct {
	IO      *IOStreams
	Profile func() (*profileContext, error)
}

// NewCmdToken builds `agcurl token`. When runF is not nil it is called with
// the parsed options instead of tokenRun, so that tests can check the
// command line without a provider.
func NewCmdToken(f *Factory, runF func(*TokenOptions) error) *cobra.Command {
	opts := &TokenOptions{IO: f.IO}
	return &cobra.Command{
		Use:   "token",
		Short: "Print a valid access token, refreshed if needed",
		Long: `Print the access token and a newline on stdout, and nothing else, for other
tools. It is refreshed first when it is missing or past 90% of its lifetime;
otherwise the cached token is printed without any network call, so calling
this in a loop does not hit the provider's rate limits.

Exits with 4 when not logged in. Prefer 'agcurl fetch', which never puts the
token in a command line or a shell variable.`,
		Example: `  curl -H "Authorization: Bearer $(agcurl token)" https://api.example.com/v1/me
  agcurl token --profile staging`,
		Args: exactArgs(0, ""),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Profile = f.profileFunc()
			if runF != nil {
				return runF(opts)
			}
			return tokenRun(c.Context(), opts)
		},
	}
}

// tokenRun prints a valid access token for the profile.
func tokenRun(ctx context.Context, opts *TokenOptions) error {
	p, err := opts.Profile()
	if err != nil {
		return err
	}
	ts, err := p.tokens(ctx)
	if err != nil {
		return err
	}
	tok, err := ts.AccessToken(ctx)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(opts.IO.Out, tok)
	return err
}
