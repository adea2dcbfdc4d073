package testop

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// What Authgear offers beyond OpenID Connect, as its SDKs and server do it.
// Options.NoAuthgearExtras turns all of it off (the paths answer 404), to
// play a provider that is not Authgear.
//
//	POST /oauth2/app_session_token
//	    Content-Type: application/json, body {"refresh_token": "..."}.
//	    200 {"result": {"app_session_token": "...", "expire_at": "<RFC 3339>"}}
//	    when the refresh token is live and its grant has FullAccessScope.
//	    Errors are Authgear's API errors,
//	    {"error": {"name", "reason", "message", "code"[, "info"]}}:
//	      400 BadRequest/BadRequest        Content-Type is not JSON
//	      400 Invalid/ValidationFailed     the body is not {"refresh_token": string}
//	      403 Forbidden/Forbidden          "invalid refresh token"
//	      403 Forbidden/Forbidden          "the client is not authorized to have
//	                                       full user access" (no FullAccessScope)
//	    An app session token lives Options.AppSessionTokenTTL (5 minutes)
//	    and can be used once.
//
//	GET /oauth2/authorize?response_type=none&prompt=none&client_id=C
//	        &redirect_uri={issuer}/settings[/identities]
//	        &login_hint=https://authgear.com/login_hint?type=app_session_token&app_session_token=T
//	    The settings landing, handled here rather than by the provider. A
//	    live, unused app session token is consumed: 302 to redirect_uri with
//	    a session cookie (SessionCookieName, host-only, Path=/). Without a
//	    login hint, a browser whose session cookie is still valid is sent
//	    on too. Otherwise 302 to redirect_uri?error=login_required (with
//	    state when given). An unknown client or a redirect_uri that is not
//	    the issuer's /settings or /settings/identities: 400.
//
//	GET /settings, GET /settings/identities
//	    With a valid session cookie: 200, an HTML page with "Account
//	    settings" and the user's id. Without: 401, "Not signed in". A
//	    session dies with the grant (refresh token) its app session token
//	    came from: revocation and RevokeAll sign the browser out.
//
//	ANY /_resolver/resolve
//	    Authorization: Bearer <access token> (or the session cookie). 200
//	    and no body, always: a live access token of a user gives
//	    X-Authgear-Session-Valid: true and the user's headers; an invalid,
//	    expired or revoked one (or a client credentials token) gives
//	    X-Authgear-Session-Valid: false only; no credentials (no
//	    Authorization, another scheme, or "Bearer" with no token), no
//	    X-Authgear-* header at all.
//
// JWT access tokens (Options.JWTAccessTokens) of the user carry
// https://authgear.com/claims/user/{is_anonymous,is_verified,
// can_reauthenticate,roles}.
//
// Count keys: "app_session_token" (every request), "app_session_token:ok",
// "app_session_token:refused"; "settings_login:ok",
// "settings_login:login_required", "settings_login:bad_request" (the
// response_type=none landing); "settings:signed-in", "settings:anonymous",
// "settings:identities" (the identities page, signed in); "resolver",
// "resolver:valid", "resolver:invalid", "resolver:anonymous".

const (
	// FullAccessScope is the scope a refresh token's grant needs for app
	// session tokens.
	FullAccessScope = "https://authgear.com/scopes/full-access"
	// SessionCookieName is the settings pages' session cookie.
	SessionCookieName = "session"
	// AuthgearClaimPrefix prefixes Authgear's user claims in JWT access
	// tokens.
	AuthgearClaimPrefix = "https://authgear.com/claims/user/"

	loginHintURL              = "https://authgear.com/login_hint"
	defaultAppSessionTokenTTL = 5 * time.Minute
)

type authgearState struct {
	mu        sync.Mutex
	appTokens map[string]*appSessionToken // app session token -> what it is for
	sessions  map[string]string           // session cookie -> grant id
}

type appSessionToken struct {
	grantID string
	userID  string
	expires time.Time
}

