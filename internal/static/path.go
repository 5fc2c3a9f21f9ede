package static

import "strings"

// cleanRel turns rest, the decoded path after a mapping prefix ("" or
// starting with '/'), into a slash-separated path relative to the
// mapping's directory: "." for the directory itself, never absolute,
// never with "." or ".." or empty segments. dirForm reports that rest
// named a directory explicitly (a trailing '/' or "/.").
//
// ok is false for a path that must be refused rather than looked up: one
// holding a NUL byte, a backslash (a Windows separator, and on Linux a
// way to smuggle "..\.." past proxies that only normalize '/'), or a ".."
// segment. The caller decoded the path exactly once, so "%2e%2e" and
// "..%2f" arrive here as ".." and are refused, while "%252e%252e" arrives
// as the literal name "%2e%2e" and is merely looked up.
func cleanRel(rest string) (rel string, dirForm bool, ok bool) {
	if strings.IndexByte(rest, 0) >= 0 || strings.IndexByte(rest, '\\') >= 0 {
		return "", false, false
	}
	body := strings.TrimPrefix(rest, "/")
	clean := body != "" // body is "seg/seg..." with nothing to drop
	last := ""
	for seg := range strings.SplitSeq(body, "/") {
		switch seg {
		case "..":
			return "", false, false
		case "", ".":
			clean = false
		}
		last = seg
	}
	if clean {
		return body, false, true
	}
	dirForm = rest != "" && (last == "" || last == ".")
	var b strings.Builder
	for seg := range strings.SplitSeq(body, "/") {
		if seg == "" || seg == "." {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('/')
		}
		b.WriteString(seg)
	}
	if b.Len() == 0 {
		return ".", dirForm, true
	}
	return b.String(), dirForm, true
}
