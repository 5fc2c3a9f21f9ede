package httpfront

import (
	"bufio"
	"bytes"
	"carafe/internal/httpsyntax"
	"fmt"
	"io"
)

// maxTrailers bounds the trailer section the way Limits.MaxHeaders bounds
// the head, at its default.
const maxTrailers = defaultMaxHeaders

// maxChunkDigits bounds the significant hex digits of a chunk size, so the
// size fits an int64 with room to spare.
const maxChunkDigits = 15

type chunkState uint8

const (
	chunkSize     chunkState = iota // at a chunk-size line
	chunkData                       // inside chunk data
	chunkDataCRLF                   // at the CRLF after chunk data
	chunkDone                       // last-chunk and trailers consumed
)

// ChunkedReader decodes a chunked request body (RFC 9112 §7.1) from a
// bufio.Reader, leaving the reader at the first byte after the body. Read
// returns io.EOF once the last-chunk and the trailer section are consumed,
// an *Error (Status 400) for malformed framing, and io.ErrUnexpectedEOF if
// the stream ends inside the body. Errors are sticky.
type ChunkedReader struct {
	br      *bufio.Reader
	maxLine int
	state   chunkState
	left    int64 // data bytes left in the current chunk
	err     error
	// Limit, when positive, bounds the body: a chunk-size line that would
	// take it past Limit is refused (413) before any of the chunk is read.
	Limit int64
	sized int64 // the chunk sizes so far, added up

	line     []byte // the current chunk-size line
	trailer  []byte // trailer lines with their CRLFs; trailers alias it
	trailers []Header
}

// NewChunkedReader returns a reader of the chunked body that starts at br.
// maxLine bounds a chunk-size line and each trailer line, CRLF included;
// zero or less means 8190.
func NewChunkedReader(br *bufio.Reader, maxLine int) *ChunkedReader {
	if maxLine <= 0 {
		maxLine = defaultMaxFieldSize
	}
	c := &ChunkedReader{maxLine: maxLine}
	c.Reset(br)
	return c
}

// Reset makes c read a new chunked body from br, keeping its buffers, so a
// connection can use one ChunkedReader for all its requests.
func (c *ChunkedReader) Reset(br *bufio.Reader) {
	c.br, c.state, c.left, c.err, c.sized = br, chunkSize, 0, nil, 0
	if cap(c.trailer) > keepTrailer {
		c.trailer = nil // an idle keep-alive connection does not keep a large section
	}
	c.trailer, c.trailers = c.trailer[:0], c.trailers[:0]
}

// keepTrailer is the trailer buffer a connection keeps between requests.
const keepTrailer = 4 << 10

// Trailers returns the trailer fields, valid after Read returned io.EOF
// and until the next Reset. Fields whose name holds '_' are dropped, as in
// Request.Headers.
func (c *ChunkedReader) Trailers() []Header { return c.trailers }

func (c *ChunkedReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	for {
		switch c.state {
		case chunkSize:
			if err := c.readSize(); err != nil {
				return 0, c.fail(err)
			}
		case chunkData:
			if int64(len(p)) > c.left {
				p = p[:c.left]
			}
			n, err := c.br.Read(p)
			c.left -= int64(n)
			if c.left == 0 {
				c.state = chunkDataCRLF
			}
			if n > 0 || err == nil {
				return n, nil
			}
			return 0, c.fail(err)
		case chunkDataCRLF:
			b, err := c.br.Peek(2)
			if err != nil {
				return 0, c.fail(err)
			}
			if b[0] != '\r' || b[1] != '\n' {
				return 0, c.fail(errChunkCRLF)
			}
			c.br.Discard(2)
			c.state = chunkSize
		case chunkDone:
			c.err = io.EOF
			return 0, io.EOF
		}
	}
}

// fail records err as sticky, turning a clean end of stream into
// io.ErrUnexpectedEOF since a chunked body must end with its last-chunk.
func (c *ChunkedReader) fail(err error) error {
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		err = io.ErrUnexpectedEOF
	case err == errLineTooLong:
		err = errChunkLine
	default:
		if _, ok := err.(*Error); !ok {
			err = fmt.Errorf("httpfront: reading chunked body: %w", err)
		}
	}
	c.err = err
	return err
}

