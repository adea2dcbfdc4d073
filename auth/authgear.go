package auth

import (
	"bytes"
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
)

// Authgear's own endpoints beside OpenID Connect: the app session token
// that opens the account settings signed in, and the resolver a backend
// asks about a request's session. Other providers have neither.

// FullAccessScope is the Authgear scope a session needs for an app session
// token (and so for the settings page).
const FullAccessScope = "https://authgear.com/scopes/full-access"

// ErrNotAuthgear is returned when the provider has no such Authgear
// endpoint (it answered 404).
var ErrNotAuthgear = errors.New("the provider has no such endpoint: it is not Authgear")

// AuthgearAPIError is an error answer from Authgear's API, as
// {"error": {"name", "reason", "message", "code"}}.
type AuthgearAPIError struct {
	Status  int
	Name    string
	Reason  string
	Message string
}

func (e *AuthgearAPIError) Error() string {
	msg := firstLine(e.Message, 200)
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	return fmt.Sprintf("the provider refused: %s (%s, HTTP %d)", msg, firstLine(e.Reason, 60), e.Status)
}

// InsufficientScope reports whether Authgear refused for want of the
// full-access scope.
func (e *AuthgearAPIError) InsufficientScope() bool {
	return strings.Contains(e.Message, "full user access") || strings.EqualFold(e.Reason, "InsufficientScope")
}

// InvalidGrant reports whether Authgear refused the refresh token.
func (e *AuthgearAPIError) InvalidGrant() bool {
	return strings.Contains(e.Message, "invalid refresh token") || strings.EqualFold(e.Reason, "InvalidGrant")
}

