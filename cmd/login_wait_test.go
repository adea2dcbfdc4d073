package cmd

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/agcurl/agcurl/internal/browser"
	"github.com/agcurl/agcurl/internal/testop"
)

// TestNoBrowserWithoutATerminal: --no-browser with stdin not a terminal
// says at once that a pasted URL cannot be read and which redirect it
// waits for; a redirect back with the provider's error ends the wait at
// once (the timeout only bounds the test should it not).
func TestNoBrowserWithoutATerminal(t *testing.T) {
	te := newTestEnv(t, testop.Options{DenyLogin: true})
	te.mustRun(t, "configure", "--endpoint", te.srv.Issuer, "--client-id", testop.CLIClientID)
	errOut := &syncBuffer{}
	te.f.IO.ErrOut = errOut
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done, user := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(user)
		authURL, err := waitForLine(done, errOut, "/oauth2/authorize?")
		if err == nil {
			// The user at a browser elsewhere denies access; the
			// callback page then says the login failed.
			_ = browser.Follow(context.Background(), authURL)
			return
		}
		t.Error(err)
		cancel()
	}()
	code := Run(ctx, te.f, []string{"login", "--no-browser", "--port", "0", "--timeout", "60s"})
	close(done)
	<-user
	out := errOut.String()
	if code != ExitError || !strings.Contains(out, `the provider said "the user denied the request" (access_denied)`) {
		t.Fatalf("exit %d, want %d with the provider's error: %s", code, ExitError, out)
	}
	if !regexp.MustCompile(`Pasting the redirect URL needs stdin to be a terminal, and it is not: agcurl waits only for\n` +
		`the browser to reach http://127\.0\.0\.1:\d+/callback`).MatchString(out) {
		t.Fatalf("no word on pasting without a terminal: %s", out)
	}
	if strings.Contains(out, "paste it here") || strings.Contains(out, "timed out") {
		t.Fatalf("output: %s", out)
	}
}
