// Package termsafe makes text that came over the network safe to print on a
// terminal: control characters (ESC, CR, LF, BEL, DEL, the C1 range),
// bidirectional overrides and invalid UTF-8 are shown as Go-style escapes
// (\x1b, \r, \u202e) instead of being interpreted by the terminal, and so
// are invisible format characters (zero-width spaces and joiners, tags). A
// provider's error_description, a user's name from userinfo or an HTTP
// reason phrase can then neither clear the screen nor print a line that
// looks as if agcurl wrote it.
package termsafe

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// String returns s with every unsafe character escaped. Text without such
// characters is returned as is, without allocating.
func String(s string) string {
	if isSafe(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\x`)
			b.WriteString(hex2(s[i]))
		case unsafeRune(r):
			q := strconv.QuoteRuneToASCII(r) // '\x1b', '\r', '\u202e'
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// Lines is String for text whose own line breaks are to be kept: each
// "\n" stays a line break, while a "\r" or any other control character is
// escaped.
func Lines(s string) string {
	if isSafe(s) {
		return s
	}
	parts := strings.Split(s, "\n")
	for i, p := range parts {
		parts[i] = String(p)
	}
	return strings.Join(parts, "\n")
}

func isSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f || c >= 0x80 {
			return isSafeSlow(s)
		}
	}
	return true
}

func isSafeSlow(s string) bool {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || unsafeRune(r) {
			return false
		}
		i += size
	}
	return true
}

func unsafeRune(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0:
		return r != '\t'
	case r < 0xa0:
		return false
	case unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp):
		// Format characters (bidi controls, zero-width spaces and
		// joiners, soft hyphens, tags, BOM) and line/paragraph
		// separators: invisible or reordering, so "alice\u200b" could
		// pass for "alice".
		return true
	case r == 0x115f, r == 0x1160, r == 0x3164, r == 0xffa0:
		return true // Hangul fillers, which render as blank
	}
	return false
}

func hex2(c byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[c>>4], digits[c&0xf]})
}

// JSON escapes, in JSON text made by encoding/json, the characters that
// encoding/json leaves raw and a terminal would interpret: DEL, the C1
// controls and bidirectional overrides, as \uXXXX. These can only occur
// inside JSON strings, where the escape means the same character, so the
// result decodes to the same value.
func JSON(s string) string {
	if isSafe(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 12)
	for _, r := range s {
		if r >= 0x7f && unsafeRune(r) {
			units := []rune{r}
			if r > 0xffff {
				hi, lo := utf16.EncodeRune(r)
				units = []rune{hi, lo}
			}
			for _, u := range units {
				b.WriteString(`\u`)
				b.WriteString(strconv.FormatInt(int64(u)|0x10000, 16)[1:])
			}
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
