package auth_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/agcurl/agcurl/auth"
	"github.com/agcurl/agcurl/internal/browser"
	"github.com/agcurl/agcurl/internal/testop"
)

func TestChooseAuthMethod(t *testing.T) {
	for _, tc := range []struct {
		forced    string
		supported []string
		want      string
		err       bool
	}{
		{supported: nil, want: auth.AuthMethodBasic},
		{supported: []string{"none", "client_secret_basic", "client_secret_post"}, want: auth.AuthMethodBasic},
		{supported: []string{"client_secret_post", "private_key_jwt", "client_secret_basic"}, want: auth.AuthMethodBasic},
		{supported: []string{"client_secret_post"}, want: auth.AuthMethodPost},
		{supported: []string{"private_key_jwt", "tls_client_auth"}, err: true},
		{forced: auth.AuthMethodPost, supported: []string{"client_secret_basic"}, want: auth.AuthMethodPost},
	} {
		got, err := auth.ChooseAuthMethod(tc.forced, tc.supported)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ChooseAuthMethod(%q, %q) = %q, %v; want %q (error %v)", tc.forced, tc.supported, got, err, tc.want, tc.err)
		}
	}
}

func TestCheckExtraParams(t *testing.T) {
	for _, k := range []string{"state", "nonce", "code_challenge", "code_challenge_method", "redirect_uri", "client_id",
		"response_type", "scope", "client_secret",
		// Providers that read parameter names in any case (zitadel's op
		// does) would take these for agcurl's own.
		"State", "NONCE", "Redirect_URI", "Client_Id", "Scope",
		// These carry, or point to, a request object whose parameters
		// replace the query's (OIDC Core 6.1, 6.2; RFC 9101, 9126); agcurl
		// reads the response from the redirect's query.
		"request", "request_uri", "Request_URI", "response_mode"} {
		var rpe *auth.ReservedParamError
		if err := auth.CheckExtraParams(map[string]string{"access_type": "offline", k: "x"}); !errors.As(err, &rpe) || rpe.Key != k {
			t.Errorf("%s: got %v, want a *ReservedParamError", k, err)
		}
	}
	if err := auth.CheckExtraParams(map[string]string{"access_type": "offline", "hd": "example.com"}); err != nil {
		t.Errorf("ordinary parameters refused: %v", err)
	}
}

// A login whose extra parameters would replace agcurl's own is refused
// before anything is sent, even when the command line did not check.
func TestLoginRefusesReservedExtraParams(t *testing.T) {
	srv := startOP(t, testop.Options{})
	info := discover(t, srv)
	opened := false
	_, err := cli(info).Login(context.Background(), auth.LoginOptions{
		RandomPort:  true,
		Browser:     browserFunc(func(string) error { opened = true; return nil }),
		ShowURL:     func(string, error) {},
		ExtraParams: map[string]string{"redirect_uri": "http://evil.example/"},
		Timeout:     time.Second,
	})
	var rpe *auth.ReservedParamError
	if !errors.As(err, &rpe) || opened {
		t.Fatalf("got %v (browser opened: %v), want a *ReservedParamError before the browser", err, opened)
	}
}

// revocationRecorder is a revocation endpoint that records how the client
// authenticated.
func revocationRecorder(t *testing.T) (string, func() (*http.Request, url.Values)) {
	t.Helper()
	var got *http.Request
	var form url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		form, _ = url.ParseQuery(string(b))
		got = r
	}))
	t.Cleanup(srv.Close)
	return srv.URL, func() (*http.Request, url.Values) { return got, form }
}

// The revocation endpoint's own list decides how the secret goes there,
// apart from the token endpoint's.
func TestRevokeAuthenticatesAsRevocationMetadataSays(t *testing.T) {
	for _, tc := range []struct {
		name               string
		token, revocation  []string
		secret, wantMethod string
	}{
		{"public client", nil, []string{"client_secret_post"}, "", "none"},
		{"post at revocation, basic at token", []string{"client_secret_basic"}, []string{"client_secret_post"}, "s3cret", "post"},
		{"nothing listed: basic", []string{"client_secret_post"}, nil, "s3cret", "basic"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			endpoint, got := revocationRecorder(t)
			c := &auth.Client{ClientID: "cli/1", Provider: &auth.ProviderInfo{
				RevocationEndpoint: endpoint, TokenAuthMethods: tc.token, RevocationAuthMethods: tc.revocation,
			}}
			if tc.secret != "" {
				c.ClientSecret = func() (string, error) { return tc.secret, nil }
			}
			if err := c.Revoke(context.Background(), "rt-1"); err != nil {
				t.Fatal(err)
			}
			r, form := got()
			user, pass, basic := r.BasicAuth()
			switch tc.wantMethod {
			case "none":
				if basic || form.Get("client_id") != "cli/1" || form.Has("client_secret") {
					t.Fatalf("public client: basic %v, form %v", basic, form)
				}
			case "post":
				if basic || form.Get("client_id") != "cli/1" || form.Get("client_secret") != tc.secret {
					t.Fatalf("post: basic %v, form %v", basic, form)
				}
			case "basic":
				// RFC 6749 2.3.1: both form-urlencoded first.
				if !basic || user != url.QueryEscape("cli/1") || pass != tc.secret || form.Has("client_secret") || form.Has("client_id") {
					t.Fatalf("basic: %v %q %q, form %v", basic, user, pass, form)
				}
			}
			if form.Get("token") != "rt-1" || form.Get("token_type_hint") != "refresh_token" {
				t.Fatalf("form %v", form)
			}
		})
	}
}

