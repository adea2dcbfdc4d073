// Package browser is a stand-in for a person at a web browser, for tests
// and the demo: it follows the authorization URL's redirects through the
// provider's (auto-approving) login page to agcurl's loopback redirect, as a
// browser would, and reports the last page's status.
package browser

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"strings"
	"time"
)

// Follow GETs url and follows redirects (up to 20), keeping cookies, and
// returns an error unless the last answer is 200.
func Follow(ctx context.Context, url string) error {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("browser: %s answered %s: %s", resp.Request.URL.Redacted(), resp.Status, body)
	}
	return nil
}

// Async is an auth.Browser that follows the URL in the background, as a
// real browser would: Open returns at once. Errors go to Errs, if set.
type Async struct {
	Errs chan<- error
}

// Open implements auth.Browser.
func (a Async) Open(url string) error {
	go func() {
		err := Follow(context.Background(), url)
		if a.Errs != nil {
			a.Errs <- err
		}
	}()
	return nil
}

// Main is the stand-in browser command: it follows args[0] and reports
// failure on stderr with exit code 1.
func Main(ctx context.Context, args []string) int {
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "usage: testbrowser URL")
		return 2
	}
	// A browser is a program agcurl does not control: it must not inherit
	// agcurl's secrets. This one refuses to sign in when it did, so that
	// the login it was opened for fails.
	for _, k := range []string{"AGCURL_CLIENT_SECRET", "AGCURL_ACCESS_TOKEN", "AGCURL_REFRESH_TOKEN"} {
		if os.Getenv(k) != "" {
			fmt.Fprintf(os.Stderr, "testbrowser: refusing to sign in: inherited %s from agcurl\n", k)
			return 3
		}
	}
	// For the tests that check what agcurl puts on a child's command
	// line: $AGCURL_TEST_BROWSER_ARGV names a file the arguments are
	// added to.
	if path := os.Getenv("AGCURL_TEST_BROWSER_ARGV"); path != "" {
		if f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600); err == nil {
			fmt.Fprintln(f, strings.Join(args, " "))
			f.Close()
		}
	}
	if err := Follow(ctx, args[0]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// FinalRedirect follows url's redirects like Follow, but stops at the first
// redirect to a loopback address and returns it unvisited: what a user sees
// in the address bar of a browser on another machine.
func FinalRedirect(ctx context.Context, url string) (string, error) {
	jar, _ := cookiejar.New(nil)
	var final string
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if req.URL.Host != via[0].URL.Host {
			final = req.URL.String()
			return http.ErrUseLastResponse
		}
		return nil
	}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	if final == "" {
		return "", fmt.Errorf("browser: no redirect away from %s", req.URL.Host)
	}
	return final, nil
}
