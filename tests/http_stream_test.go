package tests

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"carafe/internal/listen"
)

// 50 MiB up and down in 64 KiB pieces (and down in 1 MiB pieces, which
// the bridge writes off the Python thread) arrive intact, and the worker's
// memory stays flat: bodies are streamed, never buffered whole.
func TestHTTPBigStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("50 MB transfers")
	}
	t.Parallel()
	s := startApp(t, "http_stream")
	pid := s.cmd.Process.Pid
	const size = 50 << 20
	const maxGrowthKB = 30 << 10
	want := fmt.Sprintf("%d %s", size, httpPatternSHA(size))

	upload := func(t *testing.T, n int64, chunked bool) string {
		var body io.Reader = httpNewPattern(n)
		if chunked {
			body = httpChunkedReader{body}
		}
		req, err := http.NewRequest("POST", s.URL("/upload"), body)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/octet-stream")
		if chunked {
			req.ContentLength = -1
		} else {
			req.ContentLength = n
		}
		resp, got := httpDo(t, req)
		if resp.StatusCode != 200 {
			t.Fatalf("upload: status %d: %s", resp.StatusCode, got)
		}
		return string(got)
	}
	download := func(t *testing.T, mb, piece int, chunked bool) (int64, string, *http.Response) {
		url := s.URL(fmt.Sprintf("/download?mb=%d&piece=%d", mb, piece))
		if chunked {
			url += "&chunked=1"
		}
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		h := sha256.New()
		n, err := io.Copy(h, resp.Body)
		if err != nil {
			t.Fatalf("download after %d bytes: %v", n, err)
		}
		return n, hex.EncodeToString(h.Sum(nil)), resp
	}
	// measure runs f after a small warm-up and fails if the worker's RSS
	// peaked more than maxGrowthKB above where it started.
	measure := func(t *testing.T, warm, f func()) {
		warm()
		before := httpRSSKB(pid)
		if before == 0 {
			t.Fatalf("cannot read RSS of pid %d", pid)
		}
		stop := httpRSSWatch(pid)
		start := time.Now()
		f()
		peak := stop()
		t.Logf("%v; RSS %d KiB before, peak %d KiB (+%d KiB)", time.Since(start).Round(time.Millisecond), before, peak, peak-before)
		if peak-before > maxGrowthKB {
			t.Errorf("worker RSS grew by %d KiB during a 50 MiB transfer (limit %d KiB): the body is buffered, not streamed",
				peak-before, maxGrowthKB)
		}
	}

	t.Run("upload", func(t *testing.T) {
		measure(t, func() { upload(t, 2<<20, false) }, func() {
			if got := upload(t, size, false); got != want {
				t.Fatalf("app saw %q, want %q", got, want)
			}
		})
	})
	t.Run("chunked upload", func(t *testing.T) {
		measure(t, func() { upload(t, 2<<20, true) }, func() {
			if got := upload(t, size, true); got != want {
				t.Fatalf("app saw %q, want %q", got, want)
			}
		})
	})
	// A client that stops reading must stall the app's generator
	// (backpressure), not make the worker buffer the rest of the body.
	for _, piece := range []int{1, 16} {
		t.Run(fmt.Sprintf("stalled reader, %d KiB pieces", piece*64), func(t *testing.T) {
			measure(t, func() { download(t, 2, piece, false) }, func() {
				c := httpOpen(t, s)
				c.send(fmt.Sprintf("GET /download?mb=50&piece=%d HTTP/1.1\r\nHost: x\r\n\r\n", piece))
				time.Sleep(1500 * time.Millisecond)
				r := c.resp("GET")
				if r.Status != 200 || int64(len(r.Body)) != size || httpHexSHA(r.Body) != httpPatternSHA(size) {
					t.Fatalf("stalled download: status %d, %d bytes", r.Status, len(r.Body))
				}
			})
		})
	}
	// Clients that vanish mid-transfer cost nothing lasting.
	t.Run("client disconnects", func(t *testing.T) {
		c := httpOpen(t, s)
		c.send(fmt.Sprintf("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", size))
		c.c.Write(httpPiece)
		c.c.Close()
		for _, piece := range []int{1, 16} {
			c = httpOpen(t, s)
			c.send(fmt.Sprintf("GET /download?mb=50&piece=%d HTTP/1.1\r\nHost: x\r\n\r\n", piece))
			io.CopyN(io.Discard, c.br, 1<<20)
			c.c.Close()
		}
		before := httpRSSKB(pid)
		for i := 0; i < 3; i++ {
			if got := upload(t, 1<<20, false); got != fmt.Sprintf("%d %s", 1<<20, httpPatternSHA(1<<20)) {
				t.Fatalf("upload after disconnects: %q", got)
			}
		}
		if after := httpRSSKB(pid); after-before > maxGrowthKB {
			t.Errorf("RSS grew by %d KiB after abandoned transfers", after-before)
		}
	})
	for _, piece := range []int{1, 16} {
		for _, chunked := range []bool{false, true} {
			name := "download"
			if chunked {
				name = "chunked download"
			}
			t.Run(fmt.Sprintf("%s, %d KiB pieces", name, piece*64), func(t *testing.T) {
				measure(t, func() { download(t, 2, piece, chunked) }, func() {
					n, sum, resp := download(t, 50, piece, chunked)
					if got := fmt.Sprintf("%d %s", n, sum); got != want {
						t.Fatalf("client got %q, want %q", got, want)
					}
					te := strings.Join(resp.TransferEncoding, ",")
					if chunked && te != "chunked" {
						t.Errorf("unknown-length download sent with Transfer-Encoding %q", te)
					}
					if !chunked && resp.ContentLength != size {
						t.Errorf("download Content-Length %d, want %d", resp.ContentLength, size)
					}
				})
			})
		}
	}
}

