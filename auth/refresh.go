package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/agcurl/agcurl/keychain"
)

// ErrLoginRequired is wrapped by every error that the user can only fix by
// logging in again: no session, or a session the provider no longer accepts.
var ErrLoginRequired = errors.New("login required")

// LoginRequiredError says why a session cannot be used any more and which
// profile's it is: only a new login (or, for EnvVar, a new secret) helps.
// It carries the facts; the command line words the remedy.
type LoginRequiredError struct {
	Profile string
	Reason  string
	// EnvVar names the environment variable the rejected secret came from
	// (e.g. AGCURL_REFRESH_TOKEN): logging in does not help, replacing it
	// does.
	EnvVar string
	// MachineClient: a machine client's credentials were refused; a new
	// client credentials login with the current secret helps.
	MachineClient bool
	// GivenToken: a refresh token handed to WithRefreshToken was refused.
	GivenToken bool
}

func (e *LoginRequiredError) Error() string { return e.Reason }

func (e *LoginRequiredError) Unwrap() error { return ErrLoginRequired }

// TemporaryError reports a refresh that failed for a reason that may pass
// (network, 5xx, 429, an unusable answer): the session was kept, and the
// same command can be run again, after RetryAfter when the provider said.
type TemporaryError struct {
	Err        error
	RetryAfter time.Duration
}

func (e *TemporaryError) Error() string { return e.Err.Error() }

func (e *TemporaryError) Unwrap() error { return e.Err }

// SessionStore is where the Refresher reads and writes the session.
type SessionStore interface {
	Load(profile string) (*keychain.Session, error)
	Save(profile string, s *keychain.Session) error
	Delete(profile string) error
}

// AccessLoader is a SessionStore that can return a session for the use of
// its access token alone, faster than Load (keychain.KeyringStore, from its
// cache of access tokens). What it returns may lack every other secret.
type AccessLoader interface {
	LoadAccess(profile string) (*keychain.Session, error)
}

// Locker serializes the changes to one profile's session across
// processes: refreshes, logins and logouts all take the same lock.
type Locker interface {
	LockSession(ctx context.Context, profile string) (unlock func(), err error)
}

// RefreshFraction is the share of an access token's lifetime after which it
// is refreshed, as Authgear's SDKs do.
const RefreshFraction = 0.9

// Refresher hands out a valid access token for one profile, refreshing it
// with the refresh token when needed. It is the one place every command
// gets its token from. It is safe for use by many processes at once: the
// refresh runs under Locker, and the session is re-read after the lock is
// taken, so that with refresh-token rotation exactly one process refreshes
// and the others use its result.
type Refresher struct {
	// Client talks to the provider; its Provider and ClientID are the
	// profile's configuration, which a stored session must match.
	Client  *Client
	Profile string
	Store   SessionStore
	Locker  Locker
	// Rotated, when set, is called after a refresh that replaced the
	// refresh token.
	Rotated func()
	// EnvVar names the environment variable the session's refresh token
	// came from, if any, for the messages when the provider rejects it.
	EnvVar string
}

func (r *Refresher) now() time.Time { return r.Client.now() }

// Fresh reports whether s's access token can be used without a refresh at
// time now: it exists, and either has no known expiry and no refresh token
// to renew it, or is within RefreshFraction of its lifetime.
func Fresh(s *keychain.Session, now time.Time) bool {
	if s == nil || s.AccessToken == "" {
		return false
	}
	if s.Expiry.IsZero() {
		// Unknown expiry: the SDKs refresh when they can; a machine client
		// can always mint a new token.
		return s.RefreshToken == "" && s.GrantType != keychain.GrantClientCredentials
	}
	life := s.Expiry.Sub(s.ObtainedAt)
	refreshAt := s.ObtainedAt.Add(time.Duration(float64(life) * RefreshFraction))
	if life <= 0 {
		refreshAt = s.Expiry
	}
	return now.Before(refreshAt)
}

func (r *Refresher) loginRequired(reason string) error {
	return &LoginRequiredError{Profile: r.Profile, Reason: reason, EnvVar: r.EnvVar}
}

// Renewable reports whether s can get a new access token without the user:
// it has a refresh token, or is a machine client's.
func Renewable(s *keychain.Session) bool {
	return s.RefreshToken != "" || s.GrantType == keychain.GrantClientCredentials
}

// Token returns a session whose access token is valid, refreshing first if
// it is missing, of unknown expiry or past RefreshFraction of its lifetime.
// The fast path (a fresh cached token) makes no network call and takes no
// lock.
func (r *Refresher) Token(ctx context.Context) (*keychain.Session, error) {
	s, err := r.load()
	if err != nil {
		return nil, err
	}
	if Fresh(s, r.now()) {
		return s, nil
	}
	return r.refresh(ctx, "")
}

