package keychain

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agcurl/agcurl/internal/fileutil"
)

func newTokenCache(t *testing.T) *TokenCache {
	t.Helper()
	return &TokenCache{Dir: filepath.Join(t.TempDir(), "run", "agcurl"), GenDir: t.TempDir()}
}

// freshSession is a session whose access token is good for half an hour;
// every secret in it holds marker.
func freshSession(marker string) *Session {
	now := time.Now().UTC().Truncate(time.Second)
	return &Session{
		Issuer: "https://myapp.authgear.cloud", ClientID: "cli", Subject: "alice",
		AccessToken: "at-" + marker, RefreshToken: "rt-" + marker, IDToken: "id-" + marker, ClientSecret: "cs-" + marker,
		TokenType: "Bearer", ObtainedAt: now, Expiry: now.Add(30 * time.Minute),
	}
}

func (m *mapKeyring) getCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.gets
}

// TestTokenCacheHoldsTheAccessTokenOnly checks the hot path: after a save,
// LoadAccess answers from the cache without the keyring, with the access
// token and nothing else secret, from a 0600 file in a 0700 directory.
func TestTokenCacheHoldsTheAccessTokenOnly(t *testing.T) {
	kr := &mapKeyring{}
	c := newTokenCache(t)
	s := &KeyringStore{API: kr, Cache: c}
	saved := freshSession("one")
	if err := s.Save("p", saved); err != nil {
		t.Fatal(err)
	}
	before := kr.getCount()
	got, err := s.LoadAccess("p")
	if err != nil {
		t.Fatal(err)
	}
	if kr.getCount() != before {
		t.Fatal("LoadAccess read the keyring although the cache holds the token")
	}
	if got.AccessToken != "at-one" || got.Issuer != saved.Issuer || got.ClientID != "cli" || got.TokenType != "Bearer" ||
		!got.Expiry.Equal(saved.Expiry) || !got.ObtainedAt.Equal(saved.ObtainedAt) {
		t.Fatalf("cached session %+v", got)
	}
	if got.RefreshToken != "" || got.IDToken != "" || got.ClientSecret != "" || got.Subject != "" {
		t.Fatal("the cached session carries more than the access token")
	}

	file := filepath.Join(c.Dir, "agcurl", "p.json")
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"rt-one", "id-one", "cs-one"} {
		if bytes.Contains(b, []byte(secret)) {
			t.Fatalf("the cache file holds %s", secret)
		}
	}
	for path, want := range map[string]os.FileMode{c.Dir: 0o700, filepath.Dir(file): 0o700, file: 0o600} {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != want {
			t.Fatalf("%s: %v, want %v (%v)", path, fi.Mode().Perm(), want, err)
		}
	}

	// Load, for everything else, still reads the whole session.
	if full, err := s.Load("p"); err != nil || full.RefreshToken != "rt-one" {
		t.Fatalf("Load: %v", err)
	}
}

// TestTokenCacheFollowsTheSession checks that the cache never hands out a
// token of a session that was replaced or removed.
func TestTokenCacheFollowsTheSession(t *testing.T) {
	kr := &mapKeyring{}
	s := &KeyringStore{API: kr, Cache: newTokenCache(t)}
	if err := s.Save("p", freshSession("one")); err != nil {
		t.Fatal(err)
	}
	if err := s.Save("p", freshSession("two")); err != nil {
		t.Fatal(err)
	}
	if got, err := s.LoadAccess("p"); err != nil || got.AccessToken != "at-two" {
		t.Fatalf("after a second save: %v %v", got, err)
	}
	if err := s.Delete("p"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(s.Cache.Dir, "agcurl", "p.json")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the cache file outlived Delete: %v", err)
	}
	if got, err := s.LoadAccess("p"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("LoadAccess after Delete: %v, %v; want ErrNotFound", got, err)
	}

	// A session replaced in the keyring by another route (an older agcurl,
	// a keyring manager) is served from the cache until its copy expires
	// or is due for refresh: the documented limit. A Save or Delete by
	// this version always moves the cache on, which is what is checked.
}

