package cmd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/agcurl/agcurl/auth"
	"github.com/agcurl/agcurl/internal/config"
	"github.com/agcurl/agcurl/internal/fileutil"
	"github.com/agcurl/agcurl/internal/termsafe"
	"github.com/agcurl/agcurl/keychain"
)

// LoginOptions are what `agcurl login` runs with: the flags, the streams,
// the environment and the browser opener, and, resolved only when it runs,
// the profile.
type LoginOptions struct {
	IO      *IOStreams
	Getenv  func(string) string
	Browser auth.Browser
	Profile func() (*profileContext, error)

	// ForceBrowser (--browser) opens the browser even when not at a
	// terminal; NoBrowser (--no-browser) only prints the URL and waits.
	ForceBrowser bool
	NoBrowser    bool
	// Port (--port) replaces the redirect URI's port when PortSet; 0 picks
	// a free one.
	Port    int
	PortSet bool
	// Timeout (--timeout) bounds the wait for the sign-in.
	Timeout time.Duration
	// InsecureStorage (--insecure-storage) keeps the session in a 0600 file.
	InsecureStorage bool
	// SSO, Prompt, LoginHint, UILocales, Signup and Reauth shape the
	// browser sign-in (--sso, --prompt, --login-hint, --ui-locales,
	// --signup, --reauth).
	SSO       bool
	Prompt    string
	LoginHint string
	UILocales string
	Signup    bool
	Reauth    bool
	// WithRefreshToken, ClientCredentials and Device choose a sign-in
	// without a browser; at most one is set.
	WithRefreshToken  bool
	ClientCredentials bool
	// Resource (--resource) is the API resource of a client-credentials
	// login.
	Resource string
	Device   bool
	// Scope (--scope) replaces the profile's scopes when not empty.
	Scope string
	// Client holds --audience and --param (login_provider.go).
	Client LoginClientOptions
}

