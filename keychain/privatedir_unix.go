//go:build unix

package keychain

import (
	"os"
	"syscall"
)

// privateDir reports whether dir is a directory of this user's that no
// one else can use, creating it (mode 0700) when missing.
func privateDir(dir string) bool {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false
	}
	fi, err := os.Lstat(dir)
	if err != nil || !fi.IsDir() || fi.Mode().Perm()&0o077 != 0 {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Geteuid()
}
