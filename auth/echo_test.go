package auth_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/agcurl/agcurl/auth"
	"github.com/agcurl/agcurl/keychain"
)

// echoingProvider is a hostile token (and device authorization) endpoint
// that refuses every request with status and an error_description that
// repeats what it was sent: the Authorization header, the form as sent
// and decoded.
func echoingProvider(t *testing.T, code string, status int) *auth.ProviderInfo {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(raw))
		desc := "you sent " + r.Header.Get("Authorization") + " and " + string(raw) + " that is"
		for k, v := range form {
			desc += " " + k + "=" + strings.Join(v, ",")
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc, "error_uri": "https://id.example/?" + string(raw)})
	}))
	t.Cleanup(srv.Close)
	return &auth.ProviderInfo{Issuer: srv.URL, TokenEndpoint: srv.URL + "/token", DeviceAuthorizationEndpoint: srv.URL + "/device"}
}

// A provider that repeats the client secret (or the refresh token, or the
// device code) in its error_description does not get it into agcurl's
// messages, in any of the forms it was sent: as is, form-urlencoded, or
// inside the Basic credentials.
func TestProviderEchoIsRedacted(t *testing.T) {
	const secret = "s3:cr%t+ é/&=x"
	const refreshToken = "rt-7c1d9e"
	forms := []string{secret, url.QueryEscape(secret), refreshToken,
		base64.StdEncoding.EncodeToString([]byte(url.QueryEscape("cli:1") + ":" + url.QueryEscape(secret)))}
	for _, code := range []string{"invalid_client", "invalid_grant", "invalid_request", "server_error"} {
		for _, method := range []string{auth.AuthMethodBasic, auth.AuthMethodPost} {
			status := http.StatusBadRequest
			if code == "server_error" {
				status = http.StatusInternalServerError
			}
			info := echoingProvider(t, code, status)
			c := &auth.Client{Provider: info, ClientID: "cli:1", AuthMethod: method,
				ClientSecret: func() (string, error) { return secret, nil }}
			ctx := context.Background()
			_, err1 := c.Refresh(ctx, &keychain.Session{RefreshToken: refreshToken})
			_, err2 := c.ClientCredentials(ctx, auth.ClientCredentialsOptions{})
			_, err3 := c.Device(ctx, auth.DeviceOptions{Show: func(string, string, string) {}})
			_, err4 := c.WithRefreshToken(ctx, refreshToken)
			for i, err := range []error{err1, err2, err3, err4} {
				if err == nil {
					t.Fatalf("%s, %s: request %d succeeded", code, method, i+1)
				}
				msg := errorTree(err)
				for _, f := range forms {
					if strings.Contains(msg, f) {
						t.Errorf("%s, %s: request %d's error holds %q: %s", code, method, i+1, f, msg)
					}
				}
				if code == "invalid_client" && !strings.Contains(msg, code) {
					t.Errorf("%s, %s: request %d's error lost the provider's code: %s", code, method, i+1, msg)
				}
			}
		}
	}
}

// errorTree is the text of err and of every error it wraps.
func errorTree(err error) string {
	if err == nil {
		return ""
	}
	msg := err.Error()
	var pe *auth.ProviderError
	if errors.As(err, &pe) {
		msg += "\n" + pe.Description
	}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		msg += "\n" + errorTree(u.Unwrap())
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			msg += "\n" + errorTree(e)
		}
	}
	return msg
}
