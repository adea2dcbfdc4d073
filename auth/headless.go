package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/agcurl/agcurl/keychain"
)

// WithRefreshToken makes a session from a refresh token obtained
// elsewhere: it refreshes once, to prove the token works and to get an
// access token, and returns the session (with the rotated refresh token, if
// the provider rotated it).
func (c *Client) WithRefreshToken(ctx context.Context, refreshToken string) (*keychain.Session, error) {
	obtained := c.now()
	tok, err := c.refreshGrant(ctx, refreshToken)
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.ErrorCode == "invalid_grant" {
			return nil, &LoginRequiredError{GivenToken: true, Reason: "the provider does not accept this refresh token (revoked, expired, or rotated away)"}
		}
		return nil, tokenEndpointError("refresh with the given token", err)
	}
	if err := checkTokenResponse(tok); err != nil {
		return nil, err
	}
	s := sessionFromToken(tok, obtained, nil)
	s.Issuer, s.ClientID = c.Provider.Issuer, c.ClientID
	if raw, _ := tok.Extra("id_token").(string); raw != "" {
		idt, err := c.verifyIDToken(ctx, raw, idTokenCheck{})
		if err != nil {
			return nil, err
		}
		s.Subject, s.IDToken = idt.Subject, raw
	}
	return s, nil
}

// ClientCredentialsOptions configure a machine client's token request.
type ClientCredentialsOptions struct {
	// ClientSecret is the machine client's secret; when empty, the
	// Client's own ClientSecret is used, and the session does not keep a
	// copy of it.
	ClientSecret string
	// Resource names the API (Authgear requires a registered API resource).
	Resource string
	// Audience, when not empty, is sent as the audience parameter (space
	// separated), as Auth0 and Ory Hydra want.
	Audience []string
	Scopes   []string
}

// ClientCredentials mints an access token with the client credentials
// grant, sending the secret as ChooseAuthMethod says. The session keeps
// the secret given in o (and the resource and audience) so that the token
// can be minted again when it expires; it has no refresh token.
func (c *Client) ClientCredentials(ctx context.Context, o ClientCredentialsOptions) (*keychain.Session, error) {
	secret := o.ClientSecret
	if secret == "" {
		var err error
		if secret, err = c.secret(); err != nil {
			return nil, err
		}
		if secret == "" {
			return nil, errors.New("client credentials: no client secret")
		}
	}
	method, err := ChooseAuthMethod(c.AuthMethod, c.Provider.TokenAuthMethods)
	if err != nil {
		return nil, err
	}
	style := oauth2.AuthStyleInHeader
	if method == AuthMethodPost {
		style = oauth2.AuthStyleInParams
	}
	cfg := &clientcredentials.Config{
		ClientID: c.ClientID, ClientSecret: secret, TokenURL: c.Provider.TokenEndpoint,
		Scopes: o.Scopes, AuthStyle: style, EndpointParams: url.Values{},
	}
	if o.Resource != "" {
		cfg.EndpointParams.Set("resource", o.Resource)
	}
	if len(o.Audience) > 0 {
		cfg.EndpointParams.Set("audience", strings.Join(o.Audience, " "))
	}
	obtained := c.now()
	tok, err := cfg.Token(httpContext(ctx, c.HTTP))
	if err != nil {
		err = c.redact(err, secret)
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && (re.ErrorCode == "invalid_client" || re.ErrorCode == "unauthorized_client") &&
			re.Response != nil && (re.Response.StatusCode == http.StatusBadRequest || re.Response.StatusCode == http.StatusUnauthorized) {
			// RFC 6749 5.2: 400 or 401. The same code in a 5xx is the
			// server failing, not the credentials.
			return nil, &ClientCredentialsError{Err: &ProviderError{Code: re.ErrorCode, Description: re.ErrorDescription}}
		}
		return nil, tokenEndpointError("client credentials", err)
	}
	if err := checkTokenResponse(tok); err != nil {
		return nil, err
	}
	s := sessionFromToken(tok, obtained, o.Scopes)
	s.Issuer, s.ClientID = c.Provider.Issuer, c.ClientID
	// A machine client has no user. Its subject is what its JWT access
	// token says (Authgear's "client_id_<id>", another provider's own
	// form), read for display only; with an opaque token it is unknown.
	s.Subject = ""
	if info, err := DecodeJWT(tok.AccessToken); err == nil {
		if sub, _ := info.Claims["sub"].(string); sub != "" {
			s.Subject = sub
		}
	}
	s.GrantType = keychain.GrantClientCredentials
	s.ClientSecret, s.Resource, s.Audience = o.ClientSecret, o.Resource, o.Audience
	s.RefreshToken = ""
	return s, nil
}

