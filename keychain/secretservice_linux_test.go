//go:build linux

package keychain

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	dbus "github.com/godbus/dbus/v5"
	"github.com/zalando/go-keyring"
	ss "github.com/zalando/go-keyring/secret_service"
)

func needKeyring(t testing.TB) string {
	t.Helper()
	if os.Getenv("AGCURL_TEST_KEYRING") != "1" {
		t.Skip("set AGCURL_TEST_KEYRING=1 to test against the OS keyring")
	}
	return os.Getenv("DBUS_SESSION_BUS_ADDRESS")
}

// TestSecretServiceRead checks the quick read against gnome-keyring: it
// reads what go-keyring wrote, sees every change go-keyring makes at once
// (a new value, a deletion), and is safe for concurrent use.
func TestSecretServiceRead(t *testing.T) {
	addr := needKeyring(t)
	service := "agcurl-test-ss-" + randomSuffix()
	t.Cleanup(func() { _ = keyring.Delete(service, "p"); _ = keyring.Delete(service, "q") })

	if err := keyring.Set(service, "p", "first"); err != nil {
		t.Fatal(err)
	}
	if v, err := secretGet(addr, service, "p"); err != nil || v != "first" {
		t.Fatalf("quick read: %q, %v; want \"first\" without falling back", v, err)
	}
	if err := keyring.Set(service, "p", "second"); err != nil {
		t.Fatal(err)
	}
	if v, err := secretGet(addr, service, "p"); err != nil || v != "second" {
		t.Fatalf("after a Set: %q, %v", v, err)
	}

	big := strings.Repeat("x", 40<<10)
	if err := keyring.Set(service, "q", big); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			user, want := "p", "second"
			if i%2 == 1 {
				user, want = "q", big
			}
			if v, err := (SystemKeyring{}).Get(service, user); err != nil || v != want {
				errs <- errors.Join(err, errors.New("concurrent read got another value"))
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	// A deleted item is gone for the quick read too, and not found for
	// the keyring as a whole: a logout leaves nothing readable.
	if err := keyring.Delete(service, "p"); err != nil {
		t.Fatal(err)
	}
	if v, err := secretGet(addr, service, "p"); !errors.Is(err, errSecretFallback) || v != "" {
		t.Fatalf("quick read after Delete: %q, %v; want a fallback", v, err)
	}
	if _, err := (SystemKeyring{}).Get(service, "p"); !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("Get after Delete: %v, want ErrNotFound", err)
	}
}

// TestSecretServiceReadsTheLoginCollectionOnly checks that an item go-keyring
// would not find (it reads only the login collection) is not found: else
// a session left in another collection would be used, and could not be
// removed by logging out.
func TestSecretServiceReadsTheLoginCollectionOnly(t *testing.T) {
	addr := needKeyring(t)
	service := "agcurl-test-ss-" + randomSuffix()
	svc, err := ss.NewSecretService()
	if err != nil {
		t.Fatal(err)
	}
	session, err := svc.OpenSession()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = svc.Close(session) }()
	// gnome-keyring's "session" collection lives in memory until logout.
	elsewhere := svc.GetCollection("session")
	attrs := map[string]string{"username": "p", "service": service}
	if err := svc.CreateItem(elsewhere, "test", attrs, ss.NewSecret(session.Path(), "elsewhere")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if items, err := svc.SearchItems(elsewhere, attrs); err == nil {
			for _, item := range items {
				_ = svc.Delete(item)
			}
		}
	})
	if v, err := secretGet(addr, service, "p"); !errors.Is(err, errSecretFallback) || v != "" {
		t.Fatalf("quick read of an item outside the login collection: %q, %v; want a fallback", v, err)
	}
	if v, err := (SystemKeyring{}).Get(service, "p"); !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("Get of an item outside the login collection: %q, %v; want ErrNotFound", v, err)
	}

	// With the same item in the login collection too, that one is read.
	if err := keyring.Set(service, "p", "login"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = keyring.Delete(service, "p") })
	if v, err := (SystemKeyring{}).Get(service, "p"); err != nil || v != "login" {
		t.Fatalf("Get with an item in both collections: %q, %v; want the login collection's", v, err)
	}
}

