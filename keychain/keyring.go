package keychain

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/zalando/go-keyring"
)

// KeyringAPI is the part of an OS keyring that KeyringStore uses. SystemKeyring
// is the real one; tests may supply a map.
type KeyringAPI interface {
	Get(service, user string) (string, error)
	Set(service, user, secret string) error
	Delete(service, user string) error
}

// SystemKeyring is the OS keyring through go-keyring: the macOS Keychain,
// the Windows Credential Manager or the Secret Service on Linux. Its
// methods return keyring.ErrNotFound for a missing item.
type SystemKeyring struct{}

// Get implements KeyringAPI.
func (SystemKeyring) Get(service, user string) (string, error) { return systemGet(service, user) }

// Set implements KeyringAPI.
func (SystemKeyring) Set(service, user, secret string) error {
	return keyring.Set(service, user, secret)
}

// Delete implements KeyringAPI.
func (SystemKeyring) Delete(service, user string) error { return keyring.Delete(service, user) }

// MaxItemSize is the size of the largest item worth storing in one piece:
// DefaultChunkSize for the macOS Keychain and the Windows Credential
// Manager, more for the Secret Service, which has no small limit, so that
// a session there is one item and one read.
func (SystemKeyring) MaxItemSize() int { return systemItemSize }

// DefaultKeyringTimeout bounds every keyring call: a hung D-Bus or an
// unanswered unlock prompt must not hang the tool.
const DefaultKeyringTimeout = 10 * time.Second

// DefaultChunkSize keeps every keyring item under the smallest platform
// limit (Windows' Credential Manager takes about 2.5 KB). It is the chunk
// size unless the store sets one or its API says (MaxItemSize) that it
// takes larger items.
const DefaultChunkSize = 1800

// A session larger than one item is stored as parts plus a head item under
// the profile name that says how to find them. Version 1 heads,
// "agcurl-chunked:v1:N", name parts PROFILE.part1 to PROFILE.partN that were
// rewritten in place, so a reader could mix two saves; only Load and Delete
// still handle them. Version 2 heads, "agcurl-chunked:v2:GEN:N", name parts
// PROFILE.GEN.part1 to PROFILE.GEN.partN, where GEN is random and new for
// every save: parts are never rewritten, only written before their head and
// removed after the head has moved on.
const (
	chunkedPrefixV1 = "agcurl-chunked:v1:"
	chunkedPrefixV2 = "agcurl-chunked:v2:"
)

// maxChunks bounds the parts of one session.
const maxChunks = 1000

// maxLoadTries bounds how often Load starts over when a part vanished
// because a concurrent Save replaced the session. Every new try needs a
// Save to have completed during the previous one, so in practice one retry
// is enough; the generous bound keeps a reader racing a writer that saves
// in a loop (as the tests do, under the race detector on a busy machine)
// from failing, while still ending a loop on a misbehaving backend.
const maxLoadTries = 20

// UnavailableError reports that the OS keyring could not be used for
// Profile's session. The remedy (the explicit opt-in to file storage) is
// the command line's to give.
type UnavailableError struct {
	Err     error
	Profile string
}

func (e *UnavailableError) Error() string {
	return fmt.Sprintf("the OS keyring is not available (%v)", e.Err)
}

// tagProfile records profile in an *UnavailableError that *err wraps.
func tagProfile(err *error, profile string) {
	var ue *UnavailableError
	if errors.As(*err, &ue) && ue.Profile == "" {
		ue.Profile = profile
	}
}

func (e *UnavailableError) Unwrap() error { return e.Err }

// ErrKeyringTimeout is wrapped by UnavailableError when a keyring call does
// not answer within the store's timeout.
var ErrKeyringTimeout = errors.New("keyring did not answer in time")

// KeyringStore keeps each profile's session in the OS keyring under the
// service name Service and the profile name as the account. A session larger
// than ChunkSize is split across several items. Every write is read back,
// since some backends report success for a write they truncated.
//
// A KeyringStore is safe for concurrent use by multiple goroutines and
// processes in this sense: Load, called without any lock, returns either the
// session as it was before a concurrent Save or Delete or as it is after,
// never a mixture of both. Save and Delete of one profile must still be
// serialized by the caller (see LockSession); concurrent writers do not
// corrupt the session but may leave unreachable parts behind.
type KeyringStore struct {
	API       KeyringAPI
	Service   string        // default "agcurl"
	Timeout   time.Duration // default DefaultKeyringTimeout
	ChunkSize int           // default API.MaxItemSize() if it has one, else DefaultChunkSize
	// Cache, when set, keeps a copy of each session's access token for
	// LoadAccess; Save and Delete keep it in step.
	Cache *TokenCache
}

