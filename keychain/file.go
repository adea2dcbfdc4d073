package keychain

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
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
		return nil, fmt.Errorf("session file %s is corrupt (%v); run `agcurl login` to replace it", f.path(profile), err)
	}
	return &s, nil
}

// Save implements Store. The file is replaced atomically.
func (f *FileStore) Save(profile string, s *Session) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	if err := WriteFileAtomic(f.path(profile), b); err != nil {
		return fmt.Errorf("save session: %w", err)
	}
	return nil
}

// Delete implements Store.
func (f *FileStore) Delete(profile string) error {
	err := os.Remove(f.path(profile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
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
