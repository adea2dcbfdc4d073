package cmd

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/agcurl/agcurl/auth"
)

// noProviderReached fails the test if the command line wrote anything to
// f's config dir: a command stopped at runF (or at a usage error) must not
// have got as far as the configuration, the keyring or a provider. f has
// no HTTP client or browser to reach one with.
func noProviderReached(t *testing.T, f *Factory) {
	t.Helper()
	dir, _ := f.ConfigDir()
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the config dir %s was touched (%v)", dir, err)
	}
}

func TestNewCmdLogin(t *testing.T) {
	f := shapeFactory(t, map[string]string{"AGCURL_PROFILE": "from-env"})
	var got *LoginOptions
	capture := func(f *Factory) *cobra.Command {
		return NewCmdLogin(f, func(o *LoginOptions) error { got = o; return nil })
	}
	parse := func(t *testing.T, args ...string) *LoginOptions {
		t.Helper()
		got = nil
		if err := parseArgs(t, f, capture, append([]string{"login"}, args...)...); err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		if got == nil {
			t.Fatalf("%q: runF was not called", args)
		}
		return got
	}

	t.Run("defaults", func(t *testing.T) {
		o := parse(t)
		want := LoginOptions{Timeout: auth.DefaultLoginTimeout}
		if flagsOf(o) != flagsOf(&want) {
			t.Fatalf("defaults:\n got %+v\nwant %+v", flagsOf(o), flagsOf(&want))
		}
		if o.IO == nil || o.Getenv == nil {
			t.Fatal("IO or Getenv not set")
		}
		if p, err := o.Profile(); err != nil || p.name != "from-env" {
			t.Fatalf("profile: %v (%v)", p, err)
		}
	})

	t.Run("browser flags", func(t *testing.T) {
		o := parse(t, "--profile", "staging", "--browser", "--port", "8765", "--timeout", "90s",
			"--insecure-storage", "--sso", "--prompt", "consent", "--login-hint", "alice@example.com",
			"--ui-locales", "ja en", "--signup", "--scope", "openid email")
		want := LoginOptions{ForceBrowser: true, Port: 8765, PortSet: true, Timeout: 90 * time.Second,
			InsecureStorage: true, SSO: true, Prompt: "consent", LoginHint: "alice@example.com",
			UILocales: "ja en", Signup: true, Scope: "openid email"}
		if flagsOf(o) != flagsOf(&want) {
			t.Fatalf("\n got %+v\nwant %+v", flagsOf(o), flagsOf(&want))
		}
		if p, err := o.Profile(); err != nil || p.name != "staging" {
			t.Fatalf("--profile staging: %v (%v)", p, err)
		}
	})

	t.Run("port 0 is set, not the default", func(t *testing.T) {
		if o := parse(t, "--port", "0"); !o.PortSet || o.Port != 0 {
			t.Fatalf("--port 0: PortSet %v, Port %d", o.PortSet, o.Port)
		}
		if o := parse(t, "--port", "65535"); !o.PortSet || o.Port != 65535 {
			t.Fatalf("--port 65535: PortSet %v, Port %d", o.PortSet, o.Port)
		}
	})

	t.Run("other modes", func(t *testing.T) {
		cases := []struct {
			args []string
			want LoginOptions
		}{
			{[]string{"--no-browser"}, LoginOptions{NoBrowser: true}},
			{[]string{"--reauth"}, LoginOptions{Reauth: true}},
			{[]string{"--with-refresh-token"}, LoginOptions{WithRefreshToken: true}},
			{[]string{"--device", "--browser"}, LoginOptions{Device: true, ForceBrowser: true}},
			{[]string{"--client-credentials", "--resource", "https://api.example.com", "--scope", " read  write "},
				LoginOptions{ClientCredentials: true, Resource: "https://api.example.com", Scope: "read write"}},
			{[]string{"--with-refresh-token", "--scope", "read"}, LoginOptions{WithRefreshToken: true, Scope: "read"}},
		}
		for _, tc := range cases {
			tc.want.Timeout = auth.DefaultLoginTimeout
			if o := parse(t, tc.args...); flagsOf(o) != flagsOf(&tc.want) {
				t.Errorf("%q:\n got %+v\nwant %+v", tc.args, flagsOf(o), flagsOf(&tc.want))
			}
		}
	})

	t.Run("usage errors", func(t *testing.T) {
		cases := []struct {
			args []string
			msg  string
		}{
			{[]string{"--with-refresh-token", "--device"}, "exclude each other"},
			{[]string{"--with-refresh-token", "--client-credentials"}, "exclude each other"},
			{[]string{"--client-credentials", "--device"}, "exclude each other"},
			{[]string{"--browser", "--no-browser"}, "cannot be used together"},
			{[]string{"--port", "-1"}, "--port must be between 0 and 65535"},
			{[]string{"--port", "65536"}, "--port must be between 0 and 65535"},
			{[]string{"--port", "http"}, `invalid argument "http" for --port: want a whole number, like 3`},
			{[]string{"--timeout", "0"}, "--timeout must be positive"},
			{[]string{"--timeout", "-5s"}, "--timeout must be positive"},
			{[]string{"--timeout", "5"}, `invalid argument "5" for --timeout: want a duration like 5s or 2m (with its unit: 5s, not 5)`},
			{[]string{"--timeout", "soon"}, `invalid argument "soon" for --timeout: want a duration like 5s or 2m`},
			{[]string{"--browser=maybe"}, `invalid argument "maybe" for --browser: want true or false`},
			// One rule for scopes, as configure's: openid for a user's sign-in.
			{[]string{"--scope", "api:read"}, `--scope ("api:read") lack openid, which a user's sign-in needs`},
			{[]string{"--device", "--scope", "email"}, "`agcurl login --client-credentials`"},
			{[]string{"--client-credentials", "--scope", `openid "x"`}, `--scope: "\"x\"" is not a scope`},
			{[]string{"--resource", "https://api.example.com"}, "--resource needs --client-credentials"},
			{[]string{"--resource", "https://api.example.com", "--device"}, "--resource needs --client-credentials"},
			{[]string{"--reauth", "--device"}, "--reauth is a browser sign-in"},
			{[]string{"--reauth", "--with-refresh-token"}, "--reauth is a browser sign-in"},
			{[]string{"--reauth", "--client-credentials"}, "--reauth is a browser sign-in"},
			{[]string{"--no-such-flag"}, "unknown flag"},
			{[]string{"now"}, `unexpected argument "now"`},
		}
		for _, tc := range cases {
			got = nil
			err := parseArgs(t, f, capture, append([]string{"login"}, tc.args...)...)
			var usage *UsageError
			if !errors.As(err, &usage) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("%q: want a usage error with %q, got %v", tc.args, tc.msg, err)
			}
			if got != nil {
				t.Errorf("%q: runF was called after a usage error", tc.args)
			}
		}
	})
	noProviderReached(t, f)
}

