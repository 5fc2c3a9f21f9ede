package httpfront

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"carafe/internal/accesslog"
	"carafe/internal/wsgi"
)

// lockedBuffer is a bytes.Buffer the logger writes while the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// carafe's own answers (here the 500 for an app that failed before its
// head) are logged with their head's size and body's, as the app's are:
// %(hsize) said 0 for them.
func TestAccessLogOwnAnswerSizes(t *testing.T) {
	var out lockedBuffer
	format, err := accesslog.ParseFormat("%(status) %(hsize) %(rsize)", 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	access := accesslog.New(&out, accesslog.Filter{}, format)
	app := fakeApp{func(c *wsgi.Call, env map[string]string) wsgi.Result { return wsgi.AppError }}
	c, br := serve(t, app, Options{Access: access})
	for _, method := range []string{"GET", "HEAD"} {
		io.WriteString(c, method+" / HTTP/1.1\r\nHost: x\r\n\r\n")
		hsize, rsize := readRaw(t, br, method == "HEAD")
		want := fmt.Sprintf("500 %d %d\n", hsize, rsize)
		for deadline := time.Now().Add(5 * time.Second); !strings.HasSuffix(out.String(), want); time.Sleep(5 * time.Millisecond) {
			access.Flush()
			if time.Now().After(deadline) {
				t.Fatalf("%s: log %q, want a line %q", method, out.String(), want)
			}
		}
	}
}

// readRaw reads one response with a Content-Length and returns the sizes
// of its head and body as they came on the wire.
func readRaw(t *testing.T, br *bufio.Reader, isHead bool) (head, body int) {
	t.Helper()
	length := 0
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		head += len(line)
		if line == "\r\n" {
			break
		}
		if v, ok := strings.CutPrefix(line, "Content-Length: "); ok {
			fmt.Sscan(v, &length)
		}
	}
	if isHead {
		return head, 0
	}
	if _, err := br.Discard(length); err != nil {
		t.Fatal(err)
	}
	return head, length
}

// %(var.HTTP_NAME) logs a request header as the environ names it, over
// HTTP (the first of a repeated field) and from a gateway's variables,
// "-" when it was not sent.
func TestAccessLogVars(t *testing.T) {
	format, err := accesslog.ParseFormat("%(var.HTTP_X_FORWARDED_FOR) %(var.HTTP_X_REAL_IP) %(status)", 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	waitLine := func(out *lockedBuffer, access *accesslog.Logger, want string) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); !strings.Contains(out.String(), want); time.Sleep(5 * time.Millisecond) {
			access.Flush()
			if time.Now().After(deadline) {
				t.Fatalf("log %q, want a line %q", out.String(), want)
			}
		}
	}
	var out lockedBuffer
	access := accesslog.New(&out, accesslog.Filter{}, format)
	c, br := serve(t, okApp, Options{Access: access})
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nx-forwarded-for: 9.9.9.9, 10.0.0.1\r\nX-Forwarded-For: 8.8.8.8\r\n\r\n")
	readResponse(t, br)
	waitLine(&out, access, "9.9.9.9, 10.0.0.1 - 200\n")
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nX-Real-IP: 7.7.7.7\r\n\r\n")
	readResponse(t, br)
	waitLine(&out, access, "- 7.7.7.7 200\n")

	var uout lockedBuffer
	uaccess := accesslog.New(&uout, accesslog.Filter{}, format)
	addr := listenServer(t, okApp, Options{Protocol: UWSGI, Access: uaccess})
	uwsgiGet(t, addr, "PATH_INFO", "/", "HTTP_X_REAL_IP", "6.6.6.6")
	waitLine(&uout, uaccess, "- 6.6.6.6 200\n")
}
