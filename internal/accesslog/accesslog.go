// Package accesslog writes one line per request, formatted without
// allocations. A line that comes after FlushEvery without one is written
// at once; the lines that follow it within FlushEvery are collected in a
// buffer and written together FlushEvery later (or when 64 KiB gather),
// so a busy server makes one write call per batch instead of one per
// request, and a quiet one loses no line to a worker killed outright (the
// OOM killer's SIGKILL): the lines before a crash are the ones wanted.
// (A worker that the app's code ends, by a fatal signal or os._exit,
// calls Flush first: see pyembed.Options.BeforeDeath.) Lines never
// interleave.
package accesslog

import (
	"bytes"
	"io"
	"strconv"
	"sync"
	"time"
)

// FlushEvery bounds how long a line waits in the buffer, and so what a
// worker killed outright loses. Under load the 64 KiB bound ends a batch
// first (every 7.5 ms at 125k hello-world requests/s); below it, a batch
// of 5 ms costs at most 200 writes a second. 100 ms lost a third of a
// busy worker's last 100 ms of lines to a kill -9 (336 of 36,315
// requests in a test), with no gain measured over 10 ms.
const FlushEvery = 5 * time.Millisecond

const flushAt = 64 << 10

// Logger writes access lines to w. A nil *Logger logs nothing.
type Logger struct {
	mu     sync.Mutex
	w      io.Writer
	buf    []byte
	last   time.Time // when the buffer was last written
	now    func() time.Time
	timer  *time.Timer
	filter Filter
	format *Format // nil: the default line (Append)
}

// Filter picks the requests worth a line when logging is otherwise off
// (uWSGI's --disable-logging with --log-4xx, --log-5xx, --log-slow,
// --log-big, --log-zero): a request is logged when it meets any of the
// criteria set. The zero Filter logs every request.
type Filter struct {
	Classes  []int         // status classes: 4 for 4xx, 5 for 5xx
	Slower   time.Duration // took this long or longer
	Bigger   int64         // sent this many body bytes or more
	Empty    bool          // sent no body bytes
	IOError  bool          // reading the body or writing the response failed
	Sendfile bool          // sent a file (static, wsgi.file_wrapper, X-Sendfile)
}

// All reports whether f keeps every line: the zero Filter, or none of
// its criteria set.
func (f Filter) All() bool {
	return len(f.Classes) == 0 && f.Slower <= 0 && f.Bigger <= 0 && !f.Empty && !f.IOError && !f.Sendfile
}

func (f *Filter) keep(e *Entry) bool {
	if f.All() {
		return true
	}
	for _, c := range f.Classes {
		if e.Status/100 == c {
			return true
		}
	}
	// At the bounds as uWSGI: --log-slow 1000 keeps a request of 1000 ms.
	return f.Slower > 0 && e.Duration >= f.Slower || f.Bigger > 0 && e.Bytes >= f.Bigger || f.Empty && e.Bytes == 0 ||
		f.IOError && (e.ReadErr || e.WriteErr) || f.Sendfile && e.Sendfile
}

// New returns a Logger writing to w the requests f keeps, in format (nil:
// the default line).
func New(w io.Writer, f Filter, format *Format) *Logger {
	l := &Logger{w: w, buf: make([]byte, 0, flushAt), filter: f, format: format, now: time.Now}
	l.timer = time.AfterFunc(time.Hour, l.Flush)
	l.timer.Stop()
	return l
}

// Flush writes out the buffered lines.
func (l *Logger) Flush() {
	if l == nil {
		return
	}
	l.mu.Lock()
	if len(l.buf) > 0 {
		l.flushLocked()
		l.last = l.now()
	}
	l.mu.Unlock()
}

// flushLocked writes the buffer in pieces of whole lines of at most
// pipeAtomic bytes: writes that small are atomic on a pipe, so lines from
// several workers sharing one stderr never interleave.
func (l *Logger) flushLocked() {
	b := l.buf
	for len(b) > 0 {
		n := len(b)
		if n > pipeAtomic {
			n = bytes.LastIndexByte(b[:pipeAtomic], '\n') + 1
			if n == 0 { // one line longer than pipeAtomic: write it whole
				n = bytes.IndexByte(b, '\n') + 1
				if n == 0 {
					n = len(b)
				}
			}
		}
		l.w.Write(b[:n])
		b = b[n:]
	}
	l.buf = l.buf[:0]
}