// withAuthgear serves Authgear's extras in front of the provider.
func (s *Server) withAuthgear(next http.Handler, provider op.Exchanger) http.Handler {
	if s.opts.NoAuthgearExtras {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch p := r.URL.Path; {
		case p == "/oauth2/app_session_token":
			s.appSessionTokenEndpoint(w, r)
		case p == "/oauth2/authorize" && r.Method == http.MethodGet && r.URL.Query().Get("response_type") == "none":
			s.settingsLanding(w, r)
		case p == "/settings" || p == "/settings/identities":
			s.settingsPage(w, r)
		case p == "/_resolver/resolve":
			s.resolve(w, r, provider)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

func (s *Server) appSessionTokenTTL() time.Duration {
	if s.opts.AppSessionTokenTTL > 0 {
		return s.opts.AppSessionTokenTTL
	}
	return defaultAppSessionTokenTTL
}

// apiError writes one of Authgear's API errors.
func apiError(w http.ResponseWriter, code int, name, reason, message string, info map[string]any) {
	e := map[string]any{"name": name, "reason": reason, "message": message, "code": code}
	if info != nil {
		e["info"] = info
	}
	writeJSON(w, code, map[string]any{"error": e})
}

func (s *Server) appSessionTokenEndpoint(w http.ResponseWriter, r *http.Request) {
	s.inc("app_session_token")
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	refuse := func(code int, name, reason, message string, info map[string]any) {
		s.inc("app_session_token:refused")
		apiError(w, code, name, reason, message, info)
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" || (params["charset"] != "" && !strings.EqualFold(params["charset"], "utf-8")) {
		refuse(http.StatusBadRequest, "BadRequest", "BadRequest", "request content type is invalid", nil)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		refuse(http.StatusBadRequest, "BadRequest", "BadRequest", "failed to read request body", nil)
		return
	}
	rt, cause := parseAppSessionTokenRequest(body)
	if cause != nil {
		refuse(http.StatusBadRequest, "Invalid", "ValidationFailed", "invalid request body",
			map[string]any{"causes": []any{cause}})
		return
	}

	st := s.store
	st.mu.Lock()
	gid, ok := st.refresh[rt]
	g := st.grants[gid]
	st.mu.Unlock()
	if !ok || g == nil {
		refuse(http.StatusForbidden, "Forbidden", "Forbidden", "invalid refresh token", nil)
		return
	}
	if !slices.Contains(g.scopes, FullAccessScope) {
		refuse(http.StatusForbidden, "Forbidden", "Forbidden", "the client is not authorized to have full user access", nil)
		return
	}
	token := randomID()
	expires := time.Now().UTC().Add(s.appSessionTokenTTL())
	s.ag.mu.Lock()
	if s.ag.appTokens == nil {
		s.ag.appTokens = map[string]*appSessionToken{}
	}
	s.ag.appTokens[token] = &appSessionToken{grantID: g.id, userID: g.userID, expires: expires}
	s.ag.mu.Unlock()
	s.inc("app_session_token:ok")
	writeJSON(w, http.StatusOK, map[string]any{"result": map[string]any{
		"app_session_token": token, "expire_at": expires,
	}})
}

// parseAppSessionTokenRequest checks body against Authgear's schema: an
// object with only refresh_token, a string. It returns the token, or a
// validation cause.
func parseAppSessionTokenRequest(body []byte) (string, map[string]any) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil || fields == nil {
		return "", map[string]any{"location": "", "kind": "type", "details": map[string]any{"expected": []string{"object"}}}
	}
	for k := range fields {
		if k != "refresh_token" {
			return "", map[string]any{"location": "", "kind": "additionalProperties", "details": map[string]any{"extra": []string{k}}}
		}
	}
	raw, ok := fields["refresh_token"]
	if !ok {
		return "", map[string]any{"location": "", "kind": "required", "details": map[string]any{"missing": []string{"refresh_token"}}}
	}
	var rt string
	if err := json.Unmarshal(raw, &rt); err != nil {
		return "", map[string]any{"location": "/refresh_token", "kind": "type", "details": map[string]any{"expected": []string{"string"}}}
	}
	return rt, nil
}

// settingsLanding is the authorization endpoint for response_type=none,
// which the provider does not handle: Authgear's SDKs use it to open the
// settings pages signed in with an app session token.
func (s *Server) settingsLanding(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if _, ok := s.store.clients[q.Get("client_id")]; !ok || q.Get("client_id") == "" {
		s.inc("settings_login:bad_request")
		http.Error(w, "invalid_request: unknown client_id", http.StatusBadRequest)
		return
	}
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || !redirect.IsAbs() || redirect.Scheme+"://"+redirect.Host != strings.TrimSuffix(s.Issuer, "/") ||
		(redirect.Path != "/settings" && redirect.Path != "/settings/identities") || redirect.Fragment != "" {
		s.inc("settings_login:bad_request")
		http.Error(w, "invalid_request: redirect_uri is not allowed for response_type=none", http.StatusBadRequest)
		return
	}
	back := func(errCode string) {
		u := *redirect
		v := u.Query()
		if errCode != "" {
			v.Set("error", errCode)
			v.Set("error_description", "authentication required")
		}
		if st := q.Get("state"); st != "" {
			v.Set("state", st)
		}
		u.RawQuery = v.Encode()
		http.Redirect(w, r, u.String(), http.StatusFound)
	}

	var grantID string
	if hint := q.Get("login_hint"); hint != "" {
		grantID = s.consumeAppSessionToken(hint)
	} else if gid, ok := s.sessionGrant(r); ok {
		grantID = gid // already signed in: prompt=none succeeds
	}
	if grantID == "" {
		s.inc("settings_login:login_required")
		back("login_required")
		return
	}
	cookie := "s_" + randomID()
	s.ag.mu.Lock()
	if s.ag.sessions == nil {
		s.ag.sessions = map[string]string{}
	}
	s.ag.sessions[cookie] = grantID
	s.ag.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: SessionCookieName, Value: cookie, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	s.inc("settings_login:ok")
	back("")
}

// consumeAppSessionToken takes the app session token out of an Authgear
// login hint and uses it up, returning its grant's id when it was live.
func (s *Server) consumeAppSessionToken(hint string) string {
	u, err := url.Parse(hint)
	if err != nil || u.Scheme+"://"+u.Host+u.Path != loginHintURL || u.Query().Get("type") != "app_session_token" {
		return ""
	}
	token := u.Query().Get("app_session_token")
	s.ag.mu.Lock()
	t, ok := s.ag.appTokens[token]
	delete(s.ag.appTokens, token) // single use, even when it failed
	s.ag.mu.Unlock()
	if !ok || time.Now().After(t.expires) || !s.grantAlive(t.grantID) {
		return ""
	}
	return t.grantID
}

func (s *Server) grantAlive(gid string) bool {
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	_, ok := s.store.grants[gid]
	return ok
}

// sessionGrant returns the grant behind the request's session cookie while
// that grant lives.
func (s *Server) sessionGrant(r *http.Request) (string, bool) {
	c, err := r.Cookie(SessionCookieName)
	if err != nil {
		return "", false
	}
	s.ag.mu.Lock()
	gid, ok := s.ag.sessions[c.Value]
	s.ag.mu.Unlock()
	if !ok || !s.grantAlive(gid) {
		return "", false
	}
	return gid, true
}

// grantUser returns a live grant's user and time of authentication.
func (s *Server) grantUser(gid string) (string, time.Time, bool) {
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	g, ok := s.store.grants[gid]
	if !ok {
		return "", time.Time{}, false
	}
	return g.userID, g.authTime, true
}

func (s *Server) settingsPage(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	var user string
	if gid, ok := s.sessionGrant(r); ok {
		user, _, _ = s.grantUser(gid)
	}
	if user == "" {
		s.inc("settings:anonymous")
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, "<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body><h1>Not signed in</h1></body></html>\n")
		return
	}
	s.inc("settings:signed-in")
	title := "Account settings"
	if r.URL.Path == "/settings/identities" {
		s.inc("settings:identities")
		title = "Account settings: identities"
	}
	io.WriteString(w, "<!DOCTYPE html>\n<html><head><title>"+title+"</title></head><body><h1>"+title+
		"</h1><p>Signed in as <span id=\"user-id\">"+html.EscapeString(user)+"</span></p></body></html>\n")
}

// resolve is Authgear's resolver endpoint, for a reverse proxy's
// auth_request: it answers 200 with headers describing the request's
// session.
func (s *Server) resolve(w http.ResponseWriter, r *http.Request, provider op.Exchanger) {
	s.inc("resolver")
	var (
		userID   string
		authTime time.Time
		seen     bool // the request carried credentials
	)
	if scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		seen = true
		userID, authTime = s.resolveAccessToken(r.Context(), provider, strings.TrimSpace(token))
	} else if c, err := r.Cookie(SessionCookieName); err == nil && c.Value != "" {
		seen = true
		if gid, ok := s.sessionGrant(r); ok {
			userID, authTime, _ = s.grantUser(gid)
		}
	}
	h := w.Header()
	switch {
	case !seen:
		s.inc("resolver:anonymous")
	case userID == "":
		s.inc("resolver:invalid")
		h.Set("X-Authgear-Session-Valid", "false")
	default:
		s.inc("resolver:valid")
		u := s.opts.User
		h.Set("X-Authgear-Session-Valid", "true")
		h.Set("X-Authgear-User-Id", userID)
		h.Set("X-Authgear-User-Anonymous", "false")
		h.Set("X-Authgear-User-Verified", "true")
		h.Set("X-Authgear-User-Can-Reauthenticate", "true")
		if len(u.Roles) > 0 {
			h.Set("X-Authgear-User-Roles", strings.Join(u.Roles, ","))
		}
		h.Set("X-Authgear-Session-Amr", "pwd")
		if !authTime.IsZero() {
			h.Set("X-Authgear-Session-Authenticated-At", strconv.FormatInt(authTime.Unix(), 10))
		}
	}
	w.WriteHeader(http.StatusOK)
}

