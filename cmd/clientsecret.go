package cmd

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/agcurl/agcurl/auth"
	"github.com/agcurl/agcurl/keychain"
)

// A confidential client's secret is configuration, not session: `agcurl
// configure --client-secret -` reads it from stdin and keeps it in the
// profile's session backend (the keyring, or the 0600 file when opted in)
// under keychain.ClientSecretEntry, never in config.json, which records
// only where it is (Profile.ClientSecretStorage). Logging out keeps it;
// `configure --client-secret ''`, a new endpoint or client id, and
// `configure --delete` remove it. $AGCURL_CLIENT_SECRET replaces it.

// clientSecretEnv is the variable that overrides the stored secret.
const clientSecretEnv = "AGCURL_CLIENT_SECRET"

// secretCache reads the stored client secret at most once per process.
type secretCache struct {
	once sync.Once
	val  string
	err  error
}

// clientSecretSource says where p's client secret comes from for its
// current endpoint and client: "AGCURL_CLIENT_SECRET", the storage
// backend's name, or "" for a public client.
func (p *profileContext) clientSecretSource() string {
	if p.profile == nil {
		return ""
	}
	return p.secretSourceFor(p.profile.Endpoint, p.profile.ClientID)
}

// secretSourceFor says where the secret of the client clientID at issuer
// comes from, for this profile: $AGCURL_CLIENT_SECRET when the profile
// uses a client secret (or is configured by the environment alone) and
// names that client now; else the stored secret when it was configured for
// that very client; else "" (a public client). A secret is thus never sent
// to another provider or for another client than it was given for.
func (p *profileContext) secretSourceFor(issuer, clientID string) string {
	conf := p.cfg.Profiles[p.name] // as configured, without the environment's overrides
	current := p.profile != nil && issuer == p.profile.Endpoint && clientID == p.profile.ClientID
	stored := conf != nil && conf.ClientSecretStorage != "" && issuer == conf.Endpoint && clientID == conf.ClientID
	if strings.TrimSpace(p.f.Getenv(clientSecretEnv)) != "" && current &&
		(conf == nil || conf.ClientSecretStorage != "") {
		return clientSecretEnv
	}
	if stored {
		return conf.ClientSecretStorage
	}
	return ""
}

// clientSecretFor returns the reader of the secret of the client clientID
// at issuer, for auth.Client.ClientSecret: nil for a public client. The
// stored secret is read only when it is needed, and once.
func (p *profileContext) clientSecretFor(issuer, clientID string) func() (string, error) {
	switch src := p.secretSourceFor(issuer, clientID); src {
	case "":
		return nil
	case clientSecretEnv:
		secret := strings.TrimSpace(p.f.Getenv(clientSecretEnv))
		return func() (string, error) { return secret, nil }
	default:
		if p.secret == nil {
			p.secret = &secretCache{}
		}
		c := p.secret
		return func() (string, error) {
			c.once.Do(func() { c.val, c.err = p.loadClientSecret(src, issuer, clientID) })
			return c.val, c.err
		}
	}
}

// ClientSecretMissingError reports a profile configured with a client
// secret whose stored secret is gone or belongs to another client.
type ClientSecretMissingError struct {
	Profile string
	Detail  string
}

func (e *ClientSecretMissingError) Error() string {
	return fmt.Sprintf("profile %q uses a client secret, but %s", e.Profile, e.Detail)
}

// loadClientSecret reads the secret stored in the backend named storage
// and checks that it is the one of clientID at issuer.
func (p *profileContext) loadClientSecret(storage, issuer, clientID string) (string, error) {
	s, err := p.storeFor(storage).Load(keychain.ClientSecretEntry(p.name))
	if errors.Is(err, keychain.ErrNotFound) {
		return "", &ClientSecretMissingError{Profile: p.name, Detail: "the " + storage + " holds none"}
	}
	if err != nil {
		return "", err
	}
	if s.Issuer != issuer || s.ClientID != clientID || s.ClientSecret == "" {
		return "", &ClientSecretMissingError{Profile: p.name, Detail: "the stored one belongs to another endpoint or client"}
	}
	return s.ClientSecret, nil
}

// saveClientSecret stores secret as the profile's, for clientID at
// issuer, in the backend named storage, under the profile's session lock.
func (p *profileContext) saveClientSecret(ctx context.Context, storage, issuer, clientID, secret string) error {
	unlock, err := dirLocker(p.dir).LockSession(ctx, p.name)
	if err != nil {
		return err
	}
	defer unlock()
	s := &keychain.Session{Issuer: issuer, ClientID: clientID, ClientSecret: secret}
	if err := p.storeFor(storage).Save(keychain.ClientSecretEntry(p.name), s); err != nil {
		return fmt.Errorf("store the client secret: %w", err)
	}
	return nil
}

// removeClientSecret deletes the profile's stored secret from the backend
// named storage; nothing stored is no error.
func (p *profileContext) removeClientSecret(ctx context.Context, storage string) error {
	if storage == "" {
		return nil
	}
	unlock, err := dirLocker(p.dir).LockSession(ctx, p.name)
	if err != nil {
		return err
	}
	defer unlock()
	if err := p.storeFor(storage).Delete(keychain.ClientSecretEntry(p.name)); err != nil {
		return fmt.Errorf("remove the client secret: %w", err)
	}
	return nil
}

// tagClientAuth records the profile in a *auth.ClientAuthError that err
// wraps, so that its remedy names --profile.
func (p *profileContext) tagClientAuth(err error) {
	var cae *auth.ClientAuthError
	if errors.As(err, &cae) && cae.Profile == "" {
		cae.Profile = p.name
	}
}

// clientAuthRemedy says what to do when the provider refused to
// authenticate the client.
func clientAuthRemedy(e *auth.ClientAuthError) string {
	configure := "agcurl configure" + profileFlagFor(e.Profile)
	kept := ""
	if strings.HasPrefix(e.Op, "refresh") {
		kept = "the session was kept; "
	}
	if !e.SecretSent {
		return kept + "if the provider registered the client as a confidential one, give its secret with `" + configure +
			" --client-secret -` (read from stdin) or in $" + clientSecretEnv + "; see docs/providers.md"
	}
	other := auth.AuthMethodPost
	if e.Method == auth.AuthMethodPost {
		other = auth.AuthMethodBasic
	}
	return kept + "check the client secret (`" + configure + " --client-secret -`, or $" + clientSecretEnv +
		"), and whether the client is registered for " + other + " (`" + configure + " --client-auth-method " + other + "`)"
}

// secretMissingRemedy says how to give a missing client secret again.
func secretMissingRemedy(e *ClientSecretMissingError) string {
	return "give it again with `agcurl configure" + profileFlagFor(e.Profile) + " --client-secret -`, or set $" + clientSecretEnv
}