// NewCmdLogin builds `agcurl login`. When runF is not nil it is called with
// the parsed and checked options instead of loginRun, so that tests can
// check the command line without a provider.
func NewCmdLogin(f *Factory, runF func(*LoginOptions) error) *cobra.Command {
	opts := &LoginOptions{IO: f.IO, Getenv: f.Getenv, Browser: f.Browser}
	c := &cobra.Command{
		Use:   "login",
		Short: "Sign in and save the session",
		Long: `Sign in with the authorization code flow, PKCE (S256), state and nonce, through
a redirect to a one-shot server on 127.0.0.1 at the profile's redirect URI.
The ID token is verified (signature, issuer, audience, expiry, nonce) and the
session is saved in the OS keyring.

The browser opens by itself when stdin and stdout are a terminal and $CI is
not set; $BROWSER, when set, names the browser command. The URL is always
printed on stderr so that it can be opened by hand. With --no-browser agcurl
only prints the URL and waits: for the redirect (when the port is forwarded
to this machine) or, when stdin is a terminal, for you to paste the final
redirect URL, or just its code. The wait ends at once when the provider
redirects back with an error (the user denied access, say) or when $BROWSER
exits with a failure.

Scopes (--scope, else the profile's) must include openid for a sign-in as a
user; --client-credentials asks for them as they are (none by default).

Without a browser at all:
  --device              the device authorization grant, when the provider
                        offers it (Authgear does not)
  --with-refresh-token  read a refresh token from stdin, check it, store it
  --client-credentials  a machine client: the secret from
                        $AGCURL_CLIENT_SECRET or stdin, never from argv

Without a reachable keyring (headless Linux, containers) login fails rather
than fall back silently; --insecure-storage (or AGCURL_STORAGE=file) keeps the
session in a 0600 file in the config directory instead.`,
		Example: `  agcurl login
  agcurl login --profile staging --prompt login
  agcurl login --signup --login-hint alice@example.com
  agcurl login --reauth                  # sign in again, as the same user
  agcurl login --no-browser              # on an SSH box: open the URL elsewhere, paste the result
  agcurl login --insecure-storage        # no keyring on this machine
  agcurl login --port 0                  # any free port, if the provider allows it
  printf %s "$REFRESH_TOKEN" | agcurl login --with-refresh-token
  AGCURL_CLIENT_SECRET=... agcurl login --client-credentials --resource https://api.example.com
  agcurl login --audience https://api.example.com   # Auth0: an access token for your API
  agcurl login --prompt consent --param access_type=offline   # Google: a refresh token`,
		Args: exactArgs(0, ""),
		RunE: func(c *cobra.Command, args []string) error {
			opts.PortSet = c.Flags().Changed("port")
			if err := opts.validate(); err != nil {
				return err
			}
			if err := opts.Client.readLoginFlags(c.Flags()); err != nil {
				return err
			}
			if err := opts.checkClientFlags(); err != nil {
				return err
			}
			opts.Profile = f.profileFunc()
			if runF != nil {
				return runF(opts)
			}
			return loginRun(c.Context(), opts)
		},
	}
	fl := c.Flags()
	fl.BoolVar(&opts.ForceBrowser, "browser", false, "open the browser even when not at a terminal")
	fl.BoolVar(&opts.NoBrowser, "no-browser", false, "do not open a browser; print the URL, wait for the redirect or a pasted URL")
	fl.IntVar(&opts.Port, "port", 0, "listen on this port instead of the redirect URI's; 0 picks a free one (needs a provider that accepts any loopback port)")
	fl.DurationVar(&opts.Timeout, "timeout", auth.DefaultLoginTimeout, "how long to wait for the sign-in")
	fl.BoolVar(&opts.InsecureStorage, "insecure-storage", false, "keep the session in a 0600 file instead of the OS keyring")
	fl.BoolVar(&opts.SSO, "sso", false, "let the browser's existing provider session sign you in (x_sso_enabled)")
	fl.StringVar(&opts.Prompt, "prompt", "", "OIDC prompt, e.g. \"login\" to force a fresh sign-in")
	fl.StringVar(&opts.LoginHint, "login-hint", "", "prefill the sign-in form with this user")
	fl.StringVar(&opts.UILocales, "ui-locales", "", "languages for the sign-in pages, e.g. \"ja en\"")
	fl.BoolVar(&opts.Signup, "signup", false, "open the sign-up page first (Authgear's x_page=signup)")
	fl.BoolVar(&opts.Reauth, "reauth", false, "sign in again as the current user (prompt=login, max_age=0, id_token_hint)")
	fl.BoolVar(&opts.WithRefreshToken, "with-refresh-token", false, "read a refresh token from stdin instead of signing in")
	fl.BoolVar(&opts.ClientCredentials, "client-credentials", false, "log in as a machine client (secret from $AGCURL_CLIENT_SECRET or stdin)")
	fl.StringVar(&opts.Resource, "resource", "", "with --client-credentials: the API resource URI (Authgear requires one)")
	fl.BoolVar(&opts.Device, "device", false, "use the device authorization grant (RFC 8628)")
	fl.StringVar(&opts.Scope, "scope", "", "scopes to request instead of the profile's (with openid, except for --client-credentials)")
	opts.Client.addLoginFlags(fl)
	return c
}

// validate returns the usage error in the flags, if any.
func (o *LoginOptions) validate() error {
	modes := 0
	for _, m := range []bool{o.WithRefreshToken, o.ClientCredentials, o.Device} {
		if m {
			modes++
		}
	}
	switch {
	case modes > 1:
		return usageErrorf("--with-refresh-token, --client-credentials and --device exclude each other")
	case o.ForceBrowser && o.NoBrowser:
		return usageErrorf("--browser and --no-browser cannot be used together")
	case o.PortSet && (o.Port < 0 || o.Port > 65535):
		return usageErrorf("--port must be between 0 and 65535")
	case o.Timeout <= 0:
		return usageErrorf("--timeout must be positive")
	case o.Resource != "" && !o.ClientCredentials:
		return usageErrorf("--resource needs --client-credentials")
	case o.Reauth && modes > 0:
		return usageErrorf("--reauth is a browser sign-in; it cannot be combined with --with-refresh-token, --client-credentials or --device")
	}
	o.Scope = strings.Join(strings.Fields(o.Scope), " ")
	return checkScope(o.Scope, "", o.userSignIn())
}

