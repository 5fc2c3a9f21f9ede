package uwsgi

import (
	"bytes"
	"encoding/binary"
)

// Var is one CGI variable of a request. Key and Value alias the Request's
// buffer, so they are valid until the next ReadRequest into it; their
// capacity ends with them, so appending to one copies instead of
// overwriting the next variable.
type Var struct{ Key, Value []byte }

// maxContentLengthDigits keeps the value within int64 without overflow
// checks: 18 digits is just under an exabyte.
const maxContentLengthDigits = 18

// Get returns the value of the last variable named key, or nil, false:
// the one the app's environ dict keeps, and uWSGI's choice (nginx repeats
// a variable when a uwsgi_param sets one uwsgi_params already has). It
// does not allocate.
func (r *Request) Get(key string) ([]byte, bool) {
	for i := len(r.Vars) - 1; i >= 0; i-- {
		if string(r.Vars[i].Key) == key {
			return r.Vars[i].Value, true
		}
	}
	return nil, false
}

// parse splits the var block into r.Vars and sets r.ContentLength.
func (r *Request) parse(block []byte) error {
	for len(block) > 0 {
		key, rest, ok := cut16(block)
		if !ok {
			return errLengthOverrun
		}
		if len(key) == 0 {
			return errEmptyKey
		}
		val, rest, ok := cut16(rest)
		if !ok {
			return errLengthOverrun
		}
		r.Vars = append(r.Vars, Var{Key: key, Value: val})
		block = rest
	}
	return r.setContentLength()
}

// cut16 splits off one length-prefixed string. The string's capacity is
// clipped to its length (see Var).
func cut16(b []byte) (s, rest []byte, ok bool) {
	if len(b) < 2 {
		return nil, nil, false
	}
	n := int(binary.LittleEndian.Uint16(b))
	b = b[2:]
	if len(b) < n {
		return nil, nil, false
	}
	return b[:n:n], b[n:], true
}

// setContentLength takes the body length from CONTENT_LENGTH. Where the
// variable repeats (an operator's uwsgi_param on top of uwsgi_params), all
// copies must agree: the body is framed by one and the app would see
// another, the makings of request smuggling.
func (r *Request) setContentLength() error {
	seen := false
	for i := range r.Vars {
		if string(r.Vars[i].Key) != "CONTENT_LENGTH" {
			continue
		}
		n, ok := parseContentLength(r.Vars[i].Value)
		if !ok {
			return contentLengthError(r.Vars[i].Value)
		}
		if seen && n != r.ContentLength {
			return errCLConflict
		}
		r.ContentLength, seen = n, true
		r.ContentLengthSet = r.ContentLengthSet || len(r.Vars[i].Value) > 0
	}
	return nil
}

// parseContentLength accepts 1*DIGIT, and the empty value nginx's
// uwsgi_params sends for a request without a body. uWSGI stops at the
// first non-digit, taking "12a" for 12; carafe refuses it, as a front end
// that frames the body differently from the app is how smuggling starts.
func parseContentLength(v []byte) (int64, bool) {
	if len(v) > maxContentLengthDigits {
		return 0, false
	}
	var n int64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// StripScriptName applies modifier1 30 (ModifierManagePathInfo): nginx's
// "uwsgi_param SCRIPT_NAME /app; uwsgi_modifier1 30;" sends the full path
// in PATH_INFO and asks the server to remove the mount point. It returns
// pathInfo without the scriptName prefix, aliasing pathInfo.
//
// uWSGI's documented behaviour, in its Python 2 code path
// (plugins/python/wsgi_subhandler.c), skips len(SCRIPT_NAME) bytes of
// PATH_INFO without looking at them; its python3 plugin, as Debian ships
// it, strips nothing (docs/deployment.md says so). carafe strips only a prefix that ends
// on a segment boundary, so SCRIPT_NAME "/app" leaves "/application" alone
// where uWSGI would make it "lication", and it ignores trailing slashes of
// SCRIPT_NAME, so "/app/" strips "/app/x" to "/x", not uWSGI's "x". A
// PATH_INFO equal to SCRIPT_NAME becomes "", as in uWSGI: PEP 3333 allows
// an empty PATH_INFO for the application root, and WSGI frameworks treat it
// as "/". PATH_INFO outside SCRIPT_NAME, and an empty or "/" SCRIPT_NAME,
// leave pathInfo unchanged.
func StripScriptName(scriptName, pathInfo []byte) []byte {
	prefix := bytes.TrimRight(scriptName, "/")
	if len(prefix) == 0 || !bytes.HasPrefix(pathInfo, prefix) {
		return pathInfo
	}
	rest := pathInfo[len(prefix):]
	if len(rest) > 0 && rest[0] != '/' {
		return pathInfo
	}
	return rest
}