// A client that stops reading a big download leaves at most about
// listen.NotsentLowat unsent bytes queued in the server's socket, not a
// whole send buffer (up to 4 MiB): many slow downloads at once would
// otherwise fill the CPU's cache and memory with queued copies. The body
// still arrives whole once the client reads.
func TestHTTPStalledClientQueueBounded(t *testing.T) {
	if b, err := os.ReadFile("/proc/sys/net/ipv4/tcp_notsent_lowat"); err != nil || strings.TrimSpace(string(b)) != "4294967295" {
		t.Skipf("net.ipv4.tcp_notsent_lowat is set on this machine (%q, %v): carafe leaves it be", b, err)
	}
	t.Parallel()
	s := startApp(t, "http_stream")
	c := s.dial() // reads nothing until the queue is measured
	const size = 32 << 20
	if _, err := io.WriteString(c, "GET /download?mb=32 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	_, srvPort, _ := net.SplitHostPort(s.addr)
	_, cliPort, _ := net.SplitHostPort(c.LocalAddr().String())
	q, last := 0, -1
	for i := 0; i < 150 && (q == 0 || q != last); i++ { // until the queue stops growing
		time.Sleep(20 * time.Millisecond)
		last, q = q, tcpTxQueue(t, srvPort, cliPort)
	}
	// The queue also holds what was sent and not yet acknowledged (up to
	// the client's window, 128 KiB unread), and one write may overshoot
	// the bound by the segment it was filling.
	if limit := listen.NotsentLowat + 256<<10; q == 0 || q > limit {
		t.Errorf("the server's socket holds %d bytes for a stalled client, want at most %d", q, limit)
	}
	r, err := httpReadResponse(bufio.NewReader(c), "GET")
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != 200 || len(r.Body) != size || httpHexSHA(r.Body) != httpPatternSHA(size) {
		t.Fatalf("download after the stall: status %d, %d bytes", r.Status, len(r.Body))
	}
	t.Logf("queued for the stalled client: %d bytes; then %d MiB arrived intact", q, size>>20)
}

// tcpTxQueue returns the send queue (bytes written and not yet acknowledged)
// of the local TCP socket on localPort connected to remotePort, from
// /proc/net/tcp.
func tcpTxQueue(t *testing.T, localPort, remotePort string) int {
	t.Helper()
	b, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		t.Skipf("no /proc/net/tcp: %v", err)
	}
	lp, _ := strconv.Atoi(localPort)
	rp, _ := strconv.Atoi(remotePort)
	for _, line := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 5 || !strings.HasSuffix(f[1], fmt.Sprintf(":%04X", lp)) || !strings.HasSuffix(f[2], fmt.Sprintf(":%04X", rp)) {
			continue
		}
		tx, _, _ := strings.Cut(f[4], ":")
		n, err := strconv.ParseInt(tx, 16, 64)
		if err != nil {
			t.Fatalf("/proc/net/tcp: %q: %v", line, err)
		}
		return int(n)
	}
	t.Fatalf("no socket %s -> %s in /proc/net/tcp", localPort, remotePort)
	return 0
}

