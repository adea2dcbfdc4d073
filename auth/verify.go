package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/agcurl/agcurl/keychain"
)

// IDTokenError reports an ID token that failed verification. Nothing from
// it was stored.
type IDTokenError struct {
	Reason string
}

func (e *IDTokenError) Error() string { return "the ID token failed verification: " + e.Reason }

// KeysUnavailableError reports that an ID token could not be checked
// because the provider's keys (JWKS) could not be fetched: a network
// error or an error status. It may pass.
type KeysUnavailableError struct{ Err error }

func (e *KeysUnavailableError) Error() string {
	return "the ID token could not be checked: the provider's keys could not be fetched (" + firstLine(e.Err.Error(), 200) + ")"
}

func (e *KeysUnavailableError) Unwrap() error { return e.Err }

// keysFetch records whether a request for the JWKS failed, so that a
// verification error can be told from an outage.
type keysFetch struct {
	base   http.RoundTripper
	failed atomic.Bool
}

func (k *keysFetch) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := k.base.RoundTrip(req)
	if err != nil || resp.StatusCode >= 400 {
		k.failed.Store(true)
	}
	return resp, err
}

// idTokenCheck is what one ID token must satisfy beyond go-oidc's checks of
// signature, issuer, audience and expiry.
type idTokenCheck struct {
	nonce   string // when not empty, the nonce claim must equal it (login)
	subject string // when not empty, sub must equal it (refresh: OIDC Core 12.2)
}

// verifyIDToken checks raw as OIDC Core 3.1.3.7 asks: signature against
// the provider's JWKS, iss, aud containing clientID, exp, and azp (with
// several audiences azp must be present, and when present it must be our
// client id); then the nonce or subject in want. It is the one ID token
// verifier, used by every grant and by refresh.
func (c *Client) verifyIDToken(ctx context.Context, raw string, want idTokenCheck) (*oidc.IDToken, error) {
	p, clientID := c.Provider, c.ClientID
	hc := httpClient(c.HTTP)
	fetch := &keysFetch{base: hc.Transport}
	kc := *hc
	kc.Transport = fetch
	v := oidc.NewVerifier(p.Issuer, oidc.NewRemoteKeySet(oidc.ClientContext(ctx, &kc), p.JWKSURI),
		&oidc.Config{ClientID: clientID, Now: c.now})
	idt, err := v.Verify(oidc.ClientContext(ctx, &kc), raw)
	if err != nil && fetch.failed.Load() {
		return nil, &KeysUnavailableError{Err: err}
	}
	if err != nil {
		if tooLarge(err) {
			return nil, &IDTokenError{Reason: "reading the provider's keys (JWKS): " + ErrResponseTooLarge.Error()}
		}
		return nil, &IDTokenError{Reason: firstLine(err.Error(), 200)}
	}
	var extra struct {
		AZP string `json:"azp"`
	}
	if err := idt.Claims(&extra); err != nil {
		return nil, &IDTokenError{Reason: "unreadable claims"}
	}
	switch {
	case len(idt.Audience) > 1 && extra.AZP == "":
		return nil, &IDTokenError{Reason: "it names several audiences but no authorized party (azp)"}
	case extra.AZP != "" && extra.AZP != clientID:
		return nil, &IDTokenError{Reason: fmt.Sprintf("it was issued to another client (azp %q)", extra.AZP)}
	case want.nonce != "" && idt.Nonce != want.nonce:
		return nil, &IDTokenError{Reason: "nonce mismatch"}
	case want.subject != "" && idt.Subject != want.subject:
		return nil, &IDTokenError{Reason: fmt.Sprintf("its subject %q is not the session's %q", idt.Subject, want.subject)}
	case idt.Subject == "":
		return nil, &IDTokenError{Reason: "it has no subject"}
	}
	return idt, nil
}

// TokenTypeError reports a token response whose token_type agcurl cannot
// use: only Bearer tokens (RFC 6750) are sent.
type TokenTypeError struct{ Type string }

func (e *TokenTypeError) Error() string {
	return fmt.Sprintf("the provider issued a %q access token; only Bearer tokens (RFC 6750) are sent", e.Type)
}

// checkTokenResponse refuses a token response agcurl must not use: no
// access token, or a token_type other than Bearer (compared without case;
// a missing token_type is taken as Bearer, as x/oauth2 does).
func checkTokenResponse(tok *oauth2.Token) error {
	if tok.AccessToken == "" {
		return errors.New("the token endpoint returned no access token")
	}
	if tok.TokenType != "" && !strings.EqualFold(tok.TokenType, "bearer") {
		return &TokenTypeError{Type: tok.TokenType}
	}
	return nil
}

// sessionFromToken makes a session of a token response obtained at
// obtained. The expiry comes from expires_in; x/oauth2 fills only Expiry
// on some paths (client credentials), so that is used next; and when the
// provider said nothing, a JWT access token's exp claim (unverified: it
// only makes agcurl refresh sooner).
func sessionFromToken(tok *oauth2.Token, obtained time.Time, requested []string) *keychain.Session {
	s := &keychain.Session{
		AccessToken:  tok.AccessToken,
		RefreshToken: tok.RefreshToken,
		TokenType:    tok.TokenType,
		ObtainedAt:   obtained,
	}
	switch {
	case tok.ExpiresIn > 0:
		s.Expiry = obtained.Add(time.Duration(tok.ExpiresIn) * time.Second)
	case !tok.Expiry.IsZero():
		s.Expiry = tok.Expiry
	default:
		if exp, ok := jwtExpiry(tok.AccessToken); ok {
			s.Expiry = exp
		}
	}
	if sc, _ := tok.Extra("scope").(string); sc != "" {
		s.Scopes = strings.Fields(sc)
	} else {
		s.Scopes = requested
	}
	return s
}

// jwtExpiry reads the exp claim of a JWT without verifying it.
func jwtExpiry(tok string) (time.Time, bool) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return time.Time{}, false
	}
	var c struct {
		Exp json.Number `json:"exp"`
	}
	if json.Unmarshal(b, &c) != nil {
		return time.Time{}, false
	}
	n, err := c.Exp.Int64()
	if err != nil || n <= 0 {
		return time.Time{}, false
	}
	return time.Unix(n, 0), true
}

func containsText(err error, s string) bool { return strings.Contains(err.Error(), s) }
