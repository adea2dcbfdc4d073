// Package testop runs a real OpenID Provider (zitadel/oidc's certified op
// package) and a protected API on loopback, for agcurl's tests and demo.
//
// The provider lays out its endpoints as Authgear does (/oauth2/authorize,
// /oauth2/token, ...), signs in every authorization request as one test
// user without a form, and can rotate refresh tokens, expire access tokens
// quickly, revoke everything and inject faults. The API validates bearer
// tokens by introspection at the provider, so a revoked or expired token is
// refused with 401 as a real resource server would.
package testop

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

// Client ids the provider knows.
const (
	// CLIClientID is a public native client, as agcurl is registered.
	CLIClientID = "agcurl-cli"
	// MachineClientID and MachineClientSecret are a machine-to-machine
	// client for the client credentials grant.
	MachineClientID     = "agcurl-machine"
	MachineClientSecret = "machine-secret"
	// APIClientID and APIClientSecret authenticate the protected API at the
	// introspection endpoint.
	APIClientID     = "test-api"
	APIClientSecret = "test-api-secret"
)

// Options configure a Server. The zero value gives Authgear's defaults.
type Options struct {
	// Addr for the provider; "127.0.0.1:0" when empty.
	Addr string
	// APIAddr for the protected API; "127.0.0.1:0" when empty.
	APIAddr string
	// AccessTokenTTL defaults to 1800s, Authgear's default.
	AccessTokenTTL time.Duration
	// RotateRefreshTokens makes every refresh return a new refresh token and
	// kill the old one at once.
	RotateRefreshTokens bool
	// JWTAccessTokens issues JWT access tokens instead of opaque ones.
	JWTAccessTokens bool
	// DenyLogin makes the login page refuse with access_denied.
	DenyLogin bool
	// User is the test user; "alice" when empty.
	User User
	// Device offers the device authorization grant (RFC 8628), which
	// Authgear does not; GET /device?user_code=C approves a code.
	Device bool
	// StrictOfflineAccess grants offline_access (and so a refresh token)
	// only to an authorization request with prompt=consent (OIDC Core 11),
	// and lists consent in prompt_values_supported.
	StrictOfflineAccess bool
	// IssParameter adds iss to authorization responses and advertises
	// authorization_response_iss_parameter_supported (RFC 9207).
	IssParameter bool
	// NoAuthgearExtras turns off what only Authgear offers (see
	// authgear.go): the app session token endpoint, the settings pages and
	// their response_type=none landing, the resolver, and Authgear's claims
	// in JWT access tokens, as a provider that is not Authgear.
	NoAuthgearExtras bool
	// AppSessionTokenTTL is how long an app session token lives; 5 minutes,
	// Authgear's, when 0.
	AppSessionTokenTTL time.Duration
	// TokenAuthMethods and RevocationAuthMethods, when not nil, replace
	// the discovery document's token_endpoint_auth_methods_supported and
	// revocation_endpoint_auth_methods_supported (an empty list leaves
	// the field out, as some providers do).
	TokenAuthMethods      []string
	RevocationAuthMethods []string
	// IssuerTrailingSlash makes the issuer end with "/", as Auth0's and
	// Ory Hydra's do; Server.Issuer then has it.
	IssuerTrailingSlash bool
	// NoRevocation leaves revocation_endpoint out of discovery, as
	// Microsoft Entra ID does.
	NoRevocation bool
	// ConfidentialSecret, when not empty, is the secret of both
	// confidential clients instead of theirs.
	ConfidentialSecret string
}

// Server is a running provider and API. Close stops both.
type Server struct {
	Issuer string // the provider's origin, e.g. http://127.0.0.1:40123
	APIURL string // the protected API's origin
	// APITLSURL is the same API over https, with a certificate signed by
	// CACertPEM (pass it as --cacert).
	APITLSURL string
	CACertPEM []byte
	// ProxyURL is a forward proxy for plain http requests.
	ProxyURL string

	opts    Options
	store   *storage
	faults  faults
	counts  sync.Map // string -> *atomic.Int64
	servers []*http.Server
	hostile hostile
	ag      authgearState
}

