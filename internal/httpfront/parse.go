package httpfront

import (
	"bufio"
	"bytes"
	"carafe/internal/httpsyntax"
	"fmt"
	"io"
)

// Defaults for the zero fields of Limits. The line limits follow uWSGI and
// gunicorn (8190 = 8 KiB minus room for CRLF and a NUL in C servers).
const (
	defaultMaxRequestLine = 8190
	defaultMaxFieldSize   = 8190
	defaultMaxHeaders     = 100

	// maxEmptyLines bounds the CRLFs tolerated before a request line
	// (RFC 9112 §2.2), so a peer cannot keep a worker busy with them.
	maxEmptyLines = 16
)

// Limits bound what one request head may hold. Zero fields mean the
// default; a nil *Limits means all defaults.
type Limits struct {
	// MaxRequestLine is the longest request line accepted, counted
	// without its CRLF (default 8190). A longer one is answered with 414.
	MaxRequestLine int
	// MaxFieldSize is the longest header line accepted, counted with its
	// CRLF (default 8190). A longer one is answered with 431.
	MaxFieldSize int
	// MaxHeaders is the most header fields accepted, counting fields
	// that are dropped for holding '_' (default 100). More is 431.
	MaxHeaders int

	// allowMissingHost lets the conformance tests replay gunicorn's
	// corpus, most of whose HTTP/1.1 fixtures omit Host. It is not
	// exported: carafe itself always enforces RFC 9112 §3.2.
	allowMissingHost bool
}

func (l *Limits) values() (line, field, count int) {
	line, field, count = defaultMaxRequestLine, defaultMaxFieldSize, defaultMaxHeaders
	if l == nil {
		return
	}
	if l.MaxRequestLine > 0 {
		line = l.MaxRequestLine
	}
	if l.MaxFieldSize > 0 {
		field = l.MaxFieldSize
	}
	if l.MaxHeaders > 0 {
		count = l.MaxHeaders
	}
	return
}

// Header is one request field as received: Name keeps its case and Value
// has surrounding SP/HTAB trimmed. Both alias memory owned by the Request
// (or ChunkedReader) that produced them.
type Header struct{ Name, Value []byte }

// Request is one parsed request head. Its zero value is ready for
// ReadRequest, which reuses the memory of earlier requests, so every slice
// in it is valid only until the next ReadRequest with the same Request.
type Request struct {
	// Method is the request method, a token as sent (methods are case
	// sensitive, RFC 9110 §9.1).
	Method []byte
	// Target is the request-target exactly as sent. Path and Query are
	// split from it at the first '?', with any '#fragment' removed; neither
	// is percent-decoded. For an absolute-form target Path is its path
	// part ("/" when empty); for OPTIONS * it is "*"; for CONNECT's
	// authority-form Path and Query are empty.
	Target, Path, Query []byte
	Major, Minor        int
	// Headers holds the fields in arrival order. Fields whose name holds
	// '_' are dropped, so that they cannot pose as '-' names once mapped
	// to CGI variables (HTTP_X_USER from X_User vs X-User).
	Headers []Header
	// ContentLength is the Content-Length value, or -1 when absent.
	ContentLength int64
	// Chunked reports Transfer-Encoding: chunked, the only coding accepted.
	Chunked bool
	// KeepAlive reports whether the connection may carry another request
	// after this one (HTTP/1.1 unless Connection: close; HTTP/1.0 only with
	// Connection: keep-alive). The server may still decide to close.
	KeepAlive bool
	// Expect100 reports Expect: 100-continue on an HTTP/1.1 request; the
	// server should send 100 Continue before it first reads the body.
	Expect100 bool
	// Host is the Host field value, nil when absent. For an absolute-form
	// target it is the target's authority (without userinfo) instead, as
	// RFC 9112 §3.2.2 requires.
	Host []byte

	line []byte // request line with its CRLF; Method..Query alias it
	head []byte // header lines with their CRLFs; Headers alias it
}

