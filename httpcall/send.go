package httpcall

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// TokenSource gives the access token to attach. It is defined here, by its
// consumer; agcurl's auth.Refresher is adapted to it.
type TokenSource interface {
	// AccessToken returns a token believed valid.
	AccessToken(ctx context.Context) (string, error)
	// Refresh returns a new token after the server rejected rejected.
	Refresh(ctx context.Context, rejected string) (string, error)
}

// TokenTargetError reports that the token would go somewhere it must not.
type TokenTargetError struct{ URL string }

func (e *TokenTargetError) Error() string {
	return fmt.Sprintf("refusing to send the access token over plain http to %s: use https (plain http is allowed only to loopback), or pass --no-auth to send without a token", e.URL)
}

// CheckTokenTarget reports whether a bearer token may be sent to u: over
// https, or over http only to a loopback host.
func CheckTokenTarget(u *url.URL) error {
	if u.Scheme == "https" {
		return nil
	}
	if u.Scheme == "http" && isLoopback(u.Hostname()) {
		return nil
	}
	return &TokenTargetError{URL: u.Scheme + "://" + u.Host}
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// TransportError is a failure below HTTP, with curl's exit code for it.
type TransportError struct {
	Code int // 6 resolve, 7 connect, 28 timeout, 35 TLS, 60 certificate, 56 receive
	Err  error
}

func (e *TransportError) Error() string { return e.Err.Error() }
func (e *TransportError) Unwrap() error { return e.Err }

// ClassifyError maps a transport error to curl's exit code and a one-line
// message that names the host but not the URL's query.
func ClassifyError(err error) error {
	if err == nil {
		return nil
	}
	var re *ReadError
	if errors.As(err, &re) {
		return re
	}
	if errors.Is(err, context.Canceled) {
		return context.Canceled
	}
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var recordErr tls.RecordHeaderError
	var opErr *net.OpError
	var netErr net.Error
	switch {
	case errors.As(err, &dnsErr):
		return &TransportError{6, fmt.Errorf("could not resolve host %s", dnsErr.Name)}
	case errors.As(err, &certErr), errors.As(err, &unknownAuth), errors.As(err, &hostErr):
		return &TransportError{60, fmt.Errorf("TLS certificate problem: %v", rootCause(err))}
	case errors.As(err, &recordErr):
		return &TransportError{35, fmt.Errorf("TLS handshake failed: %v", rootCause(err))}
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return &TransportError{28, errors.New("operation timed out")}
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return &TransportError{7, fmt.Errorf("failed to connect to %s: %v", opErr.Addr, rootCause(opErr.Err))}
	}
	return &TransportError{56, fmt.Errorf("transfer failed: %v", rootCause(err))}
}

func rootCause(err error) error {
	for {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
			continue
		}
		var opErr *net.OpError
		if errors.As(err, &opErr) && opErr.Err != nil {
			err = opErr.Err
			continue
		}
		return err
	}
}

// NewClient returns the client fetch sends with: proxies from the
// environment, no transparent decompression (the body is what the server
// sent, as with curl), and no redirects followed (the response to the
// request is returned; a token never travels to a redirect target).
func NewClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DisableCompression = true
	return &http.Client{
		Transport:     t,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Tracer sees each request as it is sent and each response as it arrives,
// for -v. It must not print the Authorization header's value.
type Tracer interface {
	Request(req *http.Request)
	Response(resp *http.Response)
}

// Do sends req with client. When ts is not nil and req has no Authorization
// header of its own, it attaches ts's token, after checking the target
// with CheckTokenTarget. On a 401 it asks ts for a new token and sends once
// more, if the body can be replayed. The caller must close the response body.
func Do(ctx context.Context, client *http.Client, req *http.Request, ts TokenSource, tr Tracer) (*http.Response, error) {
	req = req.WithContext(ctx)
	var token string
	if ts != nil && req.Header.Get("Authorization") == "" {
		if err := CheckTokenTarget(req.URL); err != nil {
			return nil, err
		}
		var err error
		token, err = ts.AccessToken(ctx)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := send(client, req, tr)
	if err != nil {
		return nil, err
	}
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	if resp.StatusCode != http.StatusUnauthorized || token == "" || !replayable {
		return resp, nil
	}
	// The API rejected the token: refresh once and try again.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	newToken, err := ts.Refresh(ctx, token)
	if err != nil {
		return nil, err
	}
	retry := req.Clone(ctx)
	if req.GetBody != nil {
		retry.Body, err = req.GetBody()
		if err != nil {
			return nil, err
		}
	}
	retry.Header.Set("Authorization", "Bearer "+newToken)
	return send(client, retry, tr)
}

func send(client *http.Client, req *http.Request, tr Tracer) (*http.Response, error) {
	if tr != nil {
		tr.Request(req)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, ClassifyError(err)
	}
	if tr != nil {
		tr.Response(resp)
	}
	return resp, nil
}
