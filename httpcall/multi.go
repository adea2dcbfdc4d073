package httpcall

import (
	"context"
	"sync"
)

// SharedTokens is a TokenSource for several transfers: the first
// AccessToken asks Source, and every later one (concurrent ones wait) gets
// the same token, or the same error. After a 401, Refresh asks Source once
// per rejected token: transfers rejected with a token that was already
// replaced get the replacement. It is safe for concurrent use.
type SharedTokens struct {
	Source TokenSource

	mu    sync.Mutex
	asked bool
	token string
	err   error
}

// AccessToken implements TokenSource.
func (t *SharedTokens) AccessToken(ctx context.Context) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.asked {
		t.token, t.err = t.Source.AccessToken(ctx)
		t.asked = t.err == nil || ctx.Err() == nil
	}
	return t.token, t.err
}

// Refresh implements TokenSource.
func (t *SharedTokens) Refresh(ctx context.Context, rejected string) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.asked && t.err == nil && t.token != rejected {
		return t.token, nil
	}
	tok, err := t.Source.Refresh(ctx, rejected)
	if err != nil {
		return "", err
	}
	t.token, t.err, t.asked = tok, nil, true
	return tok, nil
}
