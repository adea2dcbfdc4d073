//go:build linux

package keychain

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"

	dbus "github.com/godbus/dbus/v5"
	"github.com/zalando/go-keyring"
)

// The Secret Service read path. go-keyring's Get sets up its D-Bus
// connection in five exchanges with the bus (four of SASL, then Hello) and
// then makes seven calls to the keyring daemon, each waiting for the last
// (is there a login collection, Unlock of the collection, SearchItems,
// OpenSession, Unlock of the item, GetSecret, Close). On a busy machine
// every one of those waits for the D-Bus daemon and the keyring daemon to
// be scheduled, and one `agcurl fetch` paid some 5-7 ms for them.
// secretGet reads an item with two waits:
//
//  1. on a new connection, authenticated with EXTERNAL in one write that
//     needs no answer before the messages (see pipelinedAuth), Hello,
//     OpenSession ("plain", as go-keyring) and Service.SearchItems, sent
//     together (the bus handles a connection's messages in order, so Hello
//     is still the first);
//  2. Item.GetSecret.
//
// The connection and its session are kept for the process's later reads
// (a refresh reads the session again under its lock, a save reads its
// write back), which then skip Hello and OpenSession. Writes and deletes
// stay with go-keyring. Anything out of the ordinary is left to go-keyring
// as well, which then behaves as it always did: no bus address of the
// usual form, a failed connection or call, a match that is locked
// (go-keyring asks the daemon to unlock it, which may prompt), more than
// one match, a match outside the login collection (go-keyring reads only
// that collection, or the "default" alias when there is no login
// collection), or no match at all (not found is then go-keyring's answer,
// so that a keyring that hides the items of a locked collection still
// gets its unlock prompt).

const (
	ssDest            = "org.freedesktop.secrets"
	ssPath            = dbus.ObjectPath("/org/freedesktop/secrets")
	ssLoginCollection = "/org/freedesktop/secrets/collection/login/"
)

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

// ssConn is a D-Bus connection to the session bus with an open Secret
// Service session on it.
type ssConn struct {
	addr    string // the bus address it was made for
	conn    *dbus.Conn
	session dbus.ObjectPath
}

// secretConns holds the process's connection. Reads are serialized: the
// first read on a new connection must send Hello before any other call.
var secretConns struct {
	mu sync.Mutex
	c  *ssConn
}

// secretGet reads service/user's secret over the process's Secret Service
// connection to the session bus at addr, making one when needed. It
// returns errSecretFallback, or another error, when the read must be left
// to go-keyring.
func secretGet(addr, service, user string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), DefaultKeyringTimeout)
	defer cancel()
	secretConns.mu.Lock()
	defer secretConns.mu.Unlock()

	c := secretConns.c
	if c != nil && (c.addr != addr || !c.conn.Connected()) {
		_ = c.conn.Close()
		c, secretConns.c = nil, nil
	}
	var hello, open *dbus.Call
	if c == nil {
		conn, err := dialSessionBus(addr)
		if err != nil {
			return "", err
		}
		c = &ssConn{addr: addr, conn: conn}
		hello = conn.BusObject().GoWithContext(ctx, "org.freedesktop.DBus.Hello", 0, nil)
		open = conn.Object(ssDest, ssPath).GoWithContext(ctx, "org.freedesktop.Secret.Service.OpenSession", 0, nil,
			"plain", dbus.MakeVariant(""))
	}
	attrs := map[string]string{"username": user, "service": service}
	search := c.conn.Object(ssDest, ssPath).GoWithContext(ctx, "org.freedesktop.Secret.Service.SearchItems", 0, nil, attrs)

	fail := func(err error) (string, error) {
		_ = c.conn.Close()
		secretConns.c = nil
		return "", err
	}
	if hello != nil {
		var name string
		if err := (<-hello.Done).Store(&name); err != nil {
			return fail(err)
		}
		var out dbus.Variant
		if err := (<-open.Done).Store(&out, &c.session); err != nil {
			return fail(err)
		}
		secretConns.c = c
	}
	var unlocked, locked []dbus.ObjectPath
	if err := (<-search.Done).Store(&unlocked, &locked); err != nil {
		return fail(err)
	}
	item, ok := plainMatch(unlocked, locked)
	if !ok {
		return "", errSecretFallback
	}
	var secret struct {
		Session     dbus.ObjectPath
		Parameters  []byte
		Value       []byte
		ContentType string
	}
	err := c.conn.Object(ssDest, item).CallWithContext(ctx, "org.freedesktop.Secret.Item.GetSecret", 0, c.session).Store(&secret)
	if err != nil {
		// Locked or deleted since the search, or the daemon restarted:
		// go-keyring sorts it out, and the next read starts afresh.
		return fail(err)
	}
	return string(secret.Value), nil
}

