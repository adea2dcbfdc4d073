package cmd

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newTokenCmd(f *Factory, g *globalOptions) *cobra.Command {
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
			p, err := resolveProfile(f, g)
			if err != nil {
				return err
			}
			ts, err := p.tokens(c.Context())
			if err != nil {
				return err
			}
			tok, err := ts.AccessToken(c.Context())
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(f.IO.Out, tok)
			return err
		},
	}
}
