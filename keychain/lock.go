package keychain

import (
	"context"

	"github.com/agcurl/agcurl/internal/fileutil"
)

// LockSession takes the cross-process lock on profile's session under dir,
// waiting until it is free or ctx is done. The lock is an flock(2) on a
// file under dir/locks, so the kernel releases it when the holder dies, even
// by kill -9. Every Save or Delete
// of a profile's session, and every refresh that reads a session to replace
// it, must hold this lock; Load needs none. The returned func releases it.
//
// LockSession is the one place that names the session lock: it is
// fileutil.Lock(ctx, dir, "session-"+profile), the name earlier versions used, so
// that processes of old and new versions exclude each other. It is safe for
// concurrent use; a goroutine holding the lock excludes other goroutines of
// the same process too. It refuses a profile name that ValidateProfileName
// rejects, since the name becomes part of a file name.
func LockSession(ctx context.Context, dir, profile string) (unlock func(), err error) {
	if err := ValidateProfileName(profile); err != nil {
		return nil, err
	}
	return fileutil.Lock(ctx, dir, "session-"+profile)
}
