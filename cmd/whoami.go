package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/agcurl/agcurl/auth"
	"github.com/agcurl/agcurl/internal/termsafe"
	"github.com/agcurl/agcurl/keychain"
)

// WhoamiOptions are what `agcurl whoami` runs with: the --json flag, its
// output, the environment and clock, and, resolved only when it runs, the
// profile.
type WhoamiOptions struct {
	IO      *IOStreams
	Getenv  func(string) string
	Now     func() time.Time
	Profile func() (*profileContext, error)

	// JSON prints the userinfo claims as the provider sent them (--json).
	JSON bool
}

// NewCmdWhoami builds `agcurl whoami`. When runF is not nil it is called
// with the parsed options instead of whoamiRun, so that tests can check the
// command line without a provider.
func NewCmdWhoami(f *Factory, runF func(*WhoamiOptions) error) *cobra.Command {
	opts := &WhoamiOptions{IO: f.IO, Getenv: f.Getenv, Now: f.Now}
	c := &cobra.Command{
		Use:   "whoami",
		Short: "Show the signed-in user, from the provider's userinfo endpoint",
		Long: `Ask the provider's userinfo endpoint who the session belongs to. The access
token is refreshed first if needed. --json prints the claims as the provider
sent them, for scripts.`,
		Example: `  agcurl whoami
  agcurl whoami --json | jq -r .email`,
		Args: exactArgs(0, ""),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Profile = f.profileFunc()
			if runF != nil {
				return runF(opts)
			}
			return whoamiRun(c.Context(), opts)
		},
	}
	c.Flags().BoolVar(&opts.JSON, "json", false, "print the userinfo claims as JSON")
	return c
}

// whoamiRun asks the provider's userinfo endpoint who the profile's session
// (or $AGCURL_ACCESS_TOKEN) belongs to, and prints it.
func whoamiRun(ctx context.Context, opts *WhoamiOptions) error {
	p, err := opts.Profile()
	if err != nil {
		return err
	}
	if err := p.requireConfigured(ctx); err != nil {
		return err
	}
	c := p.client()
	if at := opts.Getenv("AGCURL_ACCESS_TOKEN"); at != "" {
		raw, err := c.UserInfo(ctx, at, "")
		if errors.Is(err, auth.ErrUnauthorized) {
			return &needsLoginError{msg: "the provider rejects the access token in AGCURL_ACCESS_TOKEN; replace it"}
		}
		if err != nil {
			return err
		}
		return printUserinfo(opts, p, raw)
	}
	r, err := p.refresher(ctx)
	if err != nil {
		return p.withHint(err)
	}
	s, err := r.Token(ctx)
	if err != nil {
		return p.withHint(err)
	}
	if s.GrantType == keychain.GrantClientCredentials {
		return printMachineClient(opts, p, s)
	}
	raw, err := c.UserInfo(ctx, s.AccessToken, s.Subject)
	if errors.Is(err, auth.ErrUnauthorized) {
		if s, err = r.ForceRefresh(ctx, s.AccessToken); err != nil {
			return p.withHint(err)
		}
		raw, err = c.UserInfo(ctx, s.AccessToken, s.Subject)
	}
	if errors.Is(err, auth.ErrUnauthorized) {
		return &needsLoginError{msg: "the provider rejects this session's tokens; run `" + p.loginCommand() + "`"}
	}
	if err != nil {
		return err
	}
	return printUserinfo(opts, p, raw)
}

// printUserinfo prints the userinfo response raw: as JSON with --json, or
// the claims that say who the user is.
func printUserinfo(opts *WhoamiOptions, p *profileContext, raw []byte) error {
	w := opts.IO.Out
	if opts.JSON {
		var v any
		_ = json.Unmarshal(raw, &v)
		return writeJSON(w, v)
	}
	var claims map[string]any
	if err := json.Unmarshal(raw, &claims); err != nil {
		return fmt.Errorf("userinfo: %w", err)
	}
	pal := newPalette(opts.IO.ColorOut)
	// Claims are the provider's (and the user's) text: escaped for the terminal.
	str := func(k string) string { v, _ := claims[k].(string); return termsafe.String(v) }
	who := firstNonEmpty(str("preferred_username"), str("email"), str("phone_number"), str("sub"))
	fmt.Fprintf(w, "Logged in to %s as %s\n", p.profile.Endpoint, pal.bold(who))
	for _, k := range []string{"sub", "name", "email", "phone_number"} {
		if v := str(k); v != "" {
			fmt.Fprintf(w, "  %-13s %s\n", k+":", v)
		}
	}
	if v, ok := claims["email_verified"].(bool); ok {
		fmt.Fprintf(w, "  %-13s %t\n", "verified:", v)
	}
	fmt.Fprintf(w, "  %-13s %s\n", "profile:", p.name)
	return nil
}

// printMachineClient answers whoami for a client credentials session: a
// machine client has no user, and so no userinfo; what is known is shown.
func printMachineClient(opts *WhoamiOptions, p *profileContext, s *keychain.Session) error {
	w := opts.IO.Out
	if opts.JSON {
		out := map[string]any{"machine_client": true, "client_id": s.ClientID, "subject": s.Subject, "profile": p.name}
		if !s.Expiry.IsZero() {
			out["access_token_expires_at"] = s.Expiry.UTC().Format(time.RFC3339)
		}
		if len(s.Scopes) > 0 {
			out["scopes"] = s.Scopes
		}
		return writeJSON(w, out)
	}
	pal := newPalette(opts.IO.ColorOut)
	fmt.Fprintf(w, "Logged in to %s as machine client %s: a machine client has no user, so there is no userinfo\n",
		p.profile.Endpoint, pal.bold(termsafe.String(s.ClientID)))
	fmt.Fprintf(w, "  %-13s %s\n", "client id:", termsafe.String(s.ClientID))
	if !s.Expiry.IsZero() {
		fmt.Fprintf(w, "  %-13s expires %s (in %s)\n", "access token:", s.Expiry.Local().Format(time.RFC3339), s.Expiry.Sub(opts.Now()).Round(time.Second))
	}
	if len(s.Scopes) > 0 {
		fmt.Fprintf(w, "  %-13s %s\n", "scopes:", termsafe.String(strings.Join(s.Scopes, " ")))
	}
	fmt.Fprintf(w, "  %-13s %s\n", "profile:", p.name)
	return nil
}
