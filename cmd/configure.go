package cmd

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/agcurl/agcurl/auth"
	"github.com/agcurl/agcurl/httpcall"
	"github.com/agcurl/agcurl/internal/config"
	"github.com/agcurl/agcurl/keychain"
)

type configureOptions struct {
	Endpoint    string
	ClientID    string
	Scope       string
	RedirectURI string
	APIBase     string
	AllowOrigin []string
	Show        bool
	JSON        bool
	Delete      string
	SetDefault  bool
}

func newConfigureCmd(f *Factory, g *globalOptions) *cobra.Command {
	o := &configureOptions{}
	c := &cobra.Command{
		Use:   "configure",
		Short: "Set the provider endpoint and client for a profile",
		Long: `Configure a profile: the provider's endpoint (for Authgear, your project's
origin, e.g. https://myapp.authgear.cloud) and the client id of a "Native App"
client registered there with the redirect URI below.

The endpoint is checked by fetching its OpenID discovery document; nothing is
written unless that succeeds. Values not given keep their current setting.
When a required value is missing and stdin is a terminal, agcurl asks for it.

The configuration holds no secrets. It lives in $AGCURL_CONFIG_DIR, or
agcurl/ under the OS's user config directory (~/.config/agcurl on Linux).`,
		Example: `  agcurl configure --endpoint https://myapp.authgear.cloud --client-id 4f2a...
  agcurl configure --profile staging --endpoint https://staging.authgear.cloud --client-id 77b1...
  agcurl configure --redirect-uri http://127.0.0.1:8765/callback
  agcurl configure --show
  agcurl configure --profile staging --set-default
  agcurl configure --delete staging`,
		Args: exactArgs(0, ""),
		RunE: func(c *cobra.Command, args []string) error {
			if o.Show {
				return showConfig(f, g, o.JSON)
			}
			if o.Delete != "" {
				return deleteProfile(c.Context(), f, o.Delete)
			}
			if o.SetDefault && !c.Flags().Changed("endpoint") && !c.Flags().Changed("client-id") {
				return setDefaultProfile(c.Context(), f, g)
			}
			return configureRun(c.Context(), f, g, o, c.Flags())
		},
	}
	fl := c.Flags()
	fl.StringVar(&o.Endpoint, "endpoint", "", "provider endpoint (issuer), e.g. https://myapp.authgear.cloud")
	fl.StringVar(&o.ClientID, "client-id", "", "OAuth client id of the Native App client")
	fl.StringVar(&o.Scope, "scope", "", "scopes to request (default \""+auth.DefaultScope+"\")")
	fl.StringVar(&o.RedirectURI, "redirect-uri", "", "loopback redirect URI registered for the client (default \""+auth.DefaultRedirectURI+"\")")
	fl.StringVar(&o.APIBase, "api-base", "", "base URL for fetch's relative URLs (\"/v1/me\"); its origin may receive the token")
	fl.StringArrayVar(&o.AllowOrigin, "allow-origin", nil, "origin fetch may send the token to (repeatable; replaces the list; \"\" clears it)")
	fl.BoolVar(&o.Show, "show", false, "list the configured profiles and exit")
	fl.BoolVar(&o.Show, "list", false, "same as --show")
	fl.StringVar(&o.Delete, "delete", "", "delete this profile: its configuration and its session (revoked at the provider when reachable)")
	fl.BoolVar(&o.SetDefault, "set-default", false, "make this profile the default one")
	fl.BoolVar(&o.JSON, "json", false, "with --show: print JSON")
	return c
}