// Start starts a provider and an API on loopback.
func Start(opts Options) (*Server, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.APIAddr == "" {
		opts.APIAddr = "127.0.0.1:0"
	}
	if opts.AccessTokenTTL <= 0 {
		opts.AccessTokenTTL = 1800 * time.Second
	}
	if opts.User.ID == "" {
		opts.User = User{ID: "alice", Name: "Alice Example", Email: "alice@example.com", Roles: []string{"admin", "reader"}}
	}
	opLn, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen for the provider: %w", err)
	}
	apiLn, err := net.Listen("tcp", opts.APIAddr)
	if err != nil {
		opLn.Close()
		return nil, fmt.Errorf("listen for the API: %w", err)
	}
	s := &Server{
		Issuer: "http://" + opLn.Addr().String(),
		APIURL: "http://" + apiLn.Addr().String(),
		opts:   opts,
	}
	if opts.IssuerTrailingSlash {
		s.Issuer += "/"
	}
	tokenType := op.AccessTokenTypeBearer
	if opts.JWTAccessTokens {
		tokenType = op.AccessTokenTypeJWT
	}
	clients := map[string]*client{
		CLIClientID: {
			id:         CLIClientID,
			appType:    op.ApplicationTypeNative,
			authMethod: oidc.AuthMethodNone,
			redirects:  []string{"http://127.0.0.1:53682/callback"},
			grants:     []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken, oidc.GrantTypeDeviceCode},
			tokenType:  tokenType,
		},
		MachineClientID: {
			id:         MachineClientID,
			secret:     MachineClientSecret,
			appType:    op.ApplicationTypeWeb,
			authMethod: oidc.AuthMethodBasic,
			grants:     []oidc.GrantType{oidc.GrantTypeClientCredentials},
			tokenType:  op.AccessTokenTypeJWT,
		},
		APIClientID: {
			id:         APIClientID,
			secret:     APIClientSecret,
			appType:    op.ApplicationTypeWeb,
			authMethod: oidc.AuthMethodBasic,
			grants:     []oidc.GrantType{oidc.GrantTypeClientCredentials},
			tokenType:  op.AccessTokenTypeJWT,
		},
	}
	for id, c := range confidentialClients(tokenType, opts.ConfidentialSecret) {
		clients[id] = c
	}
	s.store = newStorage(&s.opts, clients)
	var opStorage op.Storage = s.store
	if opts.Device {
		opStorage = deviceStorage{s.store}
	}

	key := sha256.Sum256([]byte(randomID()))
	provider, err := op.NewProvider(&op.Config{
		CryptoKey:             key,
		CodeMethodS256:        true,
		AuthMethodPost:        true,
		GrantTypeRefreshToken: true,
		SupportedUILocales:    []language.Tag{language.English},
		DeviceAuthorization: op.DeviceAuthorizationConfig{
			Lifetime: 5 * time.Minute, PollInterval: time.Second, UserFormPath: "/device",
			UserCode: op.UserCodeBase20,
		},
	}, opStorage, op.StaticIssuer(s.Issuer),
		op.WithAllowInsecure(),
		op.WithCustomEndpoints(
			op.NewEndpoint("/oauth2/authorize"),
			op.NewEndpoint("/oauth2/token"),
			op.NewEndpoint("/oauth2/userinfo"),
			op.NewEndpoint("/oauth2/revoke"),
			op.NewEndpoint("/oauth2/end_session"),
			op.NewEndpoint("/oauth2/jwks"),
		),
		op.WithCustomDeviceAuthorizationEndpoint(op.NewEndpoint("/oauth2/device_authorization")),
		op.WithCustomIntrospectionEndpoint(op.NewEndpoint("/oauth2/introspect")),
	)
	if err != nil {
		return nil, fmt.Errorf("create provider: %w", err)
	}
	callback := op.AuthCallbackURL(provider)

	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Query().Get("authRequestID")
		if s.denyLogin() {
			a, err := s.store.AuthRequestByID(r.Context(), id)
			if err != nil {
				http.Error(w, "unknown auth request", http.StatusBadRequest)
				return
			}
			u, _ := url.Parse(a.GetRedirectURI())
			q := u.Query()
			q.Set("error", "access_denied")
			q.Set("error_description", "the user denied the request")
			q.Set("state", a.GetState())
			u.RawQuery = q.Encode()
			http.Redirect(w, r, u.String(), http.StatusFound)
			return
		}
		if _, err := s.store.approve(id); err != nil {
			http.Error(w, "unknown auth request", http.StatusBadRequest)
			return
		}
		http.Redirect(w, r, callback(op.ContextWithIssuer(r.Context(), s.Issuer), id), http.StatusFound)
	})
	mux.HandleFunc("/device", func(w http.ResponseWriter, r *http.Request) {
		if !s.store.approveDevice(r.URL.Query().Get("user_code"), s.denyLogin()) {
			http.Error(w, "unknown user code", http.StatusBadRequest)
			return
		}
		w.Write([]byte("Device approved. Return to your terminal.\n"))
	})
	var providerHandler http.Handler = provider
	if !opts.Device {
		providerHandler = withoutDeviceGrant(provider)
	}
	mux.Handle("/", s.withAuthgear(providerHandler, provider))

	opSrv := &http.Server{Handler: s.count(s.faults.wrap(s.wrapHostile(s.withIss(s.withClientAuth(mux))))), ReadHeaderTimeout: 10 * time.Second}
	apiSrv := &http.Server{Handler: s.faults.wrap(s.apiHandler()), ReadHeaderTimeout: 10 * time.Second, ConnState: s.countConnections}
	s.servers = []*http.Server{opSrv, apiSrv}
	go func() { _ = opSrv.Serve(opLn) }()
	go func() { _ = apiSrv.Serve(apiLn) }()

	cert, caPEM, err := selfSigned()
	if err != nil {
		s.Close()
		return nil, err
	}
	tlsLn, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		s.Close()
		return nil, err
	}
	proxyLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tlsLn.Close()
		s.Close()
		return nil, err
	}
	s.APITLSURL = "https://" + tlsLn.Addr().String()
	s.CACertPEM = caPEM
	s.ProxyURL = "http://" + proxyLn.Addr().String()
	tlsSrv := &http.Server{Handler: s.faults.wrap(s.apiHandler()), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: log.New(io.Discard, "", 0)} // handshakes that tests make fail on purpose
	proxySrv := &http.Server{Handler: s.proxyHandler(), ReadHeaderTimeout: 10 * time.Second}
	s.servers = append(s.servers, tlsSrv, proxySrv)
	go func() { _ = tlsSrv.Serve(tlsLn) }()
	go func() { _ = proxySrv.Serve(proxyLn) }()
	return s, nil
}

