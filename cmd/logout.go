package cmd

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/agcurl/agcurl/auth"
	"github.com/agcurl/agcurl/internal/termsafe"
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
				p, err := resolveProfile(f, g.Profile)
				if err != nil {
					return err
				}
				// Every profile is tried, even after one fails.
				var failed []string
				for _, name := range p.cfg.ProfileNames() {
					q, err := resolveProfile(f, name)
					if err == nil {
						err = logoutProfile(c.Context(), f, q, false)
					}
					if c.Context().Err() != nil {
						return c.Context().Err()
					}
					if err != nil {
						fmt.Fprintf(f.IO.ErrOut, "agcurl: profile %s: %s\n", name, termsafe.String(withRemedy(err).Error()))
						failed = append(failed, name)
					}
				}
				if len(failed) > 0 {
					return fmt.Errorf("could not log out of %s", strings.Join(failed, ", "))
				}
				return nil
			}
			p, err := resolveProfile(f, g.Profile)
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
	unlock, err := dirLocker(p.dir).LockSession(ctx, p.name)
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
	var corrupt *keychain.CorruptSessionError
	if errors.As(err, &corrupt) {
		// Nothing in it can be revoked; it can still be forgotten.
		if err := store.Delete(p.name); err != nil {
			return fmt.Errorf("remove session: %w", err)
		}
		fmt.Fprintf(f.IO.ErrOut, "%s The stored session was unreadable (%s); removed it without revoking it at the provider.\n",
			pal.yellow("!"), termsafe.String(corrupt.Detail))
		fmt.Fprintf(f.IO.ErrOut, "%s Logged out (profile %s)\n", pal.green("✓"), p.name)
		return nil
	}
	if err != nil {
		return err
	}
	token := firstNonEmpty(s.RefreshToken, s.AccessToken)
	if s.GrantType == keychain.GrantClientCredentials {
		token = "" // a machine client's token is not a user's session: nothing to end
	}
	if token != "" {
		if err := revokeAtIssuer(ctx, f, p, s, token); err != nil {
			if errors.Is(err, context.Canceled) && ctx.Err() != nil {
				return ctx.Err()
			}
			fmt.Fprintf(f.IO.ErrOut, "%s Could not revoke the session at the provider (%v); removing it locally anyway.\n", pal.yellow("!"), termsafe.String(err.Error()))
		}
	}
	if err := store.Delete(p.name); err != nil {
		return fmt.Errorf("remove session: %w", err)
	}
	fmt.Fprintf(f.IO.ErrOut, "%s Logged out of %s (profile %s)\n", pal.green("✓"), termsafe.String(firstNonEmpty(s.Issuer, p.profile.Endpoint)), p.name)
	return nil
}

// revokeAtIssuer revokes token at the provider that issued s, and nowhere
// else: when the profile now names another endpoint or client, the
// session's own issuer is discovered again for its revocation endpoint.
func revokeAtIssuer(ctx context.Context, f *Factory, p *profileContext, s *keychain.Session, token string) error {
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	info := p.profile.Provider
	if !p.sessionBelongs(s) || info == nil || auth.CheckProvider(info, p.profile.Endpoint) != nil {
		// Another provider's session, or cached provider data that fails
		// its check: find the revocation endpoint of the session's own
		// issuer afresh.
		if s.Issuer == "" {
			return errors.New("the session does not record its issuer")
		}
		endpoint, err := auth.NormalizeEndpoint(s.Issuer)
		if err != nil {
			return fmt.Errorf("the session's issuer: %w", err)
		}
		if info, err = auth.Discover(rctx, f.HTTPClient, endpoint); err != nil {
			return fmt.Errorf("the session came from %s, which the profile no longer uses: %w", s.Issuer, err)
		}
	}
	c := &auth.Client{Provider: info, ClientID: s.ClientID, HTTP: f.HTTPClient, Now: f.Now}
	return c.Revoke(rctx, token)
}

// NewCmdLogout is a shim until this command takes the XOptions shape.
func NewCmdLogout(f *Factory, runF func(*struct{}) error) *cobra.Command {
	return newLogoutCmd(f, f.global)
}
