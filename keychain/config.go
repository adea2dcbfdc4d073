package keychain

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// ConfigFileName is the name of the configuration file inside the config dir.
const ConfigFileName = "config.json"

// Storage backends a profile's session can live in.
const (
	StorageKeyring = "keyring"
	StorageFile    = "file"
)

// Profile is one configured provider and client. It holds no secrets.
type Profile struct {
	Endpoint    string `json:"endpoint"`
	ClientID    string `json:"client_id"`
	Scope       string `json:"scope,omitempty"`
	RedirectURI string `json:"redirect_uri,omitempty"`
	// Storage names the backend that holds the session: StorageKeyring
	// (the default when empty) or StorageFile.
	Storage string `json:"storage,omitempty"`
	// APIBase resolves fetch's relative URLs ("/v1/me"); its origin may
	// receive the token.
	APIBase string `json:"api_base,omitempty"`
	// AllowedOrigins, with APIBase's origin, are the only origins fetch
	// sends the token to, when either is set.
	AllowedOrigins []string `json:"allowed_origins,omitempty"`
	// Provider caches what discovery said, so that refresh, userinfo and
	// logout need no discovery round trip.
	Provider *ProviderInfo `json:"provider,omitempty"`
}

// ProviderInfo is the part of an OpenID Provider's discovery document agcurl uses.
type ProviderInfo struct {
	Issuer                      string   `json:"issuer"`
	AuthorizationEndpoint       string   `json:"authorization_endpoint"`
	TokenEndpoint               string   `json:"token_endpoint"`
	UserinfoEndpoint            string   `json:"userinfo_endpoint,omitempty"`
	RevocationEndpoint          string   `json:"revocation_endpoint,omitempty"`
	EndSessionEndpoint          string   `json:"end_session_endpoint,omitempty"`
	JWKSURI                     string   `json:"jwks_uri"`
	DeviceAuthorizationEndpoint string   `json:"device_authorization_endpoint,omitempty"`
	TokenAuthMethods            []string `json:"token_endpoint_auth_methods_supported,omitempty"`
	CodeChallengeMethods        []string `json:"code_challenge_methods_supported,omitempty"`
	PromptValues                []string `json:"prompt_values_supported,omitempty"`
	// AuthorizationResponseIssParameterSupported: the provider adds iss to
	// its authorization responses (RFC 9207), which must then be checked.
	AuthorizationResponseIssParameterSupported bool `json:"authorization_response_iss_parameter_supported,omitempty"`
}

// Config is the whole configuration file.
type Config struct {
	DefaultProfile string              `json:"default_profile,omitempty"`
	Profiles       map[string]*Profile `json:"profiles"`
}

// ProfileNames returns the configured profile names, sorted.
func (c *Config) ProfileNames() []string {
	names := make([]string, 0, len(c.Profiles))
	for n := range c.Profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ValidateProfileName reports whether name can name a profile: letters,
// digits, '.', '_' and '-', starting with a letter or digit, at most 64 long.
// (A hand-written check: a regexp compiled at start-up would cost every
// invocation more than the rest of this package's set-up.)
func ValidateProfileName(name string) error {
	ok := len(name) >= 1 && len(name) <= 64
	for i := 0; ok && i < len(name); i++ {
		c := name[i]
		alnum := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
		ok = alnum || i > 0 && (c == '.' || c == '_' || c == '-')
	}
	if !ok {
		return fmt.Errorf("invalid profile name %q: use letters, digits, '.', '_' and '-'", name)
	}
	return nil
}

// LoadConfig reads the configuration in dir. A missing file is an empty
// configuration; a corrupt one is an error that names the file.
func LoadConfig(dir string) (*Config, error) {
	path := filepath.Join(dir, ConfigFileName)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &Config{Profiles: map[string]*Profile{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	var c Config
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("config file %s is not valid JSON (%v); fix or remove it and run `agcurl configure`", path, err)
	}
	if c.Profiles == nil {
		c.Profiles = map[string]*Profile{}
	}
	for name, p := range c.Profiles {
		if p == nil || ValidateProfileName(name) != nil {
			return nil, fmt.Errorf("config file %s has an invalid profile %q; fix or remove it", path, name)
		}
	}
	return &c, nil
}

// UpdateConfig loads the configuration in dir, lets change modify it, and
// writes it back atomically (mode 0600, dir 0700), all under a lock so that
// concurrent updates do not lose each other. Nothing is written when change
// returns an error.
func UpdateConfig(ctx context.Context, dir string, change func(*Config) error) error {
	unlock, err := Lock(ctx, dir, "config")
	if err != nil {
		return err
	}
	defer unlock()
	c, err := LoadConfig(dir)
	if err != nil {
		return err
	}
	if err := change(c); err != nil {
		return err
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	if err := WriteFileAtomic(filepath.Join(dir, ConfigFileName), append(b, '\n')); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	return nil
}
