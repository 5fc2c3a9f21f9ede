package httpsyntax

import (
	"strings"
	"testing"
)

// ValidValue's word-at-a-time path agrees with the byte table, for every
// byte at every position of a word and of the tail.
func TestValidValueMatchesTable(t *testing.T) {
	for c := range 256 {
		for pos := range 17 {
			v := []byte(strings.Repeat("a\x80 ", 6))
			v[pos] = byte(c)
			if got, want := ValidValue(v), IsFieldVchar(byte(c)); got != want {
				t.Fatalf("byte %#x at %d: ValidValue %v, want %v", c, pos, got, want)
			}
		}
	}
}

func TestIsFieldVchar(t *testing.T) {
	for c := range 256 {
		want := c == '\t' || c >= 0x20 && c != 0x7f
		if IsFieldVchar(byte(c)) != want {
			t.Errorf("IsFieldVchar(%#x) = %v", c, !want)
		}
	}
}

func TestIsToken(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want bool
	}{
		{"Content-Type", true}, {"x_y", true}, {"!#$%&'*+-.^_`|~09azAZ", true},
		{"", false}, {"a b", false}, {"a:b", false}, {"a\x80", false}, {"(x)", false}, {"a\"", false},
	} {
		if got := IsToken([]byte(tt.in)); got != tt.want {
			t.Errorf("IsToken(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestTrimOWSAndEqualFold(t *testing.T) {
	if got := string(TrimOWS([]byte(" \t chunked\t "))); got != "chunked" {
		t.Errorf("TrimOWS: %q", got)
	}
	if got := TrimOWS([]byte(" \t")); len(got) != 0 {
		t.Errorf("TrimOWS of blanks: %q", got)
	}
	for _, tt := range []struct {
		b, lower string
		want     bool
	}{{"Content-Length", "content-length", true}, {"HOST", "host", true}, {"hosts", "host", false}, {"h0st", "host", false}, {"[", "{", false}} {
		if got := EqualFold([]byte(tt.b), tt.lower); got != tt.want {
			t.Errorf("EqualFold(%q, %q) = %v", tt.b, tt.lower, got)
		}
	}
}

func TestParseUint(t *testing.T) {
	for _, tt := range []struct {
		in   string
		n    int64
		want bool
	}{
		{"0", 0, true}, {"0042", 42, true}, {"9223372036854775807", 1<<63 - 1, true},
		{"9223372036854775808", 0, false}, {"", 0, false}, {"+1", 0, false}, {"-1", 0, false},
		{"1 ", 0, false}, {"0x10", 0, false}, {"99999999999999999999999", 0, false},
	} {
		if n, ok := ParseUint([]byte(tt.in)); n != tt.n || ok != tt.want {
			t.Errorf("ParseUint(%q) = %d %v, want %d %v", tt.in, n, ok, tt.n, tt.want)
		}
	}
}

func FuzzParseUint(f *testing.F) {
	for _, s := range []string{"0", "123", "9223372036854775807", "9223372036854775808", "", "1a"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		n, ok := ParseUint(b)
		if !ok {
			return
		}
		if n < 0 || len(b) == 0 {
			t.Fatalf("ParseUint(%q) = %d, true", b, n)
		}
		for _, c := range b {
			if c < '0' || c > '9' {
				t.Fatalf("ParseUint(%q) accepted a non-digit", b)
			}
		}
	})
}
