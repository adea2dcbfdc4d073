package testop

import (
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// Confidential clients, as Google's "Desktop app", a Keycloak client with
// client authentication, or an Ory Hydra client registers a CLI: a web
// (confidential) client with a secret, whose loopback redirect may use any
// port. The provider refuses their code exchange, refresh, device grant
// and revocation without the secret (zitadel's op checks it), and, as Ory
// Hydra does, a secret sent by another method than the client's.
const (
	// ConfidentialClientID authenticates with client_secret_basic.
	ConfidentialClientID     = "agcurl-confidential"
	ConfidentialClientSecret = "conf-s3cret-basic-7f1e"
	// PostClientID authenticates with client_secret_post.
	PostClientID     = "agcurl-confidential-post"
	PostClientSecret = "conf-s3cret-post-2b9d"
)

// confidentialClient is a web client whose redirect URI may be any port
// of its loopback callback (op.HasRedirectGlobs).
type confidentialClient struct{ *client }

func (c confidentialClient) RedirectURIGlobs() []string {
	return []string{"http://127.0.0.1:*/callback", "http://localhost:*/callback"}
}
func (c confidentialClient) PostLogoutRedirectURIGlobs() []string { return nil }

func confidentialClients(tokenType op.AccessTokenType, secret string) map[string]*client {
	grants := []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken, oidc.GrantTypeDeviceCode, oidc.GrantTypeClientCredentials}
	basic, post := ConfidentialClientSecret, PostClientSecret
	if secret != "" {
		basic, post = secret, secret
	}
	return map[string]*client{
		ConfidentialClientID: {id: ConfidentialClientID, secret: basic, appType: op.ApplicationTypeWeb,
			authMethod: oidc.AuthMethodBasic, grants: grants, tokenType: tokenType, anyLoopbackPort: true},
		PostClientID: {id: PostClientID, secret: post, appType: op.ApplicationTypeWeb,
			authMethod: oidc.AuthMethodPost, grants: grants, tokenType: tokenType, anyLoopbackPort: true},
	}
}

// clientAuthOf returns the client a request to the token, revocation or
// device authorization endpoint names and how it authenticated:
// client_secret_basic, client_secret_post, or none. r's form must be
// parsed.
func clientAuthOf(r *http.Request) (id, method string) {
	if u, _, ok := r.BasicAuth(); ok {
		id, _ = url.QueryUnescape(u)
		return id, string(oidc.AuthMethodBasic)
	}
	if r.PostForm.Get("client_secret") != "" {
		return r.PostForm.Get("client_id"), string(oidc.AuthMethodPost)
	}
	return r.PostForm.Get("client_id"), string(oidc.AuthMethodNone)
}

// clientAuthOp names the operation a request authenticates for, for
// Count's "clientauth:OP=METHOD": the grant type at the token endpoint,
// "revoke", or "device_authorization"; "" for other requests.
func clientAuthOp(r *http.Request) string {
	if r.Method != http.MethodPost {
		return ""
	}
	switch r.URL.Path {
	case "/oauth2/token":
		return r.PostForm.Get("grant_type")
	case "/oauth2/revoke":
		return "revoke"
	case "/oauth2/device_authorization":
		return "device_authorization"
	}
	return ""
}

// withClientAuth counts how each request authenticated its client and
// refuses, with 401 invalid_client, a confidential client that sends its
// secret by another method than it is registered for.
func (s *Server) withClientAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.ParseForm() != nil {
			next.ServeHTTP(w, r)
			return
		}
		opName := clientAuthOp(r)
		if opName == "" {
			next.ServeHTTP(w, r)
			return
		}
		id, method := clientAuthOf(r)
		s.inc("clientauth:" + opName + "=" + method)
		if r.URL.Path == "/oauth2/device_authorization" {
			for k, v := range r.PostForm {
				if k != "client_secret" && len(v) > 0 {
					s.inc("device:" + k + "=" + v[0])
				}
			}
		}
		if r.URL.Path == "/oauth2/token" {
			if aud := r.PostForm.Get("audience"); aud != "" {
				s.inc("token:audience=" + aud)
			}
		}
		c, ok := s.store.clients[id]
		if ok && c.secret != "" && method != string(oidc.AuthMethodNone) && method != string(c.authMethod) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_ = json.NewEncoder(w).Encode(map[string]string{
				"error":             "invalid_client",
				"error_description": "the client is registered for " + string(c.authMethod) + ", not " + method,
			})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// discoveryOverrides replaces the auth methods the discovery document
// lists, as Options ask.
func (s *Server) discoveryOverrides(doc map[string]any) {
	if s.opts.NoRevocation {
		delete(doc, "revocation_endpoint")
		delete(doc, "revocation_endpoint_auth_methods_supported")
	}
	for key, v := range map[string][]string{
		"token_endpoint_auth_methods_supported":      s.opts.TokenAuthMethods,
		"revocation_endpoint_auth_methods_supported": s.opts.RevocationAuthMethods,
	} {
		switch {
		case v == nil:
		case len(v) == 0:
			delete(doc, key)
		default:
			doc[key] = v
		}
	}
}

func (s *Server) overridesDiscovery() bool {
	return s.opts.TokenAuthMethods != nil || s.opts.RevocationAuthMethods != nil || s.opts.NoRevocation
}
