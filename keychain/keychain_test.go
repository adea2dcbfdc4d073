package keychain

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zalando/go-keyring"
)

// mapKeyring is an in-memory KeyringAPI with an optional item size limit
// that, like some real backends, truncates silently.
type mapKeyring struct {
	mu       sync.Mutex
	items    map[string]string
	limit    int
	truncate bool
	fail     error
	hang     chan struct{}
}

func (m *mapKeyring) Get(service, user string) (string, error) {
	if m.hang != nil {
		<-m.hang
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return "", m.fail
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
	if m.fail != nil {
		return m.fail
	}
	if m.items == nil {
		m.items = map[string]string{}
	}
	if m.limit > 0 && len(secret) > m.limit {
		if !m.truncate {
			return keyring.ErrSetDataTooBig
		}
		secret = secret[:m.limit]
	}
	m.items[service+"/"+user] = secret
	return nil
}

func (m *mapKeyring) Delete(service, user string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.items[service+"/"+user]; !ok {
		return keyring.ErrNotFound
	}
	delete(m.items, service+"/"+user)
	return nil
}

func bigSession() *Session {
	return &Session{
		Issuer: "https://myapp.authgear.cloud", ClientID: "cli", Subject: "alice",
		RefreshToken: strings.Repeat("r", 900), AccessToken: strings.Repeat("a", 1500),
		IDToken: strings.Repeat("i", 2500), Expiry: time.Unix(1800, 0).UTC(), ObtainedAt: time.Unix(0, 0).UTC(),
	}
}

// storeContract checks what every Store must do.
func storeContract(t *testing.T, s Store) {
	t.Helper()
	if _, err := s.Load("p1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Load of a missing profile: %v, want ErrNotFound", err)
	}
	want := bigSession()
	if err := s.Save("p1", want); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load("p1")
	if err != nil {
		t.Fatal(err)
	}
	if got.IDToken != want.IDToken || got.AccessToken != want.AccessToken || !got.Expiry.Equal(want.Expiry) || got.Subject != "alice" {
		t.Fatal("round trip changed the session")
	}
	small := &Session{Issuer: "x", ClientID: "y", RefreshToken: "rt"}
	if err := s.Save("p1", small); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Load("p1"); got == nil || got.RefreshToken != "rt" || got.IDToken != "" {
		t.Fatal("overwriting a big session with a small one failed")
	}
	if _, err := s.Load("p2"); !errors.Is(err, ErrNotFound) {
		t.Fatal("profiles must not share sessions")
	}
	if err := s.Delete("p1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete("p1"); err != nil {
		t.Fatalf("deleting twice: %v", err)
	}
	if _, err := s.Load("p1"); !errors.Is(err, ErrNotFound) {
		t.Fatal("session still there after Delete")
	}
}

func TestMemoryStore(t *testing.T) { storeContract(t, &MemoryStore{}) }

func TestFileStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sessions")
	s := &FileStore{Dir: dir}
	storeContract(t, s)
	if err := s.Save("p", bigSession()); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, "p.json"): 0o600} {
		fi, err := os.Stat(path)
		if err != nil || fi.Mode().Perm() != want {
			t.Fatalf("%s: mode %v, want %v (%v)", path, fi.Mode().Perm(), want, err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "p.json"), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load("p"); err == nil || !strings.Contains(err.Error(), "p.json is corrupt") {
		t.Fatalf("want corrupt-file error naming the file, got %v", err)
	}
}

func TestKeyringStoreChunksUnderLimit(t *testing.T) {
	kr := &mapKeyring{limit: 2000}
	storeContract(t, &KeyringStore{API: kr})
	s := &KeyringStore{API: kr}
	if err := s.Save("p", bigSession()); err != nil {
		t.Fatal(err)
	}
	for k, v := range kr.items {
		if len(v) > DefaultChunkSize {
			t.Fatalf("item %s is %d bytes, over the chunk size", k, len(v))
		}
	}
	if len(kr.items) < 3 {
		t.Fatalf("want the big session chunked, got %d items", len(kr.items))
	}
	// Shrinking removes the extra parts.
	if err := s.Save("p", &Session{Issuer: "x"}); err != nil {
		t.Fatal(err)
	}
	if len(kr.items) != 1 {
		t.Fatalf("stale parts left behind: %d items", len(kr.items))
	}
}

func TestKeyringStoreDetectsSilentTruncation(t *testing.T) {
	kr := &mapKeyring{limit: 500, truncate: true}
	err := (&KeyringStore{API: kr, ChunkSize: 1000}).Save("p", bigSession())
	if err == nil || !strings.Contains(err.Error(), "different value") {
		t.Fatalf("want read-back mismatch, got %v", err)
	}
}

func TestKeyringStoreUnavailableAndTimeout(t *testing.T) {
	kr := &mapKeyring{fail: errors.New("the name org.freedesktop.secrets was not provided by any .service files")}
	_, err := (&KeyringStore{API: kr}).Load("p")
	var ue *UnavailableError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "--insecure-storage") || !strings.Contains(err.Error(), "AGCURL_STORAGE=file") {
		t.Fatalf("want UnavailableError naming the opt-ins, got %v", err)
	}

	hang := make(chan struct{})
	defer close(hang)
	start := time.Now()
	_, err = (&KeyringStore{API: &mapKeyring{hang: hang}, Timeout: 50 * time.Millisecond}).Load("p")
	if !errors.Is(err, ErrKeyringTimeout) || !errors.As(err, &ue) {
		t.Fatalf("want timeout, got %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("timeout not honoured")
	}
}

// TestSystemKeyring runs the keyring store against the OS keyring: on
// Linux, a real Secret Service (CI runs gnome-keyring in a D-Bus session).
// It runs when AGCURL_TEST_KEYRING=1 and then must pass.
func TestSystemKeyring(t *testing.T) {
	if os.Getenv("AGCURL_TEST_KEYRING") != "1" {
		t.Skip("set AGCURL_TEST_KEYRING=1 to test against the OS keyring")
	}
	s := &KeyringStore{API: SystemKeyring{}, Service: "agcurl-test-" + randomSuffix()}
	t.Cleanup(func() { _ = s.Delete("p1"); _ = s.Delete("p") })
	storeContract(t, s)
	// A session too big for one item on Windows and macOS still round-trips.
	if err := s.Save("p", bigSession()); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load("p")
	if err != nil || got.IDToken != bigSession().IDToken {
		t.Fatalf("big session: %v", err)
	}
	// It is really in the Secret Service, under the service name.
	head, err := keyring.Get(s.Service, "p")
	if err != nil || !strings.HasPrefix(head, chunkedPrefix) {
		t.Fatalf("keyring item: %q %v", head, err)
	}
}

func randomSuffix() string { return time.Now().Format("150405.000000") }

func TestConfigRoundTripAndCorrupt(t *testing.T) {
	dir := t.TempDir()
	c, err := LoadConfig(dir)
	if err != nil || len(c.Profiles) != 0 {
		t.Fatalf("missing config should be empty: %v", err)
	}
	err = UpdateConfig(context.Background(), dir, func(c *Config) error {
		c.Profiles["default"] = &Profile{Endpoint: "https://x", ClientID: "c"}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A failing change writes nothing.
	boom := errors.New("boom")
	if err := UpdateConfig(context.Background(), dir, func(c *Config) error {
		c.Profiles["default"].ClientID = "changed"
		return boom
	}); !errors.Is(err, boom) {
		t.Fatal(err)
	}
	c, _ = LoadConfig(dir)
	if c.Profiles["default"].ClientID != "c" {
		t.Fatal("failed update was written")
	}
	fi, _ := os.Stat(filepath.Join(dir, ConfigFileName))
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("config mode %v", fi.Mode().Perm())
	}
	os.WriteFile(filepath.Join(dir, ConfigFileName), []byte(`{"profiles":{"bad name":{}}}`), 0o600)
	if _, err := LoadConfig(dir); err == nil || !strings.Contains(err.Error(), "invalid profile") {
		t.Fatalf("want invalid profile error, got %v", err)
	}
}

func TestConcurrentConfigUpdatesAreNotLost(t *testing.T) {
	dir := t.TempDir()
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := "p" + string(rune('a'+i))
			if err := UpdateConfig(context.Background(), dir, func(c *Config) error {
				c.Profiles[name] = &Profile{Endpoint: "https://x", ClientID: name}
				return nil
			}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	c, err := LoadConfig(dir)
	if err != nil || len(c.Profiles) != 20 {
		t.Fatalf("want 20 profiles, got %d (%v)", len(c.Profiles), err)
	}
}

func TestValidateProfileName(t *testing.T) {
	for _, ok := range []string{"default", "staging-1", "a.b_c"} {
		if ValidateProfileName(ok) != nil {
			t.Errorf("%q should be valid", ok)
		}
	}
	for _, bad := range []string{"", "../x", "a/b", "-x", "a b", strings.Repeat("x", 65)} {
		if ValidateProfileName(bad) == nil {
			t.Errorf("%q should be invalid", bad)
		}
	}
}
