package auth_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/agcurl/agcurl/internal/testop"
	"github.com/agcurl/agcurl/keychain"
	"github.com/zalando/go-keyring"
)

// mapKeyring is an OS keyring in memory; off makes every call fail, as a
// keyring that is locked or gone.
type mapKeyring struct {
	mu    sync.Mutex
	items map[string]string
	off   bool
	calls int
}

var errKeyringOff = errors.New("keyring off")

func (m *mapKeyring) Get(service, user string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	if m.off {
		return "", errKeyringOff
	}
	v, ok := m.items[service+"/"+user]
	if !ok {
		return "", keyring.ErrNotFound
	}
	return v, nil
}

func (m *mapKeyring) Set(service, user, secret string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	if m.off {
		return errKeyringOff
	}
	if m.items == nil {
		m.items = map[string]string{}
	}
	m.items[service+"/"+user] = secret
	return nil
}

func (m *mapKeyring) Delete(service, user string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	delete(m.items, service+"/"+user)
	return nil
}

func (m *mapKeyring) set(off bool) (calls int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.off = off
	return m.calls
}

// TestRefresherAccessTokenFromTheCache checks the hot path with a keyring
// store and its access-token cache: a valid token comes from the cache
// without the keyring; a token due for refresh is refreshed from the
// keyring's session, and the cache then holds the new one.
func TestRefresherAccessTokenFromTheCache(t *testing.T) {
	srv := startOP(t, testop.Options{RotateRefreshTokens: true})
	info := discover(t, srv)
	kr := &mapKeyring{}
	store := &keychain.KeyringStore{API: kr,
		Cache: &keychain.TokenCache{Dir: filepath.Join(t.TempDir(), "agcurl"), GenDir: t.TempDir()}}
	s := login(t, srv, info)
	if err := store.Save("default", s); err != nil {
		t.Fatal(err)
	}
	r := newRefresher(t, srv, info, store, t.TempDir())
	ctx := context.Background()

	before := kr.set(true)
	tok, err := r.AccessToken(ctx)
	if err != nil || tok != s.AccessToken {
		t.Fatalf("valid token from the cache: %v", err)
	}
	if kr.set(false) != before {
		t.Fatal("the hot path used the keyring")
	}
	// Token, for everything but the hot path, reads the keyring.
	if got, err := r.Token(ctx); err != nil || got.RefreshToken != s.RefreshToken {
		t.Fatalf("Token: %v", err)
	}

	// Past 90% of its life, the token is refreshed, once, from the
	// keyring's session, and the new one is cached.
	aged := *s
	aged.ObtainedAt, aged.Expiry = s.ObtainedAt.Add(-1621*time.Second), s.Expiry.Add(-1621*time.Second)
	if err := store.Save("default", &aged); err != nil {
		t.Fatal(err)
	}
	tok, err = r.AccessToken(ctx)
	if err != nil || tok == s.AccessToken {
		t.Fatalf("a token due for refresh was not refreshed: %v", err)
	}
	if n := srv.Count("grant:refresh_token"); n != 1 {
		t.Fatalf("refreshes = %d, want 1", n)
	}
	saved, err := store.Load("default")
	if err != nil || saved.AccessToken != tok || saved.RefreshToken == s.RefreshToken {
		t.Fatalf("the refreshed session was not saved: %v", err)
	}
	before = kr.set(true)
	if again, err := r.AccessToken(ctx); err != nil || again != tok {
		t.Fatalf("the refreshed token from the cache: %v", err)
	}
	if kr.set(false) != before {
		t.Fatal("the hot path used the keyring after the refresh")
	}

	// Once the session is deleted (a logout), the hot path has nothing.
	if err := store.Delete("default"); err != nil {
		t.Fatal(err)
	}
	kr.set(true)
	if tok, err := r.AccessToken(ctx); err == nil || tok != "" {
		t.Fatalf("a token after the session was deleted: %q", tok)
	}
}
