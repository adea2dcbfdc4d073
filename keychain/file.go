package keychain

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/agcurl/agcurl/internal/fileutil"
)

// FileStore keeps each profile's session in a 0600 JSON file under Dir
// (created 0700). It is the explicit opt-in for machines without a keyring:
// anyone who can read the file as this user holds the session.
type FileStore struct {
	Dir string
}

// Name implements Store.
func (f *FileStore) Name() string { return "file" }

func (f *FileStore) path(profile string) string {
	return filepath.Join(f.Dir, profile+".json")
}

// Load implements Store.
func (f *FileStore) Load(profile string) (*Session, error) {
	b, err := os.ReadFile(f.path(profile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("profile %q: %w", profile, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read session: %w", err)
	}
	var s Session
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, &CorruptSessionError{Profile: profile, Detail: fmt.Sprintf("session file %s is corrupt (%v)", f.path(profile), err)}
	}
	return &s, nil
}

// Save implements Store. The file is replaced atomically. Save also removes
// the profile's temporary files left by a save that crashed, each holding a
// whole session; so the caller must hold the profile's session lock (see
// LockSession), or Save may remove the temporary file of a concurrent Save.
func (f *FileStore) Save(profile string, s *Session) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	f.removeStaleTemps(profile)
	if err := fileutil.WriteAtomic(f.path(profile), b); err != nil {
		return fmt.Errorf("save session: %w", err)
	}
	return nil
}

// Delete implements Store. Like Save, it also removes the profile's
// temporary files left by a crashed save, and the caller must hold the
// profile's session lock.
func (f *FileStore) Delete(profile string) error {
	f.removeStaleTemps(profile)
	err := os.Remove(f.path(profile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// removeStaleTemps removes the temporary files of the profile's session
// file that a crashed save left, each holding a whole session.
func (f *FileStore) removeStaleTemps(profile string) { fileutil.RemoveStaleTemps(f.path(profile)) }
