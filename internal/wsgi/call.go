package wsgi

import (
	"os"
	"time"
)

// Exchange is one request's link to its front end, used by the Python
// thread running the app. Its methods run with the GIL released.
type Exchange interface {
	// ReadBody reads body bytes past those passed in Call.Body.
	ReadBody(p []byte) (int, error)
	// Output moves the app's output: head (status and headers in the block
	// format Head.Parse reads) when it is new, then body and ext in that
	// order. last is true on the final call of a successful response. An
	// error stops the app's output; the app's close() still runs.
	Output(head, body, ext []byte, last bool) error
	// SendFile sends a file_wrapper response: head as for Output, then n
	// bytes of f from its current offset (sendfile where the socket
	// allows). It runs with the GIL released.
	SendFile(head []byte, f *os.File, n int64) error
}

// Result says how a call ended.
type Result int

const (
	OK          Result = iota // the app's whole response went to Output
	AppError                  // the app raised or broke the WSGI protocol (logged)
	OutputError               // Output failed; the app was stopped and closed
	Unavailable               // the call never ran: the worker gave up on its queue (stopping)
	ClientGone                // the call never ran: its client left while it waited for a Python thread
)

// Call is one request for the app. A front end keeps one per connection
// and reuses it.
type Call struct {
	Env     []byte // environ block (Env.Bytes)
	Body    []byte // body bytes already read
	BodyLen int64  // whole body length (≥ len(Body))
	Exch    Exchange
	// Method and Target name the request for statistics and logs; they
	// may alias the front end's memory, valid while the call runs.
	Method, Target []byte
	// Start is when the request began (HTTP: its first bytes; uwsgi: its
	// packet read): the runner measures the request's time from it, with
	// no clock read of its own before the call.
	Start time.Time

	Result   Result
	HeadSent bool // some output reached Output before the call ended
}

// NewCall returns a Call ready for reuse across requests.
func NewCall() *Call { return &Call{} }

// Abandoner is an Exchange that can give up on its request from another
// goroutine while the app is stuck in it (harakiri): it answers 504 if
// nothing was sent yet and closes the connection.
type Abandoner interface{ Abandon() }

// Departer is an Exchange that can tell, as its call is about to run,
// that the client has closed or reset the connection: nobody is left to
// answer. It looks (a system call) only at requests that may have waited
// long enough to be given up on; for the rest it reports false at once.
type Departer interface{ ClientGone() bool }

// BodySeeker is an Exchange that holds the body past Call.Body whole (a
// temp file) and can read it again from any offset: SeekBody(off) moves
// the next ReadBody to off bytes past Call.Body. With off < 0 it moves
// nothing and reports whether it could (nil); a body that streams from
// the client cannot.
type BodySeeker interface{ SeekBody(off int64) error }

// Runner runs calls on the app; the embedded interpreter is the real one.
type Runner interface{ Do(*Call) }
