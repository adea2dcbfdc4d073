package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// ErrUnauthorized is returned by UserInfo when the provider rejects the
// access token: HTTP 401 (Authgear, RFC 6750), or 403 as some providers
// answer for a token that is well formed but revoked.
var ErrUnauthorized = errors.New("the provider rejected the access token")

// SubjectMismatchError reports userinfo about another user than the
// session's (OIDC Core 5.3.2): the claims are not shown.
type SubjectMismatchError struct{ Want, Got string }

func (e *SubjectMismatchError) Error() string {
	return fmt.Sprintf("the provider's userinfo is about subject %q, not the session's %q (OIDC Core 5.3.2); refusing to show it", e.Got, e.Want)
}

// UserInfo GETs the userinfo endpoint with accessToken and returns the
// claims as raw JSON. The response size is capped at MaxResponseBytes.
// When wantSub is not empty, the claims' sub must equal it, else a
// *SubjectMismatchError is returned.
func UserInfo(ctx context.Context, client *http.Client, endpoint, accessToken, wantSub string) (json.RawMessage, error) {
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
	resp, err := httpClient(client).Do(req)
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
// token for the public client clientID. Authgear revokes the whole grant.
func Revoke(ctx context.Context, client *http.Client, endpoint, clientID, token string) error {
	if endpoint == "" {
		return errors.New("the provider advertises no revocation endpoint")
	}
	if err := checkSecureURL(endpoint); err != nil {
		return err
	}
	form := url.Values{"token": {token}, "token_type_hint": {"refresh_token"}, "client_id": {clientID}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := httpClient(client).Do(req)
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
