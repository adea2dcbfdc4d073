//go:build !windows

package cmd

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/agcurl/agcurl/internal/testop"
	"github.com/agcurl/agcurl/keychain"
)

// execChild is a shell script for `agcurl exec` that says "ready", then
// reports the signals it gets and exits with 40+N on signal N.
const execChild = `trap 'echo got INT; exit 42' INT
trap 'echo got TERM; exit 55' TERM
trap 'echo got USR1; exit 50' USR1
echo ready
while :; do sleep 0.05; done`

// Signals sent to agcurl exec reach the command, and its exit status is
// agcurl's.
func TestExecPassesSignalsOn(t *testing.T) {
	t.Parallel()
	_, env, _ := loggedIn(t, testop.Options{})
	for _, tc := range []struct {
		sig  syscall.Signal
		want string
		code int
	}{
		{syscall.SIGTERM, "got TERM", 55},
		{syscall.SIGINT, "got INT", 42},
		{syscall.SIGUSR1, "got USR1", 50},
	} {
		c := agcurlProcess(t, env, "exec", "--", "sh", "-c", execChild)
		// No controlling terminal, whatever runs the tests: at a terminal's
		// foreground, agcurl leaves SIGINT to the terminal.
		c.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		stdout, err := c.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var errOut syncBuffer
		c.Stderr = &errOut
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		out := bufio.NewReader(stdout)
		if line, err := out.ReadString('\n'); line != "ready\n" {
			t.Fatalf("%q, %v:\n%s", line, err, errOut.String())
		}
		if err := c.Process.Signal(tc.sig); err != nil {
			t.Fatal(err)
		}
		rest, _ := io.ReadAll(out)
		err = c.Wait()
		if string(rest) != tc.want+"\n" || c.ProcessState.ExitCode() != tc.code {
			t.Errorf("%v: the command said %q, agcurl exited %d (%v), want %q and %d; stderr:\n%s",
				tc.sig, rest, c.ProcessState.ExitCode(), err, tc.want, tc.code, errOut.String())
		}
	}
}

// The token handed to the command has at least half of its lifetime left:
// one with less is refreshed first, though still valid for commands.
func TestExecTokenHasHalfItsLifeLeft(t *testing.T) {
	t.Parallel()
	te, _, dir := proxyTestEnv(t, testop.Options{})
	store := &keychain.FileStore{Dir: filepath.Join(dir, "sessions")}
	age := func(used, left time.Duration) string {
		s := storedSession(t, dir)
		s.ObtainedAt, s.Expiry = time.Now().Add(-used), time.Now().Add(left)
		if err := store.Save("default", s); err != nil {
			t.Fatal(err)
		}
		return s.AccessToken
	}
	script := `printf %s "$ACCESS_TOKEN"`
	first := age(14*time.Minute, 16*time.Minute)
	if got := te.mustRun(t, "exec", "--", "sh", "-c", script); got != first || te.srv.Count("grant:refresh_token") != 0 {
		t.Fatalf("with more than half left: a new token (%v) or a refresh (%d)", got != first, te.srv.Count("grant:refresh_token"))
	}
	age(16*time.Minute, 14*time.Minute)
	if got := te.mustRun(t, "token"); strings.TrimSpace(got) != first {
		t.Fatal("agcurl token refreshed before 90% of the lifetime")
	}
	got := te.mustRun(t, "exec", "--", "sh", "-c", script)
	if got == first || got != storedSession(t, dir).AccessToken || te.srv.Count("grant:refresh_token") != 1 {
		t.Fatalf("with less than half left: same token %v, %d refreshes", got == first, te.srv.Count("grant:refresh_token"))
	}
}

// A secret that agcurl took from its environment does not reach the
// command; the token does, by the name asked for.
func TestExecEnvironment(t *testing.T) {
	t.Parallel()
	if os.Getenv("AGCURL_REFRESH_TOKEN") != "" {
		t.Skip("the test's own environment holds AGCURL_REFRESH_TOKEN")
	}
	srv, env, _ := loggedIn(t, testop.Options{})
	_ = srv
	c := agcurlProcess(t, append(env, "AGCURL_CLIENT_SECRET=do-not-leak"), "exec", "--env", "TOK", "--", "sh", "-c",
		`echo "${AGCURL_CLIENT_SECRET:-no secret} ${#TOK}"`)
	out, err := c.CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "no secret ") || strings.HasSuffix(string(out), " 0\n") {
		t.Fatalf("%v: %s", err, out)
	}
}
