package testop

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// User is a test user. The provider signs every login in as Options.User.
type User struct {
	ID    string
	Name  string
	Email string
	// Roles are the user's effective roles, which Authgear's resolver and
	// JWT access tokens carry.
	Roles []string
}

type authRequest struct {
	id          string
	clientID    string
	redirectURI string
	state       string
	nonce       string
	scopes      []string
	respType    oidc.ResponseType
	respMode    oidc.ResponseMode
	challenge   *oidc.CodeChallenge
	created     time.Time
	userID      string
	authTime    time.Time
	done        bool
}

func (a *authRequest) GetID() string                         { return a.id }
func (a *authRequest) GetACR() string                        { return "" }
func (a *authRequest) GetAMR() []string                      { return []string{"pwd"} }
func (a *authRequest) GetAudience() []string                 { return []string{a.clientID} }
func (a *authRequest) GetAuthTime() time.Time                { return a.authTime }
func (a *authRequest) GetClientID() string                   { return a.clientID }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge { return a.challenge }
func (a *authRequest) GetNonce() string                      { return a.nonce }
func (a *authRequest) GetRedirectURI() string                { return a.redirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType    { return a.respType }
func (a *authRequest) GetResponseMode() oidc.ResponseMode    { return a.respMode }
func (a *authRequest) GetScopes() []string                   { return a.scopes }
func (a *authRequest) GetState() string                      { return a.state }
func (a *authRequest) GetSubject() string                    { return a.userID }
func (a *authRequest) Done() bool                            { return a.done }

// grant is one login: its refresh token and the access tokens minted from it.
type grant struct {
	id           string
	clientID     string
	userID       string
	scopes       []string
	authTime     time.Time
	refreshToken string
}

type accessToken struct {
	id       string
	grantID  string // empty for client credentials
	clientID string
	subject  string
	scopes   []string
	expires  time.Time
}

type refreshRequest struct {
	g      *grant
	scopes []string
}

func (r *refreshRequest) GetAMR() []string            { return []string{"pwd"} }
func (r *refreshRequest) GetAudience() []string       { return []string{r.g.clientID} }
func (r *refreshRequest) GetAuthTime() time.Time      { return r.g.authTime }
func (r *refreshRequest) GetClientID() string         { return r.g.clientID }
func (r *refreshRequest) GetScopes() []string         { return r.scopes }
func (r *refreshRequest) GetSubject() string          { return r.g.userID }
func (r *refreshRequest) SetCurrentScopes(s []string) { r.scopes = s }

type signingKey struct {
	id  string
	key *rsa.PrivateKey
}

func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k *signingKey) Key() any                                    { return k.key }
func (k *signingKey) ID() string                                  { return k.id }

type publicKey struct{ k *signingKey }

func (p publicKey) ID() string                         { return p.k.id }
func (p publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (p publicKey) Use() string                        { return "sig" }
func (p publicKey) Key() any                           { return &p.k.key.PublicKey }

// storage implements op.Storage in memory, with Authgear's behaviour where
// it matters to agcurl: grants, optional refresh-token rotation that kills
// the old token at once, revocation of the whole grant.
type storage struct {
	opts *Options

	mu           sync.Mutex
	authRequests map[string]*authRequest
	codes        map[string]string // code -> auth request id
	grants       map[string]*grant // grant id -> grant
	refresh      map[string]string // refresh token -> grant id
	tokens       map[string]*accessToken
	clients      map[string]*client
	key          *signingKey
	deviceCodes  map[string]*deviceEntry
	userCodes    map[string]string
}

func newStorage(opts *Options, clients map[string]*client) *storage {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return &storage{
		opts:         opts,
		authRequests: map[string]*authRequest{},
		codes:        map[string]string{},
		grants:       map[string]*grant{},
		refresh:      map[string]string{},
		tokens:       map[string]*accessToken{},
		clients:      clients,
		key:          &signingKey{id: randomID(), key: key},
		deviceCodes:  map[string]*deviceEntry{},
		userCodes:    map[string]string{},
	}
}

func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

var errNotFound = errors.New("not found")

func (s *storage) CreateAuthRequest(_ context.Context, r *oidc.AuthRequest, userID string) (op.AuthRequest, error) {
	if len(r.Prompt) == 1 && r.Prompt[0] == oidc.PromptNone {
		return nil, oidc.ErrLoginRequired()
	}
	var ch *oidc.CodeChallenge
	if r.CodeChallenge != "" {
		ch = &oidc.CodeChallenge{Challenge: r.CodeChallenge, Method: r.CodeChallengeMethod}
	}
	scopes := []string(r.Scopes)
	if s.opts.StrictOfflineAccess {
		scopes = strictScopes(scopes, r.Prompt)
	}
	a := &authRequest{
		id: randomID(), clientID: r.ClientID, redirectURI: r.RedirectURI, state: r.State,
		nonce: r.Nonce, scopes: scopes, respType: r.ResponseType, respMode: r.ResponseMode,
		challenge: ch, created: time.Now(),
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.authRequests[a.id] = a
	return a, nil
}

func (s *storage) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.authRequests[id]
	if !ok {
		return nil, errNotFound
	}
	return a, nil
}

// approve marks the auth request as signed in by the test user.
func (s *storage) approve(id string) (*authRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.authRequests[id]
	if !ok {
		return nil, errNotFound
	}
	a.userID = s.opts.User.ID
	a.authTime = time.Now()
	a.done = true
	return a, nil
}

func (s *storage) AuthRequestByCode(_ context.Context, code string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.codes[code]
	if !ok {
		return nil, errNotFound
	}
	a, ok := s.authRequests[id]
	if !ok || time.Since(a.created) > 5*time.Minute {
		return nil, errNotFound
	}
	return a, nil
}

func (s *storage) SaveAuthCode(_ context.Context, id, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.codes[code] = id
	return nil
}

func (s *storage) DeleteAuthRequest(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.authRequests, id)
	for code, rid := range s.codes {
		if rid == id {
			delete(s.codes, code)
		}
	}
	return nil
}

