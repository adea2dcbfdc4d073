package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/agcurl/agcurl/keychain"
)

// Client is agcurl's OpenID Connect client for one provider and one client
// id, in the manner of oauth2.Config: the provider, client id, HTTP client
// and clock are fields, the flows are methods. Its methods make their own
// requests with HTTP (every response capped at MaxResponseBytes) and do
// not store anything; a Refresher does that. A Client is safe for
// concurrent use once set up.
type Client struct {
	// Provider is what discovery said of the provider; its issuer is the
	// one every session and ID token must name.
	Provider *ProviderInfo
	ClientID string
	// ClientSecret, when not nil, returns the secret of a confidential
	// client. It is called only when a request to the token, device
	// authorization or revocation endpoint is about to be sent, so that a
	// session whose access token is still fresh never reads it. nil, or
	// "" returned, means a public client, which sends only its client_id.
	ClientSecret func() (string, error)
	// AuthMethod is how the secret is sent: AuthMethodBasic or
	// AuthMethodPost; when empty, as the provider's discovery document
	// says (see ChooseAuthMethod).
	AuthMethod string
	// HTTP makes the requests; nil means http.DefaultClient.
	HTTP *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MaxRetryWait bounds how long a token request waits when the token
	// endpoint answers 429 or 503 with Retry-After (and never past ctx's
	// deadline); DefaultMaxRetryWait when zero. A longer Retry-After is
	// not waited for: the error says when to try again.
	MaxRetryWait time.Duration
}

// DefaultMaxRetryWait is Client.MaxRetryWait's default.
const DefaultMaxRetryWait = 5 * time.Second

func (c *Client) now() time.Time {
	if c.Now == nil {
		return time.Now()
	}
	return c.Now()
}

// GrantRevokedError reports that the provider no longer accepts a refresh
// token: HTTP 400 with invalid_grant (RFC 6749 5.2). The session it belongs
// to is over.
type GrantRevokedError struct{ Err error }

func (e *GrantRevokedError) Error() string { return e.Err.Error() }
func (e *GrantRevokedError) Unwrap() error { return e.Err }

// Refresh runs the refresh token grant for s and returns the new session,
// checked as the login's was: a Bearer access token that has not expired,
// and an ID token, if any, verified for the same user (OIDC Core 12.2).
// It stores nothing. A *GrantRevokedError means the session is over; a
// *TemporaryError that it may be tried again.
func (c *Client) Refresh(ctx context.Context, s *keychain.Session) (*keychain.Session, error) {
	obtained := c.now()
	tok, err := c.refreshGrant(ctx, s.RefreshToken)
	if err != nil {
		var cae *ClientAuthError
		if errors.As(err, &cae) {
			// Not the session's fault, nor likely to pass: keep it, and say so.
			return nil, err
		}
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.ErrorCode == "invalid_grant" && re.Response != nil && re.Response.StatusCode == http.StatusBadRequest {
			// RFC 6749 5.2: a 400 with invalid_grant. The same text in a
			// 200 or a 5xx is not the provider revoking the session.
			return nil, &GrantRevokedError{Err: tokenEndpointError("refresh the access token", err)}
		}
		// Network errors, 5xx, rate limits, garbage: keep the session.
		return nil, &TemporaryError{Err: tokenEndpointError("refresh the access token", err), RetryAfter: retryAfterOf(err)}
	}
	if err := checkTokenResponse(tok); err != nil {
		return nil, &TemporaryError{Err: fmt.Errorf("refresh the access token: %w", err)}
	}
	ns := sessionFromToken(tok, obtained, s.Scopes)
	ns.Issuer, ns.ClientID, ns.Subject = s.Issuer, s.ClientID, s.Subject
	ns.IDToken = s.IDToken
	if id, _ := tok.Extra("id_token").(string); id != "" {
		// OIDC Core 12.2: verified like the login's, for the same user.
		idt, err := c.verifyIDToken(ctx, id, idTokenCheck{subject: s.Subject})
		var keys *KeysUnavailableError
		switch {
		case errors.As(err, &keys):
			// The provider's keys could not be fetched just now: the ID
			// token cannot be checked, so it is dropped (as if the answer
			// had none) and the previous one kept. The tokens themselves
			// are kept: with rotation, the old refresh token is dead.
		case err != nil:
			if ns.RefreshToken != "" && ns.RefreshToken != s.RefreshToken {
				return nil, fmt.Errorf("refresh the access token: %w; nothing was stored, and since that answer also replaced the refresh token, the session cannot be renewed any more", err)
			}
			return nil, fmt.Errorf("refresh the access token: %w; nothing was stored", err)
		default:
			ns.IDToken, ns.Subject = id, idt.Subject
		}
	}
	if err := c.checkUsable(ns); err != nil {
		return nil, err
	}
	return ns, nil
}

// refreshGrant runs the refresh token grant, waiting for a short
// Retry-After as retryAfter allows.
// A confidential client authenticates as ChooseAuthMethod says; a refusal
// of its authentication is a *ClientAuthError.
func (c *Client) refreshGrant(ctx context.Context, refreshToken string) (*oauth2.Token, error) {
	cfg, err := c.oauthConfig(nil, "")
	if err != nil {
		return nil, err
	}
	var tok *oauth2.Token
	err = c.retryAfter(ctx, func() error {
		var err error
		tok, err = cfg.TokenSource(httpContext(ctx, c.HTTP), &oauth2.Token{RefreshToken: refreshToken}).Token()
		return err
	})
	err = c.redact(err, cfg.ClientSecret, refreshToken)
	if cae := c.clientAuthFailure("refresh the access token", cfg, err); cae != nil {
		return nil, cae
	}
	return tok, err
}

