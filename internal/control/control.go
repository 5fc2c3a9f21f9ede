// Package control is the channel between the master and its workers: how
// a worker finds its inherited sockets, and the JSON-lines messages the
// two exchange over a socketpair (readiness, load failures, recycling
// requests, statistics).
package control

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
)

// A worker is started with EnvWorker set to its id; the control socket is
// fd ControlFD and the listeners follow from FirstListenerFD, in the order
// of the master's listener list, which EnvSettings gives (see Settings).
const (
	EnvWorker       = "CARAFE_WORKER_ID"
	EnvSettings     = "CARAFE_MASTER_SETTINGS"
	ControlFD       = 3
	FirstListenerFD = 4
)

// EnvShared says, one "1" or "0" each, in the listeners' order, which of
// a worker's listeners other workers accept from too (a unix socket, a
// TCP socket not one of a group: see listen.BindGroup).
const EnvShared = "CARAFE_SHARED_LISTENERS"

// SharedListeners reads EnvShared for n listeners, and unsets it (not for
// the app); a listener it says nothing of is not shared.
func SharedListeners(n int) []bool {
	v := os.Getenv(EnvShared)
	os.Unsetenv(EnvShared)
	out := make([]bool, n)
	for i, f := range strings.Split(v, ",") {
		if i < n {
			out[i] = f == "1"
		}
	}
	return out
}

// Settings are the master's values of the options it acts on, by option
// name, in JSON: the listeners (HTTP first, then uwsgi, the order of the
// sockets passed on), the log it rotates, the drains it cuts short.... A
// worker reads its configuration again, from the same flags and ini files,
// and an ini file edited since the master started would give it other
// values than the master's (an HTTP socket served as a uwsgi one, a log
// file the master never rotates): the master's are the ones that hold.
type Settings map[string]json.RawMessage

// Env is s as EnvSettings's NAME=VALUE.
func (s Settings) Env() string {
	b, _ := json.Marshal(s) // JSON values already: cannot fail
	return EnvSettings + "=" + string(b)
}

// InheritedSettings reads EnvSettings; ok is false when it is not set (a
// worker not started by a master) or not valid.
func InheritedSettings() (s Settings, ok bool) {
	v := os.Getenv(EnvSettings)
	if v == "" {
		return nil, false
	}
	return s, json.Unmarshal([]byte(v), &s) == nil
}

// Message types.
const (
	Watching  = "watching"  // worker → master: its signal handlers are in place: SIGUSR1 and SIGUSR2 no longer kill it
	Ready     = "ready"     // worker → master: app loaded, serving
	LoadError = "loaderr"   // worker → master: the app failed to load (Text: traceback)
	Recycle   = "recycle"   // worker → master: replace me gracefully (Text: why)
	Harakiri  = "harakiri"  // worker → master: a request overran; I am leaving
	OverRSS   = "overrss"   // worker → master: over --reload-on-rss as I start (Text: the warning)
	Shed      = "shed"      // worker → master: every thread is stuck, I take no new connections (Text "1"), or I do again ("0")
	Changed   = "changed"   // worker → master: a module's file changed (--py-autoreload): reload (Text: the file, NUL, its mtime in ns)
	Load      = "load"      // worker → master: its requests' time so far (ns) and its threads (Text), each second (--cheaper)
	Retire    = "retire"    // master → worker: stop once your requests are done, however long they take (--cheaper)
	StatsReq  = "stats"     // master → worker: send your statistics
	Resume    = "resume"    // master → worker: the replacement you asked for failed; accept again
	StatsResp = "statsresp" // worker → master: Stats
)

// Msg is one line on the control socket.
type Msg struct {
	T     string       `json:"t"`
	Text  string       `json:"text,omitempty"`
	Stats *WorkerStats `json:"stats,omitempty"`
}

// WorkerStats is what a worker reports about itself.
type WorkerStats struct {
	Requests   int64 `json:"requests"`
	Exceptions int64 `json:"exceptions"`
	// ClientGone counts the requests not run because their clients had
	// closed their connections while they waited for a Python thread
	// (logged with 499); they are not in Requests.
	ClientGone int64   `json:"client_gone"`
	AvgRTms    float64 `json:"avg_rt_ms"`
	// RunningTime is the time spent in requests, in µs (uWSGI's name).
	RunningTime int64 `json:"running_time"`
	// TX is the bytes of the responses written, heads included.
	TX      int64         `json:"tx"`
	Threads []ThreadStats `json:"threads"`
	// Shedding: every Python thread is stuck in a call, or accepting
	// fails for want of file descriptors, and the worker takes no new
	// connections meanwhile.
	Shedding bool `json:"shedding,omitempty"`
}

