package wsgi

import (
	"encoding/binary"
)

// Key numbers for environ keys that the C side interns once at start-up.
// Keys lists their names in this order; a key outside it travels as a
// literal (see Env.AddLiteral).
const (
	KeyRequestMethod = iota
	KeyPathInfo
	KeyQueryString
	KeyRequestURI
	KeyServerProtocol
	KeyServerName
	KeyServerPort
	KeyRemoteAddr
	KeyRemotePort
	KeyContentType
	KeyContentLength
	KeyURLScheme
	KeyScriptName
	KeyHTTPS
	firstHeaderKey
)

// literalKey marks an entry whose key name follows inline.
const literalKey = 0xFFFF

// Keys are the environ names the bridge interns, indexed by key number:
// the CGI variables carafe always sets, then the request headers browsers
// and proxies send most, so that a typical request needs no new key string.
var Keys = []string{
	"REQUEST_METHOD", "PATH_INFO", "QUERY_STRING", "REQUEST_URI",
	"SERVER_PROTOCOL", "SERVER_NAME", "SERVER_PORT", "REMOTE_ADDR", "REMOTE_PORT",
	"CONTENT_TYPE", "CONTENT_LENGTH", "wsgi.url_scheme", "SCRIPT_NAME", "HTTPS",
	"HTTP_HOST", "HTTP_USER_AGENT", "HTTP_ACCEPT", "HTTP_ACCEPT_ENCODING",
	"HTTP_ACCEPT_LANGUAGE", "HTTP_CONNECTION", "HTTP_COOKIE", "HTTP_REFERER",
	"HTTP_CACHE_CONTROL", "HTTP_PRAGMA", "HTTP_ORIGIN", "HTTP_AUTHORIZATION",
	"HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_UPGRADE_INSECURE_REQUESTS",
	"HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST",
	"HTTP_X_REAL_IP", "HTTP_X_REQUESTED_WITH", "HTTP_X_CSRFTOKEN", "HTTP_DNT",
	"HTTP_SEC_FETCH_DEST", "HTTP_SEC_FETCH_MODE", "HTTP_SEC_FETCH_SITE",
	"HTTP_SEC_FETCH_USER", "HTTP_SEC_CH_UA", "HTTP_SEC_CH_UA_MOBILE",
	"HTTP_SEC_CH_UA_PLATFORM", "HTTP_EXPECT", "HTTP_RANGE", "HTTP_IF_MATCH",
	"HTTP_IF_RANGE", "HTTP_IF_UNMODIFIED_SINCE", "HTTP_TE", "HTTP_VIA",
	"HTTP_FORWARDED", "HTTP_CONTENT_ENCODING", "HTTP_TRANSFER_ENCODING",
	"HTTP_KEEP_ALIVE", "HTTP_UPGRADE",
}

// headerKeys maps a lower-case header name to its key number.
var headerKeys = func() map[string]int {
	m := make(map[string]int, len(Keys))
	for i := firstHeaderKey; i < len(Keys); i++ {
		name := []byte(Keys[i][len("HTTP_"):])
		for j, c := range name {
			switch {
			case c == '_':
				name[j] = '-'
			case 'A' <= c && c <= 'Z':
				name[j] = c + 'a' - 'A'
			}
		}
		m[string(name)] = i
	}
	return m
}()

// cgiKeys maps every numbered key name to its number.
var cgiKeys = func() map[string]int {
	m := make(map[string]int, len(Keys))
	for i, k := range Keys {
		m[k] = i
	}
	return m
}()

// KeyFor returns the number of a key name, if it has one. It does not
// allocate.
func KeyFor(name []byte) (int, bool) {
	k, ok := cgiKeys[string(name)]
	return k, ok
}

// AddVar appends a CGI variable given by name (as a gateway such as nginx
// sends it): a numbered key when the name has one, else a literal.
func (e *Env) AddVar(name, val []byte) {
	if k, ok := cgiKeys[string(name)]; ok {
		e.Add(k, val)
		return
	}
	e.AddLiteral(name, val)
}

// Env is an environ block under construction: entries of a u16 key number,
// a u32 value length, for literal keys a u16 key length and the key, then
// the value; little-endian; values are latin-1 bytes. Reset and reuse it.
type Env struct{ buf []byte }

// Reset empties the block, keeping its memory.
func (e *Env) Reset() { e.buf = e.buf[:0] }