// Close stops the provider and the API.
func (s *Server) Close() {
	for _, srv := range s.servers {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = srv.Shutdown(ctx)
		cancel()
	}
}

// SetDenyLogin makes later logins fail with access_denied, or succeed again.
func (s *Server) SetDenyLogin(deny bool) {
	s.store.mu.Lock()
	s.opts.DenyLogin = deny
	s.store.mu.Unlock()
}

func (s *Server) denyLogin() bool {
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	return s.opts.DenyLogin
}

// RevokeAll revokes every grant: every refresh and access token dies.
func (s *Server) RevokeAll() { s.store.revokeAll() }

// Count returns how many requests the provider answered for key, which is
// a path ("/oauth2/userinfo"), "grant:" plus a token grant type
// ("grant:refresh_token"), "resource:" plus a token request's resource,
// "token:audience=" plus a token request's audience, "authorize:" plus an
// authorization parameter ("authorize:prompt=login",
// "authorize:audience=https://api.example.com", "authorize:id_token_hint"),
// "device:" plus a device authorization request's parameter,
// "clientauth:OP=METHOD" for how a client authenticated
// ("clientauth:authorization_code=client_secret_basic",
// "clientauth:revoke=none", OP "device_authorization"), "api:" plus an API
// path, the API's
// "api:bytes_in" and "api:connections" (see streamRoutes), "proxy", or one of the Authgear extras' keys listed in authgear.go.
func (s *Server) Count(key string) int64 {
	if v, ok := s.counts.Load(key); ok {
		return v.(*atomic.Int64).Load()
	}
	return 0
}

func (s *Server) inc(key string) { s.add(key, 1) }

func (s *Server) add(key string, n int64) {
	v, _ := s.counts.LoadOrStore(key, new(atomic.Int64))
	v.(*atomic.Int64).Add(n)
}

// countConnections counts the connections the API accepts.
func (s *Server) countConnections(_ net.Conn, state http.ConnState) {
	if state == http.StateNew {
		s.inc("api:connections")
	}
}

func (s *Server) count(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.inc(r.URL.Path)
		if r.URL.Path == "/oauth2/authorize" {
			// Every parameter, as KEY=VALUE (the ID token hint as its
			// key alone).
			for k, vs := range r.URL.Query() {
				switch {
				case k == "id_token_hint":
					s.inc("authorize:id_token_hint")
				case len(vs) > 0 && vs[0] != "":
					s.inc("authorize:" + k + "=" + vs[0])
				}
			}
		}
		if r.URL.Path == "/oauth2/token" && r.Method == http.MethodPost {
			if err := r.ParseForm(); err == nil {
				s.inc("grant:" + r.PostForm.Get("grant_type"))
				if res := r.PostForm.Get("resource"); res != "" {
					s.inc("resource:" + res)
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// Fail makes the next n requests to path (on the provider or the API) fail: with HTTP status and body
// when status is not 0, after delay when delay is not 0.
func (s *Server) Fail(path string, n int, status int, body string, delay time.Duration) {
	s.faults.add(path, fault{remaining: n, status: status, body: body, delay: delay})
}

// FailWithHeader is Fail with one response header, e.g. Retry-After.
func (s *Server) FailWithHeader(path string, n int, status int, header, value string) {
	s.faults.add(path, fault{remaining: n, status: status, header: header, value: value})
}

type fault struct {
	remaining     int
	status        int
	body          string
	header, value string
	delay         time.Duration
}

type faults struct {
	mu sync.Mutex
	m  map[string]*fault
}

func (f *faults) add(path string, ft fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		f.m = map[string]*fault{}
	}
	f.m[path] = &ft
}

func (f *faults) take(path string) (fault, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ft, ok := f.m[path]
	if !ok || ft.remaining <= 0 {
		return fault{}, false
	}
	ft.remaining--
	return *ft, true
}

func (f *faults) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ft, ok := f.take(r.URL.Path)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		if ft.delay > 0 {
			select {
			case <-time.After(ft.delay):
			case <-r.Context().Done():
				return
			}
		}
		if ft.status == 0 {
			next.ServeHTTP(w, r)
			return
		}
		if ft.header != "" {
			w.Header().Set(ft.header, ft.value)
		}
		if json.Valid([]byte(ft.body)) {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(ft.status)
		_, _ = w.Write([]byte(ft.body))
	})
}
