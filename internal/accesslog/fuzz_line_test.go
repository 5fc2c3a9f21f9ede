package accesslog

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func fuzzEntry(field []byte, fwd bool, nvars int) *Entry {
	e := &Entry{Remote: string(field), Forwarded: fwd, Method: field, Target: field, Proto: "HTTP/1.1",
		Status: 200, Bytes: 5, Duration: 1500 * time.Microsecond, Host: field, UserAgent: field,
		Referer: field, User: field}
	for range nvars {
		e.Vars = append(e.Vars, field)
	}
	return e
}

// FuzzFormatLine: a format that compiles writes one line per request,
// whatever the request's bytes: the only line end and the only control
// bytes are the format's own.
func FuzzFormatLine(f *testing.F) {
	for _, s := range []string{`%(addr) - %(user) [%(ltime)] "%(method) %(uri) %(proto)" %(status) %(size) "%(referer)" "%(uagent)"`,
		`{"uri":"%(uri)","s":%(status),"h":"%(var.HTTP_X_A)"}`, "%(host)%(", "%(var.HTTP_)", "%%(uri)"} {
		f.Add(s, []byte("a\nb\x1b[31m\"\\\xff"), false)
	}
	f.Fuzz(func(t *testing.T, format string, field []byte, fwd bool) {
		fm, err := ParseFormat(format, 1, 2)
		if err != nil {
			return
		}
		line := fm.append(nil, time.Unix(1700000000, 0), fuzzEntry(field, fwd, len(fm.Vars)))
		if !bytes.HasSuffix(line, []byte("\n")) {
			t.Fatalf("no line end: %q", line)
		}
		body := line[:len(line)-1]
		for _, c := range []byte("\n\r\x1b\x00") {
			if bytes.Count(body, []byte{c}) > strings.Count(format, string(c)) {
				t.Fatalf("format %q, field %q: %q has a %q the format does not", format, field, line, c)
			}
		}
	})
}
