package httpfront

import "errors"

// Error is a request the parser refuses. Status is the response code the
// server should send before closing the connection; the framing of the
// rest of the stream is unknown after any Error, so the connection must not
// be reused.
type Error struct {
	Status int
	Msg    string
}

func (e *Error) Error() string { return "httpfront: " + e.Msg }

// ErrTruncated reports a connection that closed after the first byte of a
// request head but before its end. No response is owed.
var ErrTruncated = errors.New("httpfront: connection closed inside the request head")

// errLineTooLong is internal: readLine hit its bound. Callers turn it into
// the status their limit calls for.
var errLineTooLong = errors.New("httpfront: line too long")

// The errors the parser returns are shared values so that a rejected
// request costs no allocation; callers must treat them as read-only.
func badRequest(msg string) *Error { return &Error{Status: 400, Msg: msg} }

var (
	errRequestLine    = badRequest("malformed request line")
	errMethod         = badRequest("invalid request method")
	errTarget         = badRequest("invalid request target")
	errDotSegment     = badRequest("a '.' or '..' segment in the request target's path")
	errVersion        = badRequest("malformed HTTP version")
	errBareLF         = badRequest("line not terminated by CRLF")
	errEmptyLines     = badRequest("too many empty lines before the request line")
	errHeaderName     = badRequest("invalid header field name")
	errHeaderValue    = badRequest("invalid header field value")
	errHeaderLine     = badRequest("header line without a colon")
	errObsFold        = badRequest("obsolete line folding is not accepted")
	errContentLength  = badRequest("invalid Content-Length")
	errDupCL          = badRequest("more than one Content-Length")
	errCLAndTE        = badRequest("both Content-Length and Transfer-Encoding")
	errTEHTTP10       = badRequest("Transfer-Encoding in an HTTP/1.0 request")
	errTEList         = badRequest("malformed Transfer-Encoding")
	errTENotChunked   = badRequest("Transfer-Encoding does not end in chunked")
	errTEDupChunked   = badRequest("chunked applied more than once")
	errDupHost        = badRequest("more than one Host")
	errNoHost         = badRequest("HTTP/1.1 request without Host")
	errHost           = badRequest("invalid Host")
	errDupContentType = badRequest("more than one Content-Type")

	errURITooLong     = &Error{Status: 414, Msg: "request line too long"}
	errFieldTooLong   = &Error{Status: 431, Msg: "header field too long"}
	errTooManyFields  = &Error{Status: 431, Msg: "too many header fields"}
	errHeadTooLarge   = &Error{Status: 431, Msg: "header fields too large together"}
	errVersionSupport = &Error{Status: 505, Msg: "HTTP version not supported"}
	errTEUnsupported  = &Error{Status: 501, Msg: "unsupported transfer coding"}
	errExpectation    = &Error{Status: 417, Msg: "unsupported expectation"}

	errBodyTooBig       = &Error{Status: 413, Msg: "request body over --limit-post"}
	errChunkSize        = badRequest("invalid chunk size")
	errChunkExt         = badRequest("invalid chunk extension")
	errChunkTooBig      = badRequest("chunk size too large")
	errChunkCRLF        = badRequest("chunk data not followed by CRLF")
	errChunkLine        = badRequest("chunk size line too long")
	errTrailerLine      = badRequest("trailer line too long")
	errTrailerCount     = badRequest("too many trailer fields")
	errTrailersTooLarge = badRequest("trailer section too large")
	errTrailerField     = badRequest("forbidden trailer field")
)