// Bytes is the block to hand to the bridge.
func (e *Env) Bytes() []byte { return e.buf }

// Add appends a value under a numbered key.
func (e *Env) Add(key int, val []byte) {
	e.buf = binary.LittleEndian.AppendUint16(e.buf, uint16(key))
	e.buf = binary.LittleEndian.AppendUint32(e.buf, uint32(len(val)))
	e.buf = append(e.buf, val...)
}

// AddString is Add for a string value.
func (e *Env) AddString(key int, val string) {
	e.buf = binary.LittleEndian.AppendUint16(e.buf, uint16(key))
	e.buf = binary.LittleEndian.AppendUint32(e.buf, uint32(len(val)))
	e.buf = append(e.buf, val...)
}

// AddLiteral appends a value under a key given by name; a name over 65535
// bytes is dropped, value and all.
func (e *Env) AddLiteral(name, val []byte) {
	if len(name) > 0xFFFF {
		return
	}
	e.buf = binary.LittleEndian.AppendUint16(e.buf, literalKey)
	e.buf = binary.LittleEndian.AppendUint32(e.buf, uint32(len(val)))
	e.buf = binary.LittleEndian.AppendUint16(e.buf, uint16(len(name)))
	e.buf = append(e.buf, name...)
	e.buf = append(e.buf, val...)
}

// AddHeader appends a request header under its CGI name (HTTP_ plus the
// name upper-cased with '-' turned into '_'). The caller has already
// dropped names containing '_' and joined repeated fields.
func (e *Env) AddHeader(name, val []byte) {
	var lower [64]byte
	if len(name) <= len(lower) {
		for i, c := range name {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			lower[i] = c
		}
		if k, ok := headerKeys[string(lower[:len(name)])]; ok {
			e.Add(k, val)
			return
		}
	}
	if len(name) > 0xFFFF-5 {
		return // the parser's field-size limit keeps real names far shorter
	}
	e.buf = binary.LittleEndian.AppendUint16(e.buf, literalKey)
	e.buf = binary.LittleEndian.AppendUint32(e.buf, uint32(len(val)))
	e.buf = binary.LittleEndian.AppendUint16(e.buf, uint16(len(name)+5))
	e.buf = append(e.buf, "HTTP_"...)
	for _, c := range name {
		e.buf = append(e.buf, EnvNameByte(c))
	}
	e.buf = append(e.buf, val...)
}

// EnvNameByte is c, a byte of a header's name, as the environ names it
// (HTTP_X_FORWARDED_FOR): upper-cased, and '-' as '_'.
func EnvNameByte(c byte) byte {
	switch {
	case c == '-':
		return '_'
	case 'a' <= c && c <= 'z':
		return c - ('a' - 'A')
	}
	return c
}

// Entry is one decoded environ entry (for tests and debugging).
type Entry struct{ Key, Value string }

// Decode parses a block back into entries, naming numbered keys.
func Decode(block []byte) ([]Entry, bool) {
	var out []Entry
	for len(block) > 0 {
		if len(block) < 6 {
			return out, false
		}
		id := binary.LittleEndian.Uint16(block)
		vlen := int(binary.LittleEndian.Uint32(block[2:]))
		block = block[6:]
		var key string
		if id == literalKey {
			if len(block) < 2 {
				return out, false
			}
			klen := int(binary.LittleEndian.Uint16(block))
			if len(block) < 2+klen {
				return out, false
			}
			key = string(block[2 : 2+klen])
			block = block[2+klen:]
		} else if int(id) < len(Keys) {
			key = Keys[id]
		} else {
			return out, false
		}
		if len(block) < vlen {
			return out, false
		}
		out = append(out, Entry{key, string(block[:vlen])})
		block = block[vlen:]
	}
	return out, true
}

// UnescapePath appends the percent-decoded path to dst, as CGI's
// PATH_INFO wants it. Malformed escapes are kept as they are.
func UnescapePath(dst, path []byte) []byte {
	for i := 0; i < len(path); i++ {
		c := path[i]
		if c == '%' && i+2 < len(path) && ishex(path[i+1]) && ishex(path[i+2]) {
			c = unhex(path[i+1])<<4 | unhex(path[i+2])
			i += 2
		}
		dst = append(dst, c)
	}
	return dst
}

func ishex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}
