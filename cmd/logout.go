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

// LogoutOptions are what `agcurl logout` runs with: the --all flag, its
// output, and, resolved only when it runs, the profile.
type LogoutOptions struct {
	IO      *IOStreams
	Profile func() (*profileContext, error)

	// All logs out of every configured profile (--all); it excludes
	// --profile.
	All bool

	// factory resolves the other profiles of --all and reaches the
	// provider's revocation endpoint.
	factory *Factory
}

// NewCmdLogout builds `agcurl logout`. When runF is not nil it is called
// with the parsed options instead of logoutRun, so that tests can check the
// command line without a provider.
func NewCmdLogout(f *Factory, runF func(*LogoutOptions) error) *cobra.Command {
	opts := &LogoutOptions{IO: f.IO, factory: f}
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
			// --profile is the root's persistent flag, merged into this
			// command's flags by the time RunE runs.
			if opts.All && c.Flags().Changed("profile") {
				return usageErrorf("--all and --profile cannot be used together")
			}
			opts.Profile = f.profileFunc()
			if runF != nil {
				return runF(opts)
			}
			return logoutRun(c.Context(), opts)
		},
	}
	c.Flags().BoolVar(&opts.All, "all", false, "log out of every profile")
	return c
}

// logoutRun logs out of the profile or, with All, of every configured
// profile: each one is tried even after another fails, and the failures
// are reported together.
func logoutRun(ctx context.Context, opts *LogoutOptions) error {
	f := opts.factory
	p, err := opts.Profile()
	if err != nil {
		return err
	}
	if !opts.All {
		return logoutProfile(ctx, f, p, false)
	}
	// Every profile is tried, even after one fails.
	var failed []string
	for _, name := range p.cfg.ProfileNames() {
		q, err := resolveProfile(f, name)
		if err == nil {
			err = logoutProfile(ctx, f, q, false)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			fmt.Fprintf(opts.IO.ErrOut, "agcurl: profile %s: %s\n", name, termsafe.String(withRemedy(err).Error()))
			failed = append(failed, name)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("could not log out of %s", strings.Join(failed, ", "))
	}
	return nil
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
		if err := revokeAtIssuer(ctx, f, p, s, token); errors.Is(err, auth.ErrNoRevocation) {
			// Microsoft Entra ID, for one: nothing to call, and nothing failed.
			fmt.Fprintf(f.IO.ErrOut, "%s The provider offers no revocation endpoint: the session is removed here, "+
				"but its refresh token stays valid at the provider until it expires.\n", pal.yellow("!"))
		} else if err != nil {
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
	// A confidential client's secret goes only to the issuer and for the
	// client it was given for.
	c := &auth.Client{Provider: info, ClientID: s.ClientID, HTTP: f.HTTPClient, Now: f.Now,
		ClientSecret: p.clientSecretFor(s.Issuer, s.ClientID), AuthMethod: p.profile.ClientAuthMethod}
	return c.Revoke(rctx, token)
}