// A HEAD request to an endless stream (server-sent events) is answered
// with the head, and the stream is closed at once: it was iterated for
// good, its body dropped, holding the worker's only thread long after the
// client (or nginx, which closes after a HEAD's head) had gone.
func TestHTTPHeadEndsStream(t *testing.T) {
	t.Parallel()
	s := startApp(t, "stream_edges", "--threads", "1")
	c := httpOpen(t, s)
	if r := c.roundTrip("HEAD", "HEAD /sse HTTP/1.1\r\nHost: x\r\n\r\n"); r.Status != 200 || len(r.Body) != 0 {
		t.Fatalf("HEAD /sse: %d, %d body bytes", r.Status, len(r.Body))
	}
	// The same connection goes on, and the thread is free: the stream
	// was closed (its finally ran).
	c.c.SetDeadline(time.Now().Add(3 * time.Second))
	if r := c.roundTrip("GET", "GET /closed HTTP/1.1\r\nHost: x\r\n\r\n"); r.Status != 200 || string(r.Body) != "1" {
		t.Fatalf("after HEAD /sse: %d %q, want 1 stream closed", r.Status, r.Body)
	}
}

// A streamed body with a Content-Length, through an iterable that is not
// a generator (Flask's and Django's are not): its last chunk goes out when
// it comes, not once the iterable ends (after 2 s of cleanup here); and
// when the cleanup raises, the client still gets the whole body and a
// clean close, where it got a reset that could drop the last chunk.
func TestHTTPStreamLastChunkNotHeld(t *testing.T) {
	t.Parallel()
	s := startApp(t, "stream_edges", "--threads", "2")
	for _, target := range []string{"/export", "/export?raise=1"} {
		t.Run(target, func(t *testing.T) {
			t.Parallel()
			c := httpOpen(t, s)
			start := time.Now()
			c.send("GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n")
			r := c.resp("GET")
			took := time.Since(start)
			if r.Status != 200 || string(r.Body) != "row,0\nrow,1\nrow,2\n" {
				t.Fatalf("%s: %d %q", target, r.Status, r.Body)
			}
			if took > 1900*time.Millisecond {
				t.Errorf("%s: the whole body took %v; its last row came at 1 s", target, took.Round(time.Millisecond))
			}
			if target == "/export?raise=1" {
				if _, data, closed := c.closedWithin(5 * time.Second); !closed || len(data) > 0 {
					t.Errorf("after the raise: closed %v, %q more", closed, data)
				}
				if !s.waitLog("export cleanup failed", 2*time.Second) {
					t.Errorf("the app's error is not logged:\n%s", s.Log())
				}
			}
		})
	}
}

// A client that leaves in the middle of a stream is logged as such: the
// request log's line alone reads like any other answer.
func TestHTTPClientGoneLogged(t *testing.T) {
	t.Parallel()
	s := startApp(t, "stream_edges", "--threads", "1")
	c := httpOpen(t, s)
	c.send("GET /sse HTTP/1.1\r\nHost: x\r\n\r\n")
	if _, err := c.br.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	c.c.Close()
	if !s.waitLog("response cut short, the client went away", 5*time.Second) {
		t.Errorf("no line for the client that left:\n%s", s.Log())
	}
}
