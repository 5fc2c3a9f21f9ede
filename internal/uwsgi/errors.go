package uwsgi

import (
	"fmt"
	"io"
)

// ErrorKind says why a packet was refused, so the server can log the advice
// that fits; the packet, not the socket, is at fault in every kind.
type ErrorKind int

const (
	// ErrMalformed is a var block whose lengths overrun it, or a variable
	// with an empty name (which uWSGI refuses too).
	ErrMalformed ErrorKind = iota
	// ErrTooBig is a var block larger than --buffer-size.
	ErrTooBig
	// ErrHTTPRequest is an HTTP client talking to the uwsgi socket.
	ErrHTTPRequest
	// ErrModifier is a modifier1 other than 0 or 30.
	ErrModifier
	// ErrBadContentLength is a CONTENT_LENGTH that is not 1*DIGIT, or two
	// CONTENT_LENGTH variables that disagree.
	ErrBadContentLength
)

var kindNames = [...]string{
	ErrMalformed:        "malformed packet",
	ErrTooBig:           "var block too big",
	ErrHTTPRequest:      "HTTP request on uwsgi socket",
	ErrModifier:         "unsupported modifier",
	ErrBadContentLength: "bad CONTENT_LENGTH",
}

func (k ErrorKind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("ErrorKind(%d)", int(k))
}

// Error is a packet ReadRequest refuses. No response is owed: the peer is
// not speaking WSGI-over-uwsgi as carafe understands it, so the server logs
// the error and closes the connection.
type Error struct {
	Kind ErrorKind
	Msg  string
}

func (e *Error) Error() string { return "uwsgi: " + e.Msg }

// ErrTruncated reports a connection that closed after the first byte of a
// packet but before the end of its var block. No response is owed.
// errors.Is(ErrTruncated, io.ErrUnexpectedEOF) holds.
var ErrTruncated error = truncatedError{}

type truncatedError struct{}

func (truncatedError) Error() string { return "uwsgi: connection closed inside a request packet" }
func (truncatedError) Unwrap() error { return io.ErrUnexpectedEOF }

// The fixed errors are shared values so that a rejected packet costs no
// allocation; callers must treat them as read-only.
var (
	errLengthOverrun = &Error{Kind: ErrMalformed, Msg: "variable length overruns the var block"}
	errEmptyKey      = &Error{Kind: ErrMalformed, Msg: "variable with an empty name"}
	errCLConflict    = &Error{Kind: ErrBadContentLength, Msg: "CONTENT_LENGTH variables disagree"}
	errHTTPRequest   = &Error{Kind: ErrHTTPRequest, Msg: "an HTTP client is talking to the uwsgi socket: " +
		"browsers and HTTP proxies (nginx proxy_pass, Apache http://) belong on --http; " +
		"nginx must use uwsgi_pass (Apache: uwsgi://) to reach --socket"}
)

func tooBigError(size, limit int) *Error {
	return &Error{Kind: ErrTooBig, Msg: fmt.Sprintf(
		"request variables of %d bytes exceed --buffer-size %d; raise --buffer-size (up to %d)",
		size, limit, MaxBufferSize)}
}

func modifierError(m uint8) *Error {
	return &Error{Kind: ErrModifier, Msg: fmt.Sprintf(
		"unsupported modifier1 %d: carafe serves WSGI requests only "+
			"(modifier1 0, or 30 to strip SCRIPT_NAME from PATH_INFO); check uwsgi_modifier1", m)}
}

// maxQuoted bounds how much of a bad value an error message repeats.
const maxQuoted = 32

func contentLengthError(v []byte) *Error {
	if len(v) > maxQuoted {
		v = v[:maxQuoted]
	}
	return &Error{Kind: ErrBadContentLength, Msg: fmt.Sprintf("CONTENT_LENGTH %q is not a decimal number of at most 18 digits", v)}
}
