package cmd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/agcurl/agcurl/auth"
	"github.com/agcurl/agcurl/keychain"
)

type loginOptions struct {
	Browser         bool
	NoBrowser       bool
	Port            int
	Timeout         time.Duration
	InsecureStorage bool
	SSO             bool
	Prompt          string
	LoginHint       string
	UILocales       string
	Signup          bool
}

func newLoginCmd(f *Factory, g *globalOptions) *cobra.Command {
	o := &loginOptions{}
	c := &cobra.Command{
		Use:   "login",
		Short: "Sign in in the browser and save the session",
		Long: `Sign in with the authorization code flow, PKCE (S256), state and nonce, through
a redirect to a one-shot server on 127.0.0.1 at the profile's redirect URI.
The ID token is verified (signature, issuer, audience, expiry, nonce) and the
session is saved in the OS keyring.

The browser opens by itself when stdin and stdout are a terminal and $CI is
not set; $BROWSER, when set, names the browser command. The URL is always
printed on stderr so that it can be opened by hand.

Without a reachable keyring (headless Linux, containers) login fails rather
than fall back silently; --insecure-storage (or AGCURL_STORAGE=file) keeps the
session in a 0600 file in the config directory instead.`,
		Example: `  agcurl login
  agcurl login --profile staging --prompt login
  agcurl login --signup --login-hint alice@example.com
  agcurl login --insecure-storage        # no keyring on this machine
  agcurl login --port 0                  # any free port, if the provider allows it`,
		Args: exactArgs(0, ""),
		RunE: func(c *cobra.Command, args []string) error {
			if o.Browser && o.NoBrowser {
				return usageErrorf("--browser and --no-browser cannot be used together")
			}
			if c.Flags().Changed("port") && (o.Port < 0 || o.Port > 65535) {
				return usageErrorf("--port must be between 0 and 65535")
			}
			if !c.Flags().Changed("port") {
				o.Port = -1
			}
			if o.Timeout <= 0 {
				return usageErrorf("--timeout must be positive")
			}
			return loginRun(c.Context(), f, g, o)
		},
	}
	fl := c.Flags()
	fl.BoolVar(&o.Browser, "browser", false, "open the browser even when not at a terminal")
	fl.BoolVar(&o.NoBrowser, "no-browser", false, "do not open a browser; print the URL and wait for the redirect")
	fl.IntVar(&o.Port, "port", 0, "listen on this port instead of the redirect URI's; 0 picks a free one (needs a provider that accepts any loopback port)")
	fl.DurationVar(&o.Timeout, "timeout", auth.DefaultLoginTimeout, "how long to wait for the browser")
	fl.BoolVar(&o.InsecureStorage, "insecure-storage", false, "keep the session in a 0600 file instead of the OS keyring")
	fl.BoolVar(&o.SSO, "sso", false, "let the browser's existing provider session sign you in (x_sso_enabled)")
	fl.StringVar(&o.Prompt, "prompt", "", "OIDC prompt, e.g. \"login\" to force a fresh sign-in")
	fl.StringVar(&o.LoginHint, "login-hint", "", "prefill the sign-in form with this user")
	fl.StringVar(&o.UILocales, "ui-locales", "", "languages for the sign-in pages, e.g. \"ja en\"")
	fl.BoolVar(&o.Signup, "signup", false, "open the sign-up page first (Authgear's x_page=signup)")
	return c
}