// ReadRequest reads one request head from br into req, reusing req's
// memory. It returns io.EOF if the connection closed (or sent only empty
// lines) before the first byte of a request, ErrTruncated if it closed
// inside the head, an *Error for a request that must be refused, or the
// read error (a timeout, say) wrapped. After any error but io.EOF the
// connection's framing is lost: answer an *Error's Status, then close.
func ReadRequest(br *bufio.Reader, lim *Limits, req *Request) error {
	maxLine, maxField, maxHeaders := lim.values()
	req.reset()
	line, err := req.readRequestLine(br, maxLine)
	if err != nil {
		return err
	}
	authority, err := req.parseRequestLine(line)
	if err != nil {
		return err
	}
	if err := req.readHead(br, maxField, maxHeaders); err != nil {
		return err
	}
	return req.parseHeaders(authority, lim != nil && lim.allowMissingHost)
}

func (req *Request) reset() {
	req.Method, req.Target, req.Path, req.Query = nil, nil, nil, nil
	req.Major, req.Minor = 0, 0
	req.Headers = req.Headers[:0]
	req.ContentLength = -1
	req.Chunked, req.KeepAlive, req.Expect100 = false, false, false
	req.Host = nil
}

// readLine appends the next LF-terminated line of br to dst. Once the line
// is longer than max bytes (LF included) it stops with errLineTooLong, so a
// peer cannot make it buffer more than max plus one bufio buffer.
func readLine(br *bufio.Reader, dst []byte, max int) ([]byte, error) {
	start := len(dst)
	for {
		frag, err := br.ReadSlice('\n')
		if len(dst)-start+len(frag) > max {
			return dst, errLineTooLong
		}
		dst = append(dst, frag...)
		if err != bufio.ErrBufferFull {
			return dst, err
		}
	}
}

// readErr maps a read error inside a head: a clean close before anything
// was read is io.EOF, a close later is ErrTruncated.
func readErr(err error, atStart bool) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		if atStart {
			return io.EOF
		}
		return ErrTruncated
	}
	return fmt.Errorf("httpfront: reading request head: %w", err)
}

// endsCRLF reports whether a line from readLine ends in CRLF; a bare LF
// terminator is refused, as the framing of lenient parsers differs there.
func endsCRLF(line []byte) bool {
	return len(line) >= 2 && line[len(line)-2] == '\r'
}

// readRequestLine returns the request line without CRLF, skipping a few
// empty lines before it.
func (req *Request) readRequestLine(br *bufio.Reader, max int) ([]byte, error) {
	for empty := 0; ; empty++ {
		var err error
		req.line, err = readLine(br, req.line[:0], max+2)
		if err == errLineTooLong {
			return nil, errURITooLong
		}
		if err != nil {
			return nil, readErr(err, len(req.line) == 0)
		}
		if !endsCRLF(req.line) {
			return nil, errBareLF
		}
		if n := len(req.line); n > 2 {
			return req.line[:n-2], nil
		}
		if empty == maxEmptyLines {
			return nil, errEmptyLines
		}
	}
}

// maxHeadBytes bounds the header lines together (nginx's default bounds
// them to 32 KiB), or two fields of the longest allowed where that is
// more: a client could otherwise make each connection hold 100 fields of
// 8190 bytes, 800 KiB (a probe held 300 such heads: 496 MB).
const maxHeadBytes = 64 << 10

// readHead copies the header lines, up to and without the empty line, into
// req.head. Nothing is parsed until the whole head is in: req.head may move
// while it grows.
func (req *Request) readHead(br *bufio.Reader, maxField, maxHeaders int) error {
	req.head = req.head[:0]
	maxHead := max(maxHeadBytes, 2*maxField)
	for n := 0; ; n++ {
		start := len(req.head)
		lim, whole := maxField, false
		if left := maxHead - start + 2; left < lim { // (+2: the empty line that ends the head)
			lim, whole = left, true
		}
		var err error
		req.head, err = readLine(br, req.head, lim)
		if err == errLineTooLong {
			if whole {
				return errHeadTooLarge
			}
			return errFieldTooLong
		}
		if err != nil {
			return readErr(err, false)
		}
		line := req.head[start:]
		if !endsCRLF(line) {
			return errBareLF
		}
		if len(line) == 2 {
			req.head = req.head[:start]
			return nil
		}
		if n == maxHeaders {
			return errTooManyFields
		}
	}
}

