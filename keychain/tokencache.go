package keychain

import (
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/agcurl/agcurl/internal/fileutil"
)

// TokenCache keeps, for a KeyringStore, a copy of the access token of each
// profile's session (never its refresh token, ID token or client secret),
// so that `fetch` with a valid token need not read the OS keyring. The
// policy, and why, is in docs/security.md ("The access-token cache"):
//
//   - the copy lives in a 0600 file in a 0700 directory of the user's own
//     on a file system that ends with the login session ($XDG_RUNTIME_DIR);
//   - it is used only while it belongs to the profile's current session:
//     every save and every deletion of the session in the keyring moves the
//     profile's generation (a random tag in the configuration directory,
//     shared by all agcurl processes using it) on, and a copy made under
//     another generation is never used; a deletion also removes the copy;
//   - it is never used past the token's expiry (and the Refresher, the one
//     user, refreshes earlier, at RefreshFraction of the token's life);
//   - a token of unknown expiry is not copied.
//
// The zero TokenCache, and a nil *TokenCache, cache nothing.
type TokenCache struct {
	// Dir holds the copies: $XDG_RUNTIME_DIR/agcurl. It is created with
	// mode 0700, and not used unless it is a directory (not a link) of
	// this user's with no access for others.
	Dir string
	// GenDir is the configuration directory; the generations are in its
	// locks directory, next to the session locks.
	GenDir string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// cachedToken is what the cache holds for a profile.
type cachedToken struct {
	Gen         string    `json:"gen"`
	Issuer      string    `json:"issuer"`
	ClientID    string    `json:"client_id"`
	AccessToken string    `json:"access_token"`
	TokenType   string    `json:"token_type,omitempty"`
	ObtainedAt  time.Time `json:"obtained_at"`
	Expiry      time.Time `json:"expiry"`
}

// maxCachedToken bounds a cache file; access tokens are far smaller.
const maxCachedToken = 64 << 10

func (c *TokenCache) enabled() bool { return c != nil && c.Dir != "" && c.GenDir != "" }

// names reports whether service and profile can name cache files: profile
// names, and keyring service names of the same characters.
func names(service, profile string) bool {
	return ValidateProfileName(service) == nil && ValidateProfileName(profile) == nil
}

func (c *TokenCache) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *TokenCache) tokenPath(service, profile string) string {
	return filepath.Join(c.Dir, service, profile+".json")
}

func (c *TokenCache) genPath(service, profile string) string {
	return filepath.Join(c.GenDir, "locks", "session-"+profile+"."+service+".gen")
}

// generation returns the profile's current generation, making the first
// one if there is none; "" when there cannot be one (then nothing is
// cached).
func (c *TokenCache) generation(service, profile string) string {
	if !names(service, profile) {
		return ""
	}
	path := c.genPath(service, profile)
	for range 2 {
		b, err := os.ReadFile(path)
		if err == nil {
			if gen := string(b); validGen(gen) {
				return gen
			}
			return "" // unreadable: only a save or a deletion replaces it
		}
		if !errors.Is(err, fs.ErrNotExist) || os.MkdirAll(filepath.Dir(path), 0o700) != nil {
			return ""
		}
		// The first one: made by whoever comes first, read by the others.
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return ""
		}
		gen := newGen()
		_, werr := f.WriteString(gen)
		if cerr := f.Close(); werr != nil || cerr != nil {
			_ = os.Remove(path)
			return ""
		}
		return gen
	}
	return ""
}

// nextGeneration moves the profile's generation on, so that no copy made
// before is used again. It returns the new one, or "" on failure; then
// the generation file is removed if it can be, which also makes every
// earlier copy useless.
func (c *TokenCache) nextGeneration(service, profile string) string {
	if !names(service, profile) {
		return ""
	}
	path := c.genPath(service, profile)
	gen := newGen()
	if err := fileutil.WriteAtomic(path, []byte(gen)); err != nil {
		_ = os.Remove(path)
		return ""
	}
	return gen
}

// load returns the profile's cached token if it was made under generation
// gen and has not expired.
func (c *TokenCache) load(service, profile, gen string) (*Session, bool) {
	if gen == "" || !names(service, profile) || !privateDir(c.Dir) {
		return nil, false
	}
	f, err := os.Open(c.tokenPath(service, profile))
	if err != nil {
		return nil, false
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxCachedToken+1))
	var t cachedToken
	if err != nil || len(b) > maxCachedToken || json.Unmarshal(b, &t) != nil {
		return nil, false
	}
	if t.Gen != gen || t.AccessToken == "" || t.Expiry.IsZero() || !c.now().Before(t.Expiry) {
		return nil, false
	}
	return &Session{Issuer: t.Issuer, ClientID: t.ClientID, AccessToken: t.AccessToken, TokenType: t.TokenType,
		ObtainedAt: t.ObtainedAt, Expiry: t.Expiry}, true
}

// store caches s's access token under generation gen, if it has one of
// known expiry that has not expired. A copy whose generation has moved on
// by the time it is written is removed again, so that a deletion of the
// session that ran meanwhile leaves no copy behind.
func (c *TokenCache) store(service, profile, gen string, s *Session) {
	if gen == "" || s.AccessToken == "" || s.Expiry.IsZero() || !c.now().Before(s.Expiry) ||
		!names(service, profile) || !privateDir(c.Dir) || !privateDir(filepath.Join(c.Dir, service)) {
		return
	}
	b, err := json.Marshal(cachedToken{Gen: gen, Issuer: s.Issuer, ClientID: s.ClientID, AccessToken: s.AccessToken,
		TokenType: s.TokenType, ObtainedAt: s.ObtainedAt, Expiry: s.Expiry})
	if err != nil || len(b) > maxCachedToken {
		return
	}
	path := c.tokenPath(service, profile)
	if fileutil.WriteAtomic(path, b) != nil {
		return
	}
	if now, err := os.ReadFile(c.genPath(service, profile)); err != nil || string(now) != gen {
		c.removeIfGen(path, gen)
	}
}

// removeIfGen removes the cache file at path if it still holds a copy made
// under gen (and not a newer one written meanwhile).
func (c *TokenCache) removeIfGen(path, gen string) {
	b, err := os.ReadFile(path)
	if err != nil || len(b) > maxCachedToken {
		return
	}
	var t cachedToken
	if json.Unmarshal(b, &t) == nil && t.Gen == gen {
		_ = os.Remove(path)
	}
}

// remove removes the profile's cached token, and any temporary file a
// crashed write left. (A write in progress may lose its temporary file
// and so not cache: no harm.)
func (c *TokenCache) remove(service, profile string) {
	if !names(service, profile) {
		return
	}
	path := c.tokenPath(service, profile)
	_ = os.Remove(path)
	fileutil.RemoveStaleTemps(path)
}
