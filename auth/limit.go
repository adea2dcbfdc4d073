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
// response bodies are capped at MaxResponseBytes. Every request auth makes
// to a provider goes through it.
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
	return &cc
}

// tooLarge reports whether err, or its text (go-oidc flattens errors with
// %v), says a response was over the cap.
func tooLarge(err error) bool {
	return err != nil && (errors.Is(err, ErrResponseTooLarge) || containsText(err, ErrResponseTooLarge.Error()))
}
