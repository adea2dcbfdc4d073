//go:build linux

package keychain

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The few D-Bus messages the quick Secret Service read sends and reads, in
// the D-Bus wire format (D-Bus specification, "Message Protocol"). They are
// written and read by hand, without reflection, goroutines or a general
// library: a new agcurl process makes one connection and four calls, and
// a general client's set-up costs more than the calls themselves.

// The Secret Service's names (Secret Service API specification).
const (
	ssDest            = "org.freedesktop.secrets"
	ssPath            = "/org/freedesktop/secrets"
	ssService         = "org.freedesktop.Secret.Service"
	ssLoginCollection = "/org/freedesktop/secrets/collection/login/"
)

// searchItemsCall is Service.SearchItems for go-keyring's attributes of
// service/user's item.
func searchItemsCall(service, user string) dbusCall {
	return dbusCall{path: ssPath, iface: ssService, member: "SearchItems", dest: ssDest, sig: "a{ss}",
		body: func(w *dbusWriter) {
			w.uint32(0) // the array's length, set below
			at := len(w.b) - 4
			w.align(8) // not counted in the length
			start := len(w.b)
			for _, kv := range [][2]string{{"username", user}, {"service", service}} {
				w.align(8)
				w.string(kv[0])
				w.string(kv[1])
			}
			binary.LittleEndian.PutUint32(w.b[at:], uint32(len(w.b)-start))
		}}
}

// D-Bus message types.
const (
	dbusMethodCall   = 1
	dbusMethodReturn = 2
	dbusError        = 3
	dbusSignal       = 4
)

// maxDBusMessage bounds a message read from the bus; a session is at most
// systemItemSize, far less.
const maxDBusMessage = 1 << 20

// dbusCall is a method call to send.
type dbusCall struct {
	path, iface, member, dest string
	sig                       string // of the body
	body                      func(*dbusWriter)
}

// dbusWriter appends values in little-endian wire format; offsets (and so
// alignment) count from the start of the buffer.
type dbusWriter struct{ b []byte }

func (w *dbusWriter) align(n int) {
	for len(w.b)%n != 0 {
		w.b = append(w.b, 0)
	}
}

func (w *dbusWriter) byte(v byte) { w.b = append(w.b, v) }

func (w *dbusWriter) uint32(v uint32) {
	w.align(4)
	w.b = binary.LittleEndian.AppendUint32(w.b, v)
}

// string writes a string or object path (types s and o).
func (w *dbusWriter) string(s string) {
	w.uint32(uint32(len(s)))
	w.b = append(w.b, s...)
	w.b = append(w.b, 0)
}

// signature writes a signature (type g).
func (w *dbusWriter) signature(s string) {
	w.b = append(w.b, byte(len(s)))
	w.b = append(w.b, s...)
	w.b = append(w.b, 0)
}

// appendDBusCall appends c, with the given serial, to b.
func appendDBusCall(b []byte, serial uint32, c dbusCall) []byte {
	var body dbusWriter
	if c.body != nil {
		c.body(&body)
	}
	var w dbusWriter
	w.byte('l')
	w.byte(dbusMethodCall)
	w.byte(0) // flags
	w.byte(1) // protocol version
	w.uint32(uint32(len(body.b)))
	w.uint32(serial)
	w.uint32(0) // the header fields' length, set below
	start := len(w.b)
	field := func(code byte, typ, v string) {
		w.align(8)
		w.byte(code)
		w.signature(typ)
		if typ == "g" {
			w.signature(v)
		} else {
			w.string(v)
		}
	}
	field(1, "o", c.path)
	if c.iface != "" {
		field(2, "s", c.iface)
	}
	field(3, "s", c.member)
	field(6, "s", c.dest)
	if c.sig != "" {
		field(8, "g", c.sig)
	}
	binary.LittleEndian.PutUint32(w.b[12:], uint32(len(w.b)-start))
	w.align(8)
	return append(append(b, w.b...), body.b...)
}

// dbusMessage is a message read from the bus: the header fields the
// quick read needs, and the body.
type dbusMessage struct {
	typ         byte
	replySerial uint32
	errorName   string
	sig         string
	order       binary.ByteOrder
	body        []byte
}

// dbusMessageSize returns the size of the message whose first 16 bytes
// are fixed.
func dbusMessageSize(fixed []byte) (int, error) {
	order, err := dbusByteOrder(fixed[0])
	if err != nil {
		return 0, err
	}
	if fixed[3] != 1 {
		return 0, fmt.Errorf("dbus: protocol version %d", fixed[3])
	}
	bodyLen, fieldsLen := order.Uint32(fixed[4:]), order.Uint32(fixed[12:])
	if bodyLen > maxDBusMessage || fieldsLen > maxDBusMessage {
		return 0, errors.New("dbus: message too large")
	}
	size := (16+int(fieldsLen)+7)&^7 + int(bodyLen)
	if size > maxDBusMessage {
		return 0, errors.New("dbus: message too large")
	}
	return size, nil
}

