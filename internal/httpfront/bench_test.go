package httpfront

import (
	"bufio"
	"testing"

	"carafe/internal/wsgi"
)

// BenchmarkServerKeepAlive measures the Go side of a hello-world request
// (parse, environ block, framing, write) on one keep-alive connection,
// with a fake runner in place of Python. Its allocs/op is the per-request
// allocation count of the front end.
func BenchmarkServerKeepAlive(b *testing.B) {
	hd := head("200 OK", "Content-Type", "text/plain", "Content-Length", "12")
	body := []byte("Hello world!")
	app := fakeRunner(func(c *wsgi.Call) {
		c.Exch.Output(hd, body, nil, true)
		c.Result = wsgi.OK
	})
	conn, br := serveBench(b, app)
	req := []byte("GET /hello?x=1 HTTP/1.1\r\nHost: localhost:8000\r\nUser-Agent: wrk\r\nAccept: */*\r\n\r\n")
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		conn.Write(req)
		if err := skipResponse(br); err != nil {
			b.Fatal(err)
		}
	}
}

// fakeRunner runs the call on the caller's goroutine (no thread hop), so
// the benchmark counts the front end's own work.
type fakeRunner func(*wsgi.Call)

func (f fakeRunner) Do(c *wsgi.Call) { f(c) }

func skipResponse(br *bufio.Reader) error {
	n := -1
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return err
		}
		if len(line) == 2 {
			break
		}
		if len(line) > 16 && string(line[:16]) == "Content-Length: " {
			n = atoi(string(line[16 : len(line)-2]))
		}
	}
	_, err := br.Discard(n)
	return err
}
