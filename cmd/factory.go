package cmd

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/pkg/browser"

	"github.com/agcurl/agcurl/auth"
	"github.com/agcurl/agcurl/keychain"
)

// Factory holds what commands need from the outside world. Tests build one
// with buffers, a temporary config dir and a memory keyring; Main builds
// the real one.
type Factory struct {
	IO     *IOStreams
	Getenv func(string) string
	// ConfigDir is the directory holding config.json, sessions and locks.
	ConfigDir func() (string, error)
	// HTTPClient talks to the provider.
	HTTPClient *http.Client
	// Browser opens URLs for login.
	Browser auth.Browser
	// Keyring is the OS keyring.
	Keyring keychain.KeyringAPI
	// Now is the clock.
	Now func() time.Time
}

// NewFactory returns the factory for the real process.
func NewFactory() *Factory {
	getenv := os.Getenv
	// pkg/browser writes the opener's output to its Stdout; keep agcurl's
	// stdout for data.
	browser.Stdout = os.Stderr
	return &Factory{
		IO:         SystemIO(getenv),
		Getenv:     getenv,
		ConfigDir:  func() (string, error) { return configDir(getenv) },
		HTTPClient: &http.Client{Timeout: 60 * time.Second},
		Browser:    systemBrowser{getenv: getenv},
		Keyring:    keychain.SystemKeyring{},
		Now:        time.Now,
	}
}

func configDir(getenv func(string) string) (string, error) {
	if d := getenv("AGCURL_CONFIG_DIR"); d != "" {
		return filepath.Abs(d)
	}
	d, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("cannot find a config directory (%v); set AGCURL_CONFIG_DIR", err)
	}
	return filepath.Join(d, "agcurl"), nil
}

// systemBrowser runs $BROWSER with the URL when set, as gh does, and the
// platform's opener otherwise. It does not wait for the browser to exit.
type systemBrowser struct {
	getenv func(string) string
}

func (b systemBrowser) Open(url string) error {
	if cmdline := strings.TrimSpace(b.getenv("BROWSER")); cmdline != "" {
		args := strings.Fields(cmdline)
		c := exec.Command(args[0], append(args[1:], url)...)
		c.Stdout, c.Stderr = os.Stderr, os.Stderr
		if err := c.Start(); err != nil {
			return fmt.Errorf("cannot run $BROWSER: %w", err)
		}
		go func() { _ = c.Wait() }()
		return nil
	}
	return browser.OpenURL(url)
}

// dirLocker takes flock(2) locks under a config dir.
type dirLocker string

func (d dirLocker) Lock(ctx context.Context, name string) (func(), error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	unlock, err := keychain.Lock(ctx, string(d), name)
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return nil, fmt.Errorf("another agcurl process has held the %s lock for 2 minutes; try again", name)
	}
	return unlock, err
}
