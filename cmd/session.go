package cmd

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/agcurl/agcurl/auth"
	"github.com/agcurl/agcurl/httpcall"
	"github.com/agcurl/agcurl/internal/config"
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
	return fmt.Sprintf("profile %q is not configured; run `agcurl configure%s --endpoint URL --client-id ID`, then `agcurl login%s` "+
		"(or set AGCURL_ENDPOINT and AGCURL_CLIENT_ID)", e.Profile, flag, flag)
}

func (e *NotConfiguredError) Unwrap() error { return auth.ErrLoginRequired }

// needsLoginError is a failure that leaves the user not logged in; exit 4.
type needsLoginError struct{ msg string }

func (e *needsLoginError) Error() string { return e.msg }
func (e *needsLoginError) Unwrap() error { return auth.ErrLoginRequired }

// profileContext is a resolved profile: its name, the config dir and what
// the config (with AGCURL_ENDPOINT and AGCURL_CLIENT_ID over it) says of it.
type profileContext struct {
	f       *Factory
	name    string
	dir     string
	cfg     *config.Config
	profile *config.Profile // nil when not configured
	secret  *secretCache    // the stored client secret, once read
}

// resolveProfile loads the configuration and picks the profile: the
// --profile flag, then $AGCURL_PROFILE, then the configured default, then
// "default". $AGCURL_ENDPOINT and $AGCURL_CLIENT_ID override what the
// configuration says of it (flag > environment > configuration).
func resolveProfile(f *Factory, flag string) (*profileContext, error) {
	dir, err := f.ConfigDir()
	if err != nil {
		return nil, err
	}
	cfg, err := config.Load(dir)
	if err != nil {
		return nil, err
	}
	name := firstNonEmpty(flag, f.Getenv("AGCURL_PROFILE"), cfg.DefaultProfile, "default")
	if err := keychain.ValidateProfileName(name); err != nil {
		return nil, &UsageError{Err: err}
	}
	p := &profileContext{f: f, name: name, dir: dir, cfg: cfg, profile: cfg.Profiles[name]}
	endpoint, clientID := f.Getenv("AGCURL_ENDPOINT"), f.Getenv("AGCURL_CLIENT_ID")
	if endpoint == "" && clientID == "" {
		return p, nil
	}
	np := config.Profile{}
	if p.profile != nil {
		np = *p.profile
	}
	if endpoint != "" {
		if endpoint, err = auth.NormalizeEndpoint(endpoint); err != nil {
			return nil, usageErrorf("AGCURL_ENDPOINT: %v", err)
		}
		// An issuer with a trailing slash (Auth0's) is configured with it;
		// the variable may leave it out.
		if endpoint != np.Endpoint && endpoint+"/" != np.Endpoint {
			np.Endpoint, np.Provider = endpoint, nil // discovered when needed
		}
	}
	if clientID != "" {
		np.ClientID = clientID
	}
	p.profile = &np
	return p, nil
}

// requireConfigured returns an error unless the profile has an endpoint
// and a client id; it runs discovery when the endpoint came from the
// environment and differs from the configured one.
func (p *profileContext) requireConfigured(ctx context.Context) error {
	if p.profile == nil || p.profile.Endpoint == "" || p.profile.ClientID == "" {
		return &NotConfiguredError{Profile: p.name}
	}
	if p.profile.Provider == nil {
		info, err := auth.Discover(ctx, p.f.HTTPClient, p.profile.Endpoint)
		if err != nil {
			return err
		}
		// The issuer, which may add a trailing slash, is the endpoint.
		p.profile.Endpoint, p.profile.Provider = info.Issuer, info
		return nil
	}
	// The cached discovery data passes the same checks as discovery did:
	// whoever can write config.json must not redirect tokens elsewhere.
	if err := auth.CheckProvider(p.profile.Provider, p.profile.Endpoint); err != nil {
		return fmt.Errorf("the provider data cached for profile %q in %s fails a check (%v); run `agcurl configure%s --endpoint %s` to discover it again",
			p.name, filepath.Join(p.dir, config.FileName), err, p.profileFlag(), p.profile.Endpoint)
	}
	return nil
}

// client is the OpenID Connect client for the profile's provider; the
// profile must be configured (requireConfigured).
func (p *profileContext) client() *auth.Client {
	return &auth.Client{Provider: p.profile.Provider, ClientID: p.profile.ClientID, HTTP: p.f.HTTPClient, Now: p.f.Now,
		ClientSecret: p.clientSecretFor(p.profile.Endpoint, p.profile.ClientID), AuthMethod: p.profile.ClientAuthMethod}
}

// profileFlag is " --profile NAME" for a profile other than the default
// one, else "", for the commands that messages suggest.
func (p *profileContext) profileFlag() string { return profileFlagFor(p.name) }

// sessionBelongs reports whether s was issued by the profile's current
// provider to its current client: only then may it be refreshed, revoked or
// shown as valid there.
func (p *profileContext) sessionBelongs(s *keychain.Session) bool {
	// The issuer is the endpoint (discovery checks it), so this needs no
	// discovery when AGCURL_ENDPOINT names another one.
	return p.profile != nil && s.Issuer == p.profile.Endpoint && s.ClientID == p.profile.ClientID
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
	return &keychain.KeyringStore{API: p.f.Keyring, Cache: p.tokenCache()}
}

