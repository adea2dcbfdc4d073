// Package auth speaks OpenID Connect for agcurl: discovery, the PKCE
// loopback login, the refresh-if-needed helper shared by every command,
// userinfo and revocation. It never imports cobra or color; the small
// interfaces it needs (Browser, SessionStore, Locker) are declared here.
package auth

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/agcurl/agcurl/internal/netutil"
)

// NormalizeEndpoint checks that endpoint is an absolute https URL, or http
// on a loopback host, and returns it without a trailing slash (Authgear's
// issuer is the bare origin).
func NormalizeEndpoint(endpoint string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(endpoint))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", fmt.Errorf("invalid endpoint %q: want an absolute URL such as https://myapp.authgear.cloud", endpoint)
	}
	if u.Scheme == "http" && !IsLoopbackHost(u.Hostname()) {
		return "", fmt.Errorf("invalid endpoint %q: plain http is allowed only on loopback; use https", endpoint)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("invalid endpoint %q: no query or fragment allowed", endpoint)
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

// IsLoopbackHost reports whether host is localhost or a loopback IP
// address; see netutil.IsLoopbackHost, the one definition.
func IsLoopbackHost(host string) bool { return netutil.IsLoopbackHost(host) }

// DiscoveryIssuerError reports a discovery document whose issuer is not
// the endpoint it was fetched from; the issuer is likely the endpoint to
// use.
type DiscoveryIssuerError struct{ Endpoint, Issuer string }

func (e *DiscoveryIssuerError) Error() string {
	return fmt.Sprintf("issuer mismatch: the endpoint is %q but its discovery document names issuer %q", e.Endpoint, e.Issuer)
}

// Discover fetches endpoint's OpenID discovery document with client and
// returns what agcurl keeps of it. The issuer must equal endpoint exactly,
// but for one trailing slash: NormalizeEndpoint removes it, while some
// providers' issuers end with it (Auth0's "https://TENANT.auth0.com/",
// Ory Hydra's by default), so an issuer that is endpoint plus "/" is
// accepted, and the returned Issuer is then the endpoint to use from then
// on. Errors are one line and name the URL.
func Discover(ctx context.Context, client *http.Client, endpoint string) (*ProviderInfo, error) {
	wellKnown := endpoint + "/.well-known/openid-configuration"
	octx := oidc.ClientContext(ctx, httpClient(client))
	p, err := oidc.NewProvider(octx, endpoint)
	var slash *oidc.IssuerMismatchError
	if errors.As(err, &slash) && slash.Discovered == endpoint+"/" {
		// The same document, whose issuer go-oidc compares as given.
		endpoint = slash.Discovered
		p, err = oidc.NewProvider(octx, endpoint)
	}
	if err != nil {
		var mismatch *oidc.IssuerMismatchError
		var uerr *url.Error
		switch {
		case tooLarge(err):
			return nil, fmt.Errorf("discovery at %s failed: %w", wellKnown, ErrResponseTooLarge)
		case errors.As(err, &mismatch):
			return nil, &DiscoveryIssuerError{Endpoint: mismatch.Provided, Issuer: mismatch.Discovered}
		case errors.As(err, &uerr):
			return nil, fmt.Errorf("could not reach %s: %v", wellKnown, shortNetError(uerr))
		case strings.Contains(err.Error(), "failed to decode"):
			return nil, fmt.Errorf("%s did not return a JSON discovery document; is the endpoint right?", wellKnown)
		default:
			return nil, fmt.Errorf("discovery at %s failed: %s", wellKnown, firstLine(err.Error(), 120))
		}
	}
	var info ProviderInfo
	if err := p.Claims(&info); err != nil {
		return nil, fmt.Errorf("%s did not return a JSON discovery document: %v", wellKnown, err)
	}
	if err := CheckProvider(&info, endpoint); err != nil {
		return nil, fmt.Errorf("discovery document at %s: %w", wellKnown, err)
	}
	return &info, nil
}

// CheckProvider checks what discovery said of a provider, as found by
// Discover or as cached in the configuration file (which anyone who can
// write it may have edited): the issuer is endpoint, the required endpoints
// are there, and every URL a token or code is sent to is https (or http on
// loopback). Commands run it on the cached copy before any use.
func CheckProvider(info *ProviderInfo, endpoint string) error {
	if info.Issuer != endpoint {
		return fmt.Errorf("the issuer %q is not the endpoint %q", info.Issuer, endpoint)
	}
	if info.AuthorizationEndpoint == "" || info.TokenEndpoint == "" || info.JWKSURI == "" {
		return errors.New("it lacks authorization_endpoint, token_endpoint or jwks_uri")
	}
	for _, u := range []string{info.AuthorizationEndpoint, info.TokenEndpoint, info.JWKSURI, info.UserinfoEndpoint,
		info.RevocationEndpoint, info.DeviceAuthorizationEndpoint, info.EndSessionEndpoint} {
		if u == "" {
			continue
		}
		if err := checkSecureURL(u); err != nil {
			return err
		}
	}
	return nil
}

// checkSecureURL refuses a provider URL to which tokens must not be sent:
// anything but https, or http on loopback.
func checkSecureURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil {
		return fmt.Errorf("invalid URL %q", raw)
	}
	if u.Scheme == "https" || (u.Scheme == "http" && IsLoopbackHost(u.Hostname())) {
		return nil
	}
	return fmt.Errorf("refusing non-https URL %q", raw)
}

func shortNetError(err *url.Error) string {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return "could not resolve host " + dnsErr.Name
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return "connection refused or unreachable"
	}
	if err.Timeout() {
		return "timed out"
	}
	return firstLine(err.Err.Error(), 120)
}

func firstLine(s string, max int) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > max {
		s = s[:max] + "..."
	}
	return s
}
