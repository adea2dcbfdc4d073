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

	// global holds the flags every command takes (--profile, --color);
	// NewRootCmd sets it on its own copy of the Factory.
	global *globalOptions
}

// forInvocation returns a copy of f, with its own IOStreams and global
// options, for one command line.
func (f *Factory) forInvocation() *Factory {
	c := *f
	if f.IO != nil {
		io := *f.IO
		c.IO = &io
	}
	c.global = &globalOptions{}
	return &c
}

// profileFunc returns the lazy resolver of the profile this command line
// names (--profile, $AGCURL_PROFILE, the default profile, "default"). It
// is called in RunE, after the flags are parsed.
func (f *Factory) profileFunc() func() (*profileContext, error) {
	name := ""
	if f.global != nil {
		name = f.global.Profile
	}
	return func() (*profileContext, error) { return resolveProfile(f, name) }
}

// NewFactory returns the factory for the real process.
func NewFactory() *Factory {
	return newFactory(os.Getenv)
}

// secretEnv are the environment variables that carry credentials. Main
// takes them out of the process environment, so that no child (the
// browser, $BROWSER) inherits them; the Factory still sees them.
var secretEnv = []string{"AGCURL_CLIENT_SECRET", "AGCURL_ACCESS_TOKEN", "AGCURL_REFRESH_TOKEN"}

// takeSecretEnv removes secretEnv from the process environment and returns
// a getenv that still answers for them.
func takeSecretEnv() func(string) string {
	secrets := map[string]string{}
	for _, k := range secretEnv {
		if v, ok := os.LookupEnv(k); ok {
			secrets[k] = v
			_ = os.Unsetenv(k)
		}
	}
	return func(k string) string {
		if v, ok := secrets[k]; ok {
			return v
		}
		return os.Getenv(k)
	}
}

func newFactory(getenv func(string) string) *Factory {
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
// platform's opener otherwise. It does not wait for the browser to exit;
// Launch reports how $BROWSER exited.
type systemBrowser struct {
	getenv func(string) string
}

func (b systemBrowser) Open(url string) error {
	_, err := b.Launch(url)
	return err
}

// Launch implements auth.BrowserLauncher: the channel gets $BROWSER's exit
// (nil for success); for the platform's opener, which returns when it has
// handed the URL on, it gets nil at once.
func (b systemBrowser) Launch(url string) (<-chan error, error) {
	// Only a web address is handed to another program: never something it
	// could take for an option or a local file.
	if !strings.HasPrefix(url, "https://") && !strings.HasPrefix(url, "http://") {
		return nil, fmt.Errorf("not opening %q in a browser: not an http(s) URL", url)
	}
	exited := make(chan error, 1)
	if cmdline := strings.TrimSpace(b.getenv("BROWSER")); cmdline != "" {
		args := strings.Fields(cmdline)
		c := exec.Command(args[0], append(args[1:], url)...)
		c.Stdout, c.Stderr = os.Stderr, os.Stderr
		if err := c.Start(); err != nil {
			return nil, fmt.Errorf("cannot run $BROWSER: %w", err)
		}
		go func() {
			if err := c.Wait(); err != nil {
				exited <- fmt.Errorf("$BROWSER (%s) ended with %v", args[0], err)
				return
			}
			exited <- nil
		}()
		return exited, nil
	}
	if err := browser.OpenURL(url); err != nil {
		return nil, err
	}
	exited <- nil
	return exited, nil
}

// dirLocker takes flock(2) locks under a config dir.
type dirLocker string

func (d dirLocker) LockSession(ctx context.Context, profile string) (func(), error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	unlock, err := keychain.LockSession(ctx, string(d), profile)
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return nil, fmt.Errorf("another agcurl process has held profile %s's session lock for 2 minutes; try again", profile)
	}
	return unlock, err
}