// parseRequestLine fills Method, Target, Path, Query and the version. It
// returns the authority of an absolute-form target (nil otherwise).
func (req *Request) parseRequestLine(line []byte) ([]byte, error) {
	sp1 := bytes.IndexByte(line, ' ')
	sp2 := bytes.LastIndexByte(line, ' ')
	if sp1 <= 0 || sp2 == sp1 {
		return nil, errRequestLine
	}
	method, target, version := line[:sp1], line[sp1+1:sp2], line[sp2+1:]
	if !validMethod(method) {
		return nil, errMethod
	}
	if len(target) == 0 {
		return nil, errRequestLine
	}
	req.Method, req.Target = method, target
	authority, err := req.parseTarget(target)
	if err != nil {
		return nil, err
	}
	if len(version) != 8 || string(version[:5]) != "HTTP/" ||
		!isDigit(version[5]) || version[6] != '.' || !isDigit(version[7]) {
		return nil, errVersion
	}
	req.Major, req.Minor = int(version[5]-'0'), int(version[7]-'0')
	if req.Major != 1 {
		return nil, errVersionSupport
	}
	if req.Minor > 1 {
		// A later HTTP/1.x is read as HTTP/1.1, the highest minor version
		// carafe implements (RFC 9110 §2.5): 505 is for a major version.
		req.Minor = 1
	}
	return authority, nil
}

// validMethod accepts a token of 3 to 20 characters without lowercase
// letters or '#'. RFC 9110 asks only for a token; the extra rules are
// gunicorn's, kept because no real method breaks them and they turn away
// garbage and case-confused methods ("get") before an app sees them.
func validMethod(m []byte) bool {
	if len(m) < 3 || len(m) > 20 {
		return false
	}
	for _, c := range m {
		if !httpsyntax.IsTchar(c) || c == '#' || ('a' <= c && c <= 'z') {
			return false
		}
	}
	return true
}

// slash is the Path of an absolute-form target with an empty path.
var slash = []byte("/")

// splitField splits one header or trailer line (without CRLF) into a token
// name and a value with SP/HTAB trimmed, refusing obs-fold, whitespace
// before the colon, and control bytes in the value.
func splitField(line []byte) (name, value []byte, err error) {
	if line[0] == ' ' || line[0] == '\t' {
		return nil, nil, errObsFold
	}
	colon := bytes.IndexByte(line, ':')
	if colon < 0 {
		return nil, nil, errHeaderLine
	}
	name = line[:colon]
	if !httpsyntax.IsToken(name) {
		return nil, nil, errHeaderName
	}
	value = httpsyntax.TrimOWS(line[colon+1:])
	if !httpsyntax.ValidValue(value) {
		return nil, nil, errHeaderValue
	}
	return name, value, nil
}

// headState collects what the framing rules need across fields.
type headState struct {
	host                  []byte
	hostSeen, typeSeen    bool
	clSeen, teSeen        bool
	teBad                 bool // a list element that is not a token
	teCodings, teChunked  int  // list elements, and how many are chunked
	teLastChunked         bool
	connClose, connKeep   bool
	expect100, expectElse bool
}

// parseHeaders splits req.head into Headers and applies the framing and
// connection rules of RFC 9112 §6 and §9.
func (req *Request) parseHeaders(authority []byte, allowMissingHost bool) error {
	var st headState
	head := req.head
	for len(head) > 0 {
		i := bytes.IndexByte(head, '\n')
		line := head[:i-1]
		head = head[i+1:]
		name, value, err := splitField(line)
		if err != nil {
			return err
		}
		if bytes.IndexByte(name, '_') >= 0 {
			continue
		}
		req.Headers = append(req.Headers, Header{Name: name, Value: value})
		if err := req.noteField(&st, name, value); err != nil {
			return err
		}
	}
	return req.applyFraming(&st, authority, allowMissingHost)
}

