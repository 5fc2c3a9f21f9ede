package uwsgi

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// The modifier1 values carafe serves.
const (
	// ModifierWSGI is a plain request, nginx's and Apache's default.
	ModifierWSGI uint8 = 0
	// ModifierManagePathInfo is a request whose PATH_INFO still carries
	// SCRIPT_NAME (nginx's "uwsgi_modifier1 30"); see StripScriptName.
	ModifierManagePathInfo uint8 = 30
)

// Bounds of the bufferSize argument of ReadRequest, as for uWSGI's
// --buffer-size.
const (
	DefaultBufferSize = 4096
	MaxBufferSize     = 65535 // the header's size field is 16 bits
)

const headerLen = 4

// Header is the 4-byte packet header.
type Header struct {
	Modifier1 uint8
	Size      uint16 // length of the var block that follows
	Modifier2 uint8  // unused by WSGI requests; nginx and Apache send 0
}

// Request is one parsed request packet. The zero value is ready to use.
// Reuse it: ReadRequest keeps its memory, so a connection that reads every
// request into the same Request allocates only while its packets grow.
type Request struct {
	Header Header
	// Vars are the CGI variables in packet order. Duplicates are kept;
	// Get returns the last.
	Vars []Var
	// ContentLength is the body length from CONTENT_LENGTH, 0 when that
	// variable is absent or empty. The body is the next ContentLength
	// bytes of the stream; ReadRequest does not read it.
	ContentLength int64
	// ContentLengthSet reports a CONTENT_LENGTH with a value, "0" too: a
	// client's Content-Length: 0 (nginx sends an empty one where the
	// client sent none).
	ContentLengthSet bool

	buf []byte // the var block; every Var aliases it
}

// ReadRequest reads one packet header and its var block from br into req,
// replacing what req held; the Vars of the previous packet are invalid
// afterwards. bufferSize is --buffer-size, the largest var block accepted:
// 0 or less means DefaultBufferSize, and anything over MaxBufferSize
// cannot be exceeded.
//
// It returns io.EOF when br ends before the first header byte (the peer is
// done with the connection), ErrTruncated when it ends later inside the
// packet, an *Error for a packet it refuses, and other read errors (such as
// deadlines) as they come.
func ReadRequest(br *bufio.Reader, bufferSize int, req *Request) error {
	req.Header = Header{}
	req.Vars = req.Vars[:0]
	req.ContentLength, req.ContentLengthSet = 0, false
	if bufferSize <= 0 {
		bufferSize = DefaultBufferSize
	}

	p, err := br.Peek(headerLen)
	if len(p) < headerLen {
		if len(p) > 0 && err == io.EOF {
			return ErrTruncated
		}
		return err
	}
	h := Header{Modifier1: p[0], Size: binary.LittleEndian.Uint16(p[1:3]), Modifier2: p[3]}
	if h.Modifier1 != ModifierWSGI && h.Modifier1 != ModifierManagePathInfo {
		if looksLikeHTTP(p) {
			return errHTTPRequest
		}
		req.Header = h
		return modifierError(h.Modifier1)
	}
	req.Header = h
	if int(h.Size) > bufferSize {
		return tooBigError(int(h.Size), bufferSize)
	}
	br.Discard(headerLen) // cannot fail: the bytes are buffered

	if cap(req.buf) < int(h.Size) {
		req.buf = make([]byte, h.Size)
	}
	block := req.buf[:h.Size]
	if _, err := io.ReadFull(br, block); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || err == io.EOF {
			return ErrTruncated
		}
		return err
	}
	return req.parse(block)
}

// looksLikeHTTP reports whether the 4 bytes that would be a packet header
// are the start of an HTTP request line instead: uWSGI reads "GET " as
// modifier1 'G' with a var block of 21573 bytes ("ET" little-endian) and
// logs "invalid request block size 21573", which helps no one. A method ("GET ", "POST", "PRI " of HTTP/2's
// preface, WebDAV's "PROPFIND") is uppercase letters up to a space, and a
// status line starts "HTTP". It is called only for a modifier1 that is
// already refused (0 and 30 are not letters), so it cannot turn away a
// packet carafe would serve; and it looks at no more than the header's 4
// bytes, so a short request gets its log line without waiting for more.
func looksLikeHTTP(p []byte) bool {
	if p[0] < 'A' || p[0] > 'Z' {
		return false
	}
	for _, c := range p[1:] {
		if c == ' ' {
			return true
		}
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

// AppendRequest encodes a request packet (header and var block, no body)
// onto dst, with modifier2 0 as nginx sends it. It is the inverse of
// ReadRequest, for tests, fuzz round-trips and the benchmark harness, and
// panics if a name, a value or the whole block is longer than 65535 bytes,
// which no packet can carry.
func AppendRequest(dst []byte, modifier1 uint8, vars []Var) []byte {
	size := 0
	for _, v := range vars {
		if len(v.Key) > MaxBufferSize || len(v.Value) > MaxBufferSize {
			panic(fmt.Sprintf("uwsgi: AppendRequest: variable %.32q longer than %d bytes", v.Key, MaxBufferSize))
		}
		size += 4 + len(v.Key) + len(v.Value)
	}
	if size > MaxBufferSize {
		panic(fmt.Sprintf("uwsgi: AppendRequest: var block of %d bytes exceeds %d", size, MaxBufferSize))
	}
	dst = append(dst, modifier1, byte(size), byte(size>>8), 0)
	for _, v := range vars {
		dst = binary.LittleEndian.AppendUint16(dst, uint16(len(v.Key)))
		dst = append(dst, v.Key...)
		dst = binary.LittleEndian.AppendUint16(dst, uint16(len(v.Value)))
		dst = append(dst, v.Value...)
	}
	return dst
}
