// Package fileutil has the two file primitives agcurl's stores share: an
// atomic 0600 write and a cross-process lock by name.
package fileutil

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gofrs/flock"
)

// WriteAtomic writes data to path with mode 0600 through a temporary
// file in the same directory and a rename, so that a reader sees either the
// old or the new content, never a half-written file. The directory is
// created with mode 0700 if missing.
func WriteAtomic(path string, data []byte) error {
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

// RemoveStaleTemps removes the temporary files WriteAtomic creates for
// path and leaves behind when the process dies mid-write: "."+base+".tmp-"
// and the digits os.CreateTemp puts for its "*". The caller must hold the
// lock that serializes writes of path, or it may remove the temporary file
// of a write in progress. Errors are ignored: a file left behind is tried
// again next time.
func RemoveStaleTemps(path string) {
	dir := filepath.Dir(path)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	prefix := "." + filepath.Base(path) + ".tmp-"
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		// The digits-only check keeps out other files' temporary files:
		// "p.json.tmp-x.json" writes ".p.json.tmp-x.json.tmp-N".
		if !ok || rest == "" || strings.Trim(rest, "0123456789") != "" || !e.Type().IsRegular() {
			continue
		}
		_ = os.Remove(filepath.Join(dir, e.Name()))
	}
}

// Lock takes the exclusive cross-process lock called name under dir/locks,
// waiting until it is free or ctx is done. The lock is an flock(2) on a file,
// so the kernel releases it when the holder dies, even by kill -9. The
// returned func releases it.
func Lock(ctx context.Context, dir, name string) (unlock func(), err error) {
	lockDir := filepath.Join(dir, "locks")
	if err := os.MkdirAll(lockDir, 0o700); err != nil {
		return nil, fmt.Errorf("could not create lock directory: %w", err)
	}
	fl := flock.New(filepath.Join(lockDir, name+".lock"))
	ok, err := fl.TryLockContext(ctx, 10*time.Millisecond)
	if err != nil {
		return nil, fmt.Errorf("could not take lock %s: %w", name, err)
	}
	if !ok {
		return nil, fmt.Errorf("could not take lock %s", name)
	}
	return func() { _ = fl.Unlock() }, nil
}
