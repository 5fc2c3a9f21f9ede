package httpfront

import (
	"bytes"

	"carafe/internal/wsgi"
)

// parseTarget checks the request-target form against the method (RFC 9112
// §3.2) and splits it.
func (req *Request) parseTarget(target []byte) ([]byte, error) {
	for _, c := range target {
		if c <= ' ' || c == 0x7f {
			return nil, errTarget
		}
	}
	switch {
	case string(req.Method) == "CONNECT":
		if _, ok := splitAuthority(target, false); !ok {
			return nil, errTarget
		}
		req.Path, req.Query = target[:0], target[:0]
		return nil, nil
	case target[0] == '/':
		req.Path, req.Query = splitPathQuery(target)
		if hasDotSegment(req.Path) {
			return nil, errDotSegment
		}
		return nil, nil
	case len(target) == 1 && target[0] == '*':
		if string(req.Method) != "OPTIONS" {
			return nil, errTarget
		}
		req.Path, req.Query = target, target[:0]
		return nil, nil
	}
	return req.parseAbsolute(target)
}

// parseAbsolute accepts scheme "://" authority [path-abempty] ["?" query].
// Targets without an authority (urn:x, mailto:) have no use on a server.
func (req *Request) parseAbsolute(target []byte) ([]byte, error) {
	n := schemeLen(target)
	if n == 0 || len(target) < n+3 || string(target[n:n+3]) != "://" {
		return nil, errTarget
	}
	rest := target[n+3:]
	end := len(rest)
	for i, c := range rest {
		if c == '/' || c == '?' || c == '#' {
			end = i
			break
		}
	}
	hostport, ok := splitAuthority(rest[:end], true)
	if !ok {
		return nil, errTarget
	}
	req.Path, req.Query = splitPathQuery(rest[end:])
	if len(req.Path) == 0 {
		req.Path = slash
	}
	if hasDotSegment(req.Path) {
		return nil, errDotSegment
	}
	return hostport, nil
}

// schemeLen returns the length of the URI scheme that starts s (the index
// of its ':'), or 0 if s does not start with one.
func schemeLen(s []byte) int {
	if len(s) == 0 || !isAlpha(s[0]) {
		return 0
	}
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == ':':
			return i
		case isAlpha(c) || isDigit(c) || c == '+' || c == '-' || c == '.':
		default:
			return 0
		}
	}
	return 0
}

func splitPathQuery(pq []byte) (path, query []byte) {
	if i := bytes.IndexByte(pq, '#'); i >= 0 {
		pq = pq[:i]
	}
	if i := bytes.IndexByte(pq, '?'); i >= 0 {
		return pq[:i], pq[i+1:]
	}
	return pq, pq[len(pq):]
}

// validHost reports whether a Host field value is host [":" port], or
// empty (RFC 9112 §3.2: a target without an authority has an empty Host).
func validHost(v []byte) bool {
	if len(v) == 0 {
		return true
	}
	if bytes.IndexByte(v, '@') >= 0 {
		return false // userinfo has no place in Host
	}
	_, ok := splitAuthority(v, true)
	return ok
}

// splitAuthority checks [userinfo "@"] host [":" port] (RFC 3986 §3.2) and
// returns host[:port]. Without withUserinfo it is CONNECT's authority-form,
// where the port is required.
func splitAuthority(a []byte, withUserinfo bool) ([]byte, bool) {
	if at := bytes.IndexByte(a, '@'); at >= 0 {
		if !withUserinfo {
			return nil, false
		}
		for _, c := range a[:at] {
			if uriClass[c]&uriUserinfo == 0 {
				return nil, false
			}
		}
		a = a[at+1:]
	}
	var rest []byte
	if len(a) > 0 && a[0] == '[' {
		end := bytes.IndexByte(a, ']')
		if end < 2 {
			return nil, false
		}
		for _, c := range a[1:end] {
			if uriClass[c]&uriIPLiteral == 0 {
				return nil, false
			}
		}
		rest = a[end+1:]
	} else {
		end := bytes.IndexByte(a, ':')
		if end < 0 {
			end = len(a)
		}
		if end == 0 {
			return nil, false
		}
		for _, c := range a[:end] {
			if uriClass[c]&uriRegName == 0 {
				return nil, false
			}
		}
		rest = a[end:]
	}
	if len(rest) == 0 {
		return a, withUserinfo
	}
	if rest[0] != ':' || (len(rest) == 1 && !withUserinfo) {
		return nil, false
	}
	for _, c := range rest[1:] {
		if !isDigit(c) {
			return nil, false
		}
	}
	return a, true
}

// hasDotSegment reports whether a path as sent has a "." or ".." segment,
// "%2e" counting as a dot (RFC 3986 §6.2.2.2). No browser sends one (they
// resolve them first), and each proxy in front resolves them its own way:
// nginx after decoding %2F and merging "//", Apache with %2F kept as data,
// HAProxy and many load balancers not at all. Whatever carafe made of
// one, a path some proxy let through as "/" or "/public/..." could reach
// the app as "/admin/", past the proxy's rule for it: such a request is
// refused (400). So is one that has a dot segment once decoded
// ("/a%2F..%2Fadmin"): the app never sees one in PATH_INFO.
func hasDotSegment(p []byte) bool {
	if segmentDots(p) {
		return true
	}
	if bytes.Contains(p, pct2F) || bytes.Contains(p, pct2f) {
		return segmentDots(wsgi.UnescapePath(nil, p))
	}
	return false
}

var pct2F, pct2f = []byte("%2F"), []byte("%2f")

// segmentDots reports whether p has a dot segment, "%2e" for a dot.
func segmentDots(p []byte) bool {
	if !bytes.Contains(p, slashDot) && !bytes.Contains(p, slashPct2) {
		return false
	}
	for i := 0; i < len(p); {
		j := i + 1
		for j < len(p) && p[j] != '/' {
			j++
		}
		if dots(p[i+1:j]) > 0 {
			return true
		}
		i = j
	}
	return false
}

var slashDot, slashPct2 = []byte("/."), []byte("/%2")

// dots is 1 for a "." segment, 2 for "..", with "%2e" for any dot; 0 for
// any other.
func dots(seg []byte) int {
	n := 0
	for i := 0; i < len(seg); n++ {
		switch {
		case n == 2:
			return 0
		case seg[i] == '.':
			i++
		case seg[i] == '%' && i+2 < len(seg) && seg[i+1] == '2' && seg[i+2]|0x20 == 'e':
			i += 3
		default:
			return 0
		}
	}
	return n
}
