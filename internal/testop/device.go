package testop

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/zitadel/oidc/v3/pkg/op"
)

// deviceStorage adds the device authorization grant (RFC 8628) to storage.
// The provider uses it only with Options.Device; Authgear has no device
// grant, so by default the provider does not offer one.
type deviceStorage struct {
	*storage
}

type deviceEntry struct {
	userCode string
	state    *op.DeviceAuthorizationState
}

func (s deviceStorage) StoreDeviceAuthorization(_ context.Context, clientID, deviceCode, userCode string, expires time.Time, scopes []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.userCodes[userCode]; ok {
		return op.ErrDuplicateUserCode
	}
	s.deviceCodes[deviceCode] = &deviceEntry{userCode: userCode, state: &op.DeviceAuthorizationState{
		ClientID: clientID, Scopes: scopes, Expires: expires,
	}}
	s.userCodes[userCode] = deviceCode
	return nil
}

func (s deviceStorage) GetDeviceAuthorizatonState(ctx context.Context, clientID, deviceCode string) (*op.DeviceAuthorizationState, error) {
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.deviceCodes[deviceCode]
	if !ok || e.state.ClientID != clientID {
		return nil, errors.New("device code not found")
	}
	st := *e.state
	return &st, nil
}

// approveDevice signs the test user in for userCode, or denies it.
func (s *storage) approveDevice(userCode string, deny bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	dc, ok := s.userCodes[userCode]
	if !ok {
		return false
	}
	e := s.deviceCodes[dc]
	if deny {
		e.state.Denied = true
		return true
	}
	e.state.Done = true
	e.state.Subject = s.opts.User.ID
	e.state.AMR = []string{"pwd"}
	e.state.AuthTime = time.Now()
	return true
}

// withoutDeviceGrant removes the device grant from the discovery document,
// as Authgear's has none.
func withoutDeviceGrant(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/openid-configuration" {
			next.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		var doc map[string]any
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &doc) != nil {
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			w.Write(rec.Body.Bytes())
			return
		}
		delete(doc, "device_authorization_endpoint")
		if grants, ok := doc["grant_types_supported"].([]any); ok {
			var kept []any
			for _, g := range grants {
				if g != "urn:ietf:params:oauth:grant-type:device_code" {
					kept = append(kept, g)
				}
			}
			doc["grant_types_supported"] = kept
		}
		var buf bytes.Buffer
		_ = json.NewEncoder(&buf).Encode(doc)
		w.Header().Set("Content-Type", "application/json")
		w.Write(buf.Bytes())
	})
}
