// Package netutil has the one loopback test that every rule about where a
// token may travel in plain http uses.
package netutil

import (
	"net"
	"strings"
)

// IsLoopbackHost reports whether host, as url.URL.Hostname returns it (no
// port; an IPv6 address with or without brackets), is "localhost" or a
// loopback IP address (127.0.0.0/8, ::1).
func IsLoopbackHost(host string) bool {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