// TestTokenCacheLateWriterAfterDelete plays a reader that read the session
// from the keyring just before a logout deleted it, and writes its copy
// after: the copy must not be used, nor stay behind.
func TestTokenCacheLateWriterAfterDelete(t *testing.T) {
	kr := &mapKeyring{}
	s := &KeyringStore{API: kr, Cache: newTokenCache(t)}
	old := freshSession("old")
	if err := s.Save("p", old); err != nil {
		t.Fatal(err)
	}
	s.Cache.remove("agcurl", "p") // the reader misses the cache...
	gen := s.Cache.generation("agcurl", "p")
	loaded, err := s.Load("p") // ...reads the keyring...
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Delete("p"); err != nil { // ...a logout runs...
		t.Fatal(err)
	}
	s.Cache.store("agcurl", "p", gen, loaded) // ...and the reader writes its copy.
	if _, err := os.Stat(filepath.Join(s.Cache.Dir, "agcurl", "p.json")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a late copy of a deleted session stayed behind: %v", err)
	}
	if got, err := s.LoadAccess("p"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("LoadAccess after the logout: %v, %v; want ErrNotFound", got, err)
	}
	// A reader that died between writing its copy and checking the
	// generation leaves the copy behind; it is still never used.
	b, err := json.Marshal(cachedToken{Gen: gen, Issuer: old.Issuer, ClientID: old.ClientID, AccessToken: old.AccessToken,
		ObtainedAt: old.ObtainedAt, Expiry: old.Expiry})
	if err != nil {
		t.Fatal(err)
	}
	if err := fileutil.WriteAtomic(filepath.Join(s.Cache.Dir, "agcurl", "p.json"), b); err != nil {
		t.Fatal(err)
	}
	if got, err := s.LoadAccess("p"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("LoadAccess with a copy left by a dead reader: %v, %v; want ErrNotFound", got, err)
	}

	// The same with a new login instead of a logout: the late copy of the
	// old session is never the answer.
	if err := s.Save("p", old); err != nil {
		t.Fatal(err)
	}
	gen = s.Cache.generation("agcurl", "p")
	loaded, _ = s.Load("p")
	if err := s.Save("p", freshSession("new")); err != nil {
		t.Fatal(err)
	}
	s.Cache.store("agcurl", "p", gen, loaded)
	if got, err := s.LoadAccess("p"); err != nil || got.AccessToken != "at-new" {
		t.Fatalf("after a new login and a late copy of the old session: %v %v", got, err)
	}
}

func TestTokenCacheExpiryAndUnknownExpiry(t *testing.T) {
	kr := &mapKeyring{}
	now := time.Now()
	c := newTokenCache(t)
	c.Now = func() time.Time { return now }
	s := &KeyringStore{API: kr, Cache: c}
	if err := s.Save("p", freshSession("one")); err != nil {
		t.Fatal(err)
	}
	now = now.Add(31 * time.Minute) // past the token's expiry
	before := kr.getCount()
	if got, err := s.LoadAccess("p"); err != nil || got.RefreshToken != "rt-one" || kr.getCount() == before {
		t.Fatalf("an expired copy must send LoadAccess to the keyring: %v", err)
	}

	now = time.Now()
	unknown := freshSession("two")
	unknown.Expiry = time.Time{}
	if err := s.Save("q", unknown); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(c.Dir, "agcurl", "q.json")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a token of unknown expiry was cached")
	}
}

// TestTokenCacheRefusesSharedDirectories checks that nothing is cached in
// a directory others can enter, or through a symbolic link.
func TestTokenCacheRefusesSharedDirectories(t *testing.T) {
	open := filepath.Join(t.TempDir(), "open")
	if err := os.Mkdir(open, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o755); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(t.TempDir(), "target")
	if err := os.Mkdir(target, 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{open, link} {
		kr := &mapKeyring{}
		s := &KeyringStore{API: kr, Cache: &TokenCache{Dir: dir, GenDir: t.TempDir()}}
		if err := s.Save("p", freshSession("one")); err != nil {
			t.Fatal(err)
		}
		before := kr.getCount()
		if got, err := s.LoadAccess("p"); err != nil || got.RefreshToken != "rt-one" || kr.getCount() == before {
			t.Fatalf("%s: LoadAccess must read the keyring: %v", dir, err)
		}
		for _, d := range []string{open, target} {
			if entries, _ := os.ReadDir(filepath.Join(d, "agcurl")); len(entries) != 0 {
				t.Fatalf("%s: a token was cached in %s", dir, d)
			}
		}
	}
}

// TestTokenCacheConcurrent has readers use LoadAccess while a writer saves
// sessions in turn and finally deletes: every answer is a token of a saved
// session, and after the delete there is none.
func TestTokenCacheConcurrent(t *testing.T) {
	kr := &mapKeyring{}
	s := &KeyringStore{API: kr, Cache: newTokenCache(t)}
	if err := s.Save("p", freshSession("0")); err != nil {
		t.Fatal(err)
	}
	const saves = 50
	var wg sync.WaitGroup
	done := make(chan struct{})
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				got, err := s.LoadAccess("p")
				if err != nil || !strings.HasPrefix(got.AccessToken, "at-") {
					errs <- fmt.Errorf("LoadAccess: %v %v", got, err)
					return
				}
			}
		}()
	}
	for i := 1; i <= saves; i++ {
		if err := s.Save("p", freshSession(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got, err := s.LoadAccess("p"); err != nil || got.AccessToken != fmt.Sprint("at-", saves) {
		t.Fatalf("after the last save: %v %v", got, err)
	}
	if err := s.Delete("p"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.LoadAccess("p"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after Delete: %v %v", got, err)
	}
}

func TestTokenCacheOff(t *testing.T) {
	kr := &mapKeyring{}
	s := &KeyringStore{API: kr}
	if err := s.Save("p", freshSession("one")); err != nil {
		t.Fatal(err)
	}
	before := kr.getCount()
	if got, err := s.LoadAccess("p"); err != nil || got.RefreshToken != "rt-one" || kr.getCount() == before {
		t.Fatalf("without a cache LoadAccess is Load: %v", err)
	}
}
