package keychain

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
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
	gets     int // calls of Get
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
	m.gets++
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
	if !errors.As(err, &ue) || ue.Profile != "p" || !strings.Contains(err.Error(), "org.freedesktop.secrets") {
		t.Fatalf("want UnavailableError for profile p with the cause, got %v", err)
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
	// A session too big for one item on Windows and macOS still round-trips,
	// in parts where items are small.
	small := &KeyringStore{API: SystemKeyring{}, Service: s.Service, ChunkSize: DefaultChunkSize}
	for _, s := range []*KeyringStore{s, small} {
		if err := s.Save("p", bigSession()); err != nil {
			t.Fatal(err)
		}
		got, err := s.Load("p")
		if err != nil || got.IDToken != bigSession().IDToken {
			t.Fatalf("big session: %v", err)
		}
		// It is really in the keyring, under the service name.
		head, err := keyring.Get(s.Service, "p")
		if err != nil {
			t.Fatalf("keyring item: %v", err)
		}
		b, _ := json.Marshal(bigSession())
		if chunked := strings.HasPrefix(head, chunkedPrefixV2); chunked != (len(b) > s.chunkSize()) {
			t.Fatalf("chunk size %d, session of %d bytes: head %.40q...", s.chunkSize(), len(b), head)
		}
	}
	if err := s.Delete("p"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load("p"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Load after Delete: %v", err)
	}
}

func randomSuffix() string { return time.Now().Format("150405.000000") }

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

// markedSession returns a session too big for one keyring item whose every
// field is derived from marker, so that a session spliced from two saves is
// detectable. Sessions with different markers marshal to the same length.
func markedSession(marker byte) *Session {
	m := string(marker)
	return &Session{
		Issuer: "https://" + m + ".example", ClientID: "client-" + m, Subject: "subject-" + m,
		RefreshToken: strings.Repeat(m, 900), AccessToken: strings.Repeat(m, 1500),
		IDToken: strings.Repeat(m, 2500), Scopes: []string{"scope-" + m},
	}
}

// sessionMarker returns the marker s was made from by markedSession, or
// false if s mixes fields of different sessions.
func sessionMarker(s *Session) (byte, bool) {
	m := s.ClientID[len(s.ClientID)-1]
	want := markedSession(m)
	ok := s.Issuer == want.Issuer && s.ClientID == want.ClientID && s.Subject == want.Subject &&
		s.RefreshToken == want.RefreshToken && s.AccessToken == want.AccessToken &&
		s.IDToken == want.IDToken && len(s.Scopes) == 1 && s.Scopes[0] == want.Scopes[0]
	return m, ok
}

func (m *mapKeyring) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.items)
}

// TestKeyringStoreConcurrentLoadSeesWholeSession saves two chunked sessions
// in turn while another goroutine loads: every Load must return one whole
// session, never an error or a session spliced from both.
func TestKeyringStoreConcurrentLoadSeesWholeSession(t *testing.T) {
	kr := &mapKeyring{}
	s := &KeyringStore{API: kr}
	a, b := markedSession('A'), markedSession('B')
	if err := s.Save("p", a); err != nil {
		t.Fatal(err)
	}
	items := kr.count()
	if items < 3 {
		t.Fatalf("want the session chunked, got %d items", items)
	}

	const saves = 1000
	done := make(chan struct{})
	var loads, errs, spliced int
	var firstErr error
	var readerDone sync.WaitGroup
	readerDone.Add(1)
	go func() {
		defer readerDone.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			got, err := s.Load("p")
			loads++
			if err != nil {
				if errs++; firstErr == nil {
					firstErr = err
				}
				continue
			}
			if _, ok := sessionMarker(got); !ok {
				spliced++
			}
		}
	}()
	for i := range saves {
		next := a
		if i%2 == 0 {
			next = b
		}
		if err := s.Save("p", next); err != nil {
			close(done)
			readerDone.Wait()
			t.Fatalf("save %d: %v", i, err)
		}
		// Real saves are seconds apart; a writer that never yields could
		// outrun every one of Load's tries on a busy machine (starvation,
		// not a splice, which is what this test looks for).
		time.Sleep(200 * time.Microsecond)
	}
	close(done)
	readerDone.Wait()
	t.Logf("%d saves, %d concurrent loads", saves, loads)
	if errs > 0 || spliced > 0 {
		t.Fatalf("concurrent loads: %d errors (first: %v), %d spliced sessions", errs, firstErr, spliced)
	}

	got, err := s.Load("p")
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := sessionMarker(got); !ok || m != 'A' {
		t.Fatalf("last save lost: got marker %q (whole: %v)", m, ok)
	}
	if n := kr.count(); n != items {
		t.Fatalf("parts left behind: %d items after %d saves, want %d", n, saves, items)
	}
	if err := s.Delete("p"); err != nil {
		t.Fatal(err)
	}
	if n := kr.count(); n != 0 {
		t.Fatalf("Delete left %d items behind", n)
	}
}

