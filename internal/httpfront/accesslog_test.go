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