// userSignIn reports whether the login signs a user in through the
// provider's pages (a browser or the device grant), asking for scopes.
func (o *LoginOptions) userSignIn() bool { return !o.WithRefreshToken && !o.ClientCredentials }

// nonInteractiveHelp names what works for the profile without a person at
// the terminal: --device only when its provider's discovery data (cached,
// or just fetched) advertises a device authorization endpoint.
func (p *profileContext) nonInteractiveHelp() string {
	login := "`" + p.loginCommand() + " --client-credentials` or `--with-refresh-token`"
	if p.profile != nil && p.profile.Provider != nil && p.profile.Provider.DeviceAuthorizationEndpoint != "" {
		login = "`" + p.loginCommand() + " --client-credentials`, `--with-refresh-token` or `--device`"
	}
	return "without a terminal, use " + login + ", or set AGCURL_ACCESS_TOKEN or AGCURL_REFRESH_TOKEN (see `agcurl help environment`)"
}

// loginRun signs in to the profile's provider in the way opts choose and
// saves the session.
func loginRun(ctx context.Context, opts *LoginOptions) error {
	p, err := opts.Profile()
	if err != nil {
		return err
	}
	if err := p.requireConfigured(ctx); err != nil {
		return err
	}
	if opts.Scope == "" {
		if err := checkScope(p.profile.Scope, p.name, opts.userSignIn()); err != nil {
			return err
		}
	}
	storageName, err := p.storageName()
	if err != nil {
		return err
	}
	if opts.InsecureStorage {
		// Later commands find the session where $AGCURL_STORAGE or the
		// profile's record says; a profile the environment alone gives
		// has no record to note the file in.
		switch {
		case opts.Getenv("AGCURL_STORAGE") == keychain.StorageKeyring:
			return usageErrorf("--insecure-storage contradicts AGCURL_STORAGE=keyring; unset one of them")
		case p.cfg.Profiles[p.name] == nil && storageName != keychain.StorageFile:
			return usageErrorf("--insecure-storage: profile %q comes from the environment only, with no configuration to record the file in; set AGCURL_STORAGE=file instead, for this and later commands", p.name)
		}
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
	if opts.Reauth && (old == nil || old.IDToken == "") {
		return &needsLoginError{msg: "--reauth needs a signed-in session with an ID token; run `" + p.loginCommand() + "`"}
	}

	interactive := opts.IO.Interactive() && opts.Getenv("CI") == ""
	browserFlow := !opts.WithRefreshToken && !opts.ClientCredentials && !opts.Device
	openBrowser := opts.ForceBrowser || (interactive && !opts.NoBrowser)
	if browserFlow && !openBrowser && !opts.NoBrowser {
		return &needsLoginError{msg: "not opening a browser: there is no terminal, or $CI is set; pass --browser to open one anyway, " +
			"or --no-browser to print the URL and wait; " + p.nonInteractiveHelp()}
	}

	lockCtx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	unlock, err := fileutil.Lock(lockCtx, p.dir, "login-"+p.name)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("another `agcurl login` for profile %q is in progress; finish or cancel it first", p.name)
	}
	defer unlock()

	scope := firstNonEmpty(opts.Scope, p.profile.Scope, auth.DefaultScope)
	commit := &loginCommit{p: p, store: store, storageName: storageName, wantRefresh: wantsRefreshToken(p, scope, opts)}
	var s *keychain.Session
	switch {
	case opts.WithRefreshToken:
		rt, err := readSecret(opts.IO, opts.Getenv, "Refresh token", "")
		if err != nil {
			return err
		}
		s, err = p.client().WithRefreshToken(ctx, rt)
		if err != nil {
			return err
		}
		s.Scopes = strings.Fields(scope)
	case opts.ClientCredentials:
		fromEnv := strings.TrimSpace(opts.Getenv("AGCURL_CLIENT_SECRET")) != ""
		// The secret configured with `configure --client-secret -` is
		// used as it is, and not copied into the session.
		secret, stored := "", !fromEnv && p.clientSecretSource() != ""
		if !stored {
			if secret, err = readSecret(opts.IO, opts.Getenv, "Client secret", "AGCURL_CLIENT_SECRET"); err != nil {
				return err
			}
		}
		s, err = p.client().ClientCredentials(ctx, auth.ClientCredentialsOptions{
			ClientSecret: secret, Resource: opts.Resource, Scopes: strings.Fields(firstNonEmpty(opts.Scope, p.profile.Scope)),
			Audience: p.loginAudience(opts),
		})
		var rejected *auth.ClientCredentialsError
		if errors.As(err, &rejected) {
			where := "the secret given on stdin"
			switch {
			case fromEnv:
				where = "AGCURL_CLIENT_SECRET"
			case stored:
				where = "the secret stored with `agcurl configure" + p.profileFlag() + " --client-secret -`"
			}
			return fmt.Errorf("%w; check the client id %q and %s", err, p.profile.ClientID, where)
		}
		if err != nil {
			return err
		}
	case opts.Device:
		s, err = p.client().Device(ctx, auth.DeviceOptions{
			Scope: scope, Timeout: opts.Timeout, Audience: p.loginAudience(opts), ExtraParams: p.loginParams(opts),
			Show: func(code, uri, complete string) {
				fmt.Fprintf(opts.IO.ErrOut, "To sign in, open %s and enter the code:\n\n  %s\n\n", termsafe.String(uri), termsafe.String(code))
				if openBrowser && complete != "" {
					if err := opts.Browser.Open(complete); err == nil {
						fmt.Fprintln(opts.IO.ErrOut, "(A browser was opened at that page.)")
					}
				}
				fmt.Fprintf(opts.IO.ErrOut, "Waiting for the sign-in to finish (up to %s; Ctrl-C to cancel)...\n", opts.Timeout)
			},
		})
		if errors.Is(err, auth.ErrNoDeviceGrant) {
			return fmt.Errorf("%w; on a machine without a browser use `agcurl login --no-browser` instead", err)
		}
		if err != nil {
			p.tagClientAuth(err)
			return err
		}
	default:
		if s, err = browserLogin(ctx, p, opts, scope, old, openBrowser, commit.save); err != nil {
			p.tagClientAuth(err)
			return err
		}
	}
	if !commit.done {
		if err := commit.save(s); err != nil {
			return err
		}
	}
	if err := p.recordStorage(ctx, storageName); err != nil {
		return err
	}
	if r := commit.replaced; r != nil {
		// Do not leave the replaced grant alive at the provider.
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_ = p.client().Revoke(rctx, r.RefreshToken)
		cancel()
	}
	pal := newPalette(opts.IO.ColorErr)
	fmt.Fprintf(opts.IO.ErrOut, "%s Logged in to %s as %s (profile %s, %s storage)\n",
		pal.green("✓"), p.profile.Endpoint, pal.bold(termsafe.String(subjectText(s))), p.name, storageName)
	switch {
	case commit.keptRefresh:
		fmt.Fprintf(opts.IO.ErrOut, "%s The provider issued no new refresh token; the session keeps the one from the previous sign-in.\n", pal.yellow("!"))
	case commit.wantRefresh && s.RefreshToken == "":
		asked := "offline_access"
		if !slices.Contains(strings.Fields(scope), asked) {
			asked = "access_type=offline"
		}
		fmt.Fprintf(opts.IO.ErrOut, "%s No refresh token was issued, though %s was requested: this session ends when the access token expires%s. %s\n",
			pal.yellow("!"), asked, expiresAt(s), noRefreshAdvice(p, opts))
	}
	return nil
}

