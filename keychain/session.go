// Package keychain owns the session record, the backends that hold sessions
// (the OS keyring, with its cache of access tokens; a 0600 file; memory for
// tests) and the per-profile session lock. (The configuration file is
// internal/config's.)
//
// It knows nothing of OAuth beyond the shape of the session record and never
// imports cobra or color.
package keychain

import (
	"errors"
	"fmt"
	"time"
)

// Session is what a successful login leaves behind. Every field but the
// issuer and client id is secret or personal; a Session must never be
// printed, logged or put in an error message.
type Session struct {
	Issuer   string `json:"issuer"`
	ClientID string `json:"client_id"`
	// Subject is the "sub" claim of the verified ID token, kept so that
	// status can name the signed-in user without a network call.
	Subject string `json:"subject,omitempty"`

	RefreshToken string    `json:"refresh_token,omitempty"`
	AccessToken  string    `json:"access_token,omitempty"`
	TokenType    string    `json:"token_type,omitempty"`
	ObtainedAt   time.Time `json:"obtained_at,omitzero"`
	// Expiry is when the provider said the access token expires; zero when
	// the provider did not say (then the token's expiry is unknown).
	Expiry  time.Time `json:"expiry,omitzero"`
	IDToken string    `json:"id_token,omitempty"`
	Scopes  []string  `json:"scopes,omitempty"`

	// GrantType is GrantClientCredentials for a machine client's session,
	// which is re-minted with ClientSecret (and Resource and Audience)
	// instead of refreshed; empty for a user's session. ClientSecret is
	// empty when the secret is the profile's configured one (see
	// ClientSecretEntry).
	GrantType    string   `json:"grant_type,omitempty"`
	ClientSecret string   `json:"client_secret,omitempty"`
	Resource     string   `json:"resource,omitempty"`
	Audience     []string `json:"audience,omitempty"`
}

// GrantClientCredentials marks a session minted with the client
// credentials grant.
const GrantClientCredentials = "client_credentials"

// ErrNotFound is returned by a Store's Load when the profile has no session.
var ErrNotFound = errors.New("no session stored")

// Store holds one session per profile. Implementations are safe for
// concurrent use by one process; across processes the caller serializes
// writers with a Lock.
type Store interface {
	// Load returns the profile's session, or an error wrapping ErrNotFound.
	Load(profile string) (*Session, error)
	// Save replaces the profile's session.
	Save(profile string, s *Session) error
	// Delete removes the profile's session; deleting a missing one is no error.
	Delete(profile string) error
	// Name names the backend for humans: "keyring", "file" or "memory".
	Name() string
}

// CorruptSessionError reports a stored session that cannot be read back: a
// file or keyring item that is not a session, or a keyring session missing
// a part. Logging in again replaces it.
type CorruptSessionError struct {
	Profile string
	Detail  string // what is wrong, and where
}

func (e *CorruptSessionError) Error() string {
	return fmt.Sprintf("the stored session of profile %q is unreadable: %s", e.Profile, e.Detail)
}

// Storage backends a profile's session can live in.
const (
	StorageKeyring = "keyring"
	StorageFile    = "file"
)

// ValidateProfileName reports whether name can name a profile: letters,
// digits, '.', '_' and '-', starting with a letter or digit, at most 64 long.
// (A hand-written check: a regexp compiled at start-up would cost every
// invocation more than the rest of this package's set-up.)
func ValidateProfileName(name string) error {
	ok := len(name) >= 1 && len(name) <= 64
	for i := 0; ok && i < len(name); i++ {
		c := name[i]
		alnum := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
		ok = alnum || i > 0 && (c == '.' || c == '_' || c == '-')
	}
	if !ok {
		return fmt.Errorf("invalid profile name %q: use letters, digits, '.', '_' and '-'", name)
	}
	return nil
}
