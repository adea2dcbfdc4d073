package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"golang.org/x/oauth2"

	"github.com/agcurl/agcurl/keychain"
)

// ErrLoginRequired is wrapped by every error that the user can only fix by
// logging in again: no session, or a session the provider no longer accepts.
var ErrLoginRequired = errors.New("login required")

// LoginRequiredError says why a login is needed and for which profile.
type LoginRequiredError struct {
	Profile string
	Reason  string
}

func (e *LoginRequiredError) Error() string {
	cmd := "agcurl login"
	if e.Profile != "" && e.Profile != "default" {
		cmd += " --profile " + e.Profile
	}
	return fmt.Sprintf("%s; run `%s`", e.Reason, cmd)
}

func (e *LoginRequiredError) Unwrap() error { return ErrLoginRequired }

// SessionStore is where the Refresher reads and writes the session.
type SessionStore interface {
	Load(profile string) (*keychain.Session, error)
	Save(profile string, s *keychain.Session) error
	Delete(profile string) error
}

// Locker serializes refreshes of one profile across processes.
type Locker interface {
	Lock(ctx context.Context, name string) (unlock func(), err error)
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
	Profile    string
	ClientID   string
	Provider   *keychain.ProviderInfo
	Store      SessionStore
	Locker     Locker
	HTTPClient *http.Client
	Now        func() time.Time
	// Rotated, when set, is called after a refresh that replaced the
	// refresh token.
	Rotated func()
}

func (r *Refresher) now() time.Time {
	if r.Now == nil {
		return time.Now()
	}
	return r.Now()
}

// Fresh reports whether s's access token can be used without a refresh at
// time now: it exists, and either has no known expiry and no refresh token
// to renew it, or is within RefreshFraction of its lifetime.
func Fresh(s *keychain.Session, now time.Time) bool {
	if s == nil || s.AccessToken == "" {
		return false
	}
	if s.Expiry.IsZero() {
		// Unknown expiry: the SDKs refresh when they can.
		return s.RefreshToken == ""
	}
	life := s.Expiry.Sub(s.ObtainedAt)
	refreshAt := s.ObtainedAt.Add(time.Duration(float64(life) * RefreshFraction))
	if life <= 0 {
		refreshAt = s.Expiry
	}
	return now.Before(refreshAt)
}

func (r *Refresher) loginRequired(reason string) error {
	return &LoginRequiredError{Profile: r.Profile, Reason: reason}
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

// ForceRefresh refreshes because the API rejected the access token
// rejected. If another process replaced that token meanwhile, its result is
// used and no refresh is made.
func (r *Refresher) ForceRefresh(ctx context.Context, rejected string) (*keychain.Session, error) {
	return r.refresh(ctx, rejected)
}

func (r *Refresher) load() (*keychain.Session, error) {
	s, err := r.Store.Load(r.Profile)
	if errors.Is(err, keychain.ErrNotFound) {
		return nil, r.loginRequired("not logged in")
	}
	if err != nil {
		return nil, err
	}
	if s.Issuer != r.Provider.Issuer || s.ClientID != r.ClientID {
		return nil, r.loginRequired("the stored session belongs to another endpoint or client than the profile's configuration")
	}
	return s, nil
}

func (r *Refresher) refresh(ctx context.Context, rejected string) (*keychain.Session, error) {
	unlock, err := r.Locker.Lock(ctx, "session-"+r.Profile)
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
		if rejected == "" && s.AccessToken != "" && s.Expiry.IsZero() {
			return s, nil
		}
		return nil, r.loginRequired("the access token has expired and the session has no refresh token")
	}

	cfg := &oauth2.Config{
		ClientID: r.ClientID,
		Endpoint: oauth2.Endpoint{TokenURL: r.Provider.TokenEndpoint, AuthStyle: oauth2.AuthStyleInParams},
	}
	obtained := r.now()
	tok, err := cfg.TokenSource(httpContext(ctx, r.HTTPClient), &oauth2.Token{RefreshToken: s.RefreshToken}).Token()
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.ErrorCode == "invalid_grant" {
			// The provider no longer knows this session: forget it, so
			// that the next command says "not logged in" at once.
			if derr := r.Store.Delete(r.Profile); derr != nil {
				return nil, fmt.Errorf("the session was revoked or has expired, and removing it failed: %w", derr)
			}
			return nil, r.loginRequired("the session was revoked or has expired")
		}
		// Network errors, 5xx, rate limits: keep the session.
		return nil, tokenEndpointError("refresh the access token", err)
	}
	ns := sessionFromToken(tok, obtained, s.Scopes)
	ns.Issuer, ns.ClientID, ns.Subject = s.Issuer, s.ClientID, s.Subject
	ns.IDToken = s.IDToken
	if id, _ := tok.Extra("id_token").(string); id != "" {
		ns.IDToken = id
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
	ns, err := ClientCredentials(ctx, ClientCredentialsOptions{
		Provider: r.Provider, ClientID: s.ClientID, ClientSecret: s.ClientSecret, Resource: s.Resource,
		Scopes: s.Scopes, HTTPClient: r.HTTPClient, Now: r.Now,
	})
	if errors.Is(err, ErrLoginRequired) {
		if derr := r.Store.Delete(r.Profile); derr != nil {
			return nil, fmt.Errorf("%v, and removing the session failed: %w", err, derr)
		}
		return nil, r.loginRequired("the provider no longer accepts this machine client's credentials")
	}
	if err != nil {
		return nil, err
	}
	if err := r.Store.Save(r.Profile, ns); err != nil {
		return nil, fmt.Errorf("save the new access token: %w", err)
	}
	return ns, nil
}
