package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// How a confidential client sends its secret (OIDC Core 9, RFC 6749 2.3.1).
const (
	// AuthMethodBasic sends the client id and secret in an HTTP Basic
	// Authorization header, each form-urlencoded first.
	AuthMethodBasic = "client_secret_basic"
	// AuthMethodPost sends them as client_id and client_secret in the
	// form body.
	AuthMethodPost = "client_secret_post"
)

// ChooseAuthMethod picks how a confidential client sends its secret to an
// endpoint whose discovery metadata lists supported: forced when not
// empty; else client_secret_basic when it is listed or nothing is listed
// (the default of OIDC Core 9 and RFC 8414 2); else client_secret_post
// when listed. Any other list is an error: agcurl has no other way to
// authenticate a client.
func ChooseAuthMethod(forced string, supported []string) (string, error) {
	switch {
	case forced != "":
		return forced, nil
	case len(supported) == 0, slices.Contains(supported, AuthMethodBasic):
		return AuthMethodBasic, nil
	case slices.Contains(supported, AuthMethodPost):
		return AuthMethodPost, nil
	}
	return "", fmt.Errorf("the provider supports neither client_secret_basic nor client_secret_post (it lists %s), so agcurl cannot send it a client secret",
		strings.Join(supported, ", "))
}

// secret returns the client secret, or "" for a public client.
func (c *Client) secret() (string, error) {
	if c.ClientSecret == nil {
		return "", nil
	}
	s, err := c.ClientSecret()
	if err != nil {
		return "", fmt.Errorf("read the client secret: %w", err)
	}
	return s, nil
}

// Confidential reports whether c authenticates with a client secret,
// without reading it.
func (c *Client) Confidential() bool { return c.ClientSecret != nil }

// oauthConfig is the oauth2.Config for c's provider: a public client
// sends its client_id in the form, a confidential one its secret as
// ChooseAuthMethod says for the token endpoint.
func (c *Client) oauthConfig(scopes []string, redirect string) (*oauth2.Config, error) {
	cfg := &oauth2.Config{
		ClientID: c.ClientID,
		Endpoint: oauth2.Endpoint{
			AuthURL:       c.Provider.AuthorizationEndpoint,
			TokenURL:      c.Provider.TokenEndpoint,
			DeviceAuthURL: c.Provider.DeviceAuthorizationEndpoint,
			AuthStyle:     oauth2.AuthStyleInParams,
		},
		RedirectURL: redirect,
		Scopes:      scopes,
	}
	secret, err := c.secret()
	if err != nil || secret == "" {
		return cfg, err
	}
	method, err := ChooseAuthMethod(c.AuthMethod, c.Provider.TokenAuthMethods)
	if err != nil {
		return nil, err
	}
	cfg.ClientSecret = secret
	if method == AuthMethodBasic {
		cfg.Endpoint.AuthStyle = oauth2.AuthStyleInHeader
	}
	return cfg, nil
}

// authenticate adds the client's credentials to a request to an endpoint
// other than the token endpoint (revocation, device authorization), whose
// supported methods are given: client_id alone for a public client, the
// secret as ChooseAuthMethod says for a confidential one. form is the
// body; the caller encodes it after this.
func (c *Client) authenticate(req *http.Request, form url.Values, supported []string) error {
	secret, err := c.secret()
	if err != nil {
		return err
	}
	if secret == "" {
		form.Set("client_id", c.ClientID)
		return nil
	}
	method, err := ChooseAuthMethod(c.AuthMethod, supported)
	if err != nil {
		return err
	}
	switch method {
	case AuthMethodPost:
		form.Set("client_id", c.ClientID)
		form.Set("client_secret", secret)
	default:
		req.SetBasicAuth(url.QueryEscape(c.ClientID), url.QueryEscape(secret))
	}
	return nil
}