func TestRevokeWithoutEndpoint(t *testing.T) {
	c := &auth.Client{ClientID: "cli", Provider: &auth.ProviderInfo{}}
	if err := c.Revoke(context.Background(), "rt"); !errors.Is(err, auth.ErrNoRevocation) {
		t.Fatalf("got %v, want ErrNoRevocation", err)
	}
}

// The bundled provider really refuses a confidential client's code
// exchange without its secret, and accepts it with the secret; the
// refresh and the revocation need it too.
func TestConfidentialClientAgainstProvider(t *testing.T) {
	srv := startOP(t, testop.Options{})
	info := discover(t, srv)
	loginWith := func(secret string) error {
		c := &auth.Client{Provider: info, ClientID: testop.ConfidentialClientID}
		if secret != "" {
			c.ClientSecret = func() (string, error) { return secret, nil }
		}
		errs := make(chan error, 1)
		s, err := c.Login(context.Background(), auth.LoginOptions{
			RandomPort: true, Browser: browser.Async{Errs: errs}, ShowURL: func(string, error) {}, Timeout: 20 * time.Second,
		})
		if err != nil {
			return err
		}
		<-errs
		if _, err := c.Refresh(context.Background(), s); err != nil {
			t.Fatalf("refresh with the secret: %v", err)
		}
		pub := &auth.Client{Provider: info, ClientID: testop.ConfidentialClientID}
		var cae *auth.ClientAuthError
		if _, err := pub.Refresh(context.Background(), s); !errors.As(err, &cae) || cae.SecretSent {
			t.Fatalf("refresh without the secret: got %v, want a *ClientAuthError", err)
		}
		if err := pub.Revoke(context.Background(), s.RefreshToken); err == nil {
			t.Fatal("revocation without the secret succeeded")
		}
		return c.Revoke(context.Background(), s.RefreshToken)
	}
	err := loginWith("")
	var cae *auth.ClientAuthError
	if !errors.As(err, &cae) || cae.SecretSent || cae.Op != "code exchange" {
		t.Fatalf("without the secret: got %v, want a *ClientAuthError", err)
	}
	err = loginWith("wrong")
	if !errors.As(err, &cae) || !cae.SecretSent || cae.Method != auth.AuthMethodBasic || !strings.Contains(err.Error(), "invalid_client") {
		t.Fatalf("with a wrong secret: got %v", err)
	}
	if err := loginWith(testop.ConfidentialClientSecret); err != nil {
		t.Fatalf("with the secret: %v", err)
	}
	if n := srv.Count("clientauth:authorization_code=none"); n != 1 {
		t.Errorf("exchanges without the secret: %d, want 1", n)
	}
}

// A secret with the characters that RFC 6749 2.3.1's form-urlencoding
// changes (':', '%', '+', ' ', '/', '&', '=', non-ASCII) reaches the
// bundled provider intact, by either method, at the code exchange, the
// refresh, the client credentials grant, the revocation and (Basic only:
// the op's device token endpoint reads no secret from the form) the device
// grant. The op decodes Basic credentials as 2.3.1 says, so a client that
// sent them unencoded, or encoded twice, would be refused.
func TestConfidentialSecretEncoding(t *testing.T) {
	const secret = "s3:cr%t+ é/&=x"
	srv := startOP(t, testop.Options{Device: true, ConfidentialSecret: secret})
	info := discover(t, srv)
	ctx := context.Background()
	for id, method := range map[string]string{testop.ConfidentialClientID: auth.AuthMethodBasic, testop.PostClientID: auth.AuthMethodPost} {
		c := &auth.Client{Provider: info, ClientID: id, AuthMethod: method,
			ClientSecret: func() (string, error) { return secret, nil }}
		errs := make(chan error, 1)
		s, err := c.Login(ctx, auth.LoginOptions{
			RandomPort: true, Browser: browser.Async{Errs: errs}, ShowURL: func(string, error) {}, Timeout: 20 * time.Second,
		})
		if err != nil {
			t.Fatalf("%s: login: %v", method, err)
		}
		<-errs
		if s, err = c.Refresh(ctx, s); err != nil {
			t.Fatalf("%s: refresh: %v", method, err)
		}
		if err := c.Revoke(ctx, s.RefreshToken); err != nil {
			t.Fatalf("%s: revoke: %v", method, err)
		}
		if _, err := c.ClientCredentials(ctx, auth.ClientCredentialsOptions{}); err != nil {
			t.Fatalf("%s: client credentials: %v", method, err)
		}
		ops := []string{"authorization_code", "refresh_token", "revoke", "client_credentials"}
		if method == auth.AuthMethodBasic {
			if _, err := c.Device(ctx, auth.DeviceOptions{Timeout: 20 * time.Second, Show: func(_, _, complete string) {
				go func() { errs <- browser.Follow(ctx, complete) }()
			}}); err != nil {
				t.Fatalf("%s: device: %v", method, err)
			}
			<-errs
			ops = append(ops, "device_authorization", "urn:ietf:params:oauth:grant-type:device_code")
		}
		for _, op := range ops {
			if n := srv.Count("clientauth:" + op + "=" + method); n < 1 {
				t.Errorf("%s: %s not authenticated so", method, op)
			}
		}
	}
}
