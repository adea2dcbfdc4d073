package cmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agcurl/agcurl/internal/testop"
	"github.com/agcurl/agcurl/keychain"
)

// processTimeout is how long an agcurl process the tests start may run
// before it is killed: only one that hangs comes near it.
const processTimeout = 60 * time.Second

// agcurlProcess runs the agcurl binary (this test binary, in its agcurl
// role) as a separate process with env added to the environment. The
// process is killed if it runs for processTimeout, or when the test ends.
func agcurlProcess(t *testing.T, env []string, args ...string) *exec.Cmd {
	ctx, cancel := context.WithTimeout(context.Background(), processTimeout)
	t.Cleanup(cancel)
	c := exec.CommandContext(ctx, os.Args[0], args...)
	c.Env = append(append(os.Environ(), "AGCURL_TEST_MAIN=1", "GORACE="+childGORACE()), env...)
	c.WaitDelay = 5 * time.Second
	return c
}

// processError describes err, from running c; when a signal ended c, it
// recalls that a process still running after processTimeout is killed.
func processError(c *exec.Cmd, err error) string {
	if c.ProcessState != nil && !c.ProcessState.Exited() {
		return fmt.Sprintf("%v (a process still running after %v is killed, as hung)", err, processTimeout)
	}
	return err.Error()
}

func runAgcurl(t *testing.T, env []string, args ...string) string {
	t.Helper()
	c := agcurlProcess(t, env, args...)
	var out, errOut bytes.Buffer
	c.Stdout, c.Stderr = &out, &errOut
	if err := c.Run(); err != nil {
		t.Fatalf("agcurl %s: %s\n%s", strings.Join(args, " "), processError(c, err), errOut.String())
	}
	return out.String()
}

// loggedIn starts a provider, then configures and logs in a profile in a
// fresh config dir through the real binary, and returns the environment
// for further runs.
func loggedIn(t *testing.T, opts testop.Options) (*testop.Server, []string, string) {
	t.Helper()
	srv, err := testop.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	dir := filepath.Join(t.TempDir(), "config")
	self, _ := os.Executable()
	bin := t.TempDir()
	// The stand-in browser is this binary too, under a name testscript
	// does not own: a shell wrapper.
	wrapper := filepath.Join(bin, "testbrowser")
	script := "#!/bin/sh\nAGCURL_TEST_BROWSER=1 exec " + self + " \"$@\"\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	env := []string{"AGCURL_CONFIG_DIR=" + dir, "AGCURL_STORAGE=file", "BROWSER=" + wrapper, "NO_COLOR=1"}
	runAgcurl(t, env, "configure", "--endpoint", srv.Issuer, "--client-id", testop.CLIClientID)
	runAgcurl(t, env, "login", "--browser", "--port", "0")
	return srv, env, dir
}

func expireSession(t *testing.T, dir string) *keychain.Session {
	t.Helper()
	store := &keychain.FileStore{Dir: filepath.Join(dir, "sessions")}
	s, err := store.Load("default")
	if err != nil {
		t.Fatal(err)
	}
	s.ObtainedAt = time.Now().Add(-time.Hour)
	s.Expiry = time.Now().Add(-time.Minute)
	if err := store.Save("default", s); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestParallelProcessesRefreshOnce: 24 agcurl processes share one expired
// session whose refresh token rotates (the old one dies at once). All must
// succeed, with exactly one refresh at the provider.
func TestParallelProcessesRefreshOnce(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts many processes")
	}
	srv, env, dir := loggedIn(t, testop.Options{RotateRefreshTokens: true})
	old := expireSession(t, dir)

	const n = 24
	var wg sync.WaitGroup
	outs := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			args := []string{"fetch", "-sS", srv.APIURL + "/v1/me"}
			if i%3 == 0 {
				args = []string{"token"}
			}
			c := agcurlProcess(t, env, args...)
			var out, errOut bytes.Buffer
			c.Stdout, c.Stderr = &out, &errOut
			if err := c.Run(); err != nil {
				errs[i] = errors.New(processError(c, err))
			}
			outs[i] = out.String() + errOut.String()
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Errorf("process %d: %v: %s", i, errs[i], outs[i])
		} else if i%3 != 0 && !strings.Contains(outs[i], `"sub":"alice"`) {
			t.Errorf("process %d: unexpected output %q", i, outs[i])
		}
	}
	if got := srv.Count("grant:refresh_token"); got != 1 {
		t.Fatalf("refreshes at the provider = %d, want exactly 1", got)
	}
	s, err := (&keychain.FileStore{Dir: filepath.Join(dir, "sessions")}).Load("default")
	if err != nil || s.RefreshToken == old.RefreshToken {
		t.Fatalf("the rotated refresh token was not saved (err %v)", err)
	}
}

// TestKilledRefreshLeavesNoLock: a process killed with SIGKILL while it
// holds the refresh lock (its refresh stalled at the provider) leaves the
// session usable, and the next process refreshes at once.
func TestKilledRefreshLeavesNoLock(t *testing.T) {
	t.Parallel()
	srv, env, dir := loggedIn(t, testop.Options{RotateRefreshTokens: true})
	expireSession(t, dir)
	srv.Fail("/oauth2/token", 1, 0, "", 30*time.Second) // the next refresh stalls

	a := agcurlProcess(t, env, "token")
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for srv.Count("grant:refresh_token") < 1 {
		if time.Now().After(deadline) {
			a.Process.Kill()
			t.Fatal("the first process never reached the token endpoint")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := a.Process.Signal(os.Kill); err != nil {
		t.Fatal(err)
	}
	_ = a.Wait()

	// Were the lock still held, this would fail after the 2-minute lock wait.
	out := runAgcurl(t, env, "fetch", "-sS", srv.APIURL+"/v1/me")
	if !strings.Contains(out, `"sub":"alice"`) {
		t.Fatalf("fetch after the kill: %q", out)
	}
	if got := srv.Count("grant:refresh_token"); got != 2 {
		t.Fatalf("refreshes = %d, want 2 (the killed one, then one more)", got)
	}
}

// TestSecondLoginFailsClearly: while one login for a profile waits for its
// browser, a second one fails at once instead of opening another tab.
func TestSecondLoginFailsClearly(t *testing.T) {
	t.Parallel()
	srv, env, _ := loggedIn(t, testop.Options{})
	_ = srv
	first := agcurlProcess(t, env, "login", "--no-browser", "--port", "0", "--timeout", "30s")
	var firstErr syncBuffer
	first.Stderr = &firstErr
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { first.Process.Kill(); first.Wait() }()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(firstErr.String(), "Waiting for the sign-in") {
		if time.Now().After(deadline) {
			t.Fatalf("first login did not start: %s", firstErr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	second := agcurlProcess(t, env, "login", "--browser", "--port", "0")
	out, err := second.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "another `agcurl login` for profile \"default\" is in progress") {
		t.Fatalf("second login: %v: %s", err, out)
	}
	if srv.Count("/oauth2/authorize") != 1 {
		t.Fatalf("the second login reached the provider")
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