func (s *storage) newAccessToken(grantID, clientID, subject string, scopes []string) *accessToken {
	t := &accessToken{
		id: randomID(), grantID: grantID, clientID: clientID, subject: subject, scopes: scopes,
		expires: time.Now().Add(s.opts.AccessTokenTTL),
	}
	s.tokens[t.id] = t
	return t
}

func (s *storage) CreateAccessToken(_ context.Context, r op.TokenRequest) (string, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	clientID := ""
	switch r := r.(type) {
	case *authRequest:
		clientID = r.clientID
	case *ccRequest:
		clientID = r.clientID
	case *op.DeviceAuthorizationState:
		clientID = r.ClientID
	}
	t := s.newAccessToken("", clientID, r.GetSubject(), r.GetScopes())
	return t.id, t.expires, nil
}

func (s *storage) CreateAccessAndRefreshTokens(_ context.Context, r op.TokenRequest, current string) (string, string, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if current == "" {
		var g *grant
		switch a := r.(type) {
		case *authRequest:
			g = &grant{clientID: a.clientID, userID: a.userID, scopes: a.scopes, authTime: a.authTime}
		case *op.DeviceAuthorizationState:
			g = &grant{clientID: a.ClientID, userID: a.Subject, scopes: a.Scopes, authTime: a.AuthTime}
		default:
			return "", "", time.Time{}, errors.New("unexpected token request")
		}
		g.id, g.refreshToken = randomID(), "rt_"+randomID()
		s.grants[g.id] = g
		s.refresh[g.refreshToken] = g.id
		t := s.newAccessToken(g.id, g.clientID, g.userID, g.scopes)
		return t.id, g.refreshToken, t.expires, nil
	}
	gid, ok := s.refresh[current]
	if !ok {
		return "", "", time.Time{}, op.ErrInvalidRefreshToken
	}
	g := s.grants[gid]
	if s.opts.RotateRefreshTokens {
		delete(s.refresh, current) // the old token dies at once, no grace period
		g.refreshToken = "rt_" + randomID()
		s.refresh[g.refreshToken] = g.id
	}
	t := s.newAccessToken(g.id, g.clientID, g.userID, r.GetScopes())
	return t.id, g.refreshToken, t.expires, nil
}

func (s *storage) TokenRequestByRefreshToken(_ context.Context, rt string) (op.RefreshTokenRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	gid, ok := s.refresh[rt]
	if !ok {
		return nil, fmt.Errorf("invalid refresh token")
	}
	g := s.grants[gid]
	return &refreshRequest{g: g, scopes: g.scopes}, nil
}

func (s *storage) TerminateSession(_ context.Context, userID, clientID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, g := range s.grants {
		if g.userID == userID && g.clientID == clientID {
			s.deleteGrantLocked(id)
		}
	}
	return nil
}

func (s *storage) deleteGrantLocked(gid string) {
	g, ok := s.grants[gid]
	if !ok {
		return
	}
	delete(s.refresh, g.refreshToken)
	delete(s.grants, gid)
	for id, t := range s.tokens {
		if t.grantID == gid {
			delete(s.tokens, id)
		}
	}
}

// RevokeAll revokes every grant, as an administrator signing the user out
// everywhere would.
func (s *storage) revokeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id := range s.grants {
		s.deleteGrantLocked(id)
	}
}

