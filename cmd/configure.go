package cmd

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/agcurl/agcurl/auth"
	"github.com/agcurl/agcurl/httpcall"
	"github.com/agcurl/agcurl/internal/config"
	"github.com/agcurl/agcurl/keychain"
)

// ConfigureOptions are what `agcurl configure` runs with: the flags,
// checked and normalized, the streams, the HTTP client for discovery and,
// resolved only when it runs, the profile.
type ConfigureOptions struct {
	IO         *IOStreams
	HTTPClient *http.Client
	Profile    func() (*profileContext, error)
	// factory resolves, and logs out of, the profile --delete names.
	factory *Factory

	// Endpoint (--endpoint, normalized) and ClientID (--client-id) replace
	// the profile's when not empty. EndpointSet and ClientIDSet report
	// whether the flags were given at all.
	Endpoint    string
	EndpointSet bool
	ClientID    string
	ClientIDSet bool
	// Scope (--scope, its words joined by single spaces) replaces the
	// profile's scopes when ScopeSet; "" then means the default scopes.
	Scope    string
	ScopeSet bool
	// RedirectURI (--redirect-uri) replaces the profile's when not empty.
	RedirectURI string
	// APIBase (--api-base, normalized) replaces the profile's when
	// APIBaseSet; "" then clears it.
	APIBase    string
	APIBaseSet bool
	// AllowedOrigins (--allow-origin, as origins, empty values left out)
	// replace the profile's list when AllowOriginSet.
	AllowedOrigins []string
	AllowOriginSet bool
	// Show (--show, --list) lists the profiles instead, as JSON with JSON.
	Show bool
	JSON bool
	// Delete (--delete) names a profile to delete instead.
	Delete string
	// SetDefault (--set-default) makes the profile the default one; alone
	// (without --endpoint or --client-id) it changes nothing else.
	SetDefault bool
	// Client holds the flags for a confidential client, the audience and
	// extra authorization request parameters (configure_provider.go).
	Client ClientOptions
}