// wantsRefreshToken reports whether a login asked for a refresh token: a
// user's sign-in (browser or device) with the offline_access scope, or
// with Google's access_type=offline.
func wantsRefreshToken(p *profileContext, scope string, o *LoginOptions) bool {
	return !o.ClientCredentials && !o.WithRefreshToken &&
		(slices.Contains(strings.Fields(scope), "offline_access") || p.asksOffline(o))
}

func expiresAt(s *keychain.Session) string {
	if s.Expiry.IsZero() {
		return ""
	}
	return " (" + s.Expiry.Local().Format(time.RFC3339) + ")"
}

// noRefreshAdvice says what may get a refresh token next time.
func noRefreshAdvice(p *profileContext, o *LoginOptions) string {
	if o.Prompt == "consent" || promptsConsent(p, o) {
		return "Check that the client may use refresh tokens (offline access) at the provider, then run `" + p.loginCommand() + "` again."
	}
	return "Providers that follow OpenID Connect strictly grant offline_access only with consent: run `" + p.loginCommand() + " --prompt consent`."
}

// isAuthgear reports whether the profile's provider is Authgear: its
// hosted domains, or the Authgear scopes (custom domains use them).
func isAuthgear(p *profileContext, scope string) bool {
	host := ""
	if u, err := url.Parse(p.profile.Endpoint); err == nil {
		host = strings.ToLower(u.Hostname())
	}
	for _, suffix := range []string{".authgear.cloud", ".authgear.com", ".authgearapps.com"} {
		if strings.HasSuffix(host, suffix) {
			return true
		}
	}
	return strings.Contains(scope, "https://authgear.com/scopes/")
}

