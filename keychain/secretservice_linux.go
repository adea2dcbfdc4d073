//go:build linux

package keychain

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/zalando/go-keyring"
)

// The Secret Service read path. go-keyring's Get sets up its D-Bus
// connection (godbus) in five exchanges with the bus (four of SASL, then
// Hello) and then makes seven calls to the keyring daemon, each waiting for
// the last (is there a login collection, Unlock of the collection,
// SearchItems, OpenSession, Unlock of the item, GetSecret, Close). On a
// busy machine every one of those waits for the D-Bus daemon and the
// keyring daemon to be scheduled, and the set-up of a general D-Bus client
// in a new process (goroutines, reflection, fresh memory) costs more CPU
// time than the calls; one `agcurl fetch` paid some 5-7 ms for it all.
// secretGet reads an item with two waits and next to no set-up:
//
//  1. one write on a new connection: the SASL EXTERNAL authentication
//     (the kernel tells the bus who is connecting) and BEGIN, pipelined as
//     the D-Bus specification allows and sd-bus does, then Hello,
//     OpenSession ("plain", as go-keyring) and Service.SearchItems; the
//     bus handles a connection's messages in order;
//  2. Item.GetSecret.
//
// The connection and its session are kept for the process's later reads
// (a refresh reads the session again under its lock, a save reads its
// write back), which then skip Hello and OpenSession. Writes and deletes
// stay with go-keyring. Anything out of the ordinary is left to go-keyring
// as well, which then behaves as it always did: no bus address of the
// usual form, a refused authentication, a failed connection or call, a
// match that is locked (go-keyring asks the daemon to unlock it, which may
// prompt), more than one match, a match outside the login collection
// (go-keyring reads only that collection, or the "default" alias when
// there is no login collection), or no match at all (not found is then
// go-keyring's answer, so that a keyring that hides the items of a locked
// collection still gets its unlock prompt).

// systemItemSize is SystemKeyring.MaxItemSize: the Secret Service takes
// items far larger than any session.
const systemItemSize = 64 << 10

// errSecretFallback says that secretGet leaves this read to go-keyring.
var errSecretFallback = errors.New("secret service: not a plain case")

// systemGet is SystemKeyring.Get.
func systemGet(service, user string) (string, error) {
	v, err := secretGet(os.Getenv("DBUS_SESSION_BUS_ADDRESS"), service, user)
	if err == nil {
		return v, nil
	}
	return keyring.Get(service, user)
}

// ssConn is a connection to the session bus with an open Secret Service
// session on it.
type ssConn struct {
	addr    string // the bus address it was made for
	sock    *net.UnixConn
	r       *bufio.Reader
	serial  uint32 // of the last call sent
	session string // the Secret Service session's object path
}

// secretConns holds the process's connection; reads take turns on it.
var secretConns struct {
	mu sync.Mutex
	c  *ssConn
}

// secretGet reads service/user's secret over the process's Secret Service
// connection to the session bus at addr, making one when needed. It
// returns errSecretFallback, or another error, when the read must be left
// to go-keyring.
func secretGet(addr, service, user string) (string, error) {
	secretConns.mu.Lock()
	defer secretConns.mu.Unlock()
	if c := secretConns.c; c != nil && c.addr != addr {
		c.close()
	}
	v, err := secretConns.c.get(addr, service, user)
	if err != nil && !errors.Is(err, errSecretFallback) && secretConns.c != nil {
		// Locked or deleted since the search, the daemon restarted, a
		// broken connection: go-keyring sorts it out, and the next read
		// starts afresh.
		secretConns.c.close()
	}
	return v, err
}

// close closes the kept connection c; secretConns.mu must be held.
func (c *ssConn) close() {
	_ = c.sock.Close()
	secretConns.c = nil
}

