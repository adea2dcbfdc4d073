package keychain

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"
)

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

// LockSession takes the cross-process lock on profile's session under dir,
// waiting until it is free or ctx is done, like Lock. Every Save or Delete
// of a profile's session, and every refresh that reads a session to replace
// it, must hold this lock; Load needs none. The returned func releases it.
//
// LockSession is the one place that names the session lock: it is
// Lock(ctx, dir, "session-"+profile), the name earlier versions used, so
// that processes of old and new versions exclude each other. It is safe for
// concurrent use; a goroutine holding the lock excludes other goroutines of
// the same process too. It refuses a profile name that ValidateProfileName
// rejects, since the name becomes part of a file name.
func LockSession(ctx context.Context, dir, profile string) (unlock func(), err error) {
	if err := ValidateProfileName(profile); err != nil {
		return nil, err
	}
	return Lock(ctx, dir, "session-"+profile)
}
