package accesslog

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

func TestAppend(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		e    Entry
		want string
	}{
		{"plain", Entry{Remote: "127.0.0.1:5000", Method: []byte("GET"), Target: []byte("/a?b=1"), Proto: "HTTP/1.1", Status: 200, Bytes: 12, Duration: 1500 * time.Microsecond},
			`2026-11-22T10:00:00.000Z 127.0.0.1:5000 "GET /a?b=1 HTTP/1.1" 200 12 1.500ms` + "\n"},
		{"remote from a header", Entry{Remote: "203.0.113.7, \"x\" \n", Method: []byte("GET"), Target: []byte("/"), Proto: "HTTP/1.1", Status: 200},
			`2026-11-22T10:00:00.000Z 203.0.113.7,\x20\x22x\x22\x20\x0a "GET / HTTP/1.1" 200 0 0.000ms` + "\n"},
		{"no remote address", Entry{Method: []byte("GET"), Target: []byte("/"), Proto: "HTTP/1.0", Status: 200, Bytes: 3},
			`2026-11-22T10:00:00.000Z - "GET / HTTP/1.0" 200 3 0.000ms` + "\n"},
		{"escapes", Entry{Remote: "r", Method: []byte("GET"), Target: []byte("/\"x\n\x1b\xe9"), Proto: "HTTP/1.0", Status: 404},
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

// syncBuffer is a bytes.Buffer safe for the flush timer's goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestLoggerBatchesAndFlushes(t *testing.T) {
	var out syncBuffer
	l := New(&out, Filter{}, nil)
	clock := time.Now() // stands still unless moved: no stall of the test's makes a batch
	l.now = func() time.Time { return clock }
	e := Entry{Remote: "r", Method: []byte("GET"), Target: []byte("/"), Proto: "HTTP/1.1", Status: 200}
	// The first line in a while goes out at once: a worker killed right
	// after it (SIGKILL) loses nothing.
	l.Log(&e)
	if n := strings.Count(out.String(), "\n"); n != 1 {
		t.Fatalf("%d lines written after the first, want it at once", n)
	}
	// Those right after it are batched.
	l.Log(&e)
	l.Log(&e)
	if n := strings.Count(out.String(), "\n"); n != 1 {
		t.Fatalf("%d lines written, want the 2 that followed the first batched", n)
	}
	deadline := time.Now().Add(2 * time.Second)
	for strings.Count(out.String(), "\n") != 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := strings.Count(out.String(), "\n"); n != 3 {
		t.Fatalf("%d lines after the flush interval, want 3", n)
	}
	l.Log(&e) // within FlushEvery of that write: batched
	if n := strings.Count(out.String(), "\n"); n != 3 {
		t.Fatalf("%d lines, want the one right after a write batched", n)
	}
	l.Flush()
	if n := strings.Count(out.String(), "\n"); n != 4 {
		t.Fatalf("%d lines after Flush, want 4", n)
	}
	clock = clock.Add(FlushEvery)
	l.Log(&e)
	if n := strings.Count(out.String(), "\n"); n != 5 {
		t.Fatalf("%d lines, want a line after a quiet FlushEvery written at once", n)
	}
	var nilLogger *Logger
	nilLogger.Log(&e)
	nilLogger.Flush()
}

// chunkRecorder records each Write call.
type chunkRecorder struct{ writes [][]byte }

func (c *chunkRecorder) Write(p []byte) (int, error) {
	c.writes = append(c.writes, append([]byte(nil), p...))
	return len(p), nil
}

func TestFlushWritesWholeLinesWithinPipeBuf(t *testing.T) {
	var rec chunkRecorder
	l := New(&rec, Filter{}, nil)
	e := Entry{Remote: "r", Method: []byte("GET"), Target: bytes.Repeat([]byte("x"), 300), Proto: "HTTP/1.1", Status: 200}
	for range 100 {
		l.Log(&e)
	}
	l.Flush()
	total := 0
	for _, w := range rec.writes {
		if len(w) > pipeAtomic || w[len(w)-1] != '\n' {
			t.Fatalf("a write of %d bytes not ending a line", len(w))
		}
		total += bytes.Count(w, []byte("\n"))
	}
	if total != 100 {
		t.Fatalf("%d lines written, want 100", total)
	}
}

// New with status classes keeps only those responses' lines.
func TestLoggerFilter(t *testing.T) {
	// Each request is logged with its status as the target, to be told apart.
	reqs := []Entry{
		{Status: 200, Bytes: 10, Duration: time.Millisecond},
		{Status: 204, Bytes: 0, Duration: time.Millisecond},
		{Status: 302, Bytes: 5, Duration: time.Millisecond},
		{Status: 404, Bytes: 10, Duration: time.Millisecond},
		{Status: 499, Bytes: 10, Duration: time.Millisecond},
		{Status: 500, Bytes: 10, Duration: time.Millisecond},
		{Status: 503, Bytes: 10, Duration: time.Millisecond},
		{Status: 999, Bytes: 10, Duration: time.Millisecond},
		{Status: 201, Bytes: 10, Duration: 300 * time.Millisecond},
		{Status: 206, Bytes: 1 << 20, Duration: time.Millisecond},
		{Status: 207, Bytes: 10, Duration: time.Millisecond, WriteErr: true},
		{Status: 208, Bytes: 10, Duration: time.Millisecond, ReadErr: true},
		{Status: 226, Bytes: 10, Duration: time.Millisecond, Sendfile: true},
	}
	for _, tt := range []struct {
		f    Filter
		want string
	}{
		{Filter{}, "200 204 302 404 499 500 503 999 201 206 207 208 226"},
		{Filter{Classes: []int{4}}, "404 499"},
		{Filter{Classes: []int{5}}, "500 503"},
		{Filter{Classes: []int{4, 5}}, "404 499 500 503"},
		{Filter{Slower: 200 * time.Millisecond}, "201"},
		{Filter{Bigger: 1000}, "206"},
		// At the bound, as uWSGI: >=, not >.
		{Filter{Slower: 300 * time.Millisecond}, "201"},
		{Filter{Bigger: 1 << 20}, "206"},
		{Filter{IOError: true}, "207 208"},
		{Filter{Sendfile: true}, "226"},
		{Filter{Empty: true}, "204"},
		{Filter{Classes: []int{5}, Slower: 200 * time.Millisecond, Empty: true}, "204 500 503 201"},
	} {
		var buf bytes.Buffer
		l := New(&buf, tt.f, nil)
		for i := range reqs {
			e := reqs[i]
			e.Remote, e.Method, e.Proto = "r", []byte("GET"), "HTTP/1.1"
			e.Target = []byte(strconv.Itoa(e.Status))
			l.Log(&e)
		}
		l.Flush()
		var got []string
		for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			if f := strings.Fields(line); len(f) > 5 {
				got = append(got, f[5])
			}
		}
		if strings.Join(got, " ") != tt.want {
			t.Errorf("filter %+v logged statuses %q, want %q", tt.f, got, tt.want)
		}
	}
}

