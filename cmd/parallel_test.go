package cmd

import (
	"bytes"
	"context"
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

// agcurlProcess runs the agcurl binary (this test binary, in its agcurl
// role) as a separate process with env added to the environment.
func agcurlProcess(ctx context.Context, env []string, args ...string) *exec.Cmd {
	c := exec.CommandContext(ctx, os.Args[0], args...)
	c.Env = append(append(os.Environ(), "AGCURL_TEST_MAIN=1"), env...)
	return c
}

func runAgcurl(t *testing.T, env []string, args ...string) string {
	t.Helper()
	c := agcurlProcess(context.Background(), env, args...)
	var out, errOut bytes.Buffer
	c.Stdout, c.Stderr = &out, &errOut
	if err := c.Run(); err != nil {
		t.Fatalf("agcurl %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
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
			c := agcurlProcess(context.Background(), env, args...)
			var out, errOut bytes.Buffer
			c.Stdout, c.Stderr = &out, &errOut
			errs[i] = c.Run()
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