// saveV1 stores s the way agcurl did before generation-tagged parts:
// parts PROFILE.partN and the head "agcurl-chunked:v1:N".
func saveV1(t *testing.T, kr *mapKeyring, profile string, s *Session) int {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for off := 0; off < len(b); off += DefaultChunkSize {
		n++
		if err := kr.Set("agcurl", profile+".part"+strconv.Itoa(n), string(b[off:min(off+DefaultChunkSize, len(b))])); err != nil {
			t.Fatal(err)
		}
	}
	if err := kr.Set("agcurl", profile, "agcurl-chunked:v1:"+strconv.Itoa(n)); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestKeyringStoreV1Sessions checks that sessions chunked by earlier
// versions still load, and that Save and Delete remove their parts.
func TestKeyringStoreV1Sessions(t *testing.T) {
	kr := &mapKeyring{}
	s := &KeyringStore{API: kr}
	n := saveV1(t, kr, "p", markedSession('A'))
	if n < 2 {
		t.Fatalf("want a chunked v1 session, got %d parts", n)
	}
	got, err := s.Load("p")
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := sessionMarker(got); !ok || m != 'A' {
		t.Fatal("v1 session did not round-trip")
	}
	if err := s.Delete("p"); err != nil {
		t.Fatal(err)
	}
	if c := kr.count(); c != 0 {
		t.Fatalf("Delete of a v1 session left %d items", c)
	}

	saveV1(t, kr, "p", markedSession('A'))
	if err := s.Save("p", markedSession('B')); err != nil {
		t.Fatal(err)
	}
	head, _ := kr.Get("agcurl", "p")
	if !strings.HasPrefix(head, chunkedPrefixV2) {
		t.Fatalf("head after Save: %q, want %s...", head, chunkedPrefixV2)
	}
	for k := range kr.items {
		if strings.HasPrefix(k, "agcurl/p.part") {
			t.Fatalf("v1 part %s left behind by Save", k)
		}
	}
	if got, err := s.Load("p"); err != nil || got.ClientID != "client-B" {
		t.Fatalf("Load after replacing a v1 session: %v", err)
	}

	saveV1(t, kr, "q", markedSession('A'))
	if err := s.Save("q", &Session{Issuer: "x"}); err != nil {
		t.Fatal(err)
	}
	for k := range kr.items {
		if strings.HasPrefix(k, "agcurl/q.") {
			t.Fatalf("v1 part %s left behind by a small Save", k)
		}
	}
}

// TestKeyringStoreIncompleteSession checks that a part missing for good is
// reported, not retried forever.
func TestKeyringStoreIncompleteSession(t *testing.T) {
	kr := &mapKeyring{}
	s := &KeyringStore{API: kr}
	if err := s.Save("p", markedSession('A')); err != nil {
		t.Fatal(err)
	}
	for k := range kr.items {
		if strings.HasSuffix(k, ".part2") {
			delete(kr.items, k)
		}
	}
	if _, err := s.Load("p"); err == nil || !strings.Contains(err.Error(), "incomplete") {
		t.Fatalf("want an incomplete-session error, got %v", err)
	}
}

func TestFileStoreRemovesStaleTempFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sessions")
	s := &FileStore{Dir: dir}
	if err := s.Delete("p"); err != nil { // no directory yet
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	write := func(name string) string {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(`{"refresh_token":"secret"}`), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	exists := func(path string) bool {
		_, err := os.Lstat(path)
		return err == nil
	}
	// Temp files of other profiles, including one whose name starts with
	// "p.json.tmp-", are not this profile's.
	others := []string{write(".q.json.tmp-123"), write(".p.json.tmp-x.json.tmp-456")}

	stale := write(".p.json.tmp-2718281828")
	if err := s.Save("p", bigSession()); err != nil {
		t.Fatal(err)
	}
	if exists(stale) {
		t.Fatal("Save left the stale temp file of a crashed save")
	}
	stale = write(".p.json.tmp-3141592653")
	if err := s.Delete("p"); err != nil {
		t.Fatal(err)
	}
	if exists(stale) {
		t.Fatal("Delete left the stale temp file of a crashed save")
	}
	for _, path := range others {
		if !exists(path) {
			t.Fatalf("another profile's temp file %s was removed", filepath.Base(path))
		}
	}
}