// ThreadStats describes one busy Python thread.
type ThreadStats struct {
	Busy      bool    `json:"busy"`
	Method    string  `json:"method"`
	Path      string  `json:"path"`
	RunningMs float64 `json:"running_ms"`
}

// Conn sends and receives messages; Send is safe for concurrent use,
// Recv is for one reader.
type Conn struct {
	mu  sync.Mutex
	w   io.Writer
	r   *bufio.Reader
	c   io.Closer
	enc *json.Encoder
}

// NewConn wraps a stream (one end of a socketpair).
func NewConn(rwc io.ReadWriteCloser) *Conn {
	return &Conn{w: rwc, r: bufio.NewReader(rwc), c: rwc, enc: json.NewEncoder(rwc)}
}

// Send writes one message.
func (c *Conn) Send(m Msg) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.enc.Encode(m)
}

// MaxMsg bounds a message. A worker's are small (a stats document, a
// traceback); the app's code, which runs in the worker, could write a
// line without end to the worker's end of the pair, and a master reading
// it whole (as root, with --master-as-root) grew to 732 MB for 2.8 GiB
// written, and on.
const MaxMsg = 16 << 20

// ErrTooLong is Recv's error for a message over MaxMsg, which it skips:
// the next Recv reads the message after it.
var ErrTooLong = errors.New("control: a message over 16 MiB, skipped")

// ErrBadMessage is Recv's error for a line that is no message; the next
// Recv reads the line after it.
var ErrBadMessage = errors.New("control: not a message")

// Recv reads the next message; io.EOF when the other side is gone.
func (c *Conn) Recv() (Msg, error) {
	var m Msg
	var line []byte
	for {
		frag, err := c.r.ReadSlice('\n')
		if len(line)+len(frag) > MaxMsg {
			for err == bufio.ErrBufferFull { // to the end of that line, unkept
				_, err = c.r.ReadSlice('\n')
			}
			if err != nil {
				return m, err
			}
			return m, ErrTooLong
		}
		line = append(line, frag...)
		if err == nil {
			break
		}
		if err != bufio.ErrBufferFull {
			if len(line) == 0 {
				return m, err
			}
			return m, io.ErrUnexpectedEOF
		}
	}
	if err := json.Unmarshal(line, &m); err != nil {
		return m, fmt.Errorf("%w: %.200q: %v", ErrBadMessage, line, err)
	}
	return m, nil
}

// Close closes the underlying stream.
func (c *Conn) Close() error { return c.c.Close() }

// Pair returns the master's end and the file to hand to a worker as
// ControlFD.
func Pair() (*Conn, *os.File, error) {
	fds, err := socketpair()
	if err != nil {
		return nil, nil, fmt.Errorf("control: socketpair: %w", err)
	}
	mine := os.NewFile(uintptr(fds[0]), "control-master")
	theirs := os.NewFile(uintptr(fds[1]), "control-worker")
	nc, err := net.FileConn(mine)
	mine.Close()
	if err != nil {
		theirs.Close()
		return nil, nil, fmt.Errorf("control: %w", err)
	}
	return NewConn(nc), theirs, nil
}

// WorkerID returns this process's worker id, or 0 when it is not a
// worker started by a master.
func WorkerID() int {
	id, _ := strconv.Atoi(os.Getenv(EnvWorker))
	return id
}

// Inherited returns the control connection and n listeners a master
// passed to this worker.
func Inherited(n int) (*Conn, []net.Listener, error) {
	cf := os.NewFile(ControlFD, "control")
	nc, err := net.FileConn(cf)
	cf.Close()
	if err != nil {
		return nil, nil, fmt.Errorf("control: inherited control socket: %w", err)
	}
	var ls []net.Listener
	for i := range n {
		f := os.NewFile(uintptr(FirstListenerFD+i), "listener")
		l, err := net.FileListener(f)
		f.Close()
		if err != nil {
			for _, l := range ls {
				l.Close()
			}
			nc.Close()
			return nil, nil, fmt.Errorf("control: inherited listener %d: %w", i, err)
		}
		ls = append(ls, l)
	}
	return NewConn(nc), ls, nil
}

var errNoPair = errors.New("control: socketpair unavailable")
