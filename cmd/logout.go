package cmd

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/agcurl/agcurl/auth"
	"github.com/agcurl/agcurl/keychain"
)

func newLogoutCmd(f *Factory, g *globalOptions) *cobra.Command {
	var all bool
	c := &cobra.Command{
		Use:   "logout",
		Short: "Revoke the session at the provider and forget it",
		Long: `Revoke the refresh token at the provider's revocation endpoint (RFC 7009;
Authgear then ends the whole session), and delete the session from the
keyring or file. If the provider cannot be reached, the session is deleted
locally anyway and a warning says so. Logging out when not logged in is not
an error. --all logs out of every profile.`,
		Example: `  agcurl logout
  agcurl logout --profile staging
  agcurl logout --all`,
		Args: exactArgs(0, ""),
		RunE: func(c *cobra.Command, args []string) error {
			if all {
				if c.Flags().Changed("profile") {
					return usageErrorf("--all and --profile cannot be used together")
				}
				p, err := resolveProfile(f, g)
				if err != nil {
					return err
				}
				for _, name := range p.cfg.ProfileNames() {
					q, err := resolveProfile(f, &globalOptions{Profile: name})
					if err != nil {
						return err
					}
					if err := logoutProfile(c.Context(), f, q, false); err != nil {
						return fmt.Errorf("profile %s: %w", name, err)
					}
				}
				return nil
			}
			p, err := resolveProfile(f, g)
			if err != nil {
				return err
			}
			return logoutProfile(c.Context(), f, p, false)
		},
	}
	c.Flags().BoolVar(&all, "all", false, "log out of every profile")
	return c
}

// logoutProfile revokes and deletes p's session. quiet leaves out the
// "not logged in" note.
func logoutProfile(ctx context.Context, f *Factory, p *profileContext, quiet bool) error {
	pal := newPalette(f.IO.ColorErr)
	if p.profile == nil {
		if !quiet {
			fmt.Fprintf(f.IO.ErrOut, "Not logged in (profile %s is not configured).\n", p.name)
		}
		return nil
	}
	store, err := p.store()
	if err != nil {
		return err
	}
	unlock, err := dirLocker(p.dir).Lock(ctx, "session-"+p.name)
	if err != nil {
		return err
	}
	defer unlock()
	s, err := store.Load(p.name)
	if errors.Is(err, keychain.ErrNotFound) {
		if !quiet {
			fmt.Fprintf(f.IO.ErrOut, "Not logged in (profile %s).\n", p.name)
		}
		return nil
	}
	if err != nil {
		return err
	}
	token := firstNonEmpty(s.RefreshToken, s.AccessToken)
	if s.GrantType == keychain.GrantClientCredentials {
		token = "" // a machine client's token is not a user's session: nothing to end
	}
	if p.profile.Provider != nil && token != "" {
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := auth.Revoke(rctx, f.HTTPClient, p.profile.Provider.RevocationEndpoint, s.ClientID, token)
		cancel()
		if errors.Is(err, context.Canceled) && ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			fmt.Fprintf(f.IO.ErrOut, "%s Could not revoke the session at the provider (%v); removing it locally anyway.\n", pal.yellow("!"), err)
		}
	}
	if err := store.Delete(p.name); err != nil {
		return fmt.Errorf("remove session: %w", err)
	}
	fmt.Fprintf(f.IO.ErrOut, "%s Logged out of %s (profile %s)\n", pal.green("✓"), p.profile.Endpoint, p.name)
	return nil
}