// promptsConsent reports whether a browser login adds prompt=consent by
// itself: offline_access is asked for, no prompt was chosen, and the
// provider lists consent among its prompt values (OIDC Core 11 lets such a
// provider grant offline_access only with consent). Not on Authgear, which
// issues refresh tokens without it.
func promptsConsent(p *profileContext, o *LoginOptions) bool {
	scope := firstNonEmpty(o.Scope, p.profile.Scope, auth.DefaultScope)
	return o.Prompt == "" && !o.Reauth && wantsRefreshToken(p, scope, o) &&
		slices.Contains(p.profile.Provider.PromptValues, "consent") && !isAuthgear(p, scope)
}

// loginCommit saves a new session under the session lock (the one refresh
// takes), so that no refresh in another process interleaves with it.
type loginCommit struct {
	p           *profileContext
	store       keychain.Store
	storageName string
	wantRefresh bool

	done        bool
	keptRefresh bool              // the previous refresh token was kept
	replaced    *keychain.Session // a previous session to revoke
}

func (c *loginCommit) save(s *keychain.Session) error {
	unlock, err := dirLocker(c.p.dir).LockSession(context.Background(), c.p.name)
	if err != nil {
		return fmt.Errorf("signed in, but the session lock could not be taken: %w", err)
	}
	defer unlock()
	old, err := c.store.Load(c.p.name)
	if err != nil {
		old = nil
	}
	same := old != nil && old.Issuer == s.Issuer && old.ClientID == s.ClientID
	if same && c.wantRefresh && s.RefreshToken == "" && old.RefreshToken != "" && old.Subject == s.Subject && s.GrantType == old.GrantType {
		// A sign-in that got no refresh token (prompt=login on a strict
		// provider, say) must not silently drop a working one.
		s.RefreshToken = old.RefreshToken
		c.keptRefresh = true
	}
	if err := c.store.Save(c.p.name, s); err != nil {
		return fmt.Errorf("signed in, but saving the session failed: %w", err)
	}
	c.done = true
	if same && old.RefreshToken != "" && old.RefreshToken != s.RefreshToken {
		c.replaced = old
	}
	return nil
}