func TestPlainMatch(t *testing.T) {
	login := dbus.ObjectPath(ssLoginCollection + "7")
	other := dbus.ObjectPath("/org/freedesktop/secrets/collection/session/1")
	cases := []struct {
		name             string
		unlocked, locked []dbus.ObjectPath
		ok               bool
	}{
		{"one unlocked login item", []dbus.ObjectPath{login}, nil, true},
		{"nothing", nil, nil, false},
		{"locked", nil, []dbus.ObjectPath{login}, false},
		{"unlocked and locked", []dbus.ObjectPath{login}, []dbus.ObjectPath{other}, false},
		{"two", []dbus.ObjectPath{login, login + "1"}, nil, false},
		{"another collection", []dbus.ObjectPath{other}, nil, false},
		{"a collection named like login", []dbus.ObjectPath{"/org/freedesktop/secrets/collection/login2/3"}, nil, false},
	}
	for _, c := range cases {
		item, ok := plainMatch(c.unlocked, c.locked)
		if ok != c.ok || ok && item != login {
			t.Errorf("%s: %q %v, want ok=%v", c.name, item, ok, c.ok)
		}
	}
}

// fakeBus listens on a unix socket and answers the SASL exchange with
// answer, then hangs up.
func fakeBus(t *testing.T, answer string) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "bus")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		var got []byte
		buf := make([]byte, 256)
		for !strings.Contains(string(got), "BEGIN\r\n") {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			got = append(got, buf[:n]...)
		}
		_, _ = c.Write([]byte(answer))
	}()
	return "unix:path=" + sock
}

// TestSecretServiceRefusedAuthFallsBack checks that a bus that refuses
// the pipelined EXTERNAL authentication makes the quick read fail (and so
// hand over to go-keyring) instead of hanging or reading garbage.
func TestSecretServiceRefusedAuthFallsBack(t *testing.T) {
	for _, answer := range []string{"REJECTED DBUS_COOKIE_SHA1\r\n", "ERROR\r\n", ""} {
		addr := fakeBus(t, answer)
		v, err := secretGet(addr, "agcurl-test", "p")
		if err == nil || v != "" {
			t.Fatalf("answer %q: %q, %v; want an error", answer, v, err)
		}
	}
}

func TestUnixBusSocket(t *testing.T) {
	for addr, want := range map[string]string{
		"unix:path=/run/user/1000/bus":                        "/run/user/1000/bus",
		"unix:abstract=/tmp/dbus-XYZ,guid=0123":               "@/tmp/dbus-XYZ",
		"unix:path=/tmp/a%20b;tcp:host=localhost,port=1":      "/tmp/a b",
		"tcp:host=localhost,port=1;unix:path=/run/user/1/bus": "",
		"unix:runtime=yes":                                    "",
		"":                                                    "",
	} {
		got, err := unixBusSocket(addr)
		if got != want || (want == "") != (err != nil) {
			t.Errorf("%q: %q, %v; want %q", addr, got, err, want)
		}
	}
}

// BenchmarkSecretServiceGet reads one item as a new process would (a new
// connection every time) and as later reads of the same process do,
// through go-keyring and through SystemKeyring.
func BenchmarkSecretServiceGet(b *testing.B) {
	addr := needKeyring(b)
	service := "agcurl-bench-" + randomSuffix()
	if err := keyring.Set(service, "p", strings.Repeat("s", 1500)); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = keyring.Delete(service, "p") })
	dropConn := func() {
		secretConns.mu.Lock()
		if c := secretConns.c; c != nil {
			_ = c.conn.Close()
			secretConns.c = nil
		}
		secretConns.mu.Unlock()
	}
	b.Run("go-keyring/new-connection", func(b *testing.B) {
		for b.Loop() {
			// go-keyring keeps godbus's shared connection; a new process
			// makes it first.
			c, err := dbus.SessionBus()
			if err != nil {
				b.Fatal(err)
			}
			_ = c.Close()
			if _, err := keyring.Get(service, "p"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("go-keyring/same-connection", func(b *testing.B) {
		for b.Loop() {
			if _, err := keyring.Get(service, "p"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("agcurl/new-connection", func(b *testing.B) {
		for b.Loop() {
			dropConn()
			if _, err := secretGet(addr, service, "p"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("agcurl/same-connection", func(b *testing.B) {
		for b.Loop() {
			if _, err := secretGet(addr, service, "p"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
