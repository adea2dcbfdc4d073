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
	return &cobra.Command{
		Use:   "logout",
		Short: "Revoke the session at the provider and forget it",
		Long: `Revoke the refresh token at the provider's revocation endpoint (RFC 7009;
Authgear then ends the whole session), and delete the session from the
keyring or file. If the provider cannot be reached, the session is deleted
locally anyway and a warning says so. Logging out when not logged in is not
an error.`,
		Example: `  agcurl logout
  agcurl logout --profile staging`,
		Args: exactArgs(0, ""),
		RunE: func(c *cobra.Command, args []string) error {
			return logoutRun(c.Context(), f, g)
		},
	}
}

func logoutRun(ctx context.Context, f *Factory, g *globalOptions) error {
	p, err := resolveProfile(f, g)
	if err != nil {
		return err
	}
	pal := newPalette(f.IO.ColorErr)
	if p.profile == nil {
		fmt.Fprintf(f.IO.ErrOut, "Not logged in (profile %s is not configured).\n", p.name)
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
		fmt.Fprintf(f.IO.ErrOut, "Not logged in (profile %s).\n", p.name)
		return nil
	}
	if err != nil {
		return err
	}
	token := firstNonEmpty(s.RefreshToken, s.AccessToken)
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