// resolveAccessToken returns the user and time of authentication of a
// live access token issued to a user, or "".
func (s *Server) resolveAccessToken(ctx context.Context, provider op.Exchanger, token string) (string, time.Time) {
	if token == "" {
		return "", time.Time{}
	}
	id, _, _, ok := op.GetTokenIDAndSubjectFromToken(op.ContextWithIssuer(ctx, s.Issuer), provider, token, oidc.AccessTokenType, false)
	if !ok {
		return "", time.Time{}
	}
	t, ok := s.store.liveToken(id)
	if !ok || t.grantID == "" {
		return "", time.Time{}
	}
	user, authTime, ok := s.grantUser(t.grantID)
	if !ok {
		return "", time.Time{}
	}
	return user, authTime
}

// GetPrivateClaimsFromRequest adds Authgear's user claims to the user's JWT
// access tokens (op.CanGetPrivateClaimsFromRequest).
func (s *storage) GetPrivateClaimsFromRequest(_ context.Context, r op.TokenRequest, _ []string) (map[string]any, error) {
	if s.opts.NoAuthgearExtras || r.GetSubject() != s.opts.User.ID {
		return nil, nil
	}
	roles := s.opts.User.Roles
	if roles == nil {
		roles = []string{}
	}
	return map[string]any{
		AuthgearClaimPrefix + "is_anonymous":       false,
		AuthgearClaimPrefix + "is_verified":        true,
		AuthgearClaimPrefix + "can_reauthenticate": true,
		AuthgearClaimPrefix + "roles":              roles,
	}, nil
}

var _ op.CanGetPrivateClaimsFromRequest = (*storage)(nil)
