// Package accesslog writes one line per request, formatted without
// allocations and written with one call, so lines from many connections
// never interleave.
package accesslog

import (
	"io"
	"strconv"
	"sync"
	"time"
)

// Logger writes access lines to W. A nil *Logger logs nothing.
type Logger struct {
	mu sync.Mutex
	w  io.Writer
}

// New returns a Logger writing to w.
func New(w io.Writer) *Logger { return &Logger{w: w} }

var bufs = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

// Entry is what one line says about a request.
type Entry struct {
	Remote   string
	Method   []byte
	Target   []byte
	Proto    string
	Status   int
	Bytes    int64
	Duration time.Duration
}

// Log writes e as: time remote "METHOD target PROTO" status bytes duration.
func (l *Logger) Log(e *Entry) {
	if l == nil {
		return
	}
	bp := bufs.Get().(*[]byte)
	b := Append((*bp)[:0], time.Now(), e)
	l.mu.Lock()
	l.w.Write(b)
	l.mu.Unlock()
	*bp = b
	bufs.Put(bp)
}

// Append formats one access line (with its newline) onto b.
func Append(b []byte, now time.Time, e *Entry) []byte {
	b = now.AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
	b = append(b, ' ')
	b = append(b, e.Remote...)
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
	const hex = "0123456789abcdef"
	for _, c := range s {
		if c < 0x20 || c == 0x7f || c == '"' || c == '\\' || c >= 0x80 {
			b = append(b, '\\', 'x', hex[c>>4], hex[c&15])
			continue
		}
		b = append(b, c)
	}
	return b
}
