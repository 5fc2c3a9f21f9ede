package accesslog

import (
	"testing"
	"time"
)

func TestAppend(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		e    Entry
		want string
	}{
		{"plain", Entry{"127.0.0.1:5000", []byte("GET"), []byte("/a?b=1"), "HTTP/1.1", 200, 12, 1500 * time.Microsecond},
			`2026-11-22T10:00:00.000Z 127.0.0.1:5000 "GET /a?b=1 HTTP/1.1" 200 12 1.500ms` + "\n"},
		{"escapes", Entry{"r", []byte("GET"), []byte("/\"x\n\x1b\xe9"), "HTTP/1.0", 404, 0, 0},
			`2026-11-22T10:00:00.000Z r "GET /\x22x\x0a\x1b\xe9 HTTP/1.0" 404 0 0.000ms` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(Append(nil, now, &tt.e)); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}
