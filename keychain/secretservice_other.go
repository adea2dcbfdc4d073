//go:build !linux

package keychain

import "github.com/zalando/go-keyring"

// systemGet is SystemKeyring.Get.
func systemGet(service, user string) (string, error) { return keyring.Get(service, user) }

// systemItemSize is SystemKeyring.MaxItemSize: the macOS Keychain and the
// Windows Credential Manager take small items only.
const systemItemSize = DefaultChunkSize