// readSize reads one chunk-size line: 1*HEXDIG [BWS chunk-ext] CRLF.
func (c *ChunkedReader) readSize() error {
	line, err := readLine(c.br, c.line[:0], c.maxLine)
	c.line = line
	if err != nil {
		return err
	}
	if !endsCRLF(line) {
		return errChunkSize
	}
	line = line[:len(line)-2]
	var size int64
	digits, i := 0, 0
	for ; i < len(line); i++ {
		d, ok := unhex(line[i])
		if !ok {
			break
		}
		if size != 0 || d != 0 {
			digits++
		}
		size = size<<4 | int64(d)
		if digits > maxChunkDigits {
			return errChunkTooBig
		}
	}
	if i == 0 {
		return errChunkSize
	}
	if ext := line[i:]; len(ext) > 0 {
		ext = trimLeftOWS(ext)
		if len(ext) == 0 || ext[0] != ';' {
			return errChunkSize
		}
		if !validChunkExt(ext) {
			return errChunkExt
		}
	}
	if size == 0 {
		if err := c.readTrailers(); err != nil {
			return err
		}
		c.state = chunkDone
		return nil
	}
	if c.sized += size; c.Limit > 0 && c.sized > c.Limit {
		return errBodyTooBig
	}
	c.left, c.state = size, chunkData
	return nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func trimLeftOWS(v []byte) []byte {
	for len(v) > 0 && (v[0] == ' ' || v[0] == '\t') {
		v = v[1:]
	}
	return v
}

// validChunkExt checks *( BWS ";" BWS name [ BWS "=" BWS ( token /
// quoted-string ) ] ), tolerating trailing whitespace. Extensions carry no
// meaning for carafe; they are checked so that odd bytes in them (a bare
// CR, say) cannot be read differently by us and a proxy in front.
func validChunkExt(ext []byte) bool {
	for {
		ext = trimLeftOWS(ext)
		if len(ext) == 0 {
			return true
		}
		if ext[0] != ';' {
			return false
		}
		ext = trimLeftOWS(ext[1:])
		n := tokenLen(ext)
		if n == 0 {
			return false
		}
		ext = trimLeftOWS(ext[n:])
		if len(ext) == 0 || ext[0] != '=' {
			continue
		}
		ext = trimLeftOWS(ext[1:])
		if len(ext) > 0 && ext[0] == '"' {
			n = quotedLen(ext)
		} else {
			n = tokenLen(ext)
		}
		if n == 0 {
			return false
		}
		ext = ext[n:]
	}
}

func tokenLen(s []byte) int {
	for i, c := range s {
		if !httpsyntax.IsTchar(c) {
			return i
		}
	}
	return len(s)
}

// quotedLen returns the length of the quoted-string that starts s, or 0.
func quotedLen(s []byte) int {
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			return i + 1
		case c == '\\':
			i++
			if i == len(s) || !httpsyntax.IsFieldVchar(s[i]) {
				return 0
			}
		case !httpsyntax.IsFieldVchar(c):
			return 0
		}
	}
	return 0
}

// readTrailers reads the trailer section after the last-chunk and parses
// it like a head, refusing fields that would change framing or routing
// (RFC 9110 §6.5.1) if a later stage merged them into the headers. The
// section is bounded as a head is, fields and bytes together (see
// maxHeadBytes): by its fields alone, 100 lines of 8190 bytes, a client
// made each connection hold 1.4 MB for the whole --http-timeout (a probe:
// 150 connections, 252 MB).
func (c *ChunkedReader) readTrailers() error {
	c.trailer = c.trailer[:0]
	maxSection := max(maxHeadBytes, 2*c.maxLine)
	for n := 0; ; n++ {
		start := len(c.trailer)
		lim, whole := c.maxLine, false
		if left := maxSection - start + 2; left < lim { // (+2: the empty line that ends it)
			lim, whole = left, true
		}
		var err error
		c.trailer, err = readLine(c.br, c.trailer, lim)
		if err == errLineTooLong {
			if whole {
				return errTrailersTooLarge
			}
			return errTrailerLine
		}
		if err != nil {
			return err
		}
		if !endsCRLF(c.trailer[start:]) {
			return errBareLF
		}
		if len(c.trailer)-start == 2 {
			c.trailer = c.trailer[:start]
			break
		}
		if n == maxTrailers {
			return errTrailerCount
		}
	}
	for rest := c.trailer; len(rest) > 0; {
		i := bytes.IndexByte(rest, '\n')
		name, value, err := splitField(rest[:i-1])
		rest = rest[i+1:]
		if err != nil {
			return err
		}
		if forbiddenTrailer(name) {
			return errTrailerField
		}
		if bytes.IndexByte(name, '_') < 0 {
			c.trailers = append(c.trailers, Header{Name: name, Value: value})
		}
	}
	return nil
}

func forbiddenTrailer(name []byte) bool {
	for _, f := range [...]string{
		"content-length", "transfer-encoding", "host", "connection",
		"keep-alive", "te", "trailer", "upgrade", "expect",
	} {
		if httpsyntax.EqualFold(name, f) {
			return true
		}
	}
	return false
}