// redact removes from the provider's answer that err carries (an
// *oauth2.RetrieveError: its error_description, error_uri and body) every
// copy of the client secret and of the other secrets the request sent (a
// refresh token, a code), as sent: as they are, form-urlencoded, or in
// the Basic credentials. A provider that repeats what it was sent in its
// error must not put them in agcurl's messages or the browser's page.
// It returns err.
func (c *Client) redact(err error, secret string, others ...string) error {
	var re *oauth2.RetrieveError
	if err == nil || !errors.As(err, &re) {
		return err
	}
	var pairs []string
	add := func(s string) {
		if s != "" {
			pairs = append(pairs, s, "<redacted>")
		}
	}
	if secret != "" {
		id, sec := url.QueryEscape(c.ClientID), url.QueryEscape(secret)
		add(base64.StdEncoding.EncodeToString([]byte(id + ":" + sec)))
		add(base64.StdEncoding.EncodeToString([]byte(c.ClientID + ":" + secret)))
	}
	for _, s := range append(others, secret) {
		add(url.QueryEscape(s))
		add(url.PathEscape(s))
		add(s)
	}
	if len(pairs) == 0 {
		return err
	}
	r := strings.NewReplacer(pairs...)
	re.ErrorDescription, re.ErrorURI = r.Replace(re.ErrorDescription), r.Replace(re.ErrorURI)
	re.Body = []byte(r.Replace(string(re.Body)))
	return err
}

// ClientAuthError reports that the provider refused to authenticate the
// client (invalid_client or unauthorized_client in a 400 or 401, RFC 6749
// 5.2) during a user's sign-in, refresh or device login: a public client
// where the provider wants a confidential one, or a wrong secret or
// method. It is not temporary, and the stored session, if any, is kept.
type ClientAuthError struct {
	// Profile, when the caller knows it, is the profile whose client it is.
	Profile string
	// Op is what failed ("code exchange", "refresh the access token").
	Op string
	// SecretSent reports whether a client secret was sent, and Method how.
	SecretSent bool
	Method     string
	Err        *ProviderError
}

func (e *ClientAuthError) Error() string {
	if e.SecretSent {
		return fmt.Sprintf("%s: the provider refused the client's credentials (sent with %s): %s", e.Op, e.Method, e.Err.Error())
	}
	return fmt.Sprintf("%s: the provider refused to authenticate the client, and no client secret was sent: %s", e.Op, e.Err.Error())
}

func (e *ClientAuthError) Unwrap() error { return e.Err }

// clientAuthFailure returns a *ClientAuthError when err is the token
// endpoint refusing the client's authentication, else nil.
func (c *Client) clientAuthFailure(op string, cfg *oauth2.Config, err error) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || (re.ErrorCode != "invalid_client" && re.ErrorCode != "unauthorized_client") ||
		re.Response == nil || (re.Response.StatusCode != http.StatusBadRequest && re.Response.StatusCode != http.StatusUnauthorized) {
		return nil
	}
	e := &ClientAuthError{Op: op, Err: &ProviderError{Code: re.ErrorCode, Description: re.ErrorDescription}}
	if cfg != nil && cfg.ClientSecret != "" {
		e.SecretSent = true
		e.Method = AuthMethodPost
		if cfg.Endpoint.AuthStyle == oauth2.AuthStyleInHeader {
			e.Method = AuthMethodBasic
		}
	}
	return e
}

// reservedParams are the authorization request parameters agcurl sets
// itself: extra parameters must not replace them. Keys are compared in
// any case, since some providers read parameter names so (zitadel's op
// takes State for state).
var reservedParams = []string{
	"response_type", "client_id", "client_secret", "redirect_uri", "scope", "state", "nonce",
	"code_challenge", "code_challenge_method", "code_verifier", "grant_type",
}

// replacingParams would replace agcurl's own parameters all at once (a
// request object, or a reference to one, OIDC Core 6, RFC 9101 and 9126),
// or take the response away from the redirect's query, where agcurl reads
// it (response_mode).
var replacingParams = []string{"request", "request_uri", "response_mode"}