// Name implements Store.
func (k *KeyringStore) Name() string { return "keyring" }

func (k *KeyringStore) service() string {
	if k.Service == "" {
		return "agcurl"
	}
	return k.Service
}

func (k *KeyringStore) chunkSize() int {
	if k.ChunkSize > 0 {
		return k.ChunkSize
	}
	if m, ok := k.API.(interface{ MaxItemSize() int }); ok && m.MaxItemSize() > 0 {
		return m.MaxItemSize()
	}
	return DefaultChunkSize
}

// call runs f with the store's timeout. A call that times out keeps running
// in the background; the process is expected to exit soon after.
func (k *KeyringStore) call(f func() error) error {
	timeout := k.Timeout
	if timeout <= 0 {
		timeout = DefaultKeyringTimeout
	}
	done := make(chan error, 1)
	go func() { done <- f() }()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		return ErrKeyringTimeout
	}
}

func (k *KeyringStore) get(user string) (string, error) {
	var v string
	err := k.call(func() error {
		var err error
		v, err = k.API.Get(k.service(), user)
		return err
	})
	return v, k.classify(err)
}

func (k *KeyringStore) set(user, secret string) error {
	return k.classify(k.call(func() error { return k.API.Set(k.service(), user, secret) }))
}

func (k *KeyringStore) del(user string) error {
	err := k.classify(k.call(func() error { return k.API.Delete(k.service(), user) }))
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

func (k *KeyringStore) classify(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, keyring.ErrNotFound):
		return ErrNotFound
	case errors.Is(err, keyring.ErrSetDataTooBig):
		return fmt.Errorf("keyring refused the session as too large: %w", err)
	default:
		return &UnavailableError{Err: err}
	}
}

// chunkHead describes where a session's data is: in the head item itself
// (n == 0) or in n parts named by partUser.
type chunkHead struct {
	gen string // "" for a version 1 head
	n   int
}

// parseHead reports how head, the value of a profile's head item, stores
// the session.
func parseHead(head string) chunkHead {
	if rest, ok := strings.CutPrefix(head, chunkedPrefixV1); ok {
		if n, ok := parseChunkCount(rest); ok {
			return chunkHead{n: n}
		}
		return chunkHead{}
	}
	if rest, ok := strings.CutPrefix(head, chunkedPrefixV2); ok {
		gen, count, ok := strings.Cut(rest, ":")
		if !ok || !validGen(gen) {
			return chunkHead{}
		}
		if n, ok := parseChunkCount(count); ok {
			return chunkHead{gen: gen, n: n}
		}
	}
	return chunkHead{}
}

func parseChunkCount(s string) (int, bool) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxChunks {
		return 0, false
	}
	return n, true
}