// get reads the secret over c, or over a new connection when c is nil.
func (c *ssConn) get(addr, service, user string) (string, error) {
	search := searchItemsCall(service, user)
	var out []byte
	var helloSerial, openSerial uint32
	if c == nil {
		sock, err := dialSessionBus(addr)
		if err != nil {
			return "", err
		}
		c = &ssConn{addr: addr, sock: sock, r: bufio.NewReader(sock)}
		defer func() {
			if secretConns.c != c {
				_ = sock.Close() // not kept: the read failed
			}
		}()
		out = append(out, "\x00AUTH EXTERNAL "+hex.EncodeToString([]byte(strconv.Itoa(os.Geteuid())))+"\r\nBEGIN\r\n"...)
		helloSerial, openSerial = c.serial+1, c.serial+2
		c.serial += 2
		out = appendDBusCall(out, helloSerial, dbusCall{path: "/org/freedesktop/DBus", iface: "org.freedesktop.DBus",
			member: "Hello", dest: "org.freedesktop.DBus"})
		out = appendDBusCall(out, openSerial, dbusCall{path: ssPath, iface: ssService, member: "OpenSession", dest: ssDest,
			sig: "sv", body: func(w *dbusWriter) { w.string("plain"); w.signature("s"); w.string("") }})
	}
	c.serial++
	searchSerial := c.serial
	out = appendDBusCall(out, searchSerial, search)
	if err := c.sock.SetDeadline(time.Now().Add(DefaultKeyringTimeout)); err != nil {
		return "", err
	}
	if _, err := c.sock.Write(out); err != nil {
		return "", err
	}

	if helloSerial != 0 {
		line, err := c.r.ReadString('\n')
		if err != nil {
			return "", err
		}
		if !strings.HasPrefix(line, "OK ") {
			return "", fmt.Errorf("dbus: the bus refused EXTERNAL authentication (%q)", strings.TrimSpace(line))
		}
		for _, serial := range []uint32{helloSerial, openSerial} {
			m, err := c.reply(serial)
			if err != nil {
				return "", err
			}
			if serial == helloSerial {
				if m.typ == dbusError {
					return "", fmt.Errorf("dbus: %s", m.errorName)
				}
				continue
			}
			r, err := m.reader("vo")
			if err != nil {
				return "", err
			}
			if r.signature() != "s" {
				return "", errors.New("dbus: OpenSession answered an unexpected value")
			}
			r.string()
			c.session = r.string()
			if r.err != nil || !validObjectPath(c.session) {
				return "", errors.New("dbus: OpenSession answered no session")
			}
		}
		secretConns.c = c
	}
	m, err := c.reply(searchSerial)
	if err != nil {
		return "", err
	}
	r, err := m.reader("aoao")
	if err != nil {
		return "", err
	}
	unlocked, locked := r.objectPaths(), r.objectPaths()
	if r.err != nil {
		return "", r.err
	}
	item, ok := plainMatch(unlocked, locked)
	if !ok {
		return "", errSecretFallback
	}

	c.serial++
	out = appendDBusCall(out[:0], c.serial, dbusCall{path: item, iface: "org.freedesktop.Secret.Item", member: "GetSecret",
		dest: ssDest, sig: "o", body: func(w *dbusWriter) { w.string(c.session) }})
	if _, err := c.sock.Write(out); err != nil {
		return "", err
	}
	if m, err = c.reply(c.serial); err != nil {
		return "", err
	}
	if r, err = m.reader("(oayays)"); err != nil {
		return "", err
	}
	r.align(8)
	r.string()
	r.bytes()
	value := r.bytes()
	r.string()
	if r.err != nil {
		return "", r.err
	}
	return string(value), nil
}

// reply reads messages from the bus until the reply (or error) to serial,
// skipping signals and anything else.
func (c *ssConn) reply(serial uint32) (*dbusMessage, error) {
	var fixed [16]byte
	for {
		if _, err := io.ReadFull(c.r, fixed[:]); err != nil {
			return nil, err
		}
		size, err := dbusMessageSize(fixed[:])
		if err != nil {
			return nil, err
		}
		b := make([]byte, size)
		copy(b, fixed[:])
		if _, err := io.ReadFull(c.r, b[16:]); err != nil {
			return nil, err
		}
		m, err := parseDBusMessage(b)
		if err != nil {
			return nil, err
		}
		if (m.typ == dbusMethodReturn || m.typ == dbusError) && m.replySerial == serial {
			return m, nil
		}
	}
}

// plainMatch picks the item to read from a search's results: the one
// unlocked match, in the login collection. Anything else (a locked match,
// several, one elsewhere, none) is go-keyring's to handle.
func plainMatch(unlocked, locked []string) (string, bool) {
	if len(locked) != 0 || len(unlocked) != 1 || !strings.HasPrefix(unlocked[0], ssLoginCollection) ||
		!validObjectPath(unlocked[0]) {
		return "", false
	}
	return unlocked[0], true
}

// dialSessionBus connects to the session bus at addr, which must be a
// unix socket address.
func dialSessionBus(addr string) (*net.UnixConn, error) {
	sock, err := unixBusSocket(addr)
	if err != nil {
		return nil, err
	}
	return net.DialUnix("unix", nil, &net.UnixAddr{Name: sock, Net: "unix"})
}

// unixBusSocket returns the socket name (with a leading '@' for an
// abstract one) of the first address in a D-Bus address list, if it is a
// unix path or abstract address.
func unixBusSocket(addr string) (string, error) {
	first, _, _ := strings.Cut(addr, ";")
	keys, ok := strings.CutPrefix(first, "unix:")
	if !ok {
		return "", errSecretFallback
	}
	var path, abstract string
	for _, kv := range strings.Split(keys, ",") {
		k, v, _ := strings.Cut(kv, "=")
		v, err := unescapeBusAddressValue(v)
		if err != nil {
			return "", errSecretFallback
		}
		switch k {
		case "path":
			path = v
		case "abstract":
			abstract = v
		}
	}
	switch {
	case path != "" && abstract == "":
		return path, nil
	case abstract != "" && path == "":
		return "@" + abstract, nil
	}
	return "", errSecretFallback
}

// unescapeBusAddressValue undoes the %XX escapes of a D-Bus address value.
func unescapeBusAddressValue(v string) (string, error) {
	if !strings.Contains(v, "%") {
		return v, nil
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] != '%' {
			b.WriteByte(v[i])
			continue
		}
		if i+2 >= len(v) {
			return "", errSecretFallback
		}
		x, err := hex.DecodeString(v[i+1 : i+3])
		if err != nil {
			return "", errSecretFallback
		}
		b.WriteByte(x[0])
		i += 2
	}
	return b.String(), nil
}