func dbusByteOrder(b byte) (binary.ByteOrder, error) {
	switch b {
	case 'l':
		return binary.LittleEndian, nil
	case 'B':
		return binary.BigEndian, nil
	}
	return nil, fmt.Errorf("dbus: bad byte order %q", b)
}

// parseDBusMessage parses a whole message, as sized by dbusMessageSize.
func parseDBusMessage(b []byte) (*dbusMessage, error) {
	order, err := dbusByteOrder(b[0])
	if err != nil {
		return nil, err
	}
	m := &dbusMessage{typ: b[1], order: order}
	fieldsEnd := 16 + int(order.Uint32(b[12:]))
	r := &dbusReader{b: b[:fieldsEnd], off: 16, order: order}
	for r.err == nil && r.off < fieldsEnd {
		r.align(8)
		code := r.byte()
		typ := r.signature()
		switch typ {
		case "u":
			v := r.uint32()
			if code == 5 {
				m.replySerial = v
			}
		case "s", "o":
			v := r.string()
			if code == 4 {
				m.errorName = v
			}
		case "g":
			v := r.signature()
			if code == 8 {
				m.sig = v
			}
		default:
			// Header fields are of these types (D-Bus specification,
			// "Header Fields"); anything else is not a bus we know.
			return nil, fmt.Errorf("dbus: header field %d of type %q", code, typ)
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	m.body = b[(fieldsEnd+7)&^7:]
	return m, nil
}

// dbusReader reads values from a message body; offsets (and alignment)
// count from the start of b. The first error sticks and makes every later
// read return a zero value.
type dbusReader struct {
	b     []byte
	off   int
	order binary.ByteOrder
	err   error
}

func (r *dbusReader) need(n int) bool {
	if r.err == nil && (n < 0 || n > len(r.b)-r.off) {
		r.err = errors.New("dbus: message ends early")
	}
	return r.err == nil
}

func (r *dbusReader) align(n int) {
	pad := (n - r.off%n) % n
	if r.need(pad) {
		r.off += pad
	}
}

func (r *dbusReader) byte() byte {
	if !r.need(1) {
		return 0
	}
	r.off++
	return r.b[r.off-1]
}

func (r *dbusReader) uint32() uint32 {
	r.align(4)
	if !r.need(4) {
		return 0
	}
	r.off += 4
	return r.order.Uint32(r.b[r.off-4:])
}

// bytes reads an array of bytes (type ay).
func (r *dbusReader) bytes() []byte {
	n := int(r.uint32())
	if !r.need(n) {
		return nil
	}
	r.off += n
	return r.b[r.off-n : r.off]
}

// string reads a string or object path (types s and o).
func (r *dbusReader) string() string {
	n := int(r.uint32())
	if !r.need(n + 1) {
		return ""
	}
	r.off += n + 1
	return string(r.b[r.off-n-1 : r.off-1])
}

func (r *dbusReader) signature() string {
	n := int(r.byte())
	if !r.need(n + 1) {
		return ""
	}
	r.off += n + 1
	return string(r.b[r.off-n-1 : r.off-1])
}

// objectPaths reads an array of object paths (type ao).
func (r *dbusReader) objectPaths() []string {
	n := int(r.uint32())
	if !r.need(n) {
		return nil
	}
	end := r.off + n
	var paths []string
	for r.err == nil && r.off < end {
		paths = append(paths, r.string())
	}
	if r.err == nil && r.off != end {
		r.err = errors.New("dbus: array overruns its length")
	}
	return paths
}

// reader returns a reader of m's body, which must have signature sig.
func (m *dbusMessage) reader(sig string) (*dbusReader, error) {
	if m.typ == dbusError {
		return nil, fmt.Errorf("dbus: %s", m.errorName)
	}
	if m.sig != sig {
		return nil, fmt.Errorf("dbus: reply of signature %q, want %q", m.sig, sig)
	}
	return &dbusReader{b: m.body, order: m.order}, nil
}

// validObjectPath reports whether p is an object path (D-Bus
// specification, "Valid Object Paths"), so that a path the bus sent can be
// sent back in a message.
func validObjectPath(p string) bool {
	if p == "" || p[0] != '/' || len(p) > 1 && p[len(p)-1] == '/' {
		return false
	}
	for i := 1; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '/':
			if p[i-1] == '/' {
				return false
			}
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_':
		default:
			return false
		}
	}
	return true
}
