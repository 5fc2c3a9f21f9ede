package tests

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// wsgiLines splits body after each "\n", as readline() does.
func wsgiLines(body string) []string {
	var out []string
	for body != "" {
		i := strings.IndexByte(body, '\n') + 1
		if i == 0 {
			i = len(body)
		}
		out = append(out, body[:i])
		body = body[i:]
	}
	return out
}

// wsgiPieces splits each of parts into pieces of at most n bytes.
func wsgiPieces(parts []string, n int) []string {
	var out []string
	for _, p := range parts {
		for len(p) > n {
			out = append(out, p[:n])
			p = p[n:]
		}
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// wsgiPostInput POSTs body to the input app on a raw connection, with a
// second request pipelined right behind it, and returns the pieces the app
// read. The second request checks that its bytes never leaked into the
// first one's wsgi.input.
func wsgiPostInput(t *testing.T, s *server, target, body string) []string {
	t.Helper()
	_, br := wsgiRaw(t, s, fmt.Sprintf("POST %s HTTP/1.1\r\nHost: x\r\n"+
		"Content-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s", target, len(body), body)+
		"GET /read HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	var got []string
	for i, want := range []string{"", `[""]`} {
		resp, b := wsgiReadResp(t, br, "POST")
		if resp.StatusCode != 200 {
			t.Fatalf("response %d: status %d, body %q", i+1, resp.StatusCode, b)
		}
		if i == 0 {
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatalf("%v in %q", err, b)
			}
		} else if string(b) != want {
			t.Errorf("pipelined GET /read saw input %s, want %s", b, want)
		}
	}
	return got
}

func TestWSGIInput(t *testing.T) {
	t.Parallel()
	s := startApp(t, "input")
	const body = "first line\nsecond line is longer\n\nfourth\nno newline at the end"
	lines := wsgiLines(body)
	tests := []struct {
		target string
		want   []string
	}{
		{"/read", []string{body}},
		{"/read-n?n=5", wsgiPieces([]string{body}, 5)},
		{"/read-n?n=1000", []string{body}},
		{"/readline", lines},
		{"/readline-size?n=4", wsgiPieces(lines, 4)},
		{"/readline-size?n=100", lines},
		{"/readlines", lines},
		{"/iter", lines},
		{"/read-negative", []string{body}},
		{"/read-none", []string{body}},
		{"/readline-negative", lines},
		{"/readlines-hint?n=15", lines},
		// read(3), readline(), read(4), readline(2), readlines(): one buffer.
		{"/mixed", []string{"fir", "st line\n", "seco", "nd", " line is longer\n", "\n", "fourth\n", "no newline at the end"}},
		// read(len), then every kind of read past CONTENT_LENGTH is empty.
		{"/past-eof", []string{body, "", "", "", "", "[]"}},
	}
	for _, tt := range tests {
		t.Run(strings.TrimPrefix(tt.target, "/"), func(t *testing.T) {
			if got := wsgiPostInput(t, s, tt.target, body); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("pieces read:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

// A body bigger than any sensible buffer: pieces must add up exactly, and
// read(n) must return n bytes until the last piece, as a file does.
func TestWSGIInputLarge(t *testing.T) {
	t.Parallel()
	s := startApp(t, "input")
	var b strings.Builder
	for i := 0; b.Len() < 400_000; i++ {
		fmt.Fprintf(&b, "line %d %s\n", i, strings.Repeat("x", i%97))
	}
	body := b.String() + "tail"
	huge := strings.Repeat(body, 13) + "end" // 5.2 MB
	for _, tt := range []struct {
		target, body string
		want         []string
	}{
		{"/read", body, []string{body}},
		{"/read-n?n=7000", body, wsgiPieces([]string{body}, 7000)},
		{"/readline", body, wsgiLines(body)},
		{"/readline-size?n=50", body, wsgiPieces(wsgiLines(body), 50)},
		// Past the 1 MiB a read allocates before the bytes come: it grows.
		{"/read", huge, []string{huge}},
		{"/read-n?n=3000000", huge, wsgiPieces([]string{huge}, 3000000)},
	} {
		got := wsgiPostInput(t, s, tt.target, tt.body)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: %d pieces, %d bytes; want %d pieces, %d bytes (joined equal: %v)", tt.target,
				len(got), len(strings.Join(got, "")), len(tt.want), len(tt.body), strings.Join(got, "") == tt.body)
		}
	}
}

// A client that sends part of its body and leaves: the app's read raises
// OSError, and so does every read after it, of every kind. They used to
// return b"", which an app that caught the first error took for the end
// of a shorter body.
func TestWSGIInputClientGone(t *testing.T) {
	t.Parallel()
	s := wsgiInputAbandoned(t, "/")
	if !s.waitLog("input_abort: ", 5*time.Second) {
		t.Fatalf("the app logged nothing:\n%s", s.Log())
	}
	line := s.Log()[strings.Index(s.Log(), "input_abort: "):]
	line = line[:strings.IndexByte(line, '\n')]
	const failed = "OSError(carafe: request body incomplete (client disconnected or timed out))"
	// tell() counts the bytes that came, not those the head promised.
	want := "input_abort: " + strings.Repeat(failed+"; ", 5) + "tell 1000"
	if line != want {
		t.Errorf("reads after the client left:\n got %s\nwant %s", line, want)
	}
	// The app caught the errors and answered (as Werkzeug answers 400):
	// the log still says why the body was short.
	if !s.waitLog("httpfront: request body incomplete", 3*time.Second) {
		t.Errorf("no line says the body was incomplete:\n%s", s.Log())
	}
}

// An app that catches the failed read and then raises an error of its
// own has that error's traceback logged: it used to be dropped with the
// read's, which is the client's doing and logged as such.
func TestWSGIInputClientGoneThenAppError(t *testing.T) {
	t.Parallel()
	s := wsgiInputAbandoned(t, "/raise")
	if !s.waitLog("ZeroDivisionError", 5*time.Second) {
		t.Errorf("the app's own error after the failed read was not logged:\n%s", s.Log())
	}
	if !strings.Contains(s.Log(), "httpfront: request body incomplete") {
		t.Errorf("the failed read was not logged:\n%s", s.Log())
	}
}

// wsgiInputAbandoned starts the input_abort app and POSTs target 1,000
// bytes of the 100,000 its head promises, then leaves.
func wsgiInputAbandoned(t *testing.T, target string) *server {
	s := startApp(t, "input_abort")
	c, _ := wsgiRaw(t, s, "POST "+target+" HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n"+strings.Repeat("x", 1000))
	time.Sleep(100 * time.Millisecond) // the app is waiting for the rest
	c.Close()
	return s
}

// read() of a body whose head claims 900 MB, of which 1,000 bytes came,
// takes address space for what came, not for the claim: allocating the
// whole Content-Length up front let each such request take 900 MB of it,
// which fails under strict overcommit or an address-space limit.
func TestWSGIInputReadReservesWhatCame(t *testing.T) {
	t.Parallel()
	s := startApp(t, "input_abort")
	pid := s.cmd.Process.Pid
	before := wsgiVmSizeKB(t, pid)
	c, _ := wsgiRaw(t, s, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 900000000\r\n\r\n"+strings.Repeat("x", 1000))
	time.Sleep(200 * time.Millisecond) // the app is in read(), waiting for the rest
	during := wsgiVmSizeKB(t, pid)
	c.Close()
	if !s.waitLog("input_abort: ", 5*time.Second) {
		t.Fatalf("the app logged nothing:\n%s", s.Log())
	}
	t.Logf("worker VmSize %d KiB before, %d KiB while read() waits", before, during)
	if grew := during - before; grew > 100<<10 {
		t.Errorf("VmSize grew by %d MiB while read() waited for a body claiming 900 MB, want under 100", grew>>10)
	}
}

// wsgiVmSizeKB is the VmSize of pid, in KiB.
func wsgiVmSizeKB(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmSize:" {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n
		}
	}
	t.Fatalf("no VmSize in /proc/%d/status", pid)
	return 0
}

// A client that sends its body slowly holds the only Python thread while
// the app reads a streamed body; with --post-buffering the body is read
// whole first, and other requests go on meanwhile. Either way the app
// gets the body exactly.
func TestWSGIInputPostBuffering(t *testing.T) {
	t.Parallel()
	body := strings.Repeat("0123456789\n", 20000) // 220,000 bytes, past the 64 KiB read ahead
	for _, tc := range []struct {
		flags   []string
		blocked bool
	}{
		{nil, true},
		{[]string{"--post-buffering", "65536"}, false}, // to a temp file
		{[]string{"--post-buffering", "1048576"}, false},
	} {
		t.Run(strings.Join(append([]string{"threads 1"}, tc.flags...), " "), func(t *testing.T) {
			t.Parallel()
			s := startApp(t, "input", append([]string{"--threads", "1"}, tc.flags...)...)
			slow, slowR := wsgiRaw(t, s, fmt.Sprintf("POST /read HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s",
				len(body), body[:100000]))
			time.Sleep(300 * time.Millisecond) // the slow client's body is half there
			other := make(chan error, 1)
			go func() {
				c := masterClient(false, 10*time.Second)
				code, _, err := masterGet(c, s.URL("/read"))
				if err == nil && code != 200 {
					err = fmt.Errorf("status %d", code)
				}
				other <- err
			}()
			select {
			case err := <-other:
				if tc.blocked {
					t.Errorf("another request was answered (%v) while a streamed body held the thread", err)
				} else if err != nil {
					t.Errorf("another request: %v", err)
				}
			case <-time.After(time.Second):
				if !tc.blocked {
					t.Errorf("another request waited a second behind a slow client's body")
				}
			}
			io.WriteString(slow, body[100000:])
			resp, b := wsgiReadResp(t, slowR, "POST")
			var pieces []string
			if err := json.Unmarshal(b, &pieces); err != nil || resp.StatusCode != 200 {
				t.Fatalf("the slow client's answer: %d %q %v", resp.StatusCode, b, err)
			}
			if got := strings.Join(pieces, ""); got != body {
				t.Errorf("the app read %d bytes, want the %d sent", len(got), len(body))
			}
			if tc.blocked {
				<-other
			}
		})
	}
}

// A client that stops sending a streamed body past the read timeout is
// the client's fault, not the app's: it gets a 408 (as from nginx past
// client_body_timeout; it was a 400), and the log an INFO
// line, with no Python traceback or "app error" (a client could fill the
// error log with them), as a body read before the call would.
func TestWSGIInputStalledBody(t *testing.T) {
	t.Parallel()
	s := startApp(t, "input", "--http-timeout", "1")
	start := time.Now()
	_, br := wsgiRaw(t, s, "POST /read HTTP/1.1\r\nHost: x\r\nContent-Length: 200000\r\n\r\n"+strings.Repeat("x", 100000))
	resp, b := wsgiReadResp(t, br, "POST")
	if resp.StatusCode != 408 {
		t.Errorf("a stalled body: %d %q, want a 408", resp.StatusCode, b)
	}
	// Then the connection closes: no drain or lingering close waits out
	// another timeout on a client that sends nothing.
	if _, err := br.ReadByte(); err != io.EOF || time.Since(start) > 1800*time.Millisecond {
		t.Errorf("after the 408: %v, %v after the request; want EOF at about 1 s", err, time.Since(start))
	}
	if !s.waitLog("httpfront: request body incomplete", 3*time.Second) {
		t.Errorf("no line says the body was incomplete")
	}
	// A chunked body that stalls: the same 408.
	_, br = wsgiRaw(t, s, "POST /read HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabc")
	if resp, b := wsgiReadResp(t, br, "POST"); resp.StatusCode != 408 {
		t.Errorf("a stalled chunked body: %d %q, want a 408", resp.StatusCode, b)
	}
	for _, bad := range []string{"Traceback", "app error"} {
		if strings.Contains(s.Log(), bad) {
			t.Errorf("the log has %q for a client's stalled body", bad)
		}
	}
}

// --http-timeout bounds each read of a body, not the whole upload: a
// small body (read before the call) that trickles in for longer than the
// timeout, each byte well within it, reaches the app whole, as a streamed
// or chunked one does.
func TestWSGIInputSlowSmallBody(t *testing.T) {
	t.Parallel()
	s := startApp(t, "input", "--http-timeout", "1")
	body := "0123456789"
	c, br := wsgiRaw(t, s, fmt.Sprintf("POST /read HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", len(body)))
	for i := range len(body) { // 2.5 s in all
		time.Sleep(250 * time.Millisecond)
		io.WriteString(c, body[i:i+1])
	}
	resp, b := wsgiReadResp(t, br, "POST")
	if resp.StatusCode != 200 || string(b) != `["0123456789"]` {
		t.Errorf("a slow small body: %d %q, want 200 and the body whole", resp.StatusCode, b)
	}
}

// wsgi.input tells its offset, and seeks within a body read whole before
// the call (a small or chunked one, or any with --post-buffering, in
// memory or in a temp file), as uWSGI's does under --post-buffering:
// middleware reads the body and rewinds it for the app. A body that
// streams from the client cannot seek, and says why. After a seek the
// connection goes on with the next request, whatever the app left unread.
func TestWSGIInputSeek(t *testing.T) {
	t.Parallel()
	small := "hello-world"
	big := strings.Repeat("0123456789abcdef", 20000)  // 320,000 bytes, past the 64 KiB read ahead
	huge := strings.Repeat("fedcba9876543210", 80000) // 1.28 MB, past a chunked body's 1 MiB in memory
	type answer struct {
		First     int    `json:"first"`
		Tell      int    `json:"tell"`
		Seekable  bool   `json:"seekable"`
		Seek      *int   `json:"seek"`
		Error     string `json:"error"`
		TellAfter int    `json:"tell_after"`
		RestLen   int    `json:"rest_len"`
		RestSHA   string `json:"rest_sha"`
		RestHead  string `json:"rest_head"`
	}
	sha := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
	post := func(t *testing.T, s *server, query, body string, chunked bool) answer {
		t.Helper()
		framing := fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body), body)
		if chunked {
			framing = fmt.Sprintf("Transfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n", len(body), body)
		}
		_, br := wsgiRaw(t, s, "POST /?"+query+" HTTP/1.1\r\nHost: x\r\n"+framing+
			"GET /?first=0 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		resp, b := wsgiReadResp(t, br, "POST")
		var a answer
		if err := json.Unmarshal(b, &a); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %d %q %v", query, resp.StatusCode, b, err)
		}
		if resp, b := wsgiReadResp(t, br, "GET"); resp.StatusCode != 200 || !strings.Contains(string(b), `"rest_len": 0`) {
			t.Errorf("%s: the next request on the connection: %d %q", query, resp.StatusCode, b)
		}
		return a
	}
	check := func(t *testing.T, s *server, body string, chunked bool) {
		t.Helper()
		for _, tc := range []struct {
			query string
			to    int // where the seek lands
		}{
			{"first=3&off=0", 0},
			{"first=3&off=-2&whence=2", len(body) - 2},
			{"first=5&off=-4&whence=1", 1},
			{"first=0&off=" + strconv.Itoa(len(body)/2+1), len(body)/2 + 1},
			{"first=-1&off=1&n=9", 1}, // after reading it all
			{"first=3&off=" + strconv.Itoa(len(body)+50), len(body)},
		} {
			a := post(t, s, tc.query, body, chunked)
			rest := body[tc.to:]
			if strings.Contains(tc.query, "n=9") {
				rest = rest[:9]
			}
			if !a.Seekable || a.Error != "" || a.Seek == nil || *a.Seek != tc.to || a.TellAfter != tc.to ||
				a.Tell != a.First || a.RestLen != len(rest) || a.RestSHA != sha(rest) {
				t.Errorf("%s (body %d, chunked %v): %+v, want seek to %d and %d bytes after",
					tc.query, len(body), chunked, a, tc.to, len(rest))
			}
		}
	}
	t.Run("read ahead", func(t *testing.T) {
		t.Parallel()
		s := startApp(t, "input_seek")
		check(t, s, small, false)
		check(t, s, small, true)
		check(t, s, huge, true) // a chunked body read whole into a temp file
		// A body that streams as the app reads it cannot seek; tell still works.
		a := post(t, s, "first=3&off=0", big, false)
		if a.Seekable || a.Seek != nil || !strings.Contains(a.Error, "--post-buffering") || a.Tell != 3 ||
			a.TellAfter != 3 || a.RestLen != len(big)-3 {
			t.Errorf("a streamed body: %+v, want an OSError naming --post-buffering and the rest read on", a)
		}
	})
	for _, pb := range []string{"4096", "1048576"} { // a temp file; memory
		t.Run("post-buffering "+pb, func(t *testing.T) {
			t.Parallel()
			s := startApp(t, "input_seek", "--post-buffering", pb)
			check(t, s, big, false)
		})
	}
}