// loginFlags is LoginOptions without its dependencies, for comparing.
type loginFlags struct {
	ForceBrowser, NoBrowser, PortSet, InsecureStorage, SSO, Signup, Reauth bool
	WithRefreshToken, ClientCredentials, Device                            bool
	Port                                                                   int
	Timeout                                                                time.Duration
	Prompt, LoginHint, UILocales, Resource, Scope                          string
}

func flagsOf(o *LoginOptions) loginFlags {
	return loginFlags{
		ForceBrowser: o.ForceBrowser, NoBrowser: o.NoBrowser, PortSet: o.PortSet, InsecureStorage: o.InsecureStorage,
		SSO: o.SSO, Signup: o.Signup, Reauth: o.Reauth, WithRefreshToken: o.WithRefreshToken,
		ClientCredentials: o.ClientCredentials, Device: o.Device, Port: o.Port, Timeout: o.Timeout,
		Prompt: o.Prompt, LoginHint: o.LoginHint, UILocales: o.UILocales, Resource: o.Resource, Scope: o.Scope,
	}
}

func TestNewCmdConfigure(t *testing.T) {
	f := shapeFactory(t, nil)
	var got *ConfigureOptions
	capture := func(f *Factory) *cobra.Command {
		return NewCmdConfigure(f, func(o *ConfigureOptions) error { got = o; return nil })
	}
	parse := func(t *testing.T, args ...string) *ConfigureOptions {
		t.Helper()
		got = nil
		if err := parseArgs(t, f, capture, append([]string{"configure"}, args...)...); err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		if got == nil {
			t.Fatalf("%q: runF was not called", args)
		}
		return got
	}

	t.Run("defaults", func(t *testing.T) {
		o := parse(t)
		want := ConfigureOptions{}
		if !reflect.DeepEqual(configureFlagsOf(o), configureFlagsOf(&want)) {
			t.Fatalf("\n got %+v\nwant %+v", configureFlagsOf(o), configureFlagsOf(&want))
		}
		if !o.saves() {
			t.Fatal("configure with no flag does not configure the profile")
		}
		if o.IO == nil || o.factory == nil {
			t.Fatal("IO or the factory not set")
		}
		if p, err := o.Profile(); err != nil || p.name != "default" {
			t.Fatalf("profile: %v (%v)", p, err)
		}
	})

	t.Run("every flag", func(t *testing.T) {
		o := parse(t, "--profile", "staging",
			"--endpoint", " https://myapp.authgear.cloud/ ", "--client-id", "4f2a",
			"--scope", "  openid   offline_access ", "--redirect-uri", "http://127.0.0.1:8765/cb",
			"--api-base", "https://api.example.com/", "--allow-origin", "https://A.example.com:443/",
			"--allow-origin", "", "--allow-origin", "http://127.0.0.1:8080", "--set-default")
		want := ConfigureOptions{
			Endpoint: "https://myapp.authgear.cloud", EndpointSet: true, ClientID: "4f2a", ClientIDSet: true,
			Scope: "openid offline_access", ScopeSet: true, RedirectURI: "http://127.0.0.1:8765/cb",
			APIBase: "https://api.example.com", APIBaseSet: true,
			AllowedOrigins: []string{"https://a.example.com", "http://127.0.0.1:8080"}, AllowOriginSet: true,
			SetDefault: true,
		}
		if !reflect.DeepEqual(configureFlagsOf(o), configureFlagsOf(&want)) {
			t.Fatalf("\n got %+v\nwant %+v", configureFlagsOf(o), configureFlagsOf(&want))
		}
		if !o.saves() {
			t.Fatal("--set-default with --endpoint does not configure the profile")
		}
		if p, err := o.Profile(); err != nil || p.name != "staging" {
			t.Fatalf("--profile staging: %v (%v)", p, err)
		}
	})

	t.Run("an endpoint without a scheme gets https, as fetch's URLs", func(t *testing.T) {
		for in, want := range map[string]string{
			"myapp.authgear.cloud":   "https://myapp.authgear.cloud",
			" myapp.authgear.cloud/": "https://myapp.authgear.cloud",
			"127.0.0.1:8080":         "https://127.0.0.1:8080",
			"localhost:8080/":        "https://localhost:8080",
			"http://127.0.0.1:8080":  "http://127.0.0.1:8080",
		} {
			if o := parse(t, "--endpoint", in); o.Endpoint != want {
				t.Errorf("--endpoint %q: %q, want %q", in, o.Endpoint, want)
			}
		}
	})

	t.Run("scopes without openid are a machine client's", func(t *testing.T) {
		if o := parse(t, "--scope", " api:read   api:write "); o.Scope != "api:read api:write" || !machineScope(o.Scope) {
			t.Errorf("--scope api:read api:write: %q", o.Scope)
		}
		if o := parse(t, "--scope", "openid email"); machineScope(o.Scope) {
			t.Errorf("--scope 'openid email' taken for a machine client's")
		}
	})

	t.Run("set but empty clears", func(t *testing.T) {
		o := parse(t, "--scope", "", "--api-base", " ", "--allow-origin", "")
		if !o.ScopeSet || o.Scope != "" {
			t.Errorf("--scope '': ScopeSet %v, Scope %q", o.ScopeSet, o.Scope)
		}
		if !o.APIBaseSet || o.APIBase != "" {
			t.Errorf("--api-base ' ': APIBaseSet %v, APIBase %q", o.APIBaseSet, o.APIBase)
		}
		if !o.AllowOriginSet || o.AllowedOrigins != nil {
			t.Errorf("--allow-origin '': AllowOriginSet %v, AllowedOrigins %q", o.AllowOriginSet, o.AllowedOrigins)
		}
		if o.EndpointSet || o.ClientIDSet {
			t.Error("--endpoint or --client-id set without being given")
		}
	})

	t.Run("other actions", func(t *testing.T) {
		if o := parse(t, "--set-default"); !o.SetDefault || o.saves() {
			t.Errorf("--set-default alone: SetDefault %v, saves %v", o.SetDefault, o.saves())
		}
		if o := parse(t, "--set-default", "--client-id", "x"); !o.saves() {
			t.Error("--set-default --client-id x does not configure the profile")
		}
		// --endpoint given, even empty, configures (the current endpoint).
		if o := parse(t, "--set-default", "--endpoint", ""); !o.saves() || !o.EndpointSet {
			t.Errorf("--set-default --endpoint '': saves %v, EndpointSet %v", o.saves(), o.EndpointSet)
		}
		if o := parse(t, "--delete", "staging"); o.Delete != "staging" || o.saves() {
			t.Errorf("--delete staging: Delete %q, saves %v", o.Delete, o.saves())
		}
		if o := parse(t, "--show"); !o.Show || o.JSON || o.saves() {
			t.Errorf("--show: Show %v, JSON %v, saves %v", o.Show, o.JSON, o.saves())
		}
		if o := parse(t, "--list", "--json"); !o.Show || !o.JSON {
			t.Errorf("--list --json: Show %v, JSON %v", o.Show, o.JSON)
		}
		// Listing, deleting and only setting the default do not look at
		// the values a configuration would check.
		for _, args := range [][]string{
			{"--show", "--scope", "profile"},
			{"--delete", "staging", "--api-base", "nope"},
			{"--set-default", "--redirect-uri", "https://example.com/cb"},
			{"--show", "--delete", "../x"},
		} {
			parse(t, args...)
		}
	})

	t.Run("usage errors", func(t *testing.T) {
		cases := []struct {
			args []string
			msg  string
		}{
			{[]string{"--endpoint", "http://example.com"}, "plain http is allowed only on loopback"},
			{[]string{"--endpoint", "myapp.authgear.cloud/?x=1"}, `invalid endpoint "https://myapp.authgear.cloud/?x=1"`},
			{[]string{"--endpoint", "ftp://myapp.authgear.cloud"}, "want an absolute URL"},
			{[]string{"--endpoint", "https://myapp.authgear.cloud/?x=1"}, "no query or fragment"},
			{[]string{"--scope", "openid pro\x1bfile"}, `--scope: "pro\x1bfile" is not a scope`},
			{[]string{"--client-id", "x", "--scope", `a\b`}, `--scope: "a\\b" is not a scope`},
			{[]string{"--redirect-uri", "https://example.com/cb"}, "invalid redirect URI"},
			{[]string{"--redirect-uri", "http://127.0.0.1/cb"}, "invalid redirect URI"},
			{[]string{"--api-base", "api.example.com"}, `invalid --api-base "api.example.com": want an absolute URL`},
			{[]string{"--api-base", "http://api.example.com"}, "plain http is allowed only on loopback"},
			{[]string{"--allow-origin", "https://api.example.com/v1"}, "want an origin"},
			{[]string{"--allow-origin", "https://ok.example.com", "--allow-origin", "http://api.example.com"}, "plain http is allowed only on loopback"},
			{[]string{"--set-default", "--endpoint", "http://example.com"}, "plain http is allowed only on loopback"},
			{[]string{"--delete", "../x"}, `invalid profile name "../x"`},
			{[]string{"--no-such-flag"}, "unknown flag"},
			{[]string{"default"}, `unexpected argument "default"`},
		}
		for _, tc := range cases {
			got = nil
			err := parseArgs(t, f, capture, append([]string{"configure"}, tc.args...)...)
			var usage *UsageError
			if !errors.As(err, &usage) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("%q: want a usage error with %q, got %v", tc.args, tc.msg, err)
			}
			if got != nil {
				t.Errorf("%q: runF was called after a usage error", tc.args)
			}
		}
	})
	noProviderReached(t, f)
}

