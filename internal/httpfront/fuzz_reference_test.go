package httpfront

import (
	"bufio"
	"bytes"
	"carafe/internal/httpsyntax"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"testing"
)

// FuzzReadRequestReserialise: a head that ReadRequest accepts, written
// back out as "METHOD TARGET HTTP/x.y", its kept fields and an empty line,
// must parse again to the same request (framing, host, keep-alive,
// fields): what carafe reads is what a proxy that forwards the fields it
// saw would send on.
func FuzzReadRequestReserialise(f *testing.F) {
	for _, tt := range parseTests {
		f.Add([]byte(tt.raw))
	}
	for _, raw := range corpusRaws() {
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var req Request
		if ReadRequest(bufio.NewReader(bytes.NewReader(data)), nil, &req) != nil {
			return
		}
		first := summarise(&req)
		var out bytes.Buffer
		fmt.Fprintf(&out, "%s %s HTTP/%d.%d\r\n", req.Method, req.Target, req.Major, req.Minor)
		for _, h := range req.Headers {
			fmt.Fprintf(&out, "%s: %s\r\n", h.Name, h.Value)
		}
		out.WriteString("\r\n")
		var again Request
		if err := ReadRequest(bufio.NewReader(bytes.NewReader(out.Bytes())), nil, &again); err != nil {
			t.Fatalf("re-serialised head refused: %v\noriginal: %q\nagain:    %q", err, data, out.Bytes())
		}
		if second := summarise(&again); second != first {
			t.Fatalf("re-serialised head parses differently:\n%s\n%s\noriginal: %q\nagain:    %q", first, second, data, out.Bytes())
		}
	})
}

func summarise(req *Request) string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%q %q %q %q %d.%d cl=%d ch=%v ka=%v e100=%v host=%q", req.Method, req.Target, req.Path,
		req.Query, req.Major, req.Minor, req.ContentLength, req.Chunked, req.KeepAlive, req.Expect100, req.Host)
	for _, h := range req.Headers {
		fmt.Fprintf(&b, " [%q: %q]", h.Name, h.Value)
	}
	return b.String()
}

// refChunked is a reference decoder of a chunked body, written from RFC
// 9112 §7.1 independently of ChunkedReader:
//
//	chunked-body = *chunk last-chunk trailer-section CRLF
//	chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
//	chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] )
//
// plus the trailing whitespace ChunkedReader tolerates. It returns the
// body, the bytes consumed, whether the body is complete and valid, and
// whether one of ChunkedReader's documented limits (line length, digits,
// trailer count/size, forbidden trailers) applies, in which case only
// "ChunkedReader accepts => reference accepts" is checked.
func refChunked(data []byte, maxLine int) (body []byte, used int, ok, limited bool) {
	pos := 0
	line := func() ([]byte, bool) {
		i := bytes.IndexByte(data[pos:], '\n')
		if i < 0 {
			return nil, false
		}
		l := data[pos : pos+i+1]
		if len(l) > maxLine {
			limited = true
		}
		pos += i + 1
		if len(l) < 2 || l[len(l)-2] != '\r' {
			return nil, false
		}
		return l[:len(l)-2], true
	}
	isWS := func(c byte) bool { return c == ' ' || c == '\t' }
	for {
		l, good := line()
		if !good {
			return nil, 0, false, limited
		}
		i := 0
		for i < len(l) {
			if _, h := unhexRef(l[i]); !h {
				break
			}
			i++
		}
		if i == 0 {
			return nil, 0, false, limited
		}
		digits := bytes.TrimLeft(l[:i], "0")
		if len(digits) > 15 {
			return nil, 0, false, true
		}
		size := int64(0)
		if len(digits) > 0 {
			size, _ = strconv.ParseInt(string(digits), 16, 64)
		}
		// extensions
		j := i
		for exts := 0; ; exts++ {
			k := j
			for k < len(l) && isWS(l[k]) {
				k++
			}
			if k == len(l) && (exts > 0 || k == j) {
				break // the end, or trailing whitespace after an extension
			}
			if k == len(l) {
				return nil, 0, false, limited
			}
			if l[k] != ';' {
				return nil, 0, false, limited
			}
			k++
			for k < len(l) && isWS(l[k]) {
				k++
			}
			n := 0
			for k+n < len(l) && httpsyntax.IsTchar(l[k+n]) {
				n++
			}
			if n == 0 {
				return nil, 0, false, limited
			}
			k += n
			m := k
			for m < len(l) && isWS(l[m]) {
				m++
			}
			if m < len(l) && l[m] == '=' {
				m++
				for m < len(l) && isWS(l[m]) {
					m++
				}
				if m < len(l) && l[m] == '"' {
					m++
					closed := false
					for m < len(l) {
						c := l[m]
						if c == '"' {
							m++
							closed = true
							break
						}
						if c == '\\' {
							if m+1 >= len(l) || !(c2ok(l[m+1])) {
								return nil, 0, false, limited
							}
							m += 2
							continue
						}
						if !qdtext(c) {
							return nil, 0, false, limited
						}
						m++
					}
					if !closed {
						return nil, 0, false, limited
					}
				} else {
					n := 0
					for m+n < len(l) && httpsyntax.IsTchar(l[m+n]) {
						n++
					}
					if n == 0 {
						return nil, 0, false, limited
					}
					m += n
				}
				k = m
			}
			j = k
		}
		if size == 0 {
			break
		}
		if int64(len(data)-pos) < size+2 {
			return nil, 0, false, limited
		}
		body = append(body, data[pos:pos+int(size)]...)
		pos += int(size)
		if data[pos] != '\r' || data[pos+1] != '\n' {
			return nil, 0, false, limited
		}
		pos += 2
	}
	// trailer-section = *( field-line CRLF ), then CRLF
	n, total := 0, 0
	for {
		start := pos
		l, good := line()
		if !good {
			return nil, 0, false, limited
		}
		total += pos - start
		if len(l) == 0 {
			break
		}
		n++
		if n > maxTrailers || total > max(maxHeadBytes, 2*maxLine) {
			limited = true
		}
		colon := bytes.IndexByte(l, ':')
		if colon <= 0 || isWS(l[0]) {
			return nil, 0, false, limited
		}
		name := l[:colon]
		if !httpsyntax.IsToken(name) {
			return nil, 0, false, limited
		}
		for _, c := range l[colon+1:] {
			if !httpsyntax.IsFieldVchar(c) {
				return nil, 0, false, limited
			}
		}
		if forbiddenTrailer(name) {
			limited = true
		}
	}
	return body, pos, true, limited
}

