package static

import (
	"net/http"
	"strconv"
	"strings"
)

// withRange returns r with its Range header made fit for ServeContent,
// which answers a few valid requests wrongly, or r itself when nothing
// needs changing (the usual case: no Range at all).
func withRange(r *http.Request, size int64) *http.Request {
	v := r.Header.Get("Range")
	if v == "" {
		return r
	}
	fixed := fixRange(v, size)
	if fixed == v {
		return r
	}
	r2 := *r
	r2.Header = r.Header.Clone()
	if fixed == "" {
		r2.Header.Del("Range")
	} else {
		r2.Header.Set("Range", fixed)
	}
	return &r2
}

// maxRanges is the most ranges one request is answered with; more get the
// whole file, as past Apache's MaxRanges (200 there) and nginx's
// max_ranges. Each range is a part with its own head in the answer, which
// ServeContent bounds only in the parts' bytes (by the file's size): a
// request of 8 KB asking for a thousand single bytes had an answer of
// 160 KB. This bounds the answer's size, to the file's and a hundred
// parts' heads. No client splits a download into more; a video player
// asks for one range.
const maxRanges = 100

// fixRange rewrites a Range value for a body of size bytes; "" means the
// header is to be ignored (past maxRanges too). RFC 9110 §14.2 says to ignore a unit other
// than bytes (ServeContent answers 416). An empty body has no byte to
// select, and clients that add a Range to every request must get it
// whole (ServeContent sends a 206 "bytes 0--1/0" for "bytes=-1"). A
// suffix of zero bytes ("-0") selects nothing (§14.1.3); ServeContent
// turns it into an empty part "bytes 10-9/10". Such ranges are dropped,
// and when none is left the value becomes a range starting at the end,
// which ServeContent answers with the 416 and "Content-Range: bytes
// */size" this needs, after its If-Range and precondition checks.
func fixRange(v string, size int64) string {
	unit, set, ok := strings.Cut(v, "=")
	if !ok || !strings.EqualFold(strings.TrimSpace(unit), "bytes") || size == 0 {
		return ""
	}
	var kept []string
	dropped, ranges := false, 0
	for spec := range strings.SplitSeq(set, ",") {
		if strings.TrimSpace(spec) != "" { // empty elements are allowed, and no range
			ranges++
		}
		if emptySuffix(spec) {
			dropped = true
			continue
		}
		kept = append(kept, spec)
	}
	if ranges > maxRanges {
		return ""
	}
	switch {
	case !dropped:
		return "bytes=" + set
	case len(kept) == 0:
		return "bytes=" + strconv.FormatInt(size, 10) + "-"
	}
	return "bytes=" + strings.Join(kept, ",")
}

// emptySuffix reports whether spec is a suffix range of zero bytes.
func emptySuffix(spec string) bool {
	first, last, ok := strings.Cut(strings.TrimSpace(spec), "-")
	if !ok || first != "" {
		return false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(last), 10, 64)
	return err == nil && n == 0
}

// multipleRanges reports whether a Range value asks for more than one range.
func multipleRanges(v string) bool {
	_, set, ok := strings.Cut(v, "=")
	n := 0
	for spec := range strings.SplitSeq(set, ",") {
		if strings.TrimSpace(spec) != "" {
			n++
		}
	}
	return ok && n > 1
}