func newConfigCmd(f *Factory, g *globalOptions) *cobra.Command {
	c := &cobra.Command{
		Use:   "config",
		Short: "Inspect the configuration",
		Long: `Inspect agcurl's configuration: the profiles, each with its endpoint, client
id, redirect URI, storage backend, API base and allowed origins. It holds no
secrets. Change it with 'agcurl configure'.`,
		Example: "  agcurl config list\n  agcurl config list --json",
	}
	var asJSON bool
	list := &cobra.Command{
		Use:     "list",
		Short:   "List the configured profiles (same as configure --show)",
		Long:    "List the configured profiles; the current one is marked with *. Nothing secret is shown.",
		Example: "  agcurl config list\n  agcurl config list --json",
		Args:    exactArgs(0, ""),
		RunE:    func(c *cobra.Command, args []string) error { return showConfig(f, g, asJSON) },
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	c.AddCommand(list)
	return c
}

func configureRun(ctx context.Context, f *Factory, g *globalOptions, o *configureOptions, fl *pflag.FlagSet) error {
	scopeSet := fl.Changed("scope")
	p, err := resolveProfile(f, g.Profile)
	if err != nil {
		return err
	}
	cur := config.Profile{}
	if p.profile != nil {
		cur = *p.profile
	}
	in := bufio.NewReader(f.IO.In)
	endpoint, err := valueOrPrompt(f, in, o.Endpoint, cur.Endpoint, "endpoint", "Endpoint (e.g. https://myapp.authgear.cloud)")
	if err != nil {
		return err
	}
	if endpoint, err = auth.NormalizeEndpoint(endpoint); err != nil {
		return &UsageError{Err: err}
	}
	clientID, err := valueOrPrompt(f, in, o.ClientID, cur.ClientID, "client-id", "Client ID")
	if err != nil {
		return err
	}
	scope := cur.Scope
	if scopeSet {
		scope = strings.Join(strings.Fields(o.Scope), " ")
	}
	if scope != "" && !slices.Contains(strings.Fields(scope), "openid") {
		return usageErrorf("--scope must include openid")
	}
	redirect := cur.RedirectURI
	if o.RedirectURI != "" {
		redirect = o.RedirectURI
	}
	if redirect != "" {
		if _, err := auth.ParseLoopbackRedirect(redirect); err != nil {
			return &UsageError{Err: err}
		}
	}

	apiBase := cur.APIBase
	if fl.Changed("api-base") {
		apiBase = strings.TrimSpace(o.APIBase)
		if apiBase != "" {
			u, err := httpcall.ResolveURL(apiBase, "")
			if err != nil || !strings.Contains(apiBase, "://") {
				return usageErrorf("invalid --api-base %q: want an absolute URL such as https://api.example.com", o.APIBase)
			}
			if err := httpcall.CheckTokenTarget(u); err != nil {
				return usageErrorf("invalid --api-base %q: plain http is allowed only on loopback", o.APIBase)
			}
			apiBase = strings.TrimSuffix(u.String(), "/")
		}
	}
	allowed := cur.AllowedOrigins
	if fl.Changed("allow-origin") {
		allowed = nil
		for _, a := range o.AllowOrigin {
			if a = strings.TrimSpace(a); a == "" {
				continue
			}
			u, err := httpcall.ResolveURL(a, "")
			if err != nil || !strings.Contains(a, "://") || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
				return usageErrorf("invalid --allow-origin %q: want an origin such as https://api.example.com", a)
			}
			if err := httpcall.CheckTokenTarget(u); err != nil {
				return usageErrorf("invalid --allow-origin %q: plain http is allowed only on loopback", a)
			}
			allowed = append(allowed, httpcall.Origin(u))
		}
	}

	info, err := auth.Discover(ctx, f.HTTPClient, endpoint)
	if err != nil {
		return err
	}
	if len(info.CodeChallengeMethods) > 0 && !slices.Contains(info.CodeChallengeMethods, "S256") {
		return fmt.Errorf("the provider at %s does not support PKCE with S256, which agcurl requires", endpoint)
	}
	np := &config.Profile{
		Endpoint: endpoint, ClientID: clientID, Scope: scope, RedirectURI: redirect,
		Storage: cur.Storage, Provider: info, APIBase: apiBase, AllowedOrigins: allowed,
	}
	err = config.Update(ctx, p.dir, func(c *config.Config) error {
		c.Profiles[p.name] = np
		if o.SetDefault {
			c.DefaultProfile = p.name
		}
		return nil
	})
	if err != nil {
		return err
	}
	pal := newPalette(f.IO.ColorErr)
	fmt.Fprintf(f.IO.ErrOut, "%s Configured profile %s: %s (client %s)\n", pal.green("✓"), pal.bold(p.name), endpoint, clientID)
	if cur.Endpoint != "" && (cur.Endpoint != endpoint || cur.ClientID != clientID) {
		fmt.Fprintf(f.IO.ErrOut, "%s The endpoint or client changed; any existing session is no longer used.\n", pal.yellow("!"))
	}
	fmt.Fprintf(f.IO.ErrOut, "Redirect URI to register for this client: %s\n", firstNonEmpty(redirect, auth.DefaultRedirectURI))
	fmt.Fprintf(f.IO.ErrOut, "Next: %s\n", p.loginCommand())
	return nil
}