// ReservedParamError reports an extra authorization request parameter
// that would replace one agcurl sets itself, or all of them.
type ReservedParamError struct {
	Key string
	// Replacing: Key is one of replacingParams.
	Replacing bool
}

func (e *ReservedParamError) Error() string {
	if e.Replacing {
		return fmt.Sprintf("the authorization request parameter %q would replace agcurl's own (state, PKCE, redirect_uri) or where the response goes; it cannot be given as an extra parameter", e.Key)
	}
	return fmt.Sprintf("the authorization request parameter %q is agcurl's own; it cannot be given as an extra parameter", e.Key)
}

// CheckExtraParams returns a *ReservedParamError for the first key of
// extra, in any case, that agcurl sets itself in every authorization
// request or that would replace those.
func CheckExtraParams(extra map[string]string) error {
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		switch lower := strings.ToLower(k); {
		case slices.Contains(reservedParams, lower):
			return &ReservedParamError{Key: k}
		case slices.Contains(replacingParams, lower):
			return &ReservedParamError{Key: k, Replacing: true}
		}
	}
	return nil
}

// requestParams are the parameters a user's sign-in adds to its
// authorization (or device authorization) request: audience, space
// separated as Ory Hydra reads several (Auth0 takes one), and the extra
// parameters.
func requestParams(audience []string, extra map[string]string) (url.Values, error) {
	if err := CheckExtraParams(extra); err != nil {
		return nil, err
	}
	v := url.Values{}
	if len(audience) > 0 {
		v.Set("audience", strings.Join(audience, " "))
	}
	for k, val := range extra {
		v.Set(k, val)
	}
	return v, nil
}

// authCodeOptions turns v into options for oauth2's URL and requests.
func authCodeOptions(v url.Values) []oauth2.AuthCodeOption {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var opts []oauth2.AuthCodeOption
	for _, k := range keys {
		opts = append(opts, oauth2.SetAuthURLParam(k, v.Get(k)))
	}
	return opts
}

// deviceAuthorize sends the device authorization request (RFC 8628 3.1),
// authenticating a confidential client as at the token endpoint (3.1 asks
// for the client authentication of RFC 6749 3.2.1), with params added.
// Errors are *oauth2.RetrieveError, as from oauth2's own DeviceAuth.
func (c *Client) deviceAuthorize(ctx context.Context, cfg *oauth2.Config, params url.Values) (*oauth2.DeviceAuthResponse, error) {
	form := url.Values{}
	for k, v := range params {
		form[k] = v
	}
	if len(cfg.Scopes) > 0 {
		form.Set("scope", strings.Join(cfg.Scopes, " "))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.Endpoint.DeviceAuthURL, nil)
	if err != nil {
		return nil, err
	}
	if err := c.authenticate(req, form, c.Provider.TokenAuthMethods); err != nil {
		return nil, err
	}
	body := form.Encode()
	req.Body = io.NopCloser(strings.NewReader(body))
	req.ContentLength = int64(len(body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(body)), nil }
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	sent := time.Now()
	resp, err := httpClient(c.HTTP).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read the device authorization response: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		re := &oauth2.RetrieveError{Response: resp, Body: b}
		var e struct {
			Code        string `json:"error"`
			Description string `json:"error_description"`
			URI         string `json:"error_uri"`
		}
		if ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); ct == "application/json" && json.Unmarshal(b, &e) == nil {
			re.ErrorCode, re.ErrorDescription, re.ErrorURI = e.Code, e.Description, e.URI
		}
		return nil, re
	}
	da := &oauth2.DeviceAuthResponse{}
	if err := json.Unmarshal(b, da); err != nil {
		return nil, errors.New("the device authorization response is not JSON")
	}
	if da.DeviceCode == "" || da.UserCode == "" {
		return nil, errors.New("the device authorization response lacks device_code or user_code")
	}
	if !da.Expiry.IsZero() {
		da.Expiry = da.Expiry.Add(-time.Since(sent))
	}
	return da, nil
}