// retryAfter runs call, and once more when the token endpoint asked to wait
// (429 or 503 with Retry-After) no longer than MaxRetryWait and ctx's
// deadline allow.
func (c *Client) retryAfter(ctx context.Context, call func() error) error {
	maxWait := c.MaxRetryWait
	if maxWait <= 0 {
		maxWait = DefaultMaxRetryWait
	}
	err := call()
	wait := retryAfterOf(err)
	if err == nil || wait <= 0 || wait > maxWait {
		return err
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
		return err
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
	}
	return call()
}

// checkUsable refuses a new session whose access token is already past its
// expiry: handing it out would break the promise that token never prints
// an expired token.
func (c *Client) checkUsable(s *keychain.Session) error {
	if !s.Expiry.IsZero() && !c.now().Before(s.Expiry) {
		return &TemporaryError{Err: errors.New("the provider issued an access token that has already expired (check the clocks, and expires_in)")}
	}
	return nil
}

// retryAfterOf returns the Retry-After of a 429 or 503 answer from the
// token endpoint (seconds or an HTTP date), or 0.
func retryAfterOf(err error) time.Duration {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.Response == nil {
		return 0
	}
	if c := re.Response.StatusCode; c != http.StatusTooManyRequests && c != http.StatusServiceUnavailable {
		return 0
	}
	v := strings.TrimSpace(re.Response.Header.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && time.Until(t) > 0 {
		return time.Until(t).Round(time.Second)
	}
	return 0
}

// SubjectMismatchError reports userinfo about another user than the
// session's (OIDC Core 5.3.2): the claims are not shown.
type SubjectMismatchError struct{ Want, Got string }

func (e *SubjectMismatchError) Error() string {
	return fmt.Sprintf("the provider's userinfo is about subject %q, not the session's %q (OIDC Core 5.3.2); refusing to show it", e.Got, e.Want)
}

// UserInfo GETs the provider's userinfo endpoint with accessToken and returns the
// claims as raw JSON. The response size is capped at MaxResponseBytes.
// When wantSub is not empty, the claims' sub must equal it, else a
// *SubjectMismatchError is returned.
func (c *Client) UserInfo(ctx context.Context, accessToken, wantSub string) (json.RawMessage, error) {
	endpoint := c.Provider.UserinfoEndpoint
	if endpoint == "" {
		return nil, errors.New("the provider advertises no userinfo endpoint")
	}
	if err := checkSecureURL(endpoint); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	req.Header.Set("Accept", "application/json")
	resp, err := httpClient(c.HTTP).Do(req)
	if err != nil {
		return nil, requestError("userinfo", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("userinfo: read response: %w", err)
	}
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		return nil, ErrUnauthorized
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("userinfo: the provider answered %s", resp.Status)
	}
	if !json.Valid(body) || !strings.HasPrefix(strings.TrimSpace(string(body)), "{") {
		return nil, errors.New("userinfo: the provider did not answer with a JSON object")
	}
	var claims struct {
		Sub string `json:"sub"`
	}
	if err := json.Unmarshal(body, &claims); err != nil || claims.Sub == "" {
		return nil, errors.New("userinfo: the provider's answer has no sub claim")
	}
	if wantSub != "" && claims.Sub != wantSub {
		return nil, &SubjectMismatchError{Want: wantSub, Got: claims.Sub}
	}
	return body, nil
}

// Revoke asks the provider to revoke token (RFC 7009), sent as a refresh
// token for c.ClientID: a public client sends its client_id, a
// confidential one its secret as the provider's
// revocation_endpoint_auth_methods_supported says (see ChooseAuthMethod).
// Authgear revokes the whole grant. ErrNoRevocation means the provider
// has no revocation endpoint.
func (c *Client) Revoke(ctx context.Context, token string) error {
	endpoint := c.Provider.RevocationEndpoint
	if endpoint == "" {
		return ErrNoRevocation
	}
	if err := checkSecureURL(endpoint); err != nil {
		return err
	}
	form := url.Values{"token": {token}, "token_type_hint": {"refresh_token"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, nil)
	if err != nil {
		return err
	}
	if err := c.authenticate(req, form, c.Provider.RevocationAuthMethods); err != nil {
		return err
	}
	body := form.Encode()
	req.Body = io.NopCloser(strings.NewReader(body))
	req.ContentLength = int64(len(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := httpClient(c.HTTP).Do(req)
	if err != nil {
		return requestError("revoke", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("revoke: the provider answered %s", resp.Status)
	}
	return nil
}

// ErrNoRevocation is returned by Revoke when the provider's discovery
// document has no revocation_endpoint (Microsoft Entra ID has none).
var ErrNoRevocation = errors.New("the provider advertises no revocation endpoint")

// ErrUnauthorized is returned by UserInfo when the provider rejects the
// access token: HTTP 401 (Authgear, RFC 6750), or 403 as some providers
// answer for a token that is well formed but revoked.
var ErrUnauthorized = errors.New("the provider rejected the access token")

func requestError(what string, err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		if errors.Is(err, context.Canceled) {
			return context.Canceled
		}
		return fmt.Errorf("%s: could not reach the provider: %s", what, shortNetError(uerr))
	}
	return fmt.Errorf("%s: %w", what, err)
}