// tokenCache is where a keyring session's access token is cached
// (docs/security.md): $XDG_RUNTIME_DIR/agcurl, or nowhere without one.
func (p *profileContext) tokenCache() *keychain.TokenCache {
	run := p.f.Getenv("XDG_RUNTIME_DIR")
	if run == "" || !filepath.IsAbs(run) {
		return nil
	}
	return &keychain.TokenCache{Dir: filepath.Join(run, "agcurl"), GenDir: p.dir, Now: p.f.Now}
}

func (p *profileContext) store() (keychain.Store, error) {
	name, err := p.storageName()
	if err != nil {
		return nil, err
	}
	return p.storeFor(name), nil
}

// refresher returns the refresh-if-needed helper for this profile. With
// $AGCURL_REFRESH_TOKEN set, it works on an in-memory session made from
// that token, and stores nothing.
func (p *profileContext) refresher(ctx context.Context) (*auth.Refresher, error) {
	if err := p.requireConfigured(ctx); err != nil {
		return nil, err
	}
	r := &auth.Refresher{
		Client:  p.client(),
		Profile: p.name,
		Locker:  dirLocker(p.dir),
	}
	if rt := p.f.Getenv("AGCURL_REFRESH_TOKEN"); rt != "" {
		mem := &keychain.MemoryStore{}
		_ = mem.Save(p.name, &keychain.Session{Issuer: p.profile.Provider.Issuer, ClientID: p.profile.ClientID, RefreshToken: rt})
		r.Store, r.Locker = mem, noLocker{}
		r.EnvVar = "AGCURL_REFRESH_TOKEN"
		r.Rotated = func() {
			fmt.Fprintln(p.f.IO.ErrOut, "agcurl: warning: the provider rotated the refresh token from AGCURL_REFRESH_TOKEN, "+
				"so that secret no longer works; turn off refresh-token rotation for this client, or use a machine client "+
				"(agcurl login --client-credentials); see docs/ci.md")
		}
		return r, nil
	}
	store, err := p.store()
	if err != nil {
		return nil, err
	}
	r.Store = store
	return r, nil
}

// session returns the profile's refresher and a session whose access token
// is valid (refreshed first if due), with the usual hints on failure.
func (p *profileContext) session(ctx context.Context) (*auth.Refresher, *keychain.Session, error) {
	r, err := p.refresher(ctx)
	if err != nil {
		return nil, nil, p.withHint(err)
	}
	s, err := r.Token(ctx)
	if err != nil {
		return nil, nil, p.withHint(err)
	}
	return r, s, nil
}

// tokens returns where commands get their access token: $AGCURL_ACCESS_TOKEN
// as is, or the refresher.
func (p *profileContext) tokens(ctx context.Context) (httpcall.TokenSource, error) {
	if at := p.f.Getenv("AGCURL_ACCESS_TOKEN"); at != "" {
		if err := checkTokenText("AGCURL_ACCESS_TOKEN", at); err != nil {
			return nil, err
		}
		return staticTokens(at), nil
	}
	r, err := p.refresher(ctx)
	if err != nil {
		return nil, p.withHint(err)
	}
	return refresherTokens{r: r, hint: p.withHint}, nil
}

// withHint adds, when no one is at the terminal, what works without one to
// a "login required" error.
func (p *profileContext) withHint(err error) error {
	p.tagClientAuth(err)
	var lre *auth.LoginRequiredError
	if errors.As(err, &lre) && lre.EnvVar != "" {
		return err // the variable's secret is at fault; no other advice
	}
	if errors.Is(err, auth.ErrLoginRequired) && !p.f.IO.Interactive() {
		return &remediedError{err: err, msg: withRemedy(err).Error() + "; " + p.nonInteractiveHelp()}
	}
	return err
}

// checkTokenText refuses a token from the environment that a header could
// not carry (spaces, control characters, non-ASCII): it is not a token,
// and nothing is sent.
func checkTokenText(name, tok string) error {
	for i := 0; i < len(tok); i++ {
		if c := tok[i]; c < 0x21 || c > 0x7e {
			return &UsageError{Err: fmt.Errorf("%s holds a character at byte %d that a token cannot hold (a space, a control character or non-ASCII); nothing was sent", name, i)}
		}
	}
	return nil
}

type noLocker struct{}

func (noLocker) LockSession(context.Context, string) (func(), error) { return func() {}, nil }

// staticTokens is $AGCURL_ACCESS_TOKEN: used as is, never refreshed.
type staticTokens string

func (t staticTokens) AccessToken(context.Context) (string, error) { return string(t), nil }
func (t staticTokens) Refresh(context.Context, string) (string, error) {
	return "", httpcall.ErrNoRefresh
}

// refresherTokens adapts auth.Refresher to httpcall.TokenSource.
type refresherTokens struct {
	r    *auth.Refresher
	hint func(error) error
}

func (t refresherTokens) AccessToken(ctx context.Context) (string, error) {
	tok, err := t.r.AccessToken(ctx)
	if err != nil {
		return "", t.hint(err)
	}
	return tok, nil
}

func (t refresherTokens) Refresh(ctx context.Context, rejected string) (string, error) {
	s, err := t.r.ForceRefresh(ctx, rejected)
	if err != nil {
		return "", t.hint(err)
	}
	return s.AccessToken, nil
}

// loginCommand is the command that logs this profile in.
func (p *profileContext) loginCommand() string { return loginCommandFor(p.name) }