// NewCmdConfigure builds `agcurl configure`. When runF is not nil it is
// called with the parsed and checked options instead of configureRun, so
// that tests can check the command line without a provider.
func NewCmdConfigure(f *Factory, runF func(*ConfigureOptions) error) *cobra.Command {
	opts := &ConfigureOptions{IO: f.IO, HTTPClient: f.HTTPClient, factory: f}
	c := &cobra.Command{
		Use:   "configure",
		Short: "Set the provider endpoint and client for a profile",
		Long: `Configure a profile: the provider's endpoint (for Authgear, your project's
origin, e.g. https://myapp.authgear.cloud) and the client id of a "Native App"
client registered there with the redirect URI below.

The endpoint is checked by fetching its OpenID discovery document; nothing is
written unless that succeeds. An endpoint given without a scheme gets https://.

Scopes (--scope) must include openid for a user's sign-in; a profile whose
scopes lack it is a machine client's, which signs in with
'agcurl login --client-credentials' and asks for those scopes. Values not given keep their current setting.
When a required value is missing and stdin is a terminal, agcurl asks for it.

The configuration holds no secrets. It lives in $AGCURL_CONFIG_DIR, or
agcurl/ under the OS's user config directory (~/.config/agcurl on Linux).

For a confidential client (Google's "Desktop app", a Keycloak client with
client authentication on), --client-secret - reads the secret from stdin and
keeps it where the profile's sessions are kept (the OS keyring, or a 0600
file with --insecure-storage or AGCURL_STORAGE=file), never in the
configuration; logout keeps it, --client-secret '' removes it, so does a new
endpoint or client id, and $AGCURL_CLIENT_SECRET overrides it. It is sent at the token and revocation
endpoints as the provider's discovery document says (client_secret_basic
unless only client_secret_post is offered; --client-auth-method chooses).
--audience and --param add parameters to every sign-in of the profile; see
docs/providers.md for recipes for Google, Auth0, Microsoft Entra ID,
Keycloak and Ory Hydra.`,
		Example: `  agcurl configure --endpoint https://myapp.authgear.cloud --client-id 4f2a...
  agcurl configure --profile staging --endpoint https://staging.authgear.cloud --client-id 77b1...
  agcurl configure --redirect-uri http://127.0.0.1:8765/callback
  pass show google-cli | agcurl configure --client-secret -   # a confidential client
  agcurl configure --audience https://api.example.com --param access_type=offline
  agcurl configure --show
  agcurl configure --profile staging --set-default
  agcurl configure --delete staging`,
		Args: exactArgs(0, ""),
		RunE: func(c *cobra.Command, args []string) error {
			fl := c.Flags()
			opts.EndpointSet, opts.ClientIDSet = fl.Changed("endpoint"), fl.Changed("client-id")
			opts.ScopeSet, opts.APIBaseSet, opts.AllowOriginSet = fl.Changed("scope"), fl.Changed("api-base"), fl.Changed("allow-origin")
			if err := opts.Client.readConfigureFlags(fl); err != nil {
				return err
			}
			switch {
			case opts.Show:
			case opts.Delete != "":
				if err := keychain.ValidateProfileName(opts.Delete); err != nil {
					return &UsageError{Err: err}
				}
			case opts.saves():
				if err := opts.normalize(); err != nil {
					return err
				}
			}
			opts.Profile = f.profileFunc()
			if runF != nil {
				return runF(opts)
			}
			return configureRun(c.Context(), opts)
		},
	}
	fl := c.Flags()
	fl.StringVar(&opts.Endpoint, "endpoint", "", "provider endpoint (issuer), e.g. https://myapp.authgear.cloud (https:// when no scheme is given)")
	fl.StringVar(&opts.ClientID, "client-id", "", "OAuth client id of the Native App client")
	fl.StringVar(&opts.Scope, "scope", "", "scopes to request (default \""+auth.DefaultScope+"\"); without openid, the profile is a machine client's")
	fl.StringVar(&opts.RedirectURI, "redirect-uri", "", "loopback redirect URI registered for the client (default \""+auth.DefaultRedirectURI+"\")")
	fl.StringVar(&opts.APIBase, "api-base", "", "base URL for fetch's relative URLs (\"/v1/me\"); its origin may receive the token")
	fl.StringArrayVar(&opts.AllowedOrigins, "allow-origin", nil, "origin fetch may send the token to (repeatable; replaces the list; \"\" clears it)")
	fl.BoolVar(&opts.Show, "show", false, "list the configured profiles (endpoint, client id, redirect URI, storage, API base, allowed origins; --json adds audience, parameters and where a client secret is kept) and exit")
	fl.BoolVar(&opts.Show, "list", false, "same as --show")
	fl.StringVar(&opts.Delete, "delete", "", "delete this profile: its configuration and its session (revoked at the provider when reachable)")
	fl.BoolVar(&opts.SetDefault, "set-default", false, "make this profile the default one")
	fl.BoolVar(&opts.JSON, "json", false, "with --show: print JSON")
	opts.Client.addConfigureFlags(fl)
	return c
}

// saves reports whether the options configure the profile, rather than
// list, delete or only make the profile the default one.
func (o *ConfigureOptions) saves() bool {
	return !o.Show && o.Delete == "" && (!o.SetDefault || o.EndpointSet || o.ClientIDSet)
}

// normalize checks the values given on the command line and puts them in
// the form they are stored in. The values the profile already has, or that
// are asked for on a terminal, are checked when the command runs.
func (o *ConfigureOptions) normalize() error {
	if e := strings.TrimSpace(o.Endpoint); e != "" {
		endpoint, err := auth.NormalizeEndpoint(withScheme(e))
		if err != nil {
			return &UsageError{Err: err}
		}
		o.Endpoint = endpoint
	}
	if o.ScopeSet {
		o.Scope = strings.Join(strings.Fields(o.Scope), " ")
		if err := checkScope(o.Scope, "", false); err != nil {
			return err
		}
	}
	if o.RedirectURI != "" {
		if _, err := auth.ParseLoopbackRedirect(o.RedirectURI); err != nil {
			return &UsageError{Err: err}
		}
	}
	if o.APIBaseSet {
		apiBase, err := normalizeAPIBase(o.APIBase)
		if err != nil {
			return err
		}
		o.APIBase = apiBase
	}
	if o.AllowOriginSet {
		origins, err := normalizeOrigins(o.AllowedOrigins)
		if err != nil {
			return err
		}
		o.AllowedOrigins = origins
	}
	return nil
}

