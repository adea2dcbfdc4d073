//go:build linux

package keychain

import (
	"bytes"
	"encoding/binary"
	"reflect"
	"testing"

	dbus "github.com/godbus/dbus/v5"
)

// The hand-written D-Bus messages are checked against godbus, an
// independent implementation of the wire format: what appendDBusCall
// writes, godbus reads back; what godbus writes, parseDBusMessage reads.

func TestDBusCallsReadByGodbus(t *testing.T) {
	calls := []struct {
		call dbusCall
		body []any
	}{
		{dbusCall{path: "/org/freedesktop/DBus", iface: "org.freedesktop.DBus", member: "Hello", dest: "org.freedesktop.DBus"}, nil},
		{dbusCall{path: ssPath, iface: "org.freedesktop.Secret.Service", member: "OpenSession", dest: ssDest, sig: "sv",
			body: func(w *dbusWriter) { w.string("plain"); w.signature("s"); w.string("") }},
			[]any{"plain", dbus.MakeVariant("")}},
		{searchItemsCall("agcurl", "default.part1"), []any{map[string]string{"username": "default.part1", "service": "agcurl"}}},
		{dbusCall{path: "/org/freedesktop/secrets/collection/login/12", iface: "org.freedesktop.Secret.Item", member: "GetSecret",
			dest: ssDest, sig: "o", body: func(w *dbusWriter) { w.string("/org/freedesktop/secrets/session/s3") }},
			[]any{dbus.ObjectPath("/org/freedesktop/secrets/session/s3")}},
	}
	var all []byte
	for i, c := range calls {
		b := appendDBusCall(nil, uint32(i+1), c.call)
		all = append(all, b...)
		m, err := dbus.DecodeMessage(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: godbus cannot read it: %v", c.call.member, err)
		}
		h := m.Headers
		if m.Type != dbus.TypeMethodCall || m.Serial() != uint32(i+1) ||
			h[dbus.FieldPath].Value() != dbus.ObjectPath(c.call.path) || h[dbus.FieldMember].Value() != c.call.member ||
			h[dbus.FieldInterface].Value() != c.call.iface || h[dbus.FieldDestination].Value() != c.call.dest {
			t.Fatalf("%s: godbus reads %v", c.call.member, m)
		}
		if len(c.body) == 0 {
			if _, ok := h[dbus.FieldSignature]; ok || len(m.Body) != 0 {
				t.Fatalf("%s: a body where none was written: %v", c.call.member, m)
			}
			continue
		}
		if h[dbus.FieldSignature].Value() != dbus.ParseSignatureMust(c.call.sig) || !reflect.DeepEqual(m.Body, c.body) {
			t.Fatalf("%s: body %#v (%v), want %#v", c.call.member, m.Body, h[dbus.FieldSignature], c.body)
		}
	}
	// Written back to back, as on a connection, they still read one by one.
	r := bytes.NewReader(all)
	for range calls {
		if _, err := dbus.DecodeMessage(r); err != nil {
			t.Fatal(err)
		}
	}
	if r.Len() != 0 {
		t.Fatalf("%d bytes left over", r.Len())
	}
}