// configureFlags is ConfigureOptions without its dependencies.
type configureFlags struct {
	Endpoint, ClientID, Scope, RedirectURI, APIBase, Delete string
	EndpointSet, ClientIDSet, ScopeSet, APIBaseSet          bool
	AllowOriginSet, Show, JSON, SetDefault                  bool
	AllowedOrigins                                          []string
}

func configureFlagsOf(o *ConfigureOptions) configureFlags {
	return configureFlags{
		Endpoint: o.Endpoint, ClientID: o.ClientID, Scope: o.Scope, RedirectURI: o.RedirectURI,
		APIBase: o.APIBase, Delete: o.Delete, EndpointSet: o.EndpointSet, ClientIDSet: o.ClientIDSet,
		ScopeSet: o.ScopeSet, APIBaseSet: o.APIBaseSet, AllowOriginSet: o.AllowOriginSet,
		Show: o.Show, JSON: o.JSON, SetDefault: o.SetDefault, AllowedOrigins: o.AllowedOrigins,
	}
}

// `agcurl profiles` and `agcurl config list` share ProfilesOptions.
func TestNewCmdProfilesAndConfigList(t *testing.T) {
	f := shapeFactory(t, map[string]string{"AGCURL_PROFILE": "from-env"})
	var got *ProfilesOptions
	runF := func(o *ProfilesOptions) error { got = o; return nil }
	commands := map[string]func(*Factory) *cobra.Command{
		"profiles":    func(f *Factory) *cobra.Command { return NewCmdProfiles(f, runF) },
		"config list": func(f *Factory) *cobra.Command { return NewCmdConfig(f, runF) },
	}
	for name, newCmd := range commands {
		argv := strings.Fields(name)
		got = nil
		if err := parseArgs(t, f, newCmd, argv...); err != nil || got == nil {
			t.Fatalf("%s: %v (runF called: %v)", name, err, got != nil)
		}
		if got.JSON || got.IO == nil {
			t.Errorf("%s: JSON %v, IO %v", name, got.JSON, got.IO)
		}
		if p, err := got.Profile(); err != nil || p.name != "from-env" {
			t.Errorf("%s: profile %v (%v)", name, p, err)
		}
		got = nil
		if err := parseArgs(t, f, newCmd, append(argv, "--json", "--profile", "work")...); err != nil || got == nil {
			t.Fatalf("%s --json: %v", name, err)
		}
		if !got.JSON {
			t.Errorf("%s --json: JSON not set", name)
		}
		if p, err := got.Profile(); err != nil || p.name != "work" {
			t.Errorf("%s --profile work: %v (%v)", name, p, err)
		}
		got = nil
		var usage *UsageError
		if err := parseArgs(t, f, newCmd, append(argv, "extra")...); !errors.As(err, &usage) || got != nil {
			t.Errorf("%s extra: want a usage error before runF, got %v", name, err)
		}
	}
	noProviderReached(t, f)
}