// AccessToken returns a valid access token, refreshing first if needed, as
// Token does; it is the hot path of a request. When the Store is an
// AccessLoader, the session is read with LoadAccess, so the token may come
// from the store's cache; a session that is due for a refresh is read
// again, whole, under the lock.
func (r *Refresher) AccessToken(ctx context.Context) (string, error) {
	load := r.Store.Load
	if al, ok := r.Store.(AccessLoader); ok {
		load = al.LoadAccess
	}
	s, err := r.loadWith(load)
	if err != nil {
		return "", err
	}
	if !Fresh(s, r.now()) {
		if s, err = r.refresh(ctx, ""); err != nil {
			return "", err
		}
	}
	return s.AccessToken, nil
}

// ForceRefresh refreshes because the API rejected the access token
// rejected. If another process replaced that token meanwhile, its result is
// used and no refresh is made.
func (r *Refresher) ForceRefresh(ctx context.Context, rejected string) (*keychain.Session, error) {
	return r.refresh(ctx, rejected)
}

func (r *Refresher) load() (*keychain.Session, error) { return r.loadWith(r.Store.Load) }

func (r *Refresher) loadWith(load func(string) (*keychain.Session, error)) (*keychain.Session, error) {
	s, err := load(r.Profile)
	if errors.Is(err, keychain.ErrNotFound) {
		return nil, r.loginRequired("not logged in")
	}
	if err != nil {
		return nil, err
	}
	if s.Issuer != r.Client.Provider.Issuer || s.ClientID != r.Client.ClientID {
		return nil, r.loginRequired("the stored session belongs to another endpoint or client than the profile's configuration")
	}
	return s, nil
}

func (r *Refresher) refresh(ctx context.Context, rejected string) (*keychain.Session, error) {
	unlock, err := r.Locker.LockSession(ctx, r.Profile)
	if err != nil {
		return nil, err
	}
	defer unlock()

	s, err := r.load()
	if err != nil {
		return nil, err
	}
	if Fresh(s, r.now()) && (rejected == "" || s.AccessToken != rejected) {
		return s, nil // another process refreshed while we waited
	}
	if s.GrantType == keychain.GrantClientCredentials {
		return r.remint(ctx, s)
	}
	if s.RefreshToken == "" {
		// Nothing to renew it with: the token serves until it expires.
		if rejected == "" && s.AccessToken != "" && (s.Expiry.IsZero() || r.now().Before(s.Expiry)) {
			return s, nil
		}
		return nil, r.loginRequired("the access token has expired and the session has no refresh token")
	}

	ns, err := r.Client.Refresh(ctx, s)
	var revoked *GrantRevokedError
	if errors.As(err, &revoked) {
		// The provider no longer knows this session: forget it, so that
		// the next command says "not logged in" at once.
		if derr := r.Store.Delete(r.Profile); derr != nil {
			return nil, fmt.Errorf("the session was revoked or has expired, and removing it failed: %w", derr)
		}
		if r.EnvVar != "" {
			return nil, r.loginRequired("the provider does not accept the refresh token (revoked, expired, or rotated away)")
		}
		return nil, r.loginRequired("the session was revoked or has expired")
	}
	if err != nil {
		return nil, err
	}
	if err := r.Store.Save(r.Profile, ns); err != nil {
		if ns.RefreshToken != s.RefreshToken {
			return nil, fmt.Errorf("the provider rotated the refresh token but saving it failed, so the session is lost: %w", err)
		}
		return nil, fmt.Errorf("save refreshed session: %w", err)
	}
	if ns.RefreshToken != s.RefreshToken && r.Rotated != nil {
		r.Rotated()
	}
	return ns, nil
}

// remint gets a machine client's session a new access token with its
// client credentials; there is no refresh token to use.
func (r *Refresher) remint(ctx context.Context, s *keychain.Session) (*keychain.Session, error) {
	var ns *keychain.Session
	err := r.Client.retryAfter(ctx, func() error {
		var err error
		ns, err = r.Client.ClientCredentials(ctx, ClientCredentialsOptions{
			ClientSecret: s.ClientSecret, Resource: s.Resource, Audience: s.Audience, Scopes: s.Scopes,
		})
		return err
	})
	var rejected *ClientCredentialsError
	if errors.As(err, &rejected) {
		if derr := r.Store.Delete(r.Profile); derr != nil {
			return nil, fmt.Errorf("%v, and removing the session failed: %w", err, derr)
		}
		return nil, &LoginRequiredError{Profile: r.Profile, MachineClient: true,
			Reason: "the provider no longer accepts this machine client's credentials (" + rejected.Err.Error() + ")"}
	}
	if err != nil {
		return nil, &TemporaryError{Err: err, RetryAfter: retryAfterOf(err)}
	}
	if err := r.Client.checkUsable(ns); err != nil {
		return nil, err
	}
	if err := r.Store.Save(r.Profile, ns); err != nil {
		return nil, fmt.Errorf("save the new access token: %w", err)
	}
	return ns, nil
}
