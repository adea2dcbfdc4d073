package cmd

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/agcurl/agcurl/auth"
	"github.com/agcurl/agcurl/keychain"
)

// NotConfiguredError says a profile has no configuration yet. It counts as
// "login required" (exit 4): the cure is configure, then login.
type NotConfiguredError struct{ Profile string }

func (e *NotConfiguredError) Error() string {
	flag := ""
	if e.Profile != "default" {
		flag = " --profile " + e.Profile
	}
	return fmt.Sprintf("profile %q is not configured; run `agcurl configure%s --endpoint URL --client-id ID`, then `agcurl login%s`", e.Profile, flag, flag)
}

func (e *NotConfiguredError) Unwrap() error { return auth.ErrLoginRequired }

// profileContext is a resolved profile: its name, the config dir and what
// the config says of it.
type profileContext struct {
	f       *Factory
	name    string
	dir     string
	cfg     *keychain.Config
	profile *keychain.Profile // nil when not configured
}

// resolveProfile loads the configuration and picks the profile: the
// --profile flag, then $AGCURL_PROFILE, then the configured default, then
// "default".
func resolveProfile(f *Factory, g *globalOptions) (*profileContext, error) {
	dir, err := f.ConfigDir()
	if err != nil {
		return nil, err
	}
	cfg, err := keychain.LoadConfig(dir)
	if err != nil {
		return nil, err
	}
	name := g.Profile
	if name == "" {
		name = f.Getenv("AGCURL_PROFILE")
	}
	if name == "" {
		name = cfg.DefaultProfile
	}
	if name == "" {
		name = "default"
	}
	if err := keychain.ValidateProfileName(name); err != nil {
		return nil, &UsageError{Err: err}
	}
	return &profileContext{f: f, name: name, dir: dir, cfg: cfg, profile: cfg.Profiles[name]}, nil
}

// requireConfigured returns an error unless the profile is configured and
// has provider metadata.
func (p *profileContext) requireConfigured() error {
	if p.profile == nil || p.profile.Provider == nil {
		return &NotConfiguredError{Profile: p.name}
	}
	return nil
}

// storageName is the backend holding this profile's session:
// $AGCURL_STORAGE when set, else what login recorded, else the keyring.
func (p *profileContext) storageName() (string, error) {
	switch env := p.f.Getenv("AGCURL_STORAGE"); env {
	case keychain.StorageFile, keychain.StorageKeyring:
		return env, nil
	case "":
	default:
		return "", usageErrorf("AGCURL_STORAGE=%q: want %q or %q", env, keychain.StorageKeyring, keychain.StorageFile)
	}
	if p.profile != nil && p.profile.Storage != "" {
		return p.profile.Storage, nil
	}
	return keychain.StorageKeyring, nil
}

func (p *profileContext) storeFor(name string) keychain.Store {
	if name == keychain.StorageFile {
		return &keychain.FileStore{Dir: filepath.Join(p.dir, "sessions")}
	}
	return &keychain.KeyringStore{API: p.f.Keyring}
}

func (p *profileContext) store() (keychain.Store, error) {
	name, err := p.storageName()
	if err != nil {
		return nil, err
	}
	return p.storeFor(name), nil
}

// refresher returns the refresh-if-needed helper for this profile.
func (p *profileContext) refresher() (*auth.Refresher, error) {
	if err := p.requireConfigured(); err != nil {
		return nil, err
	}
	store, err := p.store()
	if err != nil {
		return nil, err
	}
	return &auth.Refresher{
		Profile:    p.name,
		ClientID:   p.profile.ClientID,
		Provider:   p.profile.Provider,
		Store:      store,
		Locker:     dirLocker(p.dir),
		HTTPClient: p.f.HTTPClient,
		Now:        p.f.Now,
	}, nil
}

// refresherTokens adapts auth.Refresher to httpcall.TokenSource.
type refresherTokens struct{ r *auth.Refresher }

func (t refresherTokens) AccessToken(ctx context.Context) (string, error) {
	s, err := t.r.Token(ctx)
	if err != nil {
		return "", err
	}
	return s.AccessToken, nil
}

func (t refresherTokens) Refresh(ctx context.Context, rejected string) (string, error) {
	s, err := t.r.ForceRefresh(ctx, rejected)
	if err != nil {
		return "", err
	}
	return s.AccessToken, nil
}

// loginHint is the command that logs this profile in.
func (p *profileContext) loginCommand() string {
	if p.name == "default" {
		return "agcurl login"
	}
	return "agcurl login --profile " + p.name
}

// needsLoginError is a failure that leaves the user not logged in; exit 4.
type needsLoginError struct{ msg string }

func (e *needsLoginError) Error() string { return e.msg }
func (e *needsLoginError) Unwrap() error { return auth.ErrLoginRequired }