// godbusReply encodes a reply to serial, as the bus would send it.
func godbusReply(t *testing.T, order binary.ByteOrder, typ dbus.Type, serial uint32, errName string, body ...any) []byte {
	t.Helper()
	m := &dbus.Message{Type: typ, Headers: map[dbus.HeaderField]dbus.Variant{
		dbus.FieldReplySerial: dbus.MakeVariant(serial),
		dbus.FieldSender:      dbus.MakeVariant(":1.0"),
		dbus.FieldDestination: dbus.MakeVariant(":1.42"),
	}, Body: body}
	if typ == dbus.TypeError {
		m.Headers[dbus.FieldErrorName] = dbus.MakeVariant(errName)
	}
	if len(body) > 0 {
		m.Headers[dbus.FieldSignature] = dbus.MakeVariant(dbus.SignatureOf(body...))
	}
	var buf bytes.Buffer
	if err := m.EncodeTo(&buf, order); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func parseWhole(t *testing.T, b []byte) *dbusMessage {
	t.Helper()
	size, err := dbusMessageSize(b[:16])
	if err != nil || size != len(b) {
		t.Fatalf("size %d of %d bytes: %v", size, len(b), err)
	}
	m, err := parseDBusMessage(b)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestDBusRepliesFromGodbus(t *testing.T) {
	type secret struct {
		Session     dbus.ObjectPath
		Parameters  []byte
		Value       []byte
		ContentType string
	}
	value := bytes.Repeat([]byte(`{"access_token":"x"}`), 300)
	for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		m := parseWhole(t, godbusReply(t, order, dbus.TypeMethodReply, 7, "",
			[]dbus.ObjectPath{ssLoginCollection + "1", ssLoginCollection + "22"}, []dbus.ObjectPath{"/org/freedesktop/secrets/collection/x/3"}))
		r, err := m.reader("aoao")
		if err != nil || m.replySerial != 7 {
			t.Fatalf("%v: %v, serial %d", order, err, m.replySerial)
		}
		unlocked, locked := r.objectPaths(), r.objectPaths()
		if r.err != nil || !reflect.DeepEqual(unlocked, []string{ssLoginCollection + "1", ssLoginCollection + "22"}) ||
			!reflect.DeepEqual(locked, []string{"/org/freedesktop/secrets/collection/x/3"}) {
			t.Fatalf("%v: SearchItems %q %q %v", order, unlocked, locked, r.err)
		}

		m = parseWhole(t, godbusReply(t, order, dbus.TypeMethodReply, 8, "",
			dbus.MakeVariant(""), dbus.ObjectPath("/org/freedesktop/secrets/session/s9")))
		if r, err = m.reader("vo"); err != nil {
			t.Fatal(err)
		}
		if sig, v, session := r.signature(), r.string(), r.string(); r.err != nil || sig != "s" || v != "" || session != "/org/freedesktop/secrets/session/s9" {
			t.Fatalf("%v: OpenSession %q %q %q %v", order, sig, v, session, r.err)
		}

		m = parseWhole(t, godbusReply(t, order, dbus.TypeMethodReply, 9, "",
			secret{"/org/freedesktop/secrets/session/s9", []byte{}, value, "text/plain"}))
		if r, err = m.reader("(oayays)"); err != nil {
			t.Fatal(err)
		}
		r.align(8)
		session, params, got, ct := r.string(), r.bytes(), r.bytes(), r.string()
		if r.err != nil || session != "/org/freedesktop/secrets/session/s9" || len(params) != 0 || !bytes.Equal(got, value) || ct != "text/plain" {
			t.Fatalf("%v: GetSecret %q %q %d bytes %q %v", order, session, params, len(got), ct, r.err)
		}

		m = parseWhole(t, godbusReply(t, order, dbus.TypeError, 10, "org.freedesktop.Secret.Error.IsLocked", "locked"))
		if _, err := m.reader("aoao"); err == nil || m.errorName != "org.freedesktop.Secret.Error.IsLocked" {
			t.Fatalf("%v: error reply read as %v (%q)", order, err, m.errorName)
		}
	}
}

func TestDBusReplyOfAnotherSignature(t *testing.T) {
	m := parseWhole(t, godbusReply(t, binary.LittleEndian, dbus.TypeMethodReply, 1, "", "a string"))
	if _, err := m.reader("aoao"); err == nil {
		t.Fatal("a reply of signature s read as aoao")
	}
}

func TestValidObjectPath(t *testing.T) {
	for p, want := range map[string]bool{
		"/": true, "/org/freedesktop/secrets/collection/login/1": true, "/a_b/C9": true,
		"": false, "a/b": false, "/a/": false, "//a": false, "/a//b": false, "/a-b": false, "/a b": false, "/a\x00": false,
	} {
		if validObjectPath(p) != want {
			t.Errorf("validObjectPath(%q) = %v", p, !want)
		}
	}
}

// FuzzParseDBusMessage feeds arbitrary bytes, as a broken or hostile bus
// might send, to the reader: errors, never a panic or an endless loop.
func FuzzParseDBusMessage(f *testing.F) {
	f.Add(appendDBusCall(nil, 1, searchItemsCall("agcurl", "default")))
	f.Add([]byte("l\x02\x01\x01\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < 16 {
			return
		}
		size, err := dbusMessageSize(b[:16])
		if err != nil || size > len(b) {
			return
		}
		m, err := parseDBusMessage(b[:size])
		if err != nil {
			return
		}
		for _, sig := range []string{"aoao", "(oayays)", "vo"} {
			m.sig = sig
			r, _ := m.reader(sig)
			if r == nil {
				continue
			}
			r.objectPaths()
			r.align(8)
			r.string()
			r.bytes()
			r.signature()
		}
	})
}
