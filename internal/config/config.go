// Package config reads and writes agcurl's configuration file: the
// profiles (provider endpoint, client id, scopes, redirect URI, API base and
// allowed origins, the cached discovery data) and the default profile. It
// holds no secrets; sessions live in package keychain.
package config

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/agcurl/agcurl/auth"
	"github.com/agcurl/agcurl/internal/fileutil"
	"github.com/agcurl/agcurl/keychain"
)

// FileName is the name of the configuration file inside the config dir.
const FileName = "config.json"

// Profile is one configured provider and client. It holds no secrets.
type Profile struct {
	Endpoint    string `json:"endpoint"`
	ClientID    string `json:"client_id"`
	Scope       string `json:"scope,omitempty"`
	RedirectURI string `json:"redirect_uri,omitempty"`
	// Storage names the backend that holds the session:
	// keychain.StorageKeyring (the default when empty) or keychain.StorageFile.
	Storage string `json:"storage,omitempty"`
	// APIBase resolves fetch's relative URLs ("/v1/me"); its origin may
	// receive the token.
	APIBase string `json:"api_base,omitempty"`
	// AllowedOrigins, with APIBase's origin, are the only origins fetch
	// sends the token to, when either is set.
	AllowedOrigins []string `json:"allowed_origins,omitempty"`
	// Provider caches what discovery said, so that refresh, userinfo and
	// logout need no discovery round trip.
	Provider *auth.ProviderInfo `json:"provider,omitempty"`

	// Audience is sent as the audience parameter of sign-ins and client
	// credentials requests, for providers that choose the API of an
	// access token by it (Auth0, Ory Hydra).
	Audience []string `json:"audience,omitempty"`
	// AuthParams are extra parameters of the authorization (and device
	// authorization) request, e.g. Google's access_type=offline.
	AuthParams map[string]string `json:"auth_params,omitempty"`
	// ClientAuthMethod is how the client secret is sent
	// (auth.AuthMethodBasic or auth.AuthMethodPost); as discovery says
	// when empty.
	ClientAuthMethod string `json:"client_auth_method,omitempty"`
	// ClientSecretStorage names the backend (keychain.StorageKeyring or
	// keychain.StorageFile) that holds the secret of a confidential
	// client, under keychain.ClientSecretEntry; empty for a public
	// client. The secret itself is never in this file.
	ClientSecretStorage string `json:"client_secret_storage,omitempty"`
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

// Load reads the configuration in dir. A missing file is an empty
// configuration; a corrupt one is an error that names the file.
func Load(dir string) (*Config, error) {
	path := filepath.Join(dir, FileName)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &Config{Profiles: map[string]*Profile{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	var c Config
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, &CorruptError{Path: path, Detail: fmt.Sprintf("is not valid JSON (%v)", err)}
	}
	if c.Profiles == nil {
		c.Profiles = map[string]*Profile{}
	}
	for name, p := range c.Profiles {
		if p == nil || keychain.ValidateProfileName(name) != nil {
			return nil, &CorruptError{Path: path, Detail: fmt.Sprintf("has an invalid profile %q", name)}
		}
	}
	return &c, nil
}

// CorruptError reports a configuration file that cannot be used as it is;
// nothing was changed.
type CorruptError struct {
	Path   string
	Detail string
}

func (e *CorruptError) Error() string { return "config file " + e.Path + " " + e.Detail }

// Update loads the configuration in dir, lets change modify it, and
// writes it back atomically (mode 0600, dir 0700), all under a lock so that
// concurrent updates do not lose each other. Nothing is written when change
// returns an error.
func Update(ctx context.Context, dir string, change func(*Config) error) error {
	unlock, err := fileutil.Lock(ctx, dir, "config")
	if err != nil {
		return err
	}
	defer unlock()
	c, err := Load(dir)
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
	if err := fileutil.WriteAtomic(filepath.Join(dir, FileName), append(b, '\n')); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	return nil
}