// withScheme gives an endpoint typed without a scheme ("myapp.authgear.cloud")
// https://, as fetch does with its URLs, loopback hosts included.
func withScheme(endpoint string) string {
	if endpoint != "" && !strings.Contains(endpoint, "://") {
		return "https://" + endpoint
	}
	return endpoint
}

// checkScope is the one rule for scopes, applied to configure --scope,
// login --scope and the scopes a profile holds when it signs in: each
// word is a scope token (RFC 6749 3.3: printable ASCII, no space, quote or
// backslash), and a user's sign-in (a browser or the device grant, which
// userSignIn says this is) asks for openid, since agcurl knows who signed in
// from the ID token. A machine client (client credentials) asks for
// whatever its API defines, so its scopes need not include openid; a
// profile whose scopes lack openid is, by that, a machine client's.
// profile names the profile the scopes come from, or is "" for --scope.
func checkScope(scope, profile string, userSignIn bool) error {
	what := "--scope"
	if profile != "" {
		what = "the scopes of profile " + strconv.Quote(profile)
	}
	words := strings.Fields(scope)
	for _, w := range words {
		for i := 0; i < len(w); i++ {
			if c := w[i]; c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
				return usageErrorf("%s: %q is not a scope: a scope is printable ASCII without quotes or backslashes", what, w)
			}
		}
	}
	if userSignIn && len(words) > 0 && !slices.Contains(words, "openid") {
		fix := ""
		if profile != "" {
			fix = "; or give this sign-in scopes with --scope 'openid ...'"
		}
		return usageErrorf("%s (%q) lack openid, which a user's sign-in needs (agcurl reads who signed in from the ID token); "+
			"scopes without openid are for a machine client: `agcurl login%s --client-credentials`%s", what, scope, profileFlagFor(profile), fix)
	}
	return nil
}

// machineScope reports whether scope is a machine client's: set, and
// without openid.
func machineScope(scope string) bool {
	return scope != "" && !slices.Contains(strings.Fields(scope), "openid")
}

// normalizeAPIBase checks an --api-base value and returns it without a
// trailing slash; "" (after trimming) clears the API base.
func normalizeAPIBase(raw string) (string, error) {
	apiBase := strings.TrimSpace(raw)
	if apiBase == "" {
		return "", nil
	}
	u, err := httpcall.ResolveURL(apiBase, "")
	if err != nil || !strings.Contains(apiBase, "://") {
		return "", usageErrorf("invalid --api-base %q: want an absolute URL such as https://api.example.com", httpcall.RedactURL(raw))
	}
	if err := httpcall.CheckTokenTarget(u); err != nil {
		return "", usageErrorf("invalid --api-base %q: plain http is allowed only on loopback", httpcall.RedactURL(raw))
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

// normalizeOrigins checks --allow-origin values and returns their origins,
// leaving out empty ones; nil when none is left.
func normalizeOrigins(raw []string) ([]string, error) {
	var allowed []string
	for _, a := range raw {
		if a = strings.TrimSpace(a); a == "" {
			continue
		}
		u, err := httpcall.ResolveURL(a, "")
		if err != nil || !strings.Contains(a, "://") || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			return nil, usageErrorf("invalid --allow-origin %q: want an origin such as https://api.example.com", httpcall.RedactURL(a))
		}
		if err := httpcall.CheckTokenTarget(u); err != nil {
			return nil, usageErrorf("invalid --allow-origin %q: plain http is allowed only on loopback", httpcall.RedactURL(a))
		}
		allowed = append(allowed, httpcall.Origin(u))
	}
	return allowed, nil
}

// NewCmdConfig builds `agcurl config` and its `list` subcommand. When runF
// is not nil, `config list` calls it with the parsed options instead of
// profilesRun, so that tests can check the command line.
func NewCmdConfig(f *Factory, runF func(*ProfilesOptions) error) *cobra.Command {
	c := &cobra.Command{
		Use:   "config",
		Short: "Inspect the configuration",
		Long: `Inspect agcurl's configuration: the profiles, each with its endpoint, client
id, redirect URI, storage backend, API base and allowed origins ('config list
--json' adds the scopes, audience, extra parameters and where a client secret
is kept, never the secret). It holds no secrets. Change it with
'agcurl configure'.`,
		Example: "  agcurl config list\n  agcurl config list --json",
	}
	opts := &ProfilesOptions{IO: f.IO}
	list := &cobra.Command{
		Use:   "list",
		Short: "List the configured profiles (same as configure --show)",
		Long: `List the configured profiles, each with its endpoint, client id, redirect URI,
storage backend (AGCURL_STORAGE, when set, over what login recorded), API base
and allowed origins; the current one is marked with *. Nothing secret is shown.`,
		Example: "  agcurl config list\n  agcurl config list --json",
		Args:    exactArgs(0, ""),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Profile = f.profileFunc()
			if runF != nil {
				return runF(opts)
			}
			return profilesRun(c.Context(), opts)
		},
	}
	list.Flags().BoolVar(&opts.JSON, "json", false, "print JSON")
	c.AddCommand(list)
	return c
}

