package testop

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Hostile and strict behaviours of the provider, for the tests of agcurl's
// protocol checks. They wrap the real provider: discovery gains the fields
// a strict provider advertises, authorization responses gain (or lose) iss,
// and token responses can be replaced by forged ones whose ID tokens are
// signed with the provider's real key (or not signed at all).

// hostile holds the switchable behaviours.
type hostile struct {
	mu sync.Mutex
	// callbackIss is the iss parameter added to authorization responses:
	// "" adds the real issuer when Options.IssParameter is set; "-" adds
	// none; anything else is sent as is.
	callbackIss string
	forged      []forgedToken
}

type forgedToken struct {
	body []byte
}

// SetCallbackIss sets the iss parameter (RFC 9207) of later authorization
// responses: "" for the real issuer (when Options.IssParameter is set),
// "-" for none, anything else to send that value.
func (s *Server) SetCallbackIss(v string) {
	s.hostile.mu.Lock()
	s.hostile.callbackIss = v
	s.hostile.mu.Unlock()
}

// Forge makes the next token endpoint response a forged success: an access
// token of type tokenType (Bearer when empty), expires_in 1800, a refresh
// token, and an ID token with the claims a valid one for the CLI client
// would have (iss, sub alice, aud, iat, exp) overridden by idClaims (a nil
// value removes a claim), signed with the provider's key, or with alg
// "none" when alg is "none". Without idClaims and alg, no ID token.
func (s *Server) Forge(tokenType, alg string, idClaims map[string]any) {
	if tokenType == "" {
		tokenType = "Bearer"
	}
	resp := map[string]any{
		"access_token": "forged-" + randomID(), "token_type": tokenType, "expires_in": 1800,
		"refresh_token": "forged-rt-" + randomID(),
	}
	if idClaims != nil || alg != "" {
		now := time.Now()
		claims := map[string]any{
			"iss": s.Issuer, "sub": s.opts.User.ID, "aud": []string{CLIClientID},
			"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		}
		for k, v := range idClaims {
			if v == nil {
				delete(claims, k)
			} else {
				claims[k] = v
			}
		}
		resp["id_token"] = s.SignJWT(claims, alg)
	}
	body, _ := json.Marshal(resp)
	s.hostile.mu.Lock()
	s.hostile.forged = append(s.hostile.forged, forgedToken{body: body})
	s.hostile.mu.Unlock()
}

// SignJWT returns claims as a JWT signed with the provider's key (RS256),
// or unsigned with alg "none".
func (s *Server) SignJWT(claims map[string]any, alg string) string {
	payload, _ := json.Marshal(claims)
	if alg == "none" {
		enc := base64.RawURLEncoding
		return enc.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc.EncodeToString(payload) + "."
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: s.store.key.key, KeyID: s.store.key.id}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		panic(err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		panic(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		panic(err)
	}
	return out
}

func (h *hostile) takeForged() ([]byte, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.forged) == 0 {
		return nil, false
	}
	f := h.forged[0]
	h.forged = h.forged[1:]
	return f.body, true
}

// wrapHostile adds the strict and hostile behaviours around the provider.
func (s *Server) wrapHostile(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/oauth2/token" && r.Method == http.MethodPost:
			if body, ok := s.hostile.takeForged(); ok {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Cache-Control", "no-store")
				_, _ = w.Write(body)
				return
			}
		case r.URL.Path == "/.well-known/openid-configuration" && (s.opts.StrictOfflineAccess || s.opts.IssParameter || s.overridesDiscovery()):
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			var doc map[string]any
			if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &doc) != nil {
				w.WriteHeader(rec.Code)
				_, _ = w.Write(rec.Body.Bytes())
				return
			}
			if s.opts.StrictOfflineAccess {
				doc["prompt_values_supported"] = []string{"none", "login", "consent", "select_account"}
			}
			if s.opts.IssParameter {
				doc["authorization_response_iss_parameter_supported"] = true
			}
			s.discoveryOverrides(doc)
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(doc)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// issWriter adds iss to redirects that carry an authorization response.
type issWriter struct {
	http.ResponseWriter
	s *Server
}

func (w issWriter) WriteHeader(code int) {
	if code == http.StatusFound || code == http.StatusSeeOther {
		if loc, err := url.Parse(w.Header().Get("Location")); err == nil && loc.IsAbs() {
			q := loc.Query()
			if q.Has("state") && (q.Has("code") || q.Has("error")) {
				w.s.hostile.mu.Lock()
				iss := w.s.hostile.callbackIss
				w.s.hostile.mu.Unlock()
				switch {
				case iss == "" && w.s.opts.IssParameter:
					q.Set("iss", w.s.Issuer)
				case iss != "" && iss != "-":
					q.Set("iss", iss)
				}
				loc.RawQuery = q.Encode()
				w.Header().Set("Location", loc.String())
			}
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

// withIss wraps next so that its authorization responses carry iss.
func (s *Server) withIss(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(issWriter{ResponseWriter: w, s: s}, r)
	})
}

// strictScopes drops offline_access from an authorization request that
// does not ask for consent, as a provider that follows OIDC Core 11
// strictly does.
func strictScopes(scopes []string, prompt []string) []string {
	if slices.Contains(prompt, "consent") {
		return scopes
	}
	return slices.DeleteFunc(slices.Clone(scopes), func(s string) bool { return s == "offline_access" })
}
