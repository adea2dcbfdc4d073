package auth_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/agcurl/agcurl/auth"
	"github.com/agcurl/agcurl/internal/browser"
	"github.com/agcurl/agcurl/internal/testop"
	"github.com/agcurl/agcurl/keychain"
)

// launcher is an auth.BrowserLauncher whose program "exits" with exit
// after doing open.
type launcher struct {
	open func(url string)
	exit error
}

func (l launcher) Open(u string) error { _, err := l.Launch(u); return err }

func (l launcher) Launch(u string) (<-chan error, error) {
	ch := make(chan error, 1)
	go func() {
		if l.open != nil {
			l.open(u)
		}
		ch <- l.exit
	}()
	return ch, nil
}

func loginWith(info *auth.ProviderInfo, b auth.Browser) (*keychain.Session, error) {
	// The timeout only bounds the test should Login not return.
	return cli(info).Login(context.Background(), auth.LoginOptions{
		RedirectURI: "http://127.0.0.1:53682/callback", RandomPort: true,
		Browser: b, ShowURL: func(string, error) {}, Timeout: time.Minute,
	})
}

// A browser program that fails ends the wait with a BrowserExitError; one
// that hands the URL on and exits 0 does not.
func TestLoginStopsWhenTheBrowserFails(t *testing.T) {
	srv := startOP(t, testop.Options{})
	info := discover(t, srv)
	_, err := loginWith(info, launcher{exit: errors.New("exit status 1")})
	var be *auth.BrowserExitError
	if !errors.As(err, &be) || !strings.Contains(err.Error(), "exit status 1") {
		t.Fatalf("a failed browser: got %v, want a BrowserExitError", err)
	}
	s, err := loginWith(info, launcher{open: func(u string) { go browser.Follow(context.Background(), u) }})
	if err != nil || s.Subject != "alice" {
		t.Fatalf("a browser that exits 0: %v", err)
	}
}

// A redirect back with an error (the user denied access) ends the wait at
// once, and its description, the provider's text, is quoted so that no
// control character reaches a terminal.
func TestLoginStopsAtAProviderError(t *testing.T) {
	srv := startOP(t, testop.Options{})
	info := discover(t, srv)
	deny := func(authURL string) error {
		u, err := url.Parse(authURL)
		if err != nil {
			return err
		}
		q := u.Query()
		back := url.Values{"state": {q.Get("state")}, "error": {"access_denied"},
			"error_description": {"\x1b[2Jdenied\r\nagcurl: all good\u202e"}}
		go func() {
			resp, err := http.Get(q.Get("redirect_uri") + "?" + back.Encode())
			if err == nil {
				resp.Body.Close()
			}
		}()
		return nil
	}
	_, err := loginWith(info, browserFunc(deny))
	var pe *auth.ProviderError
	if !errors.As(err, &pe) || pe.Code != "access_denied" {
		t.Fatalf("got %v, want the provider's access_denied", err)
	}
	if msg := err.Error(); strings.ContainsAny(msg, "\x1b\r\n\u202e") || !strings.Contains(msg, `\x1b[2Jdenied\r\nagcurl: all good\u202e`) {
		t.Fatalf("the provider's text is not quoted: %q", msg)
	}
}

type browserFunc func(string) error

func (f browserFunc) Open(u string) error { return f(u) }