// configureRun does what opts ask: list the profiles, delete one, make the
// profile the default one, or configure it (after discovery at its
// endpoint).
func configureRun(ctx context.Context, opts *ConfigureOptions) error {
	switch {
	case opts.Show:
		return profilesRun(ctx, &ProfilesOptions{IO: opts.IO, Profile: opts.Profile, JSON: opts.JSON})
	case opts.Delete != "":
		return deleteProfile(ctx, opts.factory, opts.Delete)
	case !opts.saves():
		return setDefaultProfile(ctx, opts)
	}
	p, err := opts.Profile()
	if err != nil {
		return err
	}
	cur := config.Profile{}
	if p.profile != nil {
		cur = *p.profile
	}
	in := bufio.NewReader(opts.IO.In)
	endpoint, err := valueOrPrompt(opts.IO, in, opts.Endpoint, cur.Endpoint, "endpoint", "Endpoint (e.g. https://myapp.authgear.cloud)")
	if err != nil {
		return err
	}
	if endpoint, err = auth.NormalizeEndpoint(withScheme(endpoint)); err != nil {
		return &UsageError{Err: err}
	}
	clientID, err := valueOrPrompt(opts.IO, in, opts.ClientID, cur.ClientID, "client-id", "Client ID")
	if err != nil {
		return err
	}
	scope := cur.Scope
	if opts.ScopeSet {
		scope = opts.Scope
	}
	if err := checkScope(scope, "", false); err != nil {
		return err
	}
	redirect := cur.RedirectURI
	if opts.RedirectURI != "" {
		redirect = opts.RedirectURI
	}
	if redirect != "" {
		if _, err := auth.ParseLoopbackRedirect(redirect); err != nil {
			return &UsageError{Err: err}
		}
	}
	apiBase := cur.APIBase
	if opts.APIBaseSet {
		apiBase = opts.APIBase
	}
	allowed := cur.AllowedOrigins
	if opts.AllowOriginSet {
		allowed = opts.AllowedOrigins
	}

	info, err := auth.Discover(ctx, opts.HTTPClient, endpoint)
	if err != nil {
		return err
	}
	endpoint = info.Issuer // with the trailing slash some issuers have
	if len(info.CodeChallengeMethods) > 0 && !slices.Contains(info.CodeChallengeMethods, "S256") {
		return fmt.Errorf("the provider at %s does not support PKCE with S256, which agcurl requires", endpoint)
	}
	np := &config.Profile{
		Endpoint: endpoint, ClientID: clientID, Scope: scope, RedirectURI: redirect,
		Storage: cur.Storage, Provider: info, APIBase: apiBase, AllowedOrigins: allowed,
	}
	secret, err := opts.Client.applyClientOptions(ctx, opts, in, p, np, &cur)
	if err != nil {
		return err
	}
	err = config.Update(ctx, p.dir, func(c *config.Config) error {
		c.Profiles[p.name] = np
		if opts.SetDefault {
			c.DefaultProfile = p.name
		}
		return nil
	})
	if err != nil {
		secret.undo(ctx)
		return err
	}
	pal := newPalette(opts.IO.ColorErr)
	fmt.Fprintf(opts.IO.ErrOut, "%s Configured profile %s: %s (client %s)\n", pal.green("✓"), pal.bold(p.name), endpoint, clientID)
	if err := secret.finish(ctx, opts.IO); err != nil {
		return err
	}
	if cur.Endpoint != "" && (cur.Endpoint != endpoint || cur.ClientID != clientID) {
		fmt.Fprintf(opts.IO.ErrOut, "%s The endpoint or client changed; any existing session is no longer used.\n", pal.yellow("!"))
	}
	if machineScope(scope) {
		fmt.Fprintf(opts.IO.ErrOut, "The scopes have no openid: this profile is for a machine client, which signs in with client credentials.\n")
		fmt.Fprintf(opts.IO.ErrOut, "Next: AGCURL_CLIENT_SECRET=... %s --client-credentials\n", p.loginCommand())
		return nil
	}
	if cur.Endpoint == endpoint && cur.ClientID == clientID && cur.Scope == scope && p.hasSession() {
		// Only the API base, origins or the like changed: the session stays.
		fmt.Fprintf(opts.IO.ErrOut, "Still logged in: the session is kept.\n")
		return nil
	}
	fmt.Fprintf(opts.IO.ErrOut, "Redirect URI to register for this client: %s\n", firstNonEmpty(redirect, auth.DefaultRedirectURI))
	fmt.Fprintf(opts.IO.ErrOut, "Next: %s\n", p.loginCommand())
	return nil
}

