package testop

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The protected API:
//
//	GET  /v1/me           the token's subject, client and scopes
//	ANY  /v1/echo[/...]   method, path, query, headers (Authorization left
//	                      out) and the body's size and sha256
//	GET  /v1/bytes?n=N    N bytes of data, streamed (pace_ms=M: a pause
//	                      after each 64 KiB)
//	GET  /v1/status/CODE  an empty answer with that status
//	GET  /public          no token needed
//
// and those of extraRoutes, streamRoutes and fetchRoutes.
//
// Every /v1/ path needs a bearer token that the provider's introspection
// endpoint calls active; otherwise 401 with WWW-Authenticate.
func (s *Server) apiHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/public", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"public": true})
	})
	mux.HandleFunc("/v1/me", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, introspectionFrom(r))
	})
	echo := func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		n, err := io.Copy(h, countingBody{r.Body, s, "api:bytes_in"})
		if err != nil {
			http.Error(w, "read body: "+err.Error(), http.StatusBadRequest)
			return
		}
		headers := map[string]string{}
		for k, v := range r.Header {
			if k != "Authorization" {
				headers[k] = strings.Join(v, ", ")
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"method": r.Method, "path": r.URL.Path, "query": r.URL.RawQuery, "headers": headers,
			"body_size": n, "body_sha256": hex.EncodeToString(h.Sum(nil)),
		})
	}
	mux.HandleFunc("/v1/echo", echo)
	mux.HandleFunc("/v1/echo/", echo)
	mux.HandleFunc("/v1/bytes", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.ParseInt(r.URL.Query().Get("n"), 10, 64)
		pace, _ := strconv.Atoi(r.URL.Query().Get("pace_ms"))
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
		buf := make([]byte, 64<<10)
		for i := range buf {
			buf[i] = byte('a' + i%26)
		}
		for n > 0 {
			k := min(n, int64(len(buf)))
			if _, err := w.Write(buf[:k]); err != nil {
				return
			}
			n -= k
			if pace > 0 {
				w.(http.Flusher).Flush()
				time.Sleep(time.Duration(pace) * time.Millisecond)
			}
		}
	})
	s.extraRoutes(mux)
	s.streamRoutes(mux)
	s.fetchRoutes(mux)
	mux.HandleFunc("/v1/status/{code}", func(w http.ResponseWriter, r *http.Request) {
		code, err := strconv.Atoi(r.PathValue("code"))
		if err != nil || code < 200 || code > 599 {
			http.Error(w, "bad code", http.StatusBadRequest)
			return
		}
		writeJSON(w, code, map[string]any{"status": code})
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.inc("api:" + r.URL.Path)
		if strings.HasPrefix(r.URL.Path, "/v1/") {
			info, ok := s.introspect(r)
			if !ok {
				w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="invalid session"`)
				writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "invalid_token"})
				return
			}
			r = r.WithContext(withIntrospection(r.Context(), info))
		}
		mux.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

var introspectClient = &http.Client{Timeout: 10 * time.Second}

// introspect asks the provider whether the request's bearer token is active.
func (s *Server) introspect(r *http.Request) (map[string]any, bool) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || token == "" {
		return nil, false
	}
	form := url.Values{"token": {token}}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, strings.TrimSuffix(s.Issuer, "/")+"/oauth2/introspect", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, false
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(APIClientID, APIClientSecret)
	resp, err := introspectClient.Do(req)
	if err != nil {
		return nil, false
	}
	defer resp.Body.Close()
	var out map[string]any
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&out) != nil {
		return nil, false
	}
	if active, _ := out["active"].(bool); !active {
		return nil, false
	}
	return out, true
}