// noteField records the fields with framing or connection meaning.
func (req *Request) noteField(st *headState, name, value []byte) error {
	switch {
	case httpsyntax.EqualFold(name, "content-length"):
		if st.clSeen {
			return errDupCL
		}
		st.clSeen = true
		n, ok := httpsyntax.ParseUint(value)
		if !ok {
			return errContentLength
		}
		req.ContentLength = n
	case httpsyntax.EqualFold(name, "transfer-encoding"):
		st.teSeen = true
		st.addCodings(value)
	case httpsyntax.EqualFold(name, "host"):
		if st.hostSeen {
			return errDupHost
		}
		st.hostSeen, st.host = true, value
	case httpsyntax.EqualFold(name, "content-type"):
		if st.typeSeen {
			return errDupContentType
		}
		st.typeSeen = true
	case httpsyntax.EqualFold(name, "connection"):
		forEachElement(value, func(tok []byte) {
			st.connClose = st.connClose || httpsyntax.EqualFold(tok, "close")
			st.connKeep = st.connKeep || httpsyntax.EqualFold(tok, "keep-alive")
		})
	case httpsyntax.EqualFold(name, "expect"):
		if httpsyntax.EqualFold(value, "100-continue") {
			st.expect100 = true
		} else {
			st.expectElse = true
		}
	}
	return nil
}

// addCodings adds one Transfer-Encoding field's list; repeated fields form
// one list (RFC 9110 §5.3). Empty elements are refused, not skipped: a
// lenient list parser is where TE smuggling lives.
func (st *headState) addCodings(value []byte) {
	forEachElement(value, func(c []byte) {
		st.teCodings++
		if !httpsyntax.IsToken(c) {
			st.teBad = true
		}
		st.teLastChunked = httpsyntax.EqualFold(c, "chunked")
		if st.teLastChunked {
			st.teChunked++
		}
	})
}

// forEachElement calls f with each comma-separated element of v, OWS
// trimmed (elements may be empty).
func forEachElement(v []byte, f func([]byte)) {
	for {
		i := bytes.IndexByte(v, ',')
		if i < 0 {
			f(httpsyntax.TrimOWS(v))
			return
		}
		f(httpsyntax.TrimOWS(v[:i]))
		v = v[i+1:]
	}
}

func (req *Request) applyFraming(st *headState, authority []byte, allowMissingHost bool) error {
	if st.teSeen {
		switch {
		case st.clSeen:
			return errCLAndTE
		case req.Minor == 0:
			return errTEHTTP10
		case st.teBad:
			return errTEList
		case st.teChunked > 1:
			return errTEDupChunked
		case st.teChunked == 0:
			return errTEUnsupported // gzip alone: well-formed, just not ours (501)
		case !st.teLastChunked:
			return errTENotChunked // chunked, then another: a framing error (400)
		case st.teCodings > 1:
			return errTEUnsupported
		}
		req.Chunked = true
	}
	if !st.hostSeen && req.Minor == 1 && !allowMissingHost {
		return errNoHost
	}
	if !validHost(st.host) {
		return errHost // RFC 9112 §3.2: SERVER_NAME and SERVER_PORT come from it
	}
	if st.expectElse {
		return errExpectation
	}
	req.Host = st.host
	if authority != nil {
		req.Host = authority
	}
	req.Expect100 = st.expect100 && req.Minor == 1
	if req.Minor == 1 {
		req.KeepAlive = !st.connClose
	} else {
		req.KeepAlive = st.connKeep && !st.connClose
	}
	return nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isAlpha(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }

// URI character classes (RFC 3986), as bits of uriClass.
const (
	uriRegName   = 1 << iota // unreserved / pct-encoded / sub-delims
	uriUserinfo              // reg-name / ":"
	uriIPLiteral             // IPv6address / IPvFuture: reg-name / ":"
)

var uriClass [256]uint8

func init() {
	for c := 0; c < 256; c++ {
		alnum := isAlpha(byte(c)) || isDigit(byte(c))
		if alnum || (c < 0x80 && bytes.IndexByte([]byte("-._~%!$&'()*+,;="), byte(c)) >= 0) {
			uriClass[c] = uriRegName | uriUserinfo | uriIPLiteral
		}
	}
	uriClass[':'] = uriUserinfo | uriIPLiteral
}