// hasSession reports whether the profile's store holds a session for it.
func (p *profileContext) hasSession() bool {
	st, err := p.store()
	if err != nil {
		return false
	}
	_, err = st.Load(p.name)
	return err == nil
}

// valueOrPrompt returns flag, else current, else asks on a terminal.
func valueOrPrompt(ios *IOStreams, in *bufio.Reader, flag, current, name, prompt string) (string, error) {
	if v := strings.TrimSpace(flag); v != "" {
		return v, nil
	}
	if current != "" {
		return current, nil
	}
	if !ios.InTTY {
		return "", usageErrorf("--%s is required", name)
	}
	fmt.Fprintf(ios.ErrOut, "%s: ", prompt)
	line, err := in.ReadString('\n')
	line = strings.TrimSpace(line)
	if line == "" {
		if err != nil && err != io.EOF {
			return "", err
		}
		return "", usageErrorf("--%s is required", name)
	}
	return line, nil
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// ProfilesOptions are what the listings of the profiles run with (`agcurl
// profiles`, `agcurl config list`, `agcurl configure --show`): the output,
// the --json flag and, resolved only when it runs, the current profile.
type ProfilesOptions struct {
	IO      *IOStreams
	Profile func() (*profileContext, error)
	// JSON (--json) prints JSON instead of a table.
	JSON bool
}

// profilesRun lists the configured profiles and marks the current one.
// The storage shown is the one commands use: $AGCURL_STORAGE over what the
// profile recorded at login.
func profilesRun(ctx context.Context, opts *ProfilesOptions) error {
	p, err := opts.Profile()
	if err != nil {
		return err
	}
	envStorage := p.f.Getenv("AGCURL_STORAGE")
	storageOf := func(n string) (string, error) {
		return (&profileContext{f: p.f, name: n, dir: p.dir, cfg: p.cfg, profile: p.cfg.Profiles[n]}).storageName()
	}
	names := p.cfg.ProfileNames()
	if opts.JSON {
		type row struct {
			Name        string            `json:"name"`
			Current     bool              `json:"current"`
			Endpoint    string            `json:"endpoint"`
			ClientID    string            `json:"client_id"`
			Scope       string            `json:"scope"`
			RedirectURI string            `json:"redirect_uri"`
			Storage     string            `json:"storage"`
			APIBase     string            `json:"api_base,omitempty"`
			Allowed     []string          `json:"allowed_origins,omitempty"`
			Audience    []string          `json:"audience,omitempty"`
			Params      map[string]string `json:"auth_params,omitempty"`
			AuthMethod  string            `json:"client_auth_method,omitempty"`
			// SecretIn says where the client secret is kept, never the secret.
			SecretIn string `json:"client_secret_storage,omitempty"`
		}
		rows := []row{}
		for _, n := range names {
			pr := p.cfg.Profiles[n]
			storage, err := storageOf(n)
			if err != nil {
				return err
			}
			rows = append(rows, row{n, n == p.name, pr.Endpoint, pr.ClientID,
				firstNonEmpty(pr.Scope, auth.DefaultScope), firstNonEmpty(pr.RedirectURI, auth.DefaultRedirectURI),
				storage, pr.APIBase, pr.AllowedOrigins, pr.Audience, pr.AuthParams, pr.ClientAuthMethod, pr.ClientSecretStorage})
		}
		return writeJSONOut(opts.IO, rows)
	}
	if len(names) == 0 {
		fmt.Fprintln(opts.IO.ErrOut, "No profiles configured. Run `agcurl configure --endpoint URL --client-id ID`.")
		return nil
	}
	tw := tabwriter.NewWriter(opts.IO.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  PROFILE\tENDPOINT\tCLIENT ID\tREDIRECT URI\tSTORAGE\tAPI BASE\tALLOWED ORIGINS")
	for _, n := range names {
		pr := p.cfg.Profiles[n]
		mark := " "
		if n == p.name {
			mark = "*"
		}
		storage, err := storageOf(n)
		if err != nil {
			return err
		}
		if envStorage != "" {
			storage += " (AGCURL_STORAGE)"
		}
		fmt.Fprintf(tw, "%s %s\t%s\t%s\t%s\t%s\t%s\t%s\n", mark, n, pr.Endpoint, pr.ClientID,
			firstNonEmpty(pr.RedirectURI, auth.DefaultRedirectURI), storage,
			firstNonEmpty(pr.APIBase, "-"), firstNonEmpty(strings.Join(pr.AllowedOrigins, ","), "-"))
	}
	return tw.Flush()
}

// setDefaultProfile makes the configured profile opts name the default one.
func setDefaultProfile(ctx context.Context, opts *ConfigureOptions) error {
	p, err := opts.Profile()
	if err != nil {
		return err
	}
	if p.cfg.Profiles[p.name] == nil {
		return &NotConfiguredError{Profile: p.name}
	}
	if err := config.Update(ctx, p.dir, func(c *config.Config) error {
		c.DefaultProfile = p.name
		return nil
	}); err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "%s Profile %s is the default now\n", newPalette(opts.IO.ColorErr).green("✓"), p.name)
	return nil
}

// deleteProfile logs out of the profile name (revoking its session when the
// provider is reachable) and removes it from the configuration.
func deleteProfile(ctx context.Context, f *Factory, name string) error {
	if err := keychain.ValidateProfileName(name); err != nil {
		return &UsageError{Err: err}
	}
	p, err := resolveProfile(f, name)
	if err != nil {
		return err
	}
	if p.cfg.Profiles[name] == nil {
		return usageErrorf("no profile %q to delete", name)
	}
	if err := logoutProfile(ctx, f, p, true); err != nil {
		return err
	}
	if err := p.removeClientSecret(ctx, p.cfg.Profiles[name].ClientSecretStorage); err != nil {
		return err
	}
	if err := config.Update(ctx, p.dir, func(c *config.Config) error {
		delete(c.Profiles, name)
		if c.DefaultProfile == name {
			c.DefaultProfile = ""
		}
		return nil
	}); err != nil {
		return err
	}
	fmt.Fprintf(f.IO.ErrOut, "%s Deleted profile %s\n", newPalette(f.IO.ColorErr).green("✓"), name)
	return nil
}

// NewCmdProfiles builds `agcurl profiles`. When runF is not nil it is
// called with the parsed options instead of profilesRun, so that tests can
// check the command line.
func NewCmdProfiles(f *Factory, runF func(*ProfilesOptions) error) *cobra.Command {
	opts := &ProfilesOptions{IO: f.IO}
	c := &cobra.Command{
		Use:   "profiles",
		Short: "List the configured profiles (same as configure --list)",
		Long: `List the configured profiles; the current one (--profile, $AGCURL_PROFILE or
the default) is marked with *. Set the default with
'agcurl configure --profile NAME --set-default'; delete one with
'agcurl configure --delete NAME'.`,
		Example: "  agcurl profiles\n  agcurl profiles --json",
		Args:    exactArgs(0, ""),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Profile = f.profileFunc()
			if runF != nil {
				return runF(opts)
			}
			return profilesRun(c.Context(), opts)
		},
	}
	c.Flags().BoolVar(&opts.JSON, "json", false, "print JSON")
	return c
}
