package wsgi

import (
	"carafe/internal/httpsyntax"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
)

// Field is one response header as the app gave it (latin-1 bytes).
type Field struct{ Name, Value []byte }

// Head is an app's validated status and headers. Its slices alias the
// block it was parsed from.
type Head struct {
	Status        []byte // "200 OK"
	Code          int
	Fields        []Field // without hop-by-hop fields, which the server owns
	ContentLength int64   // from a Content-Length field; -1 when absent
	Close         bool    // the app sent "Connection: close"
	// HasDate and HasServer: the app sent its own Date or Server field
	// (Werkzeug's send_file sets Date), which the server then leaves out
	// of its own: RFC 9110 allows one of each.
	HasDate, HasServer bool
}

// HeadError is an app's status or header that cannot go on the wire.
type HeadError struct{ Msg string }

func (e *HeadError) Error() string { return "wsgi: " + e.Msg }

var errShortBlock = errors.New("wsgi: truncated head block")

// Parse reads a head block (strings of a little-endian u32 length and
// bytes: status, then name, value pairs) and validates every part, so that
// nothing the app sends can inject into the response.
func (h *Head) Parse(block []byte) error {
	h.Fields = h.Fields[:0]
	h.ContentLength = -1
	h.Close, h.HasDate, h.HasServer = false, false, false
	status, block, ok := next(block)
	if !ok {
		return errShortBlock
	}
	code, ok := parseStatus(status)
	if !ok {
		return &HeadError{fmt.Sprintf("invalid status %q (want a 3-digit code 200-999, a space and a reason)", status)}
	}
	h.Status, h.Code = status, code
	if len(status) == 3 { // the code alone: the response line gets its reason
		h.Status = append(append(make([]byte, 0, 32), status...), ' ')
		h.Status = append(h.Status, http.StatusText(code)...)
	}
	for len(block) > 0 {
		var name, value []byte
		if name, block, ok = next(block); !ok {
			return errShortBlock
		}
		if value, block, ok = next(block); !ok {
			return errShortBlock
		}
		if len(name) == 0 || !httpsyntax.IsToken(name) {
			return &HeadError{fmt.Sprintf("invalid header name %q", name)}
		}
		if !httpsyntax.ValidValue(value) {
			return &HeadError{fmt.Sprintf("header %s: value %q has control characters", name, value)}
		}
		if err := h.add(name, value); err != nil {
			return err
		}
	}
	return nil
}

// add records a field, taking out those the server frames itself.
func (h *Head) add(name, value []byte) error {
	switch {
	case httpsyntax.EqualFold(name, "content-length"):
		n, ok := httpsyntax.ParseUint(httpsyntax.TrimOWS(value))
		if !ok || (h.ContentLength >= 0 && h.ContentLength != n) {
			return &HeadError{fmt.Sprintf("invalid Content-Length %q", value)}
		}
		h.ContentLength = n
		return nil
	case httpsyntax.EqualFold(name, "connection"):
		if containsTokenFold(value, "close") {
			h.Close = true
		}
		return nil
	case httpsyntax.EqualFold(name, "transfer-encoding"), httpsyntax.EqualFold(name, "keep-alive"),
		httpsyntax.EqualFold(name, "proxy-connection"), httpsyntax.EqualFold(name, "upgrade"),
		httpsyntax.EqualFold(name, "te"), httpsyntax.EqualFold(name, "trailer"):
		return nil
	case httpsyntax.EqualFold(name, "date"):
		h.HasDate = true
	case httpsyntax.EqualFold(name, "server"):
		h.HasServer = true
	}
	h.Fields = append(h.Fields, Field{name, value})
	return nil
}

func next(b []byte) (s, rest []byte, ok bool) {
	if len(b) < 4 {
		return nil, nil, false
	}
	n := binary.LittleEndian.Uint32(b)
	if uint64(n) > uint64(len(b)-4) {
		return nil, nil, false
	}
	return b[4 : 4+n], b[4+n:], true
}

func parseStatus(s []byte) (int, bool) {
	if len(s) < 3 || len(s) > 3 && s[3] != ' ' {
		return 0, false
	}
	code := 0
	for _, c := range s[:3] {
		if c < '0' || c > '9' {
			return 0, false
		}
		code = code*10 + int(c-'0')
	}
	if code < 200 {
		return 0, false
	}
	return code, len(s) == 3 || httpsyntax.ValidValue(s[4:])
}

// containsTokenFold reports whether a comma-separated list holds tok.
func containsTokenFold(list []byte, tok string) bool {
	for len(list) > 0 {
		i := 0
		for i < len(list) && list[i] != ',' {
			i++
		}
		if httpsyntax.EqualFold(httpsyntax.TrimOWS(list[:i]), tok) {
			return true
		}
		if i == len(list) {
			break
		}
		list = list[i+1:]
	}
	return false
}