// pipeAtomic is PIPE_BUF on Linux.
const pipeAtomic = 4096

// Entry is what one line says about a request.
type Entry struct {
	Remote    string
	Forwarded bool // Remote is an X-Forwarded-For value, not the peer's host:port
	Method    []byte
	Target    []byte
	Proto     string
	Status    int
	Bytes     int64 // response body bytes sent
	Duration  time.Duration
	// For a log-format: the head's size, the request's Content-Length, and
	// (when Format.Headers) its Host, User-Agent, Referer and REMOTE_USER.
	HeadBytes, ContentLength       int64
	Host, UserAgent, Referer, User []byte
	// Vars are the values of the format's %(var.HTTP_NAME) variables, in
	// the order of Format.Vars (VarNames); nil for a header not sent.
	Vars [][]byte
	// For uWSGI's figures: the response's header fields (when
	// Logger.CountsHeaders), the request's variables (a gateway's) or
	// header fields (HTTP), the uwsgi packet's modifiers, and whether
	// reading the body or writing the response failed.
	RespHeaders, RequestVars int
	Modifier1, Modifier2     uint8
	ReadErr, WriteErr        bool
	Sendfile                 bool // the body was a file (see Filter.Sendfile)
}

// CountsHeaders reports whether the logger's format reads the response's
// header count, so that the caller fills Entry.RespHeaders.
func (l *Logger) CountsHeaders() bool { return l != nil && l.format != nil && l.format.Counts }

// Headers reports whether the logger's format reads request headers, so
// that the caller fills Entry's Host, UserAgent, Referer and User.
func (l *Logger) Headers() bool { return l != nil && l.format != nil && l.format.Headers }

// VarNames are the environ names (HTTP_X_FORWARDED_FOR) of the request
// headers whose values the caller gives in Entry.Vars, in that order.
func (l *Logger) VarNames() []string {
	if l == nil || l.format == nil {
		return nil
	}
	return l.format.Vars
}

// Log writes e as: time remote "METHOD target PROTO" status bytes duration.
func (l *Logger) Log(e *Entry) {
	if l == nil {
		return
	}
	if !l.filter.keep(e) {
		return
	}
	now := l.now()
	l.mu.Lock()
	alone := len(l.buf) == 0 && now.Sub(l.last) >= FlushEvery
	if len(l.buf) == 0 && !alone {
		l.timer.Reset(FlushEvery)
	}
	if l.format != nil {
		l.buf = l.format.append(l.buf, now, e)
	} else {
		l.buf = Append(l.buf, now, e)
	}
	if alone || len(l.buf) >= flushAt {
		l.flushLocked()
		l.last = now
	}
	l.mu.Unlock()
}

// Append formats one access line (with its newline) onto b.
func Append(b []byte, now time.Time, e *Entry) []byte {
	b = now.AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
	b = append(b, ' ')
	if e.Remote == "" { // a unix socket's peer, or a gateway that sent no REMOTE_ADDR
		b = append(b, '-')
	}
	for i := 0; i < len(e.Remote); i++ { // it may come from a header: one field, no forgery
		b = appendSafeByte(b, e.Remote[i], e.Remote[i] == ' ')
	}
	b = append(b, ` "`...)
	b = appendSafe(b, e.Method)
	b = append(b, ' ')
	b = appendSafe(b, e.Target)
	b = append(b, ' ')
	b = append(b, e.Proto...)
	b = append(b, `" `...)
	b = strconv.AppendInt(b, int64(e.Status), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, e.Bytes, 10)
	b = append(b, ' ')
	b = strconv.AppendFloat(b, float64(e.Duration.Microseconds())/1000, 'f', 3, 64)
	b = append(b, "ms\n"...)
	return b
}

// appendSafe escapes bytes that could forge log lines or terminal codes.
func appendSafe(b, s []byte) []byte {
	for _, c := range s {
		b = appendSafeByte(b, c, false)
	}
	return b
}

// appendSafeByte appends c, or \xNN for a byte that could forge a log line
// or a terminal code (and for any byte when escape is set).
func appendSafeByte(b []byte, c byte, escape bool) []byte {
	const hex = "0123456789abcdef"
	if escape || c < 0x20 || c == 0x7f || c == '"' || c == '\\' || c >= 0x80 {
		return append(b, '\\', 'x', hex[c>>4], hex[c&15])
	}
	return append(b, c)
}