func unhexRef(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9', 'a' <= c && c <= 'f', 'A' <= c && c <= 'F':
		return c, true
	}
	return 0, false
}

// qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
func qdtext(c byte) bool {
	return c == '\t' || c == ' ' || c == 0x21 || (0x23 <= c && c <= 0x5b) || (0x5d <= c && c <= 0x7e) || c >= 0x80
}

// quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
func c2ok(c byte) bool { return c == '\t' || c == ' ' || (0x21 <= c && c <= 0x7e) || c >= 0x80 }

// FuzzChunkedReference compares ChunkedReader with refChunked.
func FuzzChunkedReference(f *testing.F) {
	for _, tt := range chunkedTests {
		f.Add([]byte(tt.raw))
	}
	f.Add([]byte("3;a=\"x y\"\r\nabc\r\n0\r\n\r\n"))
	f.Add([]byte("3 ; a = b ; c\r\nabc\r\n0\r\nX-T: v\r\n\r\nNEXT"))
	f.Fuzz(func(t *testing.T, data []byte) {
		const maxLine = 64
		r := bytes.NewReader(data)
		br := bufio.NewReader(r)
		cr := NewChunkedReader(br, maxLine)
		got, err := io.ReadAll(cr)
		used := len(data) - br.Buffered() - r.Len()
		want, wantUsed, ok, limited := refChunked(data, maxLine)
		if err == nil { // accepted
			if !ok {
				t.Fatalf("ChunkedReader accepted %q (body %q), the reference refuses it", data, got)
			}
			if !bytes.Equal(got, want) || used != wantUsed {
				t.Fatalf("%q: body %q used %d, reference %q used %d", data, got, used, want, wantUsed)
			}
			return
		}
		if ok && !limited {
			t.Fatalf("ChunkedReader refused %q (%v), the reference reads body %q", data, err, want)
		}
	})
}

// FuzzProxyTrust: every address the list names is trusted, as the peer
// address RemoteAddr would give for it.
func FuzzProxyTrust(f *testing.F) {
	for _, s := range []string{"127.0.0.1", "::1, 10.0.0.0/8", "*", "::ffff:10.0.0.5", "fe80::1%eth0", "10.1.2.3/8"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, list string) {
		pt, err := ParseProxyTrust(list)
		if err != nil {
			return
		}
		for _, item := range bytes.Split([]byte(list), []byte(",")) {
			it := string(bytes.TrimSpace(item))
			if it == "" || it == "*" || bytes.ContainsRune(item, '/') {
				continue
			}
			a, err := netip.ParseAddr(it)
			if err != nil {
				t.Fatalf("%q accepted, %q does not parse", list, it)
			}
			// What a peer at a looks like in RemoteAddr's host: an
			// IPv4-mapped one unmapped, a link-local one with its zone.
			peer := net.IP(a.AsSlice()).String()
			if a.Zone() != "" {
				peer += "%" + a.Zone()
			}
			if !pt.trusts(peer) {
				t.Fatalf("--forwarded-allow-ips %q: peer %s (%s) not trusted", list, peer, it)
			}
		}
	})
}
