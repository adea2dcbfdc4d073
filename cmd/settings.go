package cmd

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/agcurl/agcurl/auth"
	"github.com/agcurl/agcurl/internal/termsafe"
	"github.com/agcurl/agcurl/keychain"
)

// SettingsOptions are what `agcurl settings` runs with.
type SettingsOptions struct {
	IO      *IOStreams
	Getenv  func(string) string
	Browser auth.Browser
	Profile func() (*profileContext, error)

	// Page is a key of auth.SettingsPages (--page).
	Page string
	// Print writes the URL on stdout instead of opening it (--print).
	Print bool
	// ForceBrowser opens a browser even without a terminal (--browser).
	ForceBrowser bool
}

// NewCmdSettings builds `agcurl settings`. When runF is not nil it is
// called with the parsed options instead of settingsRun.
func NewCmdSettings(f *Factory, runF func(*SettingsOptions) error) *cobra.Command {
	opts := &SettingsOptions{IO: f.IO, Getenv: f.Getenv, Browser: f.Browser}
	pages := make([]string, 0, len(auth.SettingsPages))
	for p := range auth.SettingsPages {
		pages = append(pages, p)
	}
	sort.Strings(pages)
	c := &cobra.Command{
		Use:   "settings",
		Short: "Open your Authgear account settings, already signed in",
		Long: `Open the signed-in user's Authgear account settings page in the browser,
without signing in again, as Authgear's SDKs do: the session's refresh token is
exchanged for a single-use app session token (valid about 5 minutes), which the
browser carries to the authorize endpoint (response_type=none, prompt=none).

The session needs the https://authgear.com/scopes/full-access scope (part of
the default scopes). Works only with Authgear, and only for a user's session
(not a machine client's).

--print writes the URL on stdout instead of opening it. The URL holds a secret
that signs a browser in as you: open it yourself, once, and do not share or log
it. Without a terminal agcurl opens no browser unless --browser is given.`,
		Example: `  agcurl settings
  agcurl settings --page identities
  agcurl settings --print > settings-url.txt   # then open it yourself, once`,
		Args: exactArgs(0, ""),
		RunE: func(c *cobra.Command, args []string) error {
			if _, ok := auth.SettingsPages[opts.Page]; !ok {
				return usageErrorf("--page must be one of %s", strings.Join(pages, ", "))
			}
			if opts.Print && opts.ForceBrowser {
				return usageErrorf("--print and --browser cannot be used together")
			}
			opts.Profile = f.profileFunc()
			if runF != nil {
				return runF(opts)
			}
			return settingsRun(c.Context(), opts)
		},
	}
	c.Flags().StringVar(&opts.Page, "page", "settings", "the page to open: "+strings.Join(pages, ", "))
	c.Flags().BoolVar(&opts.Print, "print", false, "print the URL (which holds a short-lived secret) instead of opening it")
	c.Flags().BoolVar(&opts.ForceBrowser, "browser", false, "open the browser even when not at a terminal")
	_ = c.RegisterFlagCompletionFunc("page", cobra.FixedCompletions(pages, cobra.ShellCompDirectiveNoFileComp))
	return c
}

// settingsRun exchanges the session's refresh token for an app session
// token and opens (or prints) the settings URL that carries it.
func settingsRun(ctx context.Context, opts *SettingsOptions) error {
	p, err := opts.Profile()
	if err != nil {
		return err
	}
	if err := p.requireConfigured(ctx); err != nil {
		return err
	}
	if opts.Getenv("AGCURL_ACCESS_TOKEN") != "" && opts.Getenv("AGCURL_REFRESH_TOKEN") == "" {
		return errors.New("AGCURL_ACCESS_TOKEN is set, but the settings page needs a refresh token: unset it, or set AGCURL_REFRESH_TOKEN")
	}
	// The session must be alive (this also refreshes it when due, under
	// the lock, so the refresh token used below is the current one).
	_, s, err := p.session(ctx)
	if err != nil {
		return err
	}
	if s.GrantType == keychain.GrantClientCredentials {
		return errors.New("this profile's session is a machine client's (client credentials): it has no user, so no account settings page")
	}
	if s.RefreshToken == "" {
		return &needsLoginError{msg: "the settings page needs the session's refresh token, and this session has none; run `" +
			p.loginCommand() + "` (with offline_access among the scopes)"}
	}
	if len(s.Scopes) > 0 && !slices.Contains(s.Scopes, auth.FullAccessScope) {
		return fmt.Errorf("the session lacks the %s scope, which the settings page needs; add it with `agcurl configure%s --scope '%s %s'`, then run `%s`",
			auth.FullAccessScope, p.profileFlag(), strings.Join(s.Scopes, " "), auth.FullAccessScope, p.loginCommand())
	}
	interactive := opts.IO.Interactive() && opts.Getenv("CI") == ""
	if !opts.Print && !opts.ForceBrowser && !interactive {
		return errors.New("not opening a browser: there is no terminal, or $CI is set; pass --browser to open one anyway, or --print to get the URL")
	}
	c := p.client()
	token, expireAt, err := c.AppSessionToken(ctx, s.RefreshToken)
	var apiErr *auth.AuthgearAPIError
	switch {
	case errors.Is(err, auth.ErrNotAuthgear):
		return fmt.Errorf("the provider at %s has no app session token endpoint: agcurl settings works only with Authgear", p.profile.Endpoint)
	case errors.As(err, &apiErr) && apiErr.InsufficientScope():
		return fmt.Errorf("%w; the session needs the %s scope: add it with `agcurl configure%s --scope '...'` and run `%s`",
			err, auth.FullAccessScope, p.profileFlag(), p.loginCommand())
	case errors.As(err, &apiErr) && apiErr.InvalidGrant():
		return &needsLoginError{msg: err.Error() + "; the session's refresh token is no longer accepted: run `" + p.loginCommand() + "`"}
	case err != nil:
		return err
	}
	u, err := c.SettingsURL(opts.Page, token)
	if err != nil {
		return err
	}
	valid := "about 5 minutes"
	if !expireAt.IsZero() {
		valid = "until " + expireAt.Local().Format("2006-01-02 15:04:05 MST")
	}
	if opts.Print {
		fmt.Fprintf(opts.IO.ErrOut, "The URL below signs a browser in as you, once, %s: open it yourself, and do not share or log it.\n", valid)
		_, err := fmt.Fprintln(opts.IO.Out, u)
		return err
	}
	if err := opts.Browser.Open(u); err != nil {
		return fmt.Errorf("could not open a browser (%v); run `agcurl settings%s --print` to get the URL", err, p.profileFlag())
	}
	fmt.Fprintf(opts.IO.ErrOut, "Opened your account settings (%s) in the browser, signed in as %s.\n", opts.Page, termsafe.String(firstNonEmpty(s.Subject, "you")))
	return nil
}