// AppSessionToken exchanges refreshToken for an app session token (POST
// {issuer}/oauth2/app_session_token): single use, valid until expireAt
// (about 5 minutes). The token is a secret: it signs a browser in.
// Errors: ErrNotAuthgear, *AuthgearAPIError, or a transport error.
func (c *Client) AppSessionToken(ctx context.Context, refreshToken string) (token string, expireAt time.Time, err error) {
	body, _ := json.Marshal(map[string]string{"refresh_token": refreshToken})
	endpoint := c.Provider.Issuer + "/oauth2/app_session_token"
	if err := checkSecureURL(endpoint); err != nil {
		return "", time.Time{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return "", time.Time{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := httpClient(c.HTTP).Do(req)
	if err != nil {
		return "", time.Time{}, requestError("app session token", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("app session token: read response: %w", err)
	}
	if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed {
		return "", time.Time{}, ErrNotAuthgear
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error struct {
				Name    string `json:"name"`
				Reason  string `json:"reason"`
				Message string `json:"message"`
			} `json:"error"`
		}
		_ = json.Unmarshal(raw, &e)
		return "", time.Time{}, &AuthgearAPIError{Status: resp.StatusCode, Name: e.Error.Name, Reason: e.Error.Reason, Message: e.Error.Message}
	}
	var ok struct {
		Result struct {
			Token    string `json:"app_session_token"`
			ExpireAt string `json:"expire_at"`
		} `json:"result"`
	}
	if err := json.Unmarshal(raw, &ok); err != nil {
		return "", time.Time{}, errors.New("app session token: the provider's answer is not the expected JSON")
	}
	if ok.Result.Token == "" {
		return "", time.Time{}, errors.New("app session token: the provider's answer has no app_session_token")
	}
	// An unreadable expiry is only not shown; the token still works.
	exp, _ := time.Parse(time.RFC3339Nano, ok.Result.ExpireAt)
	return ok.Result.Token, exp, nil
}

// SettingsPages are the account pages SettingsURL can open, as the SDKs
// name them, and their paths under the issuer.
var SettingsPages = map[string]string{
	"settings":   "/settings",
	"identities": "/settings/identities",
}

// SettingsURL returns the authorize URL that opens page (a key of
// SettingsPages) signed in with appSessionToken, as Authgear's SDKs build
// it: response_type=none, prompt=none, the page as redirect_uri, and the
// token in login_hint. The URL holds the token: it is a secret.
func (c *Client) SettingsURL(page, appSessionToken string) (string, error) {
	path, ok := SettingsPages[page]
	if !ok {
		return "", fmt.Errorf("no settings page %q", page)
	}
	u, err := url.Parse(c.Provider.AuthorizationEndpoint)
	if err != nil {
		return "", err
	}
	hint := "https://authgear.com/login_hint?type=app_session_token&app_session_token=" + url.QueryEscape(appSessionToken)
	q := url.Values{
		"client_id":     {c.ClientID},
		"redirect_uri":  {c.Provider.Issuer + path},
		"response_type": {"none"},
		"prompt":        {"none"},
		"scope":         {"openid offline_access " + FullAccessScope},
		"login_hint":    {hint},
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// ResolverInfo is what Authgear's resolver tells a backend about a
// request's session, from its X-Authgear-* headers.
type ResolverInfo struct {
	// SessionValid is nil when the resolver said nothing (no token).
	SessionValid      *bool       `json:"session_valid"`
	UserID            string      `json:"user_id,omitempty"`
	Anonymous         *bool       `json:"user_anonymous,omitempty"`
	Verified          *bool       `json:"user_verified,omitempty"`
	CanReauthenticate *bool       `json:"user_can_reauthenticate,omitempty"`
	Roles             []string    `json:"user_roles,omitempty"`
	AMR               []string    `json:"session_amr,omitempty"`
	AuthenticatedAt   *time.Time  `json:"session_authenticated_at,omitempty"`
	Headers           http.Header `json:"headers"`
}

// ErrResolverRejected is returned by Resolve when the resolver says the
// token's session is not valid.
var ErrResolverRejected = errors.New("the resolver says the session is not valid")

// Resolve asks Authgear's resolver (GET {issuer}/_resolver/resolve) what a
// backend behind it would learn of a request carrying accessToken. It
// returns ErrResolverRejected with the info when the session is not valid,
// and ErrNotAuthgear when there is no resolver.
func (c *Client) Resolve(ctx context.Context, accessToken string) (*ResolverInfo, error) {
	endpoint := c.Provider.Issuer + "/_resolver/resolve"
	if err := checkSecureURL(endpoint); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	resp, err := httpClient(c.HTTP).Do(req)
	if err != nil {
		return nil, requestError("resolver", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, ErrNotAuthgear
	case resp.StatusCode == http.StatusUnauthorized:
		return nil, ErrUnauthorized
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("resolver: the provider answered %s", resp.Status)
	}
	info := &ResolverInfo{Headers: http.Header{}}
	for k, v := range resp.Header {
		if strings.HasPrefix(strings.ToLower(k), "x-authgear-") {
			info.Headers[k] = v
		}
	}
	h := resp.Header
	boolOf := func(name string) *bool {
		v := h.Get(name)
		if v == "" {
			return nil
		}
		b := strings.EqualFold(v, "true")
		return &b
	}
	list := func(name string) []string {
		var out []string
		for _, s := range strings.Split(h.Get(name), ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	info.SessionValid = boolOf("X-Authgear-Session-Valid")
	info.UserID = h.Get("X-Authgear-User-Id")
	info.Anonymous = boolOf("X-Authgear-User-Anonymous")
	info.Verified = boolOf("X-Authgear-User-Verified")
	info.CanReauthenticate = boolOf("X-Authgear-User-Can-Reauthenticate")
	info.Roles = list("X-Authgear-User-Roles")
	info.AMR = list("X-Authgear-Session-Amr")
	if n, err := strconv.ParseInt(h.Get("X-Authgear-Session-Authenticated-At"), 10, 64); err == nil && n > 0 {
		t := time.Unix(n, 0).UTC()
		info.AuthenticatedAt = &t
	}
	if info.SessionValid == nil {
		return nil, ErrNotAuthgear // a server that answers but is no resolver
	}
	if !*info.SessionValid {
		return info, ErrResolverRejected
	}
	return info, nil
}
