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
	"github.com/agcurl/agcurl/httpcall"
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
	// Backend shows what Authgear's resolver tells a backend (--backend)
	// instead of userinfo.
	Backend bool
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
sent them, for scripts.

--backend asks Authgear's resolver instead (GET {endpoint}/_resolver/resolve
with the access token) and shows the X-Authgear-* headers a backend behind
Authgear's resolver would receive for a request carrying this session's token:
whether the session is valid, the user id, anonymous, verified, can
reauthenticate, roles, amr and when the user authenticated. A 401 is answered
by one forced refresh and a retry, as fetch does; so is a session the
resolver calls not valid. Providers other than Authgear
have no resolver.`,
		Example: `  agcurl whoami
  agcurl whoami --json | jq -r .email
  agcurl whoami --backend
  agcurl whoami --backend --json | jq -r .user_roles[]`,
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
	c.Flags().BoolVar(&opts.Backend, "backend", false, "show what Authgear's resolver tells your backend (X-Authgear-* headers)")
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
	if opts.Backend {
		return whoamiBackend(ctx, opts, p)
	}
	if at := opts.Getenv("AGCURL_ACCESS_TOKEN"); at != "" {
		if err := checkTokenText("AGCURL_ACCESS_TOKEN", at); err != nil {
			return err
		}
		raw, err := c.UserInfo(ctx, at, "")
		if errors.Is(err, auth.ErrUnauthorized) {
			return &needsLoginError{msg: "the provider rejects the access token in AGCURL_ACCESS_TOKEN; replace it"}
		}
		if err != nil {
			return err
		}
		return printUserinfo(opts, p, raw)
	}
	r, s, err := p.session(ctx)
	if err != nil {
		return err
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
		return writeJSONOut(opts.IO, v)
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
		return writeJSONOut(opts.IO, out)
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

// whoamiBackend shows what Authgear's resolver tells a backend about a
// request with the profile's access token. A 401 gets one forced refresh
// and a retry, as fetch's does.
func whoamiBackend(ctx context.Context, opts *WhoamiOptions, p *profileContext) error {
	// One session read: the token to send and the source to refresh it.
	var ts httpcall.TokenSource
	var tok string
	if opts.Getenv("AGCURL_ACCESS_TOKEN") != "" {
		var err error
		if ts, err = p.tokens(ctx); err != nil {
			return err
		}
		if tok, err = ts.AccessToken(ctx); err != nil {
			return err
		}
	} else {
		r, s, err := p.session(ctx)
		if err != nil {
			return err
		}
		if s.GrantType == keychain.GrantClientCredentials {
			return errors.New("this profile's session is a machine client's (client credentials): it has no user, so Authgear's resolver has no session to describe")
		}
		ts, tok = refresherTokens{r: r, hint: p.withHint}, s.AccessToken
	}
	c := p.client()
	info, err := c.Resolve(ctx, tok)
	fromEnv := false
	if errors.Is(err, auth.ErrUnauthorized) || errors.Is(err, auth.ErrResolverRejected) {
		newTok, rerr := ts.Refresh(ctx, tok)
		switch {
		case errors.Is(rerr, httpcall.ErrNoRefresh):
			fromEnv = true // AGCURL_ACCESS_TOKEN: nothing to refresh; report what the resolver said
		case rerr != nil:
			return rerr
		default:
			info, err = c.Resolve(ctx, newTok)
		}
	}
	switch {
	case errors.Is(err, auth.ErrNotAuthgear):
		return fmt.Errorf("the provider at %s has no resolver (%s/_resolver/resolve): --backend needs Authgear", p.profile.Endpoint, p.profile.Endpoint)
	case errors.Is(err, auth.ErrResolverRejected), errors.Is(err, auth.ErrUnauthorized):
		if opts.JSON && info != nil {
			_ = writeJSONOut(opts.IO, info) // what the backend sees: not valid
		}
		if fromEnv {
			return &needsLoginError{msg: "Authgear's resolver rejects the access token in AGCURL_ACCESS_TOKEN (X-Authgear-Session-Valid: false); replace it"}
		}
		return &needsLoginError{msg: "Authgear's resolver says this session is not valid (X-Authgear-Session-Valid: false); run `" + p.loginCommand() + "`"}
	case err != nil:
		return err
	}
	if opts.JSON {
		return writeJSONOut(opts.IO, info)
	}
	w := opts.IO.Out
	pal := newPalette(opts.IO.ColorOut)
	fmt.Fprintf(w, "Your backend, behind Authgear's resolver at %s, sees:\n", p.profile.Endpoint)
	yes := func(b *bool) string {
		switch {
		case b == nil:
			return "-"
		case *b:
			return "yes"
		}
		return "no"
	}
	fmt.Fprintf(w, "  %-20s %s\n", "session valid:", pal.green(yes(info.SessionValid)))
	fmt.Fprintf(w, "  %-20s %s\n", "user id:", termsafe.String(info.UserID))
	fmt.Fprintf(w, "  %-20s %s\n", "anonymous:", yes(info.Anonymous))
	fmt.Fprintf(w, "  %-20s %s\n", "verified:", yes(info.Verified))
	fmt.Fprintf(w, "  %-20s %s\n", "can reauthenticate:", yes(info.CanReauthenticate))
	fmt.Fprintf(w, "  %-20s %s\n", "roles:", termsafe.String(firstNonEmpty(strings.Join(info.Roles, ", "), "-")))
	fmt.Fprintf(w, "  %-20s %s\n", "amr:", termsafe.String(firstNonEmpty(strings.Join(info.AMR, ", "), "-")))
	if t := info.AuthenticatedAt; t != nil {
		fmt.Fprintf(w, "  %-20s %s (%s ago)\n", "authenticated at:", t.Local().Format(time.RFC3339), opts.Now().Sub(*t).Round(time.Second))
	}
	fmt.Fprintf(w, "  %-20s %s\n", "profile:", p.name)
	return nil
}
