package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/agcurl/agcurl/auth"
	"github.com/agcurl/agcurl/httpcall"
)

func newWhoamiCmd(f *Factory, g *globalOptions) *cobra.Command {
	var asJSON bool
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
			return whoamiRun(c.Context(), f, g, asJSON)
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print the userinfo claims as JSON")
	return c
}

func whoamiRun(ctx context.Context, f *Factory, g *globalOptions, asJSON bool) error {
	p, err := resolveProfile(f, g)
	if err != nil {
		return err
	}
	if err := p.requireConfigured(ctx); err != nil {
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
	endpoint := p.profile.Provider.UserinfoEndpoint
	raw, err := auth.UserInfo(ctx, f.HTTPClient, endpoint, tok)
	if errors.Is(err, auth.ErrUnauthorized) {
		if tok, err = ts.Refresh(ctx, tok); errors.Is(err, httpcall.ErrNoRefresh) {
			return &needsLoginError{msg: "the provider rejects the access token in AGCURL_ACCESS_TOKEN"}
		} else if err != nil {
			return err
		}
		raw, err = auth.UserInfo(ctx, f.HTTPClient, endpoint, tok)
	}
	if errors.Is(err, auth.ErrUnauthorized) {
		return &needsLoginError{msg: "the provider rejects this session's tokens; run `" + p.loginCommand() + "`"}
	}
	if err != nil {
		return err
	}
	if asJSON {
		var v any
		_ = json.Unmarshal(raw, &v)
		enc := json.NewEncoder(f.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	var claims map[string]any
	if err := json.Unmarshal(raw, &claims); err != nil {
		return fmt.Errorf("userinfo: %w", err)
	}
	pal := newPalette(f.IO.ColorOut)
	str := func(k string) string { v, _ := claims[k].(string); return v }
	who := firstNonEmpty(str("preferred_username"), str("email"), str("phone_number"), str("sub"))
	fmt.Fprintf(f.IO.Out, "Logged in to %s as %s\n", p.profile.Endpoint, pal.bold(who))
	for _, k := range []string{"sub", "name", "email", "phone_number"} {
		if v := str(k); v != "" {
			fmt.Fprintf(f.IO.Out, "  %-13s %s\n", k+":", v)
		}
	}
	if v, ok := claims["email_verified"].(bool); ok {
		fmt.Fprintf(f.IO.Out, "  %-13s %t\n", "verified:", v)
	}
	fmt.Fprintf(f.IO.Out, "  %-13s %s\n", "profile:", p.name)
	return nil
}