// A log-format line: Apache's combined format in uWSGI's variables, request
// values escaped ("-" when absent), figures and times as uWSGI gives them.
func TestFormat(t *testing.T) {
	f, err := ParseFormat(`%(addr) - %(user) [%(ltime)] "%(method) %(uri) %(proto)" %(status) %(size) "%(referer)" "%(uagent)" `+
		`%(msecs)ms %(micros) host=%(host) rsize=%(rsize) hsize=%(hsize) cl=%(cl) pid=%(pid) wid=%(wid) t=%(time) e=%(epoch)`, 42, 3)
	if err != nil {
		t.Fatal(err)
	}
	if !f.Headers {
		t.Error("Headers false for a format reading referer, uagent and host")
	}
	now := time.Date(2026, 11, 22, 10, 0, 2, 0, time.UTC)
	e := Entry{Remote: "203.0.113.9:5555", Method: []byte("GET"), Target: []byte("/a?b=1"), Proto: "HTTP/1.1", Status: 200,
		Bytes: 12, HeadBytes: 100, ContentLength: 7, Duration: 1500 * time.Millisecond,
		UserAgent: []byte("curl/8 \"x\""), Host: []byte("example.com")}
	want := `203.0.113.9 - - [22/Nov/2026:10:00:00 +0000] "GET /a?b=1 HTTP/1.1" 200 112 "-" "curl/8 \x22x\x22" ` +
		`1500ms 1500000 host=example.com rsize=12 hsize=100 cl=7 pid=42 wid=3 t=1795341600 e=1795341602` + "\n"
	if got := string(f.append(nil, now, &e)); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	// %(var.HTTP_NAME): the values the front end gives, in order, escaped;
	// "-" for a header not sent.
	f, err = ParseFormat(`%(var.HTTP_X_FORWARDED_FOR) %(var.HTTP_X_REAL_IP) %(status)`, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !f.Headers || strings.Join(f.Vars, " ") != "HTTP_X_FORWARDED_FOR HTTP_X_REAL_IP" {
		t.Errorf("Headers %v, Vars %q", f.Headers, f.Vars)
	}
	e = Entry{Status: 200, Vars: [][]byte{[]byte("9.9.9.9, 10.0.0.1\n"), nil}}
	if got, want := string(f.append(nil, now, &e)), "9.9.9.9, 10.0.0.1\\x0a - 200\n"; got != want {
		t.Errorf("var.: got %q, want %q", got, want)
	}
	// uWSGI's figures, as the Logstash recipe of its users logs them.
	f, err = ParseFormat(`"core": %(core), "switches": %(switches), "io": %(ioerr) %(rerr) %(werr), `+
		`"headers": %(headers), "vars": %(vars), "mod": %(modifier1)/%(modifier2)`, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !f.Counts || f.Headers {
		t.Errorf("Counts %v, Headers %v: want the response's fields counted, no request header read", f.Counts, f.Headers)
	}
	e = Entry{Status: 200, RespHeaders: 7, RequestVars: 40, Modifier1: 5, Modifier2: 2, ReadErr: true, WriteErr: true}
	if got, want := string(f.append(nil, now, &e)), `"core": 0, "switches": 1, "io": 2 1 1, "headers": 7, "vars": 40, "mod": 5/2`+"\n"; got != want {
		t.Errorf("uWSGI's figures: got %q, want %q", got, want)
	}
	e = Entry{Status: 200, WriteErr: true}
	if got, want := string(f.append(nil, now, &e)), `"core": 0, "switches": 1, "io": 1 0 1, "headers": 0, "vars": 0, "mod": 0/0`+"\n"; got != want {
		t.Errorf("uWSGI's figures: got %q, want %q", got, want)
	}
	for _, bad := range []string{"%(rss)", "%(var.REMOTE_ADDR)", "%(var.HTTP_)", "%(var.HTTP_x-y)", "a %(addr"} {
		if _, err := ParseFormat(bad, 1, 0); err == nil {
			t.Errorf("ParseFormat(%q) accepted", bad)
		}
	}
	if f, _ := ParseFormat("%(status) %(msecs)", 1, 0); f.Headers {
		t.Error("Headers true for a format that reads no header")
	}
}

// A format that is a JSON object gets its values escaped as JSON strings,
// so that every line parses, whatever a client sends: \xNN is no JSON.
func TestFormatJSON(t *testing.T) {
	f, err := ParseFormat(` {"uri": "%(uri)", "ua": "%(uagent)", "ref": "%(referer)", "xff": "%(var.HTTP_X_FORWARDED_FOR)", "status": %(status)} `, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	e := Entry{Target: []byte("/caf\xc3\xa9?q=\"x\"&p=a\\b"), Status: 404,
		UserAgent: []byte("bot\n{\"forged\": 1}\x1b[31m\x7f"), Referer: []byte("\xff\xfe \xc2\x85 \xe2\x80\xa8 \xef\xbf\xbd"),
		Vars: [][]byte{nil}}
	line := f.append(nil, time.Now(), &e)
	if strings.Count(string(line), "\n") != 1 || !utf8.Valid(line) {
		t.Fatalf("not one valid UTF-8 line: %q", line)
	}
	var got map[string]any
	if err := json.Unmarshal(line, &got); err != nil {
		t.Fatalf("%q: %v", line, err)
	}
	want := map[string]any{"uri": "/caf\u00e9?q=\"x\"&p=a\\b", "ua": "bot\n{\"forged\": 1}\x1b[31m\x7f",
		"ref": "\u00ff\u00fe \u0085 \u2028 \ufffd", "xff": "-", "status": float64(404)}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q (line %q)", k, got[k], v, line)
		}
	}
	if strings.Contains(string(line), "\\x") || strings.ContainsRune(string(line), 0x2028) {
		t.Errorf("%q: \\x or a raw line separator", line)
	}
	// Not an object: the default escaping.
	f, _ = ParseFormat(`"%(uagent)" {x}`, 1, 0)
	if got := string(f.append(nil, time.Now(), &Entry{UserAgent: []byte("a\"\xc3\xa9")})); got != `"a\x22\xc3\xa9" {x}`+"\n" {
		t.Errorf("plain format: %q", got)
	}
}
