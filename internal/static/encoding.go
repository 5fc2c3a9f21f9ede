package static

import (
	"net/textproto"
	"strings"
)

// coding is a content coding with a precompressed sibling file.
type coding struct {
	name   string // the Content-Encoding token
	ext    string // the sibling's suffix
	suffix string // appended to the ETag so each variant validates alone
}

// codings are in the server's order of preference, used to break ties
// between equal q-values: brotli files are smaller.
var codings = [...]coding{
	{name: "br", ext: ".br", suffix: "-br"},
	{name: "gzip", ext: ".gz", suffix: "-gz"},
}

// acceptQ returns, for each of codings, the q-value (in thousandths) that
// the Accept-Encoding field values give it. A coding the header does not
// mention, directly or through "*", gets 0: with no Accept-Encoding at
// all the identity file is sent, as nginx's gzip_static does, although
// RFC 9110 would allow any coding. An element with a malformed q-value is
// ignored, so a garbled header never earns a compressed response.
func acceptQ(values []string) (q [len(codings)]int) {
	var explicit [len(codings)]bool
	star := 0
	for _, v := range values {
		for elem := range strings.SplitSeq(v, ",") {
			name, params, _ := strings.Cut(elem, ";")
			name = textproto.TrimString(name)
			if name == "" {
				continue
			}
			qv, ok := parseQ(params)
			if !ok {
				continue
			}
			if name == "*" {
				star = qv
				continue
			}
			if strings.EqualFold(name, "x-gzip") {
				name = "gzip"
			}
			for i := range codings {
				if strings.EqualFold(name, codings[i].name) {
					q[i], explicit[i] = qv, true
				}
			}
		}
	}
	for i := range q {
		if !explicit[i] {
			q[i] = star
		}
	}
	return q
}

// parseQ finds the q parameter among params (";q=0.5;x=y" without the
// leading name) and returns it in thousandths; absent means 1000.
func parseQ(params string) (int, bool) {
	q := 1000
	for p := range strings.SplitSeq(params, ";") {
		k, v, _ := strings.Cut(p, "=")
		k = textproto.TrimString(k)
		if k != "q" && k != "Q" {
			continue
		}
		n, ok := parseQValue(textproto.TrimString(v))
		if !ok {
			return 0, false
		}
		q = n
	}
	return q, true
}

// parseQValue parses RFC 9110's qvalue: "0" or "1", optionally followed
// by '.' and up to three digits, no more than 1.
func parseQValue(s string) (int, bool) {
	if s == "" || (s[0] != '0' && s[0] != '1') {
		return 0, false
	}
	n := int(s[0]-'0') * 1000
	if len(s) == 1 {
		return n, true
	}
	if s[1] != '.' || len(s) > 5 {
		return 0, false
	}
	scale := 100
	for _, c := range []byte(s[2:]) {
		if c < '0' || c > '9' {
			return 0, false
		}
		n += int(c-'0') * scale
		scale /= 10
	}
	if n > 1000 {
		return 0, false
	}
	return n, true
}

// preference returns the indexes of codings with q > 0, best first; ties
// keep the server's order.
func preference(q [len(codings)]int) (order [len(codings)]int, n int) {
	for i := range codings {
		if q[i] <= 0 {
			continue
		}
		j := n
		for j > 0 && q[order[j-1]] < q[i] {
			order[j] = order[j-1]
			j--
		}
		order[j] = i
		n++
	}
	return order, n
}