// plainMatch picks the item to read from a search's results: the one
// unlocked match, in the login collection. Anything else (a locked match,
// several, one elsewhere, none) is go-keyring's to handle.
func plainMatch(unlocked, locked []dbus.ObjectPath) (dbus.ObjectPath, bool) {
	if len(locked) != 0 || len(unlocked) != 1 || !strings.HasPrefix(string(unlocked[0]), ssLoginCollection) {
		return "", false
	}
	return unlocked[0], true
}

// dialSessionBus connects and authenticates to the session bus at addr,
// which must be a unix socket address; the Hello is the caller's to send.
func dialSessionBus(addr string) (*dbus.Conn, error) {
	sock, err := unixBusSocket(addr)
	if err != nil {
		return nil, err
	}
	uc, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		return nil, err
	}
	// A generic transport: no Unix file descriptors are negotiated.
	conn, err := dbus.NewConn(&pipelinedAuth{UnixConn: uc, uid: strconv.Itoa(os.Geteuid()), r: bufio.NewReader(uc)})
	if err != nil {
		_ = uc.Close()
		return nil, err
	}
	if err := conn.Auth([]dbus.Auth{dbus.AuthExternal(strconv.Itoa(os.Geteuid()))}); err != nil {
		_ = conn.Close()
		return nil, err
	}
	return conn, nil
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
		v, err := dbus.UnescapeBusAddressValue(v)
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

// pipelinedAuth is the bus socket of a new connection. It authenticates
// with EXTERNAL the way sd-bus does, in one write and without waiting:
// "AUTH EXTERNAL <uid>" and "BEGIN" go out together, and the server's "OK"
// is read in front of the first message. godbus, which would wait for an
// answer at every step of its SASL exchange (mechanisms, AUTH, DATA, OK),
// gets those answers from pipelinedAuth itself. A server that does not
// take EXTERNAL answers something other than "OK": the first read fails,
// the connection and its calls fail, and go-keyring, which negotiates step
// by step, takes over.
type pipelinedAuth struct {
	*net.UnixConn
	uid     string // the effective uid, in decimal
	r       *bufio.Reader
	mu      sync.Mutex
	begun   bool   // godbus is done with SASL: D-Bus messages from here on
	sent    bool   // the AUTH and BEGIN lines went out
	checked bool   // the server's answer to them was read and was OK
	answer  []byte // local SASL answers for godbus, not yet read
}

func (a *pipelinedAuth) Write(p []byte) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.begun {
		return a.UnixConn.Write(p)
	}
	line := string(p)
	switch {
	case line == "\x00":
		// The credentials byte goes out with the AUTH line.
	case line == "AUTH\r\n":
		a.answer = append(a.answer, "REJECTED EXTERNAL\r\n"...)
	case strings.HasPrefix(line, "AUTH EXTERNAL") && !a.sent:
		a.sent = true
		if _, err := a.UnixConn.Write([]byte("\x00AUTH EXTERNAL " + hex.EncodeToString([]byte(a.uid)) + "\r\nBEGIN\r\n")); err != nil {
			return 0, err
		}
		// The guid is the server's; godbus keeps it only to answer
		// org.freedesktop.DBus.Peer calls to this connection.
		a.answer = append(a.answer, "OK 00000000000000000000000000000000\r\n"...)
	case line == "BEGIN\r\n" && a.sent:
		a.begun = true
	default:
		return 0, fmt.Errorf("dbus: unexpected SASL line %q", strings.TrimSpace(line))
	}
	return len(p), nil
}

func (a *pipelinedAuth) Read(p []byte) (int, error) {
	a.mu.Lock()
	if len(a.answer) > 0 {
		n := copy(p, a.answer)
		a.answer = a.answer[n:]
		a.mu.Unlock()
		return n, nil
	}
	check := a.begun && !a.checked
	a.mu.Unlock()
	if check {
		// Only the reading goroutine gets here, once.
		line, err := a.r.ReadString('\n')
		if err != nil {
			return 0, err
		}
		if !strings.HasPrefix(line, "OK ") {
			return 0, fmt.Errorf("dbus: the bus refused EXTERNAL authentication (%q)", strings.TrimSpace(line))
		}
		a.mu.Lock()
		a.checked = true
		a.mu.Unlock()
	}
	return a.r.Read(p)
}
