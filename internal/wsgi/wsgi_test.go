package wsgi

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

// block builds a head block from strings: status, name, value, ...
func block(parts ...string) []byte {
	var b []byte
	for _, p := range parts {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(p)))
		b = append(b, p...)
	}
	return b
}

func TestHeadParse(t *testing.T) {
	tests := []struct {
		name    string
		parts   []string
		code    int
		fields  int
		cl      int64
		close   bool
		wantErr bool
	}{
		{"ok", []string{"200 OK", "Content-Type", "text/plain"}, 200, 1, -1, false, false},
		{"empty reason", []string{"204 ", "X-A", "1"}, 204, 1, -1, false, false},
		{"content-length taken out", []string{"200 OK", "Content-Length", " 12 "}, 200, 0, 12, false, false},
		{"equal duplicate content-length", []string{"200 OK", "Content-Length", "3", "content-length", "3"}, 200, 0, 3, false, false},
		{"conflicting content-length", []string{"200 OK", "Content-Length", "3", "Content-Length", "4"}, 0, 0, 0, false, true},
		{"bad content-length", []string{"200 OK", "Content-Length", "-1"}, 0, 0, 0, false, true},
		{"connection close honoured", []string{"200 OK", "Connection", "keep-alive, Close"}, 200, 0, -1, true, false},
		{"hop-by-hop dropped", []string{"200 OK", "Transfer-Encoding", "chunked", "Keep-Alive", "5", "Upgrade", "x"}, 200, 0, -1, false, false},
		{"code alone", []string{"200"}, 200, 0, -1, false, false},
		{"no space", []string{"200OK"}, 0, 0, 0, false, true},
		{"letters", []string{"2x0 OK"}, 0, 0, 0, false, true},
		{"informational refused", []string{"100 Continue"}, 0, 0, 0, false, true},
		{"CRLF in status", []string{"200 OK\r\nX: y"}, 0, 0, 0, false, true},
		{"CRLF in value", []string{"200 OK", "X-A", "a\r\nSet-Cookie: x=1"}, 0, 0, 0, false, true},
		{"LF in value", []string{"200 OK", "X-A", "a\nb"}, 0, 0, 0, false, true},
		{"NUL in value", []string{"200 OK", "X-A", "a\x00"}, 0, 0, 0, false, true},
		{"tab in value ok", []string{"200 OK", "X-A", "a\tb"}, 200, 1, -1, false, false},
		{"latin-1 value ok", []string{"200 OK", "X-A", "caf\xe9"}, 200, 1, -1, false, false},
		{"space in name", []string{"200 OK", "X A", "1"}, 0, 0, 0, false, true},
		{"colon in name", []string{"200 OK", "X:A", "1"}, 0, 0, 0, false, true},
		{"empty name", []string{"200 OK", "", "1"}, 0, 0, 0, false, true},
		{"missing value", []string{"200 OK", "X-A"}, 0, 0, 0, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h Head
			err := h.Parse(block(tt.parts...))
			if tt.wantErr {
				if err == nil {
					t.Fatalf("accepted %q", tt.parts)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if h.Code != tt.code || len(h.Fields) != tt.fields || h.ContentLength != tt.cl || h.Close != tt.close {
				t.Errorf("got code %d fields %d cl %d close %v", h.Code, len(h.Fields), h.ContentLength, h.Close)
			}
		})
	}
}

// A status that is the code alone gets the code's reason on the response
// line (one the registry has none for, an empty one), in memory of its
// own: the block it came from is the app's slot buffer.
func TestHeadCodeAlone(t *testing.T) {
	for status, want := range map[string]string{"200": "200 OK", "404": "404 Not Found", "299": "299 "} {
		var h Head
		b := block(status)
		if err := h.Parse(b); err != nil || string(h.Status) != want {
			t.Errorf("%q: status %q, %v; want %q", status, h.Status, err, want)
		}
		clear(b)
		if string(h.Status) != want {
			t.Errorf("%q: the status aliases the block", status)
		}
	}
}

func TestHeadErrorType(t *testing.T) {
	var h Head
	var he *HeadError
	if err := h.Parse(block("abc")); !errors.As(err, &he) {
		t.Fatalf("got %v, want a *HeadError", err)
	}
}

func TestEnvRoundTrip(t *testing.T) {
	var e Env
	e.Add(KeyRequestMethod, []byte("GET"))
	e.AddString(KeyServerPort, "8000")
	e.AddHeader([]byte("User-Agent"), []byte("curl"))
	e.AddHeader([]byte("x-custom-thing"), []byte("v\xe9"))
	e.AddLiteral([]byte("X_RAW"), []byte(""))
	got, ok := Decode(e.Bytes())
	if !ok {
		t.Fatal("block does not decode")
	}
	want := []Entry{{"REQUEST_METHOD", "GET"}, {"SERVER_PORT", "8000"},
		{"HTTP_USER_AGENT", "curl"}, {"HTTP_X_CUSTOM_THING", "v\xe9"}, {"X_RAW", ""}}
	if len(got) != len(want) {
		t.Fatalf("got %q", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d: got %q, want %q", i, got[i], want[i])
		}
	}
	e.Reset()
	if len(e.Bytes()) != 0 {
		t.Error("Reset left bytes")
	}
}

func TestEnvKnownHeadersNeedNoLiteral(t *testing.T) {
	for _, name := range []string{"Host", "ACCEPT-encoding", "Cookie", "X-Forwarded-For"} {
		var e Env
		e.AddHeader([]byte(name), []byte("v"))
		if id := binary.LittleEndian.Uint16(e.Bytes()); id == literalKey {
			t.Errorf("%s travels as a literal key", name)
		}
	}
}

func TestEnvAddHeaderAllocs(t *testing.T) {
	var e Env
	name, val := []byte("Accept-Language"), []byte("en")
	allocs := testing.AllocsPerRun(100, func() {
		e.Reset()
		e.AddHeader(name, val)
	})
	if allocs != 0 {
		t.Errorf("AddHeader allocates %.0f times per call", allocs)
	}
}

func TestUnescapePath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/a/b", "/a/b"},
		{"/caf%C3%A9", "/caf\xc3\xa9"},
		{"/a%2Fb", "/a/b"},
		{"/bad%zz%4", "/bad%zz%4"},
		{"/%", "/%"},
		{"%41%42", "AB"},
	}
	for _, tt := range tests {
		if got := string(UnescapePath(nil, []byte(tt.in))); got != tt.want {
			t.Errorf("UnescapePath(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzHeadParse(f *testing.F) {
	f.Add(block("200 OK", "Content-Type", "text/plain"))
	f.Add(block("500 Oops", "X", "a\r\nb"))
	f.Add(block("204 ", "Content-Length", "0", "Connection", "close"))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		var h Head
		if h.Parse(b) != nil {
			return
		}
		if h.Code < 200 || h.Code > 999 {
			t.Fatalf("accepted code %d", h.Code)
		}
		for _, fl := range h.Fields {
			if bytes.ContainsAny(fl.Name, "\r\n: ") || bytes.ContainsAny(fl.Value, "\r\n\x00") {
				t.Fatalf("accepted unsafe field %q: %q", fl.Name, fl.Value)
			}
		}
		if bytes.ContainsAny(h.Status, "\r\n") {
			t.Fatalf("accepted unsafe status %q", h.Status)
		}
	})
}

func FuzzEnvDecode(f *testing.F) {
	var e Env
	e.AddHeader([]byte("X-A"), []byte("b"))
	f.Add(e.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		Decode(b) // must not panic on any input
		var e Env
		e.AddHeader(b, b)
		if _, ok := Decode(e.Bytes()); !ok && len(b) <= 0xFFF0 {
			t.Fatalf("AddHeader(%q) made an undecodable block", b)
		}
	})
}

func TestEnvAddVar(t *testing.T) {
	var e Env
	e.AddVar([]byte("HTTP_HOST"), []byte("h"))
	e.AddVar([]byte("DOCUMENT_ROOT"), []byte("/srv"))
	got, _ := Decode(e.Bytes())
	if len(got) != 2 || got[0] != (Entry{"HTTP_HOST", "h"}) || got[1] != (Entry{"DOCUMENT_ROOT", "/srv"}) {
		t.Fatalf("got %q", got)
	}
	if id := binary.LittleEndian.Uint16(e.Bytes()); id == literalKey {
		t.Error("HTTP_HOST travelled as a literal")
	}
}