func (s *storage) GetRefreshTokenInfo(_ context.Context, clientID, token string) (string, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	gid, ok := s.refresh[token]
	if !ok {
		return "", "", op.ErrInvalidRefreshToken
	}
	return s.grants[gid].userID, "grant:" + gid, nil
}

func (s *storage) RevokeToken(_ context.Context, tokenOrID, userID, clientID string) *oidc.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if gid, ok := cutPrefix(tokenOrID, "grant:"); ok {
		if g, ok := s.grants[gid]; ok && g.clientID != clientID {
			return oidc.ErrInvalidClient().WithDescription("token was not issued for this client")
		}
		s.deleteGrantLocked(gid) // Authgear revokes the whole grant
		return nil
	}
	if t, ok := s.tokens[tokenOrID]; ok {
		if t.clientID != clientID {
			return oidc.ErrInvalidClient().WithDescription("token was not issued for this client")
		}
		delete(s.tokens, tokenOrID)
	}
	return nil // unknown tokens: RFC 7009 says answer 200
}

func cutPrefix(s, p string) (string, bool) {
	if len(s) >= len(p) && s[:len(p)] == p {
		return s[len(p):], true
	}
	return s, false
}

func (s *storage) SigningKey(context.Context) (op.SigningKey, error) { return s.key, nil }
func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}
func (s *storage) KeySet(context.Context) ([]op.Key, error) { return []op.Key{publicKey{s.key}}, nil }

func (s *storage) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	c, ok := s.clients[id]
	if !ok {
		return nil, errNotFound
	}
	if c.anyLoopbackPort {
		return confidentialClient{c}, nil
	}
	return c, nil
}

func (s *storage) AuthorizeClientIDSecret(_ context.Context, id, secret string) error {
	c, ok := s.clients[id]
	if !ok || c.secret == "" || c.secret != secret {
		return errors.New("invalid client credentials")
	}
	return nil
}

func (s *storage) userClaims(info *oidc.UserInfo, userID string) error {
	if userID != s.opts.User.ID {
		return errNotFound
	}
	info.Subject = userID
	info.Name = s.opts.User.Name
	info.PreferredUsername = s.opts.User.Name
	info.Email = s.opts.User.Email
	info.EmailVerified = true
	return nil
}

// SetUserinfoFromScopes fills the ID token's user claims: only sub, as
// Authgear's ID tokens carry no profile claims.
func (s *storage) SetUserinfoFromScopes(_ context.Context, info *oidc.UserInfo, userID, _ string, _ []string) error {
	info.Subject = userID
	return nil
}

func (s *storage) liveToken(id string) (*accessToken, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[id]
	if !ok || time.Now().After(t.expires) {
		return nil, false
	}
	return t, true
}

func (s *storage) SetUserinfoFromToken(_ context.Context, info *oidc.UserInfo, tokenID, _, _ string) error {
	t, ok := s.liveToken(tokenID)
	if !ok {
		return errors.New("invalid session")
	}
	return s.userClaims(info, t.subject)
}

func (s *storage) SetIntrospectionFromToken(_ context.Context, resp *oidc.IntrospectionResponse, tokenID, _, _ string) error {
	t, ok := s.liveToken(tokenID)
	if !ok {
		return errors.New("token is invalid or revoked")
	}
	resp.Active = true
	resp.Subject = t.subject
	resp.ClientID = t.clientID
	resp.Scope = t.scopes
	resp.Expiration = oidc.FromTime(t.expires)
	if t.grantID != "" {
		var info oidc.UserInfo
		if err := s.userClaims(&info, t.subject); err == nil {
			resp.SetUserInfo(&info)
		}
	}
	return nil
}

func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errNotFound
}

func (s *storage) ValidateJWTProfileScopes(_ context.Context, _ string, scopes []string) ([]string, error) {
	return slices.DeleteFunc(scopes, func(sc string) bool { return sc != oidc.ScopeOpenID }), nil
}

func (s *storage) Health(context.Context) error { return nil }

// Client credentials, for machine clients.

type ccRequest struct {
	clientID string
	scopes   []string
}

func (r *ccRequest) GetSubject() string    { return "client_id_" + r.clientID }
func (r *ccRequest) GetAudience() []string { return []string{r.clientID} }
func (r *ccRequest) GetScopes() []string   { return r.scopes }

func (s *storage) ClientCredentials(_ context.Context, id, secret string) (op.Client, error) {
	c, ok := s.clients[id]
	if !ok || c.secret == "" || c.secret != secret || !slices.Contains(c.grants, oidc.GrantTypeClientCredentials) {
		return nil, errors.New("invalid client credentials")
	}
	return c, nil
}

func (s *storage) ClientCredentialsTokenRequest(_ context.Context, id string, scopes []string) (op.TokenRequest, error) {
	return &ccRequest{clientID: id, scopes: scopes}, nil
}