func browserLogin(ctx context.Context, p *profileContext, o *LoginOptions, scope string, old *keychain.Session, openBrowser bool, finish func(*keychain.Session) error) (*keychain.Session, error) {
	pal := newPalette(o.IO.ColorErr)
	paste := o.NoBrowser && o.IO.InTTY
	opts := auth.LoginOptions{
		Scope:       scope,
		RedirectURI: p.profile.RedirectURI,
		Prompt:      o.Prompt,
		LoginHint:   o.LoginHint,
		UILocales:   o.UILocales,
		Signup:      o.Signup,
		SSO:         o.SSO,
		Timeout:     o.Timeout,
		Audience:    p.loginAudience(o),
		ExtraParams: p.loginParams(o),
		ShowURL: func(u string, browserErr error) {
			redirect := ""
			if pu, err := url.Parse(u); err == nil {
				redirect = termsafe.String(pu.Query().Get("redirect_uri"))
			}
			u = termsafe.String(u)
			switch {
			case !openBrowser:
				fmt.Fprintf(o.IO.ErrOut, "Open this URL in a browser to sign in:\n\n  %s\n\n", u)
				if paste {
					fmt.Fprintln(o.IO.ErrOut, "If the browser cannot reach this machine, it ends on a page that fails to load:")
					fmt.Fprintln(o.IO.ErrOut, "copy that page's address (or just its code) and paste it here.")
				} else {
					fmt.Fprintf(o.IO.ErrOut, "%s Pasting the redirect URL needs stdin to be a terminal, and it is not: agcurl waits only for\n"+
						"the browser to reach %s (forward that port if the browser is on another machine).\n\n", pal.yellow("!"), redirect)
				}
			case browserErr != nil:
				fmt.Fprintf(o.IO.ErrOut, "%s Could not open a browser (%v). Open this URL to sign in:\n\n  %s\n\n", pal.yellow("!"), browserErr, u)
			default:
				fmt.Fprintf(o.IO.ErrOut, "Opening the browser to sign in. If it does not open, visit:\n\n  %s\n\n", u)
			}
			fmt.Fprintf(o.IO.ErrOut, "Waiting for the sign-in to finish (up to %s; Ctrl-C to cancel)...\n", o.Timeout)
		},
	}
	if paste {
		opts.Paste = o.IO.In
		opts.PasteRejected = func(reason string) {
			fmt.Fprintf(o.IO.ErrOut, "%s %s; paste the address of the page the sign-in ended on.\n", pal.yellow("!"), reason)
		}
	}
	if promptsConsent(p, o) {
		opts.Prompt = "consent"
	}
	if o.Reauth {
		opts.Prompt, opts.MaxAge, opts.IDTokenHint = "login", "0", old.IDToken
	}
	if o.PortSet {
		if o.Port == 0 {
			opts.RandomPort = true
		} else {
			ru, err := auth.ParseLoopbackRedirect(firstNonEmpty(p.profile.RedirectURI, auth.DefaultRedirectURI))
			if err != nil {
				return nil, err
			}
			ru.Host = net.JoinHostPort(ru.Hostname(), strconv.Itoa(o.Port))
			opts.RedirectURI = ru.String()
		}
	}
	if openBrowser {
		opts.Browser = o.Browser
	}
	opts.Finish = func(s *keychain.Session) error {
		if o.Reauth && s.Subject != old.Subject {
			return fmt.Errorf("re-authentication signed in a different user (%s, not %s); the session was not changed", s.Subject, old.Subject)
		}
		return finish(s)
	}
	return p.client().Login(ctx, opts)
}

// readSecret returns $env when set, else reads one line from stdin: on a
// terminal after a prompt, without echo. A secret is never taken from argv.
func readSecret(ios *IOStreams, getenv func(string) string, what, env string) (string, error) {
	if env != "" {
		if v := strings.TrimSpace(getenv(env)); v != "" {
			return v, nil
		}
	}
	where := "on stdin"
	if env != "" {
		where = "in $" + env + " or on stdin"
	}
	return readSecretFrom(ios, bufio.NewReader(ios.In), what, where)
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
	err := config.Update(ctx, p.dir, func(c *config.Config) error {
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
		if unlock, err := dirLocker(p.dir).LockSession(ctx, p.name); err == nil {
			_ = p.storeFor(prev).Delete(p.name)
			unlock()
		}
	}
	return nil
}

// subjectText is who a session is, for messages: the user's subject, or
// the machine client (with its token's sub when known).
func subjectText(s *keychain.Session) string {
	if s.GrantType == keychain.GrantClientCredentials {
		if s.Subject != "" {
			return "machine client " + s.ClientID + " (sub " + s.Subject + ")"
		}
		return "machine client " + s.ClientID
	}
	return firstNonEmpty(s.Subject, "(unknown subject)")
}
