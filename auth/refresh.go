package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/agcurl/agcurl/keychain"
)

// ErrLoginRequired is wrapped by every error that the user can only fix by
// logging in again: no session, or a session the provider no longer accepts.
var ErrLoginRequired = errors.New("login required")

// LoginRequiredError says why a login is needed and for which profile.
// When the session came from an environment variable (EnvVar, e.g.
// AGCURL_REFRESH_TOKEN), logging in does not help: the message says to
// replace that variable's secret instead.
type LoginRequiredError struct {
	Profile string
	Reason  string
	EnvVar  string
	// Remedy, when set, replaces the usual "run `agcurl login`".
	Remedy string
}

func (e *LoginRequiredError) Error() string {
	if e.EnvVar != "" {
		return fmt.Sprintf("%s; the secret in %s no longer works: replace it (see docs/ci.md)", e.Reason, e.EnvVar)
	}
	if e.Remedy != "" {
		return e.Reason + "; " + e.Remedy
	}
	cmd := "agcurl login"
	if e.Profile != "" && e.Profile != "default" {
		cmd += " --profile " + e.Profile
	}
	return fmt.Sprintf("%s; run `%s`", e.Reason, cmd)
}

func (e *LoginRequiredError) Unwrap() error { return ErrLoginRequired }

// TemporaryError reports a refresh that failed for a reason that may pass
// (network, 5xx, 429, an unusable answer): the session was kept, and the
// same command can be run again, after RetryAfter when the provider said.
type TemporaryError struct {
	Err        error
	RetryAfter time.Duration
}

func (e *TemporaryError) Error() string {
	when := "try again later"
	if e.RetryAfter > 0 {
		when = fmt.Sprintf("try again in %s", e.RetryAfter.Round(time.Second))
	}
	return fmt.Sprintf("%v; the session was kept: %s", e.Err, when)
}

func (e *TemporaryError) Unwrap() error { return e.Err }

// SessionStore is where the Refresher reads and writes the session.
type SessionStore interface {
	Load(profile string) (*keychain.Session, error)
	Save(profile string, s *keychain.Session) error
	Delete(profile string) error
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
	Profile    string
	ClientID   string
	Provider   *ProviderInfo
	Store      SessionStore
	Locker     Locker
	HTTPClient *http.Client
	Now        func() time.Time
	// Rotated, when set, is called after a refresh that replaced the
	// refresh token.
	Rotated func()
	// EnvVar names the environment variable the session's refresh token
	// came from, if any, for the messages when the provider rejects it.
	EnvVar string
	// MaxRetryWait bounds how long a refresh waits when the token endpoint
	// answers 429 or 503 with Retry-After (and never past ctx's deadline);
	// DefaultMaxRetryWait when zero. A longer Retry-After is not waited
	// for: the error says when to try again.
	MaxRetryWait time.Duration
}

