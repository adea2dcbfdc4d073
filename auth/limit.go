package auth

import (
	"errors"
	"fmt"
	"io"
	"net/http"
)

// MaxResponseBytes caps every response body agcurl reads from a provider:
// discovery, JWKS, token, userinfo, revocation and device endpoints. A
// larger answer fails with ErrResponseTooLarge after that many bytes, so a
// hostile or broken provider cannot make agcurl grow without limit.
const MaxResponseBytes = 1 << 20

// ErrResponseTooLarge is returned (wrapped) when a provider's response body
// exceeds MaxResponseBytes.
var ErrResponseTooLarge = fmt.Errorf("the provider's response exceeds %d KiB", MaxResponseBytes>>10)

// capTransport wraps every response body in a reader that fails once more
// than MaxResponseBytes have been read.
type capTransport struct{ base http.RoundTripper }

func (t capTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil || resp.Body == nil {
		return resp, err
	}
	if resp.ContentLength > MaxResponseBytes {
		resp.Body.Close()
		return nil, fmt.Errorf("%s: %w", req.URL.Redacted(), ErrResponseTooLarge)
	}
	resp.Body = &capReader{r: resp.Body, left: MaxResponseBytes}
	return resp, nil
}

type capReader struct {
	r    io.ReadCloser
	left int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		// One byte more tells a body of exactly the cap from a longer one.
		var one [1]byte
		if n, _ := c.r.Read(one[:]); n > 0 {
			return 0, ErrResponseTooLarge
		}
		return 0, io.EOF
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

func (c *capReader) Close() error { return c.r.Close() }

// httpClient returns a copy of c (http.DefaultClient when nil) whose
// response bodies are capped at MaxResponseBytes and whose redirects
// follow providerRedirects. Every request auth makes to a provider goes
// through it.
func httpClient(c *http.Client) *http.Client {
	if c == nil {
		c = http.DefaultClient
	}
	if _, ok := c.Transport.(capTransport); ok {
		return c
	}
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	cc := *c
	cc.Transport = capTransport{base: base}
	cc.CheckRedirect = providerRedirects(c.CheckRedirect)
	return &cc
}

// providerRedirects is the redirect policy of requests to a provider,
// before next (Go's default when nil). A request that is not a GET (to
// the token, device authorization and revocation endpoints) carries
// credentials: a code, a refresh token, a client secret in its body or
// its Authorization header, which Go would send again to a 307's or
// 308's target, and keep in the header for another port or scheme of the
// same host. It is never redirected: the redirect is its answer, which
// callers take as the error it is. A GET (discovery, JWKS, userinfo with
// its access token) is followed only to https, or http on loopback.
func providerRedirects(next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if m := via[0].Method; m != http.MethodGet && m != http.MethodHead {
			return http.ErrUseLastResponse
		}
		if err := checkSecureURL(req.URL.String()); err != nil {
			return fmt.Errorf("%s redirected: %w", via[len(via)-1].URL.Redacted(), err)
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
}

// tooLarge reports whether err, or its text (go-oidc flattens errors with
// %v), says a response was over the cap.
func tooLarge(err error) bool {
	return err != nil && (errors.Is(err, ErrResponseTooLarge) || containsText(err, ErrResponseTooLarge.Error()))
}
