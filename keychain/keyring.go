package keychain

import (
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
func (SystemKeyring) Get(service, user string) (string, error) { return keyring.Get(service, user) }

// Set implements KeyringAPI.
func (SystemKeyring) Set(service, user, secret string) error {
	return keyring.Set(service, user, secret)
}

// Delete implements KeyringAPI.
func (SystemKeyring) Delete(service, user string) error { return keyring.Delete(service, user) }

// DefaultKeyringTimeout bounds every keyring call: a hung D-Bus or an
// unanswered unlock prompt must not hang the tool.
const DefaultKeyringTimeout = 10 * time.Second

// DefaultChunkSize keeps every keyring item under the smallest platform
// limit (Windows' Credential Manager takes about 2.5 KB).
const DefaultChunkSize = 1800

const chunkedPrefix = "agcurl-chunked:v1:"

// UnavailableError reports that the OS keyring could not be used. Its message
// names the explicit opt-in to file storage.
type UnavailableError struct {
	Err error
}

func (e *UnavailableError) Error() string {
	return fmt.Sprintf("the OS keyring is not available (%v); to keep the session in a 0600 file instead, "+
		"log in with `agcurl login --insecure-storage` or set AGCURL_STORAGE=file", e.Err)
}

func (e *UnavailableError) Unwrap() error { return e.Err }

// ErrKeyringTimeout is wrapped by UnavailableError when a keyring call does
// not answer within the store's timeout.
var ErrKeyringTimeout = errors.New("keyring did not answer in time")

// KeyringStore keeps each profile's session in the OS keyring under the
// service name Service and the profile name as the account. A session larger
// than ChunkSize is split across several items. Every write is read back,
// since some backends report success for a write they truncated.
type KeyringStore struct {
	API       KeyringAPI
	Service   string        // default "agcurl"
	Timeout   time.Duration // default DefaultKeyringTimeout
	ChunkSize int           // default DefaultChunkSize
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
	if k.ChunkSize <= 0 {
		return DefaultChunkSize
	}
	return k.ChunkSize
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

func chunkUser(profile string, i int) string {
	return profile + ".part" + strconv.Itoa(i)
}

// Load implements Store.
func (k *KeyringStore) Load(profile string) (*Session, error) {
	head, err := k.get(profile)
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("profile %q: %w", profile, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	data := head
	if n, ok := chunkCount(head); ok {
		var b strings.Builder
		for i := 1; i <= n; i++ {
			part, err := k.get(chunkUser(profile, i))
			if err != nil {
				return nil, fmt.Errorf("keyring session for profile %q is incomplete (part %d: %v); run `agcurl login`", profile, i, err)
			}
			b.WriteString(part)
		}
		data = b.String()
	}
	var s Session
	if err := json.Unmarshal([]byte(data), &s); err != nil {
		return nil, fmt.Errorf("keyring session for profile %q is corrupt; run `agcurl login` to replace it", profile)
	}
	return &s, nil
}

func chunkCount(head string) (int, bool) {
	rest, ok := strings.CutPrefix(head, chunkedPrefix)
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	if err != nil || n < 1 || n > 1000 {
		return 0, false
	}
	return n, true
}

// Save implements Store.
func (k *KeyringStore) Save(profile string, s *Session) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	data := string(b)
	old, _ := k.get(profile)
	oldChunks, _ := chunkCount(old)

	size := k.chunkSize()
	newChunks := 0
	if len(data) <= size {
		if err := k.setVerified(profile, data); err != nil {
			return err
		}
	} else {
		// Write the parts first and the head last, so that a reader never
		// follows a head to parts that are not there yet.
		for off := 0; off < len(data); off += size {
			newChunks++
			end := min(off+size, len(data))
			if err := k.setVerified(chunkUser(profile, newChunks), data[off:end]); err != nil {
				return err
			}
		}
		if err := k.setVerified(profile, chunkedPrefix+strconv.Itoa(newChunks)); err != nil {
			return err
		}
	}
	for i := newChunks + 1; i <= oldChunks; i++ {
		_ = k.del(chunkUser(profile, i))
	}
	return nil
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

// Delete implements Store.
func (k *KeyringStore) Delete(profile string) error {
	head, err := k.get(profile)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := k.del(profile); err != nil {
		return err
	}
	if n, ok := chunkCount(head); ok {
		for i := 1; i <= n; i++ {
			_ = k.del(chunkUser(profile, i))
		}
	}
	return nil
}