// DefaultMaxRetryWait is Refresher.MaxRetryWait's default.
const DefaultMaxRetryWait = 5 * time.Second

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

	obtained := r.now()
	tok, err := r.refreshGrant(ctx, s.RefreshToken)
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.ErrorCode == "invalid_grant" && re.Response != nil && re.Response.StatusCode == http.StatusBadRequest {
			// The provider no longer knows this session (RFC 6749 5.2: a
			// 400 with invalid_grant; the same text in a 200 or a 5xx is
			// not that): forget it, so that the next command says "not
			// logged in" at once.
			if derr := r.Store.Delete(r.Profile); derr != nil {
				return nil, fmt.Errorf("the session was revoked or has expired, and removing it failed: %w", derr)
			}
			if r.EnvVar != "" {
				return nil, r.loginRequired("the provider does not accept the refresh token (revoked, expired, or rotated away)")
			}
			return nil, r.loginRequired("the session was revoked or has expired")
		}
		// Network errors, 5xx, rate limits, garbage: keep the session.
		return nil, &TemporaryError{Err: tokenEndpointError("refresh the access token", err), RetryAfter: retryAfterOf(err)}
	}
	if err := checkTokenResponse(tok); err != nil {
		return nil, &TemporaryError{Err: fmt.Errorf("refresh the access token: %w", err)}
	}
	ns := sessionFromToken(tok, obtained, s.Scopes)
	ns.Issuer, ns.ClientID, ns.Subject = s.Issuer, s.ClientID, s.Subject
	ns.IDToken = s.IDToken
	if id, _ := tok.Extra("id_token").(string); id != "" {
		// OIDC Core 12.2: verified like the login's, for the same user.
		idt, err := verifyIDToken(ctx, r.Provider, r.ClientID, id, r.HTTPClient, r.Now, idTokenCheck{subject: s.Subject})
		var keys *KeysUnavailableError
		switch {
		case errors.As(err, &keys):
			// The provider's keys could not be fetched just now: the ID
			// token cannot be checked, so it is dropped (as if the answer
			// had none) and the previous one kept. The tokens themselves
			// are kept: with rotation, the old refresh token is dead.
		case err != nil:
			if ns.RefreshToken != "" && ns.RefreshToken != s.RefreshToken {
				return nil, fmt.Errorf("refresh the access token: %w; nothing was stored, and since that answer also replaced the refresh token, the session cannot be renewed any more", err)
			}
			return nil, fmt.Errorf("refresh the access token: %w; nothing was stored", err)
		default:
			ns.IDToken, ns.Subject = id, idt.Subject
		}
	}
	if err := r.checkUsable(ns); err != nil {
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

// refreshGrant runs the refresh token grant, waiting for a short
// Retry-After as retryAfter allows.
func (r *Refresher) refreshGrant(ctx context.Context, refreshToken string) (*oauth2.Token, error) {
	cfg := &oauth2.Config{
		ClientID: r.ClientID,
		Endpoint: oauth2.Endpoint{TokenURL: r.Provider.TokenEndpoint, AuthStyle: oauth2.AuthStyleInParams},
	}
	var tok *oauth2.Token
	err := r.retryAfter(ctx, func() error {
		var err error
		tok, err = cfg.TokenSource(httpContext(ctx, r.HTTPClient), &oauth2.Token{RefreshToken: refreshToken}).Token()
		return err
	})
	return tok, err
}

// retryAfter runs call, and once more when the token endpoint asked to wait
// (429 or 503 with Retry-After) no longer than MaxRetryWait and ctx's
// deadline allow.
func (r *Refresher) retryAfter(ctx context.Context, call func() error) error {
	maxWait := r.MaxRetryWait
	if maxWait <= 0 {
		maxWait = DefaultMaxRetryWait
	}
	err := call()
	wait := retryAfterOf(err)
	if err == nil || wait <= 0 || wait > maxWait {
		return err
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
		return err
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
	}
	return call()
}

// checkUsable refuses a new session whose access token is already past its
// expiry: handing it out would break the promise that token never prints
// an expired token.
func (r *Refresher) checkUsable(s *keychain.Session) error {
	if !s.Expiry.IsZero() && !r.now().Before(s.Expiry) {
		return &TemporaryError{Err: errors.New("the provider issued an access token that has already expired (check the clocks, and expires_in)")}
	}
	return nil
}

// retryAfterOf returns the Retry-After of a 429 or 503 answer from the
// token endpoint (seconds or an HTTP date), or 0.
func retryAfterOf(err error) time.Duration {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.Response == nil {
		return 0
	}
	if c := re.Response.StatusCode; c != http.StatusTooManyRequests && c != http.StatusServiceUnavailable {
		return 0
	}
	v := strings.TrimSpace(re.Response.Header.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && time.Until(t) > 0 {
		return time.Until(t).Round(time.Second)
	}
	return 0
}

// remint gets a machine client's session a new access token with its
// client credentials; there is no refresh token to use.
func (r *Refresher) remint(ctx context.Context, s *keychain.Session) (*keychain.Session, error) {
	var ns *keychain.Session
	err := r.retryAfter(ctx, func() error {
		var err error
		ns, err = ClientCredentials(ctx, ClientCredentialsOptions{
			Provider: r.Provider, ClientID: s.ClientID, ClientSecret: s.ClientSecret, Resource: s.Resource,
			Scopes: s.Scopes, HTTPClient: r.HTTPClient, Now: r.Now,
		})
		return err
	})
	var rejected *ClientCredentialsError
	if errors.As(err, &rejected) {
		if derr := r.Store.Delete(r.Profile); derr != nil {
			return nil, fmt.Errorf("%v, and removing the session failed: %w", err, derr)
		}
		login := "agcurl login --client-credentials"
		if r.Profile != "" && r.Profile != "default" {
			login += " --profile " + r.Profile
		}
		return nil, &LoginRequiredError{Profile: r.Profile,
			Reason: "the provider no longer accepts this machine client's credentials (" + rejected.Err.Error() + ")",
			Remedy: "log in again with the current secret: `AGCURL_CLIENT_SECRET=... " + login + "`"}
	}
	if err != nil {
		return nil, &TemporaryError{Err: err, RetryAfter: retryAfterOf(err)}
	}
	if err := r.checkUsable(ns); err != nil {
		return nil, err
	}
	if err := r.Store.Save(r.Profile, ns); err != nil {
		return nil, fmt.Errorf("save the new access token: %w", err)
	}
	return ns, nil
}
