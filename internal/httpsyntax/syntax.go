// Package httpsyntax holds the small rules of HTTP's syntax (RFC 9110)
// that both sides of carafe check: the request parser (httpfront) and the
// check of the app's response head (wsgi). One copy, so that the two
// cannot drift apart.
package httpsyntax

import "encoding/binary"

var (
	tchar      [256]bool // a token's characters (RFC 9110 §5.6.2)
	fieldVchar [256]bool // a field value's: VCHAR, SP, HTAB, obs-text
)

func init() {
	for c := range 256 {
		alnum := 'a' <= c|0x20 && c|0x20 <= 'z' || '0' <= c && c <= '9'
		tchar[c] = alnum
		fieldVchar[c] = c == '\t' || (c >= ' ' && c != 0x7f)
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		tchar[c] = true
	}
}

// IsTchar reports whether c may be part of a token.
func IsTchar(c byte) bool { return tchar[c] }

// IsFieldVchar reports whether c may be part of a field value.
func IsFieldVchar(c byte) bool { return fieldVchar[c] }

// IsToken reports whether b is a token: one or more token characters.
func IsToken(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !tchar[c] {
			return false
		}
	}
	return true
}

// ValidValue reports whether v holds only VCHAR, SP, HTAB and obs-text:
// no CR, LF, NUL or other control byte. Values are most of a head's bytes,
// so it checks eight at a time and looks at single bytes only in a word
// holding a CTL, DEL or HTAB.
func ValidValue(v []byte) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for len(v) >= 8 {
		w := binary.LittleEndian.Uint64(v)
		del := w ^ (0x7f * ones)
		// A high bit set in (x - ones*n) &^ x marks a byte of x below n.
		if (w-0x20*ones)&^w&highs != 0 || (del-ones)&^del&highs != 0 {
			break
		}
		v = v[8:]
	}
	for _, c := range v {
		if !fieldVchar[c] {
			return false
		}
	}
	return true
}

// TrimOWS trims optional whitespace (spaces and tabs) from both ends.
func TrimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// EqualFold reports whether b equals lower, a lowercase ASCII string,
// ignoring ASCII case.
func EqualFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// ParseUint parses 1*DIGIT that fits an int64 (a Content-Length).
func ParseUint(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := int64(c - '0')
		if n > (1<<63-1-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}
