//go:build !unix

package keychain

// privateDir reports whether dir is a directory of this user's that no
// one else can use. Outside Unix that is not checked, and nothing is
// cached.
func privateDir(string) bool { return false }