// validGen reports whether gen is a generation newGen could have made.
func validGen(gen string) bool {
	if gen == "" || len(gen) > 64 {
		return false
	}
	for i := 0; i < len(gen); i++ {
		c := gen[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// newGen returns a fresh random generation tag for a save's parts.
func newGen() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

func (h chunkHead) String() string {
	return chunkedPrefixV2 + h.gen + ":" + strconv.Itoa(h.n)
}

// partUser names part i (1-based) of the session h describes.
func (h chunkHead) partUser(profile string, i int) string {
	if h.gen == "" {
		return profile + ".part" + strconv.Itoa(i)
	}
	return profile + "." + h.gen + ".part" + strconv.Itoa(i)
}

// Load implements Store. It takes no lock: if a concurrent Save removes the
// parts of the session Load began reading, Load starts over from the new
// head, up to maxLoadTries times.
func (k *KeyringStore) Load(profile string) (_ *Session, err error) {
	defer tagProfile(&err, profile)
	head, err := k.get(profile)
	for try := 1; ; try++ {
		if errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("profile %q: %w", profile, ErrNotFound)
		}
		if err != nil {
			return nil, err
		}
		data, missing, err := k.assemble(profile, head)
		if err == nil {
			var s Session
			if err := json.Unmarshal([]byte(data), &s); err != nil {
				return nil, &CorruptSessionError{Profile: profile, Detail: "the keyring item is not a session"}
			}
			return &s, nil
		}
		if !missing || try >= maxLoadTries {
			return nil, err
		}
		// A part is gone: either a writer replaced the session after we
		// read its head, or the session is damaged. Only a changed head
		// is worth another try.
		next, nerr := k.get(profile)
		if nerr == nil && next == head {
			return nil, err
		}
		head, err = next, nerr
	}
}

// LoadAccess returns the profile's session for the use of its access
// token: from the Cache, when it holds the token of the session now in
// the keyring, with the access token's fields only (issuer, client id,
// token, type, times; no refresh token, ID token or client secret); else
// the whole session, from the keyring, whose access token is then cached.
// It is meant for the one hot path, a request with a valid token; whatever
// needs more of the session uses Load.
func (k *KeyringStore) LoadAccess(profile string) (*Session, error) {
	if !k.Cache.enabled() {
		return k.Load(profile)
	}
	gen := k.Cache.generation(k.service(), profile)
	if s, ok := k.Cache.load(k.service(), profile, gen); ok {
		return s, nil
	}
	s, err := k.Load(profile)
	if err == nil {
		k.Cache.store(k.service(), profile, gen, s)
	}
	return s, err
}

// assemble returns the session data that head refers to. missing reports
// that the error is a part that does not exist.
func (k *KeyringStore) assemble(profile, head string) (data string, missing bool, err error) {
	h := parseHead(head)
	if h.n == 0 {
		return head, false, nil
	}
	var b strings.Builder
	for i := 1; i <= h.n; i++ {
		part, err := k.get(h.partUser(profile, i))
		if err != nil {
			return "", errors.Is(err, ErrNotFound),
				&CorruptSessionError{Profile: profile, Detail: fmt.Sprintf("the keyring session is incomplete (part %d: %v)", i, err)}
		}
		b.WriteString(part)
	}
	return b.String(), false, nil
}

// Save implements Store. A session larger than the chunk size is written
// as parts under a new generation before the head is switched to them, and
// the parts of the session it replaces are removed afterwards, so that a
// concurrent Load sees the old or the new session, never a mixture.
func (k *KeyringStore) Save(profile string, s *Session) (err error) {
	defer tagProfile(&err, profile)
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	data := string(b)
	old, _ := k.get(profile)
	oldHead := parseHead(old)

	size := k.chunkSize()
	if len(data) <= size {
		if err := k.setVerified(profile, data); err != nil {
			return err
		}
	} else {
		h := chunkHead{gen: newGen(), n: (len(data) + size - 1) / size}
		if h.n > maxChunks {
			return fmt.Errorf("session is too large for the keyring (%d bytes)", len(data))
		}
		for i := 1; i <= h.n; i++ {
			off := (i - 1) * size
			if err := k.setVerified(h.partUser(profile, i), data[off:min(off+size, len(data))]); err != nil {
				k.deleteParts(profile, chunkHead{gen: h.gen, n: i})
				return err
			}
		}
		if err := k.setVerified(profile, h.String()); err != nil {
			// The head may or may not have been switched: keep the parts
			// it may name.
			return err
		}
	}
	k.deleteParts(profile, oldHead)
	k.cacheSaved(profile, s)
	return nil
}

// cacheSaved moves the cache on to s, just saved: copies of the session it
// replaced are not used again.
func (k *KeyringStore) cacheSaved(profile string, s *Session) {
	if !k.Cache.enabled() {
		return
	}
	if gen := k.Cache.nextGeneration(k.service(), profile); gen != "" {
		k.Cache.store(k.service(), profile, gen, s)
		return
	}
	k.Cache.remove(k.service(), profile)
}

// deleteParts removes the parts h names, ignoring errors: a part left
// behind wastes space but is never read.
func (k *KeyringStore) deleteParts(profile string, h chunkHead) {
	for i := 1; i <= h.n; i++ {
		_ = k.del(h.partUser(profile, i))
	}
}

func (k *KeyringStore) setVerified(user, value string) error {
	if err := k.set(user, value); err != nil {
		return err
	}
	got, err := k.get(user)
	if err != nil {
		return fmt.Errorf("keyring write could not be read back: %w", err)
	}
	if got != value {
		return fmt.Errorf("keyring stored a different value than written (%d of %d bytes); "+
			"the platform's item size limit may be lower than expected", len(got), len(value))
	}
	return nil
}

// Delete implements Store. It removes the head and then the parts it names,
// in either format, and the Cache's copy of the access token.
func (k *KeyringStore) Delete(profile string) (err error) {
	defer tagProfile(&err, profile)
	if k.Cache.enabled() {
		// The copy goes first, and again after the generation has moved
		// on: a copy written meanwhile by a reader of the session being
		// deleted is removed, or carries a generation no longer used.
		service := k.service()
		k.Cache.remove(service, profile)
		defer func() {
			k.Cache.nextGeneration(service, profile)
			k.Cache.remove(service, profile)
		}()
	}
	head, err := k.get(profile)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	// The head goes first: a concurrent Load that already read it and then
	// misses a part finds no head and reports the session as gone.
	if err := k.del(profile); err != nil {
		return err
	}
	k.deleteParts(profile, parseHead(head))
	return nil
}