// ClientCredentialsError reports that the provider refused a machine
// client's id or secret (invalid_client, unauthorized_client).
type ClientCredentialsError struct{ Err error }

func (e *ClientCredentialsError) Error() string {
	return "the provider refused the client credentials: " + e.Err.Error()
}

func (e *ClientCredentialsError) Unwrap() error { return e.Err }

// ErrNoDeviceGrant is returned by Device when the provider's discovery
// document has no device_authorization_endpoint.
var ErrNoDeviceGrant = errors.New("the provider does not offer the device authorization grant (its discovery document has no device_authorization_endpoint; Authgear has none)")

// DeviceOptions configure a device authorization grant login.
type DeviceOptions struct {
	Scope string
	// Audience and ExtraParams are added to the device authorization
	// request, as LoginOptions' are to the authorization request.
	Audience    []string
	ExtraParams map[string]string
	// Show is called with the code to enter and where; it may open a browser.
	Show    func(userCode, verificationURI, verificationURIComplete string)
	Timeout time.Duration
}

// Device runs the device authorization grant (RFC 8628): it shows the
// user code and verification URL, then polls the token endpoint at the
// provider's interval, slowing down when told to, until the user approves,
// denies, or the code expires.
func (c *Client) Device(ctx context.Context, o DeviceOptions) (*keychain.Session, error) {
	if c.Provider.DeviceAuthorizationEndpoint == "" {
		return nil, ErrNoDeviceGrant
	}
	scope := o.Scope
	if scope == "" {
		scope = DefaultScope
	}
	extra, err := requestParams(o.Audience, o.ExtraParams)
	if err != nil {
		return nil, err
	}
	cfg, err := c.oauthConfig(strings.Fields(scope), "")
	if err != nil {
		return nil, err
	}
	hctx := httpContext(ctx, c.HTTP)
	da, err := c.deviceAuthorize(hctx, cfg, extra)
	err = c.redact(err, cfg.ClientSecret)
	if cae := c.clientAuthFailure("device authorization", cfg, err); cae != nil {
		return nil, cae
	}
	if err != nil {
		return nil, tokenEndpointError("device authorization", err)
	}
	// The provider's URLs go to the user and to a browser: only https (or
	// http on loopback) web addresses, never a file: URL or an argument.
	if err := checkSecureURL(da.VerificationURI); err != nil {
		return nil, fmt.Errorf("device authorization: verification_uri: %w", err)
	}
	complete := da.VerificationURIComplete
	if complete != "" && checkSecureURL(complete) != nil {
		complete = ""
	}
	o.Show(da.UserCode, da.VerificationURI, complete)
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultLoginTimeout
	}
	pctx, cancel := context.WithTimeout(hctx, timeout)
	defer cancel()
	tok, err := cfg.DeviceAccessToken(pctx, da)
	if err != nil {
		err = c.redact(err, cfg.ClientSecret, da.DeviceCode)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, ErrLoginTimeout
		}
		if cae := c.clientAuthFailure("device login", cfg, err); cae != nil {
			return nil, cae
		}
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.ErrorCode != "" {
			return nil, &ProviderError{Code: re.ErrorCode, Description: re.ErrorDescription}
		}
		return nil, tokenEndpointError("device login", err)
	}
	if err := checkTokenResponse(tok); err != nil {
		return nil, err
	}
	s := sessionFromToken(tok, c.now(), cfg.Scopes)
	s.Issuer, s.ClientID = c.Provider.Issuer, c.ClientID
	if raw, _ := tok.Extra("id_token").(string); raw != "" {
		idt, err := c.verifyIDToken(ctx, raw, idTokenCheck{})
		if err != nil {
			return nil, err
		}
		s.Subject, s.IDToken = idt.Subject, raw
	}
	return s, nil
}
