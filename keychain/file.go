package keychain

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
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
	if err := WriteFileAtomic(f.path(profile), b); err != nil {
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

// removeStaleTemps removes the temporary files WriteFileAtomic creates for
// the profile's session file, ".PROFILE.json.tmp-" and the digits
// os.CreateTemp puts for its "*". Errors are ignored: a file left behind is
// tried again on the next Save or Delete.
func (f *FileStore) removeStaleTemps(profile string) {
	entries, err := os.ReadDir(f.Dir)
	if err != nil {
		return
	}
	prefix := "." + filepath.Base(f.path(profile)) + ".tmp-"
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		// The digits-only check keeps out another profile's temporary
		// files: profile "p.json.tmp-x" writes ".p.json.tmp-x.json.tmp-N".
		if !ok || rest == "" || strings.Trim(rest, "0123456789") != "" || !e.Type().IsRegular() {
			continue
		}
		_ = os.Remove(filepath.Join(f.Dir, e.Name()))
	}
}

// WriteFileAtomic writes data to path with mode 0600 through a temporary
// file in the same directory and a rename, so that a reader sees either the
// old or the new content, never a half-written file. The directory is
// created with mode 0700 if missing.
func WriteFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(name)
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(name, path); err != nil {
		return err
	}
	ok = true
	return nil
}
