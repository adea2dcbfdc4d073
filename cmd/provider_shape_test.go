package cmd

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// The flags for confidential clients, audiences and extra parameters, from
// argv to options, with no provider.
func TestClientFlagsShape(t *testing.T) {
	f := shapeFactory(t, nil)
	var login *LoginOptions
	var configure *ConfigureOptions
	newLogin := func(f *Factory) *cobra.Command {
		return NewCmdLogin(f, func(o *LoginOptions) error { login = o; return nil })
	}
	newConfigure := func(f *Factory) *cobra.Command {
		return NewCmdConfigure(f, func(o *ConfigureOptions) error { configure = o; return nil })
	}

	t.Run("login", func(t *testing.T) {
		if err := parseArgs(t, f, newLogin, "login", "--audience", "https://api.example.com", "--audience", " urn:b ",
			"--param", "access_type=offline", "--param", "hd=example.com", "--param", "access_type=online", "--param", "empty="); err != nil {
			t.Fatal(err)
		}
		c := login.Client
		if !c.AudienceSet || !reflect.DeepEqual(c.Audience, []string{"https://api.example.com", "urn:b"}) {
			t.Errorf("audience %v (set %v)", c.Audience, c.AudienceSet)
		}
		want := map[string]string{"access_type": "online", "hd": "example.com", "empty": ""}
		if !reflect.DeepEqual(c.Params, want) {
			t.Errorf("params %v, want %v", c.Params, want)
		}
		if err := parseArgs(t, f, newLogin, "login"); err != nil || login.Client.AudienceSet || login.Client.Params != nil {
			t.Errorf("defaults: %v %+v", err, login.Client)
		}
	})

	t.Run("configure", func(t *testing.T) {
		if err := parseArgs(t, f, newConfigure, "configure", "--client-secret", "-", "--insecure-storage",
			"--audience", "", "--param", "", "--client-auth-method", "client_secret_post"); err != nil {
			t.Fatal(err)
		}
		c := configure.Client
		if !c.ClientSecretSet || c.ClientSecret != "-" || !c.InsecureStorage || !c.AudienceSet || c.Audience != nil ||
			!c.ParamsSet || c.Params != nil || !c.AuthMethodSet || c.AuthMethod != "client_secret_post" {
			t.Errorf("%+v", c)
		}
		if err := parseArgs(t, f, newConfigure, "configure", "--client-secret="); err != nil || !configure.Client.ClientSecretSet || configure.Client.ClientSecret != "" {
			t.Errorf("--client-secret= : %v %+v", err, configure.Client)
		}
	})

	t.Run("usage errors", func(t *testing.T) {
		for _, tc := range []struct {
			login bool
			args  []string
			msg   string
		}{
			{false, []string{"--client-secret", "hunter2"}, "process list"},
			{false, []string{"--insecure-storage"}, "needs --client-secret -"},
			{false, []string{"--client-auth-method", "private_key_jwt"}, "client_secret_basic or client_secret_post"},
			{false, []string{"--param", "nonce=1"}, "agcurl sets nonce itself"},
			{false, []string{"--audience", "a\tb"}, "no spaces"},
			{true, []string{"--param", "code_challenge=x"}, "agcurl sets code_challenge itself"},
			{true, []string{"--param", "scope=openid"}, "use --scope"},
			{true, []string{"--param", "client_secret=hunter2"}, "never goes in a URL"},
			{true, []string{"--param", "=x"}, "want KEY=VALUE"},
			{true, []string{"--param", ""}, "want KEY=VALUE"},
			{true, []string{"--with-refresh-token", "--param", "a=b"}, "fixed when it was issued"},
			{true, []string{"--client-credentials", "--param", "a=b"}, "--client-credentials does not make"},
		} {
			login, configure = nil, nil
			var err error
			if tc.login {
				err = parseArgs(t, f, newLogin, append([]string{"login"}, tc.args...)...)
			} else {
				err = parseArgs(t, f, newConfigure, append([]string{"configure"}, tc.args...)...)
			}
			var usage *UsageError
			if !errors.As(err, &usage) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("%q: want a usage error with %q, got %v", tc.args, tc.msg, err)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("%q: the message repeats the secret: %v", tc.args, err)
			}
			if login != nil || configure != nil {
				t.Errorf("%q: runF was called after a usage error", tc.args)
			}
		}
		noProviderReached(t, f)
	})
}
