package static

import "strings"

// cleanRel turns rest, the decoded path after a mapping prefix ("" or
// starting with '/'), into a slash-separated path relative to the
// mapping's directory: "." for the directory itself, never absolute,
// never with "." or ".." or empty segments. dirForm reports that rest
// named a directory explicitly (a trailing '/', "/." or "/..").
//
// Dot segments are removed as RFC 3986 (5.2.4) removes them, by the text,
// as nginx and uWSGI do: "/sub/../a.css" is "a.css". ok is false for a
// path that names nothing in the mapping: one whose ".." would climb above
// its directory, or holding a NUL byte (no file name can). Such a request
// goes on to the app, as any path without a file does. A backslash is an
// ordinary character in a Linux file name, so "..\.." is a name, looked
// up (and os.Root keeps every open inside the directory whatever the
// name). The caller decoded the path exactly once, so "%2e%2e" arrives
// here as "..", while "%252e%252e" arrives as the literal name "%2e%2e".
func cleanRel(rest string) (rel string, dirForm bool, ok bool) {
	if strings.IndexByte(rest, 0) >= 0 {
		return "", false, false
	}
	body := strings.TrimPrefix(rest, "/")
	clean := body != "" // body is "seg/seg..." with nothing to drop
	last := ""
	for seg := range strings.SplitSeq(body, "/") {
		switch seg {
		case "", ".", "..":
			clean = false
		}
		last = seg
	}
	if clean {
		return body, false, true
	}
	dirForm = rest != "" && (last == "" || last == "." || last == "..")
	var segs []string
	for seg := range strings.SplitSeq(body, "/") {
		switch seg {
		case "", ".":
		case "..":
			if len(segs) == 0 {
				return "", false, false // above the mapping's directory
			}
			segs = segs[:len(segs)-1]
		default:
			segs = append(segs, seg)
		}
	}
	if len(segs) == 0 {
		return ".", dirForm, true
	}
	return strings.Join(segs, "/"), dirForm, true
}