func loginRun(ctx context.Context, f *Factory, g *globalOptions, o *loginOptions) error {
	p, err := resolveProfile(f, g)
	if err != nil {
		return err
	}
	if err := p.requireConfigured(); err != nil {
		return err
	}
	storageName, err := p.storageName()
	if err != nil {
		return err
	}
	if o.InsecureStorage {
		storageName = keychain.StorageFile
	}
	store := p.storeFor(storageName)
	// Fail before the browser dance if the keyring cannot hold the result.
	old, err := store.Load(p.name)
	if err != nil && !errors.Is(err, keychain.ErrNotFound) {
		var unavailable *keychain.UnavailableError
		if errors.As(err, &unavailable) {
			return err
		}
		old = nil // a corrupt session is replaced by this login
	}

	interactive := f.IO.Interactive() && f.Getenv("CI") == ""
	openBrowser := o.Browser || (interactive && !o.NoBrowser)
	if !openBrowser && !o.NoBrowser {
		return &needsLoginError{msg: "not opening a browser: there is no terminal, or $CI is set; pass --browser to open one anyway, " +
			"or --no-browser to print the URL and wait for the redirect"}
	}

	lockCtx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	unlock, err := keychain.Lock(lockCtx, p.dir, "login-"+p.name)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("another `agcurl login` for profile %q is in progress; finish or cancel it first", p.name)
	}
	defer unlock()

	pal := newPalette(f.IO.ColorErr)
	opts := auth.LoginOptions{
		Provider:    p.profile.Provider,
		ClientID:    p.profile.ClientID,
		Scope:       p.profile.Scope,
		RedirectURI: p.profile.RedirectURI,
		Prompt:      o.Prompt,
		LoginHint:   o.LoginHint,
		UILocales:   o.UILocales,
		Signup:      o.Signup,
		SSO:         o.SSO,
		Timeout:     o.Timeout,
		HTTPClient:  f.HTTPClient,
		Now:         f.Now,
		ShowURL: func(u string, browserErr error) {
			switch {
			case !openBrowser:
				fmt.Fprintf(f.IO.ErrOut, "Open this URL in a browser on this machine to sign in:\n\n  %s\n\n", u)
			case browserErr != nil:
				fmt.Fprintf(f.IO.ErrOut, "%s Could not open a browser (%v). Open this URL to sign in:\n\n  %s\n\n", pal.yellow("!"), browserErr, u)
			default:
				fmt.Fprintf(f.IO.ErrOut, "Opening the browser to sign in. If it does not open, visit:\n\n  %s\n\n", u)
			}
			fmt.Fprintf(f.IO.ErrOut, "Waiting for the sign-in to finish (up to %s; Ctrl-C to cancel)...\n", o.Timeout)
		},
	}
	if o.Port >= 0 {
		if o.Port == 0 {
			opts.RandomPort = true
		} else {
			ru, err := auth.ParseLoopbackRedirect(firstNonEmpty(p.profile.RedirectURI, auth.DefaultRedirectURI))
			if err != nil {
				return err
			}
			ru.Host = net.JoinHostPort(ru.Hostname(), strconv.Itoa(o.Port))
			opts.RedirectURI = ru.String()
		}
	}
	if openBrowser {
		opts.Browser = f.Browser
	}
	s, err := auth.Login(ctx, opts)
	if err != nil {
		return err
	}
	if err := store.Save(p.name, s); err != nil {
		return fmt.Errorf("signed in, but saving the session failed: %w", err)
	}
	if err := p.recordStorage(ctx, storageName); err != nil {
		return err
	}
	if old != nil && old.RefreshToken != "" && old.RefreshToken != s.RefreshToken && old.Issuer == s.Issuer {
		// Do not leave the replaced grant alive at the provider.
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_ = auth.Revoke(rctx, f.HTTPClient, p.profile.Provider.RevocationEndpoint, old.ClientID, old.RefreshToken)
		cancel()
	}
	fmt.Fprintf(f.IO.ErrOut, "%s Logged in to %s as %s (profile %s, %s storage)\n",
		pal.green("✓"), p.profile.Endpoint, pal.bold(s.Subject), p.name, storageName)
	return nil
}

// recordStorage notes in the config which backend holds the session, and
// removes a session an earlier login left in the other backend. A profile
// never logged in is not looked up in the other backend: on a machine
// without a keyring that lookup would only wait for the keyring's timeout.
func (p *profileContext) recordStorage(ctx context.Context, name string) error {
	prev := p.profile.Storage
	if prev == name {
		return nil
	}
	err := keychain.UpdateConfig(ctx, p.dir, func(c *keychain.Config) error {
		if pr := c.Profiles[p.name]; pr != nil {
			pr.Storage = name
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("signed in, but recording the storage backend failed: %w", err)
	}
	p.profile.Storage = name
	if prev != "" {
		// An earlier login kept the session in the other backend.
		_ = p.storeFor(prev).Delete(p.name)
	}
	return nil
}