// valueOrPrompt returns flag, else current, else asks on a terminal.
func valueOrPrompt(f *Factory, in *bufio.Reader, flag, current, name, prompt string) (string, error) {
	if v := strings.TrimSpace(flag); v != "" {
		return v, nil
	}
	if current != "" {
		return current, nil
	}
	if !f.IO.InTTY {
		return "", usageErrorf("--%s is required", name)
	}
	fmt.Fprintf(f.IO.ErrOut, "%s: ", prompt)
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

func showConfig(f *Factory, g *globalOptions, asJSON bool) error {
	p, err := resolveProfile(f, g.Profile)
	if err != nil {
		return err
	}
	names := p.cfg.ProfileNames()
	if asJSON {
		type row struct {
			Name        string   `json:"name"`
			Current     bool     `json:"current"`
			Endpoint    string   `json:"endpoint"`
			ClientID    string   `json:"client_id"`
			Scope       string   `json:"scope"`
			RedirectURI string   `json:"redirect_uri"`
			Storage     string   `json:"storage"`
			APIBase     string   `json:"api_base,omitempty"`
			Allowed     []string `json:"allowed_origins,omitempty"`
		}
		rows := []row{}
		for _, n := range names {
			pr := p.cfg.Profiles[n]
			rows = append(rows, row{n, n == p.name, pr.Endpoint, pr.ClientID,
				firstNonEmpty(pr.Scope, auth.DefaultScope), firstNonEmpty(pr.RedirectURI, auth.DefaultRedirectURI),
				firstNonEmpty(pr.Storage, keychain.StorageKeyring), pr.APIBase, pr.AllowedOrigins})
		}
		return writeJSON(f.IO.Out, rows)
	}
	if len(names) == 0 {
		fmt.Fprintln(f.IO.ErrOut, "No profiles configured. Run `agcurl configure --endpoint URL --client-id ID`.")
		return nil
	}
	tw := tabwriter.NewWriter(f.IO.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  PROFILE\tENDPOINT\tCLIENT ID\tREDIRECT URI\tSTORAGE")
	for _, n := range names {
		pr := p.cfg.Profiles[n]
		mark := " "
		if n == p.name {
			mark = "*"
		}
		fmt.Fprintf(tw, "%s %s\t%s\t%s\t%s\t%s\n", mark, n, pr.Endpoint, pr.ClientID,
			firstNonEmpty(pr.RedirectURI, auth.DefaultRedirectURI), firstNonEmpty(pr.Storage, keychain.StorageKeyring))
	}
	return tw.Flush()
}

func setDefaultProfile(ctx context.Context, f *Factory, g *globalOptions) error {
	p, err := resolveProfile(f, g.Profile)
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
	fmt.Fprintf(f.IO.ErrOut, "%s Profile %s is the default now\n", newPalette(f.IO.ColorErr).green("✓"), p.name)
	return nil
}

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

func newProfilesCmd(f *Factory, g *globalOptions) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "profiles",
		Short: "List the configured profiles (same as configure --list)",
		Long: `List the configured profiles; the current one (--profile, $AGCURL_PROFILE or
the default) is marked with *. Set the default with
'agcurl configure --profile NAME --set-default'; delete one with
'agcurl configure --delete NAME'.`,
		Example: "  agcurl profiles\n  agcurl profiles --json",
		Args:    exactArgs(0, ""),
		RunE:    func(c *cobra.Command, args []string) error { return showConfig(f, g, asJSON) },
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

// NewCmdConfigure is a shim until this command takes the XOptions shape.
func NewCmdConfigure(f *Factory, runF func(*configureOptions) error) *cobra.Command {
	return newConfigureCmd(f, f.global)
}

// NewCmdConfig is a shim until this command takes the XOptions shape.
func NewCmdConfig(f *Factory, runF func(*configureOptions) error) *cobra.Command {
	return newConfigCmd(f, f.global)
}

// NewCmdProfiles is a shim until this command takes the XOptions shape.
func NewCmdProfiles(f *Factory, runF func(*configureOptions) error) *cobra.Command {
	return newProfilesCmd(f, f.global)
}
