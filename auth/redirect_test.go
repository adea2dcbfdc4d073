package auth_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/agcurl/agcurl/auth"
	"github.com/agcurl/agcurl/keychain"
)

// redirectingProvider is a provider at https://id.example whose every
// endpoint answers with a redirect to the same path at target; it records
// each request that reaches target's host, with what it carried.
type redirectingProvider struct {
	status int
	target string // scheme://host of the redirect
	mu     sync.Mutex
	leaked []string
}

func (p *redirectingProvider) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
		r.Body.Close()
	}
	if r.URL.Host == "id.example" && r.URL.Scheme == "https" {
		h := http.Header{"Location": {p.target + r.URL.Path}}
		return &http.Response{StatusCode: p.status, Status: http.StatusText(p.status), Header: h,
			Body: io.NopCloser(strings.NewReader("")), Request: r}, nil
	}
	if r.Method != http.MethodGet || r.Header.Get("Authorization") != "" || strings.Contains(r.URL.String(), "value") {
		p.mu.Lock()
		p.leaked = append(p.leaked, r.Method+" "+r.URL.String()+" auth="+r.Header.Get("Authorization")+" body="+string(body))
		p.mu.Unlock()
	}
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(`{}`)), Request: r}, nil
}

// A provider endpoint that answers with a redirect never makes agcurl
// send a client secret, a refresh token, a code or an access token to
// the redirect's target: requests that carry credentials in their body or
// an Authorization header (the token, device authorization and
// revocation endpoints) are not redirected at all, whose body Go would
// send again on a 307 or 308 and whose Authorization header it keeps for
// the same host; a GET (userinfo, which carries the access token) only to
// https. Before, the target got the secret and the refresh token, over
// plain http.
func TestCredentialsNotSentOnRedirects(t *testing.T) {
	info := &auth.ProviderInfo{
		Issuer: "https://id.example", AuthorizationEndpoint: "https://id.example/authorize",
		TokenEndpoint: "https://id.example/token", RevocationEndpoint: "https://id.example/revoke",
		UserinfoEndpoint: "https://id.example/userinfo", JWKSURI: "https://id.example/jwks",
		DeviceAuthorizationEndpoint: "https://id.example/device",
	}
	for _, status := range []int{http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		for _, target := range []string{"http://id.example", "https://elsewhere.example"} {
			for _, method := range []string{auth.AuthMethodBasic, auth.AuthMethodPost} {
				p := &redirectingProvider{status: status, target: target}
				c := &auth.Client{Provider: info, ClientID: "cli", AuthMethod: method,
					ClientSecret: func() (string, error) { return "s3cret-value", nil },
					HTTP:         &http.Client{Transport: p}}
				ctx := context.Background()
				_, err1 := c.Refresh(ctx, &keychain.Session{RefreshToken: "rt-value"})
				err2 := c.Revoke(ctx, "rt-value")
				_, err3 := c.ClientCredentials(ctx, auth.ClientCredentialsOptions{})
				_, err4 := c.Device(ctx, auth.DeviceOptions{Show: func(string, string, string) {}})
				_, err5 := c.UserInfo(ctx, "at-value", "")
				if len(p.leaked) > 0 {
					t.Errorf("%d to %s, %s: sent on: %q", status, target, method, p.leaked)
				}
				for i, err := range []error{err1, err2, err3, err4} {
					if err == nil {
						t.Errorf("%d to %s, %s: request %d succeeded", status, target, method, i+1)
					}
				}
				if target == "http://id.example" && err5 == nil {
					t.Errorf("%d to %s: userinfo succeeded", status, target)
				}
			}
		}
	}
}
