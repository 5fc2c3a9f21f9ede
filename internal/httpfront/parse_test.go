package httpfront

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// parseTests drive TestReadRequest and seed FuzzReadRequest. status 0
// means the head must be accepted; check then looks at the result.
var parseTests = []struct {
	name   string
	raw    string
	lim    *Limits
	status int
	check  func(*Request) error
}{
	// Request line.
	{name: "simple GET", raw: "GET /a/b?x=1&y=2 HTTP/1.1\r\nHost: h\r\n\r\n",
		check: want("GET", "/a/b?x=1&y=2", "/a/b", "x=1&y=2", 1, 1)},
	{name: "HTTP/1.0", raw: "GET / HTTP/1.0\r\n\r\n", check: want("GET", "/", "/", "", 1, 0)},
	{name: "fragment dropped", raw: "GET /p?q=1#frag HTTP/1.1\r\nHost: h\r\n\r\n",
		check: want("GET", "/p?q=1#frag", "/p", "q=1", 1, 1)},
	{name: "fragment before query", raw: "GET /p#f?x HTTP/1.1\r\nHost: h\r\n\r\n",
		check: want("GET", "/p#f?x", "/p", "", 1, 1)},
	{name: "slashes kept", raw: "GET //a//b HTTP/1.1\r\nHost: h\r\n\r\n",
		check: want("GET", "//a//b", "//a//b", "", 1, 1)},
	// A dot segment ("%2e" for a dot, or once "%2F" is decoded) is
	// refused: each proxy in front resolves it its own way.
	{name: "dot-dot segment", raw: "GET /a/../b HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "dot segment", raw: "GET /a/./b HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "dot-dot at the end", raw: "GET /a/.. HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "encoded dot-dot", raw: "GET /a/%2e%2E/b HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "half-encoded dot-dot", raw: "GET /a/.%2e HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "dot-dot behind an encoded slash", raw: "GET /a%2F..%2fb HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "dot-dot in an absolute target", raw: "GET http://h/a/../b HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "dots in names", raw: "GET /.well-known/a..b/.../..c/%2e%2e%2e?x=/../ HTTP/1.1\r\nHost: h\r\n\r\n",
		check: want("GET", "/.well-known/a..b/.../..c/%2e%2e%2e?x=/../", "/.well-known/a..b/.../..c/%2e%2e%2e", "x=/../", 1, 1)},
	{name: "obs-text in target", raw: "GET /\xc3\xa0 HTTP/1.1\r\nHost: h\r\n\r\n",
		check: want("GET", "/\xc3\xa0", "/\xc3\xa0", "", 1, 1)},
	{name: "leading CRLFs skipped", raw: "\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",
		check: want("GET", "/", "/", "", 1, 1)},
	{name: "too many leading CRLFs", raw: strings.Repeat("\r\n", maxEmptyLines+1) + "GET / HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "bare LF leading line", raw: "\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "long method", raw: "VERSION-CONTROL / HTTP/1.1\r\nHost: h\r\n\r\n", check: want("VERSION-CONTROL", "/", "/", "", 1, 1)},
	{name: "method with dash", raw: "-BLARGH / HTTP/1.1\r\nHost: h\r\n\r\n", check: want("-BLARGH", "/", "/", "", 1, 1)},
	{name: "lowercase method", raw: "get / HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "method with hash", raw: "GE#T / HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "method too short", raw: "GE / HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "method too long", raw: strings.Repeat("A", 21) + " / HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "method not a token", raw: "GE:T / HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "method with NUL", raw: "GET\x00 / HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "method non-ASCII", raw: "GET\xc3\x9f / HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "empty method", raw: " / HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "missing target", raw: "GET HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "empty target", raw: "GET  HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "space in target", raw: "GET /a b HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "tab separator", raw: "GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "control byte in target", raw: "GET /a\x01 HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "DEL in target", raw: "GET /a\x7f HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "bare CR in request line", raw: "GET /a\rb HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "bare LF request line", raw: "GET / HTTP/1.1\nHost: h\r\n\r\n", status: 400},
	{name: "bare LF separators", raw: "GET\n/\nHTTP/1.1\r\n\r\n", status: 400},
	{name: "relative target", raw: "GET foo/bar HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "asterisk with OPTIONS", raw: "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", check: want("OPTIONS", "*", "*", "", 1, 1)},
	{name: "asterisk with GET", raw: "GET * HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "authority with CONNECT", raw: "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
		check: want("CONNECT", "example.com:443", "", "", 1, 1)},
	{name: "IPv6 authority with CONNECT", raw: "CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\n\r\n",
		check: want("CONNECT", "[::1]:443", "", "", 1, 1)},
	{name: "CONNECT without port", raw: "CONNECT example.com HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "CONNECT with empty port", raw: "CONNECT example.com: HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "CONNECT with origin-form", raw: "CONNECT / HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "CONNECT with userinfo", raw: "CONNECT u@example.com:443 HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "authority with GET", raw: "GET example.com:443 HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "absolute-form", raw: "GET http://example.com/foo?q=1#f HTTP/1.1\r\nHost: other\r\n\r\n",
		check: all(want("GET", "http://example.com/foo?q=1#f", "/foo", "q=1", 1, 1), host("example.com"))},
	{name: "absolute-form empty path", raw: "GET http://example.com?q HTTP/1.1\r\nHost: h\r\n\r\n",
		check: all(want("GET", "http://example.com?q", "/", "q", 1, 1), host("example.com"))},
	{name: "absolute-form userinfo and port", raw: "GET https://u:p@example.com:8080/x HTTP/1.1\r\nHost: h\r\n\r\n",
		check: all(want("GET", "https://u:p@example.com:8080/x", "/x", "", 1, 1), host("example.com:8080"))},
	{name: "absolute-form IPv6", raw: "GET http://[::1]:8080/foo HTTP/1.1\r\nHost: h\r\n\r\n", check: host("[::1]:8080")},
	{name: "absolute-form HTTP/1.0 no Host", raw: "GET http://example.com/ HTTP/1.0\r\n\r\n", check: host("example.com")},
	{name: "absolute-form bad authority", raw: "PUT s://]ufd/: HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "absolute-form empty host", raw: "GET http:///x HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "absolute-form bad port", raw: "GET http://h:8x/ HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "absolute-form no authority", raw: "GET urn:x HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "version FTP", raw: "GET / FTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "version lowercase", raw: "GET / http/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "version three digits", raw: "GET / HTTP/111\r\nHost: h\r\n\r\n", status: 400},
	{name: "version two-digit minor", raw: "GET / HTTP/0.99\r\n\r\n", status: 400},
	{name: "version long", raw: "GET / HTTP/1111111111111111111.1\r\n\r\n", status: 400},
	{name: "version missing", raw: "GET / \r\n\r\n", status: 400},
	{name: "HTTP/2.0", raw: "GET / HTTP/2.0\r\n\r\n", status: 505},
	{name: "HTTP/0.9", raw: "GET / HTTP/0.9\r\n\r\n", status: 505},
	{name: "HTTP/1.2 read as HTTP/1.1", raw: "GET / HTTP/1.2\r\nHost: h\r\n\r\n", check: want("GET", "/", "/", "", 1, 1)},
	{name: "HTTP/1.9 needs Host as HTTP/1.1 does", raw: "GET / HTTP/1.9\r\n\r\n", status: 400},

	// Header fields.
	{name: "headers in order", raw: "GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\nx-a:  2 \t\r\nEmpty:\r\n\r\n",
		check: headers("Host", "h", "X-A", "1", "x-a", "2", "Empty", "")},
	{name: "obs-text value", raw: "GET / HTTP/1.1\r\nHost: h\r\nX: caf\xc3\xa9\r\n\r\n", check: headers("Host", "h", "X", "caf\xc3\xa9")},
	{name: "tab inside value", raw: "GET / HTTP/1.1\r\nHost: h\r\nX: a\tb\r\n\r\n", check: headers("Host", "h", "X", "a\tb")},
	{name: "special chars in name", raw: "GET / HTTP/1.1\r\nHost: h\r\nX.Custom|Pipe: ok\r\n\r\n", check: headers("Host", "h", "X.Custom|Pipe", "ok")},
	{name: "underscore dropped", raw: "GET / HTTP/1.0\r\nTransfer_Encoding: x\r\nContent-Length: 0\r\nContent_Length: -1\r\n\r\n",
		check: all(headers("Content-Length", "0"), contentLength(0))},
	{name: "obs-fold", raw: "GET / HTTP/1.1\r\nHost: h\r\nLong: one\r\n two\r\n\r\n", status: 400},
	{name: "obs-fold tab", raw: "GET / HTTP/1.1\r\nHost: h\r\nLong: one\r\n\ttwo\r\n\r\n", status: 400},
	{name: "leading whitespace first field", raw: "GET / HTTP/1.1\r\n Host: h\r\n\r\n", status: 400},
	{name: "space before colon", raw: "GET / HTTP/1.1\r\nHost: h\r\nContent-Length : 3\r\n\r\nxyz", status: 400},
	{name: "tab before colon", raw: "GET / HTTP/1.1\r\nHost\t: h\r\n\r\n", status: 400},
	{name: "empty name", raw: "GET / HTTP/1.1\r\nHost: h\r\n: v\r\n\r\n", status: 400},
	{name: "no colon", raw: "GET / HTTP/1.1\r\nHost: h\r\nnocolon\r\n\r\n", status: 400},
	{name: "NUL in name", raw: "GET / HTTP/1.1\r\nba\x00z: bar\r\n\r\n", status: 400},
	{name: "non-ASCII name", raw: "GET / HTTP/1.1\r\nHost: h\r\nContent-Length\xc3\x9f: 3\r\n\r\n", status: 400},
	{name: "NUL in value", raw: "GET / HTTP/1.1\r\nHost: h\r\nX: a\x00b\r\n\r\n", status: 400},
	{name: "BEL in value", raw: "GET / HTTP/1.1\r\nHost: h\r\nX: a\x07b\r\n\r\n", status: 400},
	{name: "DEL in value", raw: "GET / HTTP/1.1\r\nHost: h\r\nX: a\x7fb\r\n\r\n", status: 400},
	{name: "bare CR in value", raw: "GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n", status: 400},
	{name: "bare LF in value", raw: "GET / HTTP/1.1\r\nHost: x\r\nNewline: a\nContent-Length: 26\r\n\r\n", status: 400},
	{name: "bare LF end of head", raw: "GET / HTTP/1.1\r\nHost: x\r\n\n", status: 400},

	// Host.
	{name: "HTTP/1.1 without Host", raw: "GET / HTTP/1.1\r\n\r\n", status: 400},
	{name: "HTTP/1.0 without Host", raw: "GET / HTTP/1.0\r\n\r\n", check: host("")},
	{name: "Host with a port", raw: "GET / HTTP/1.1\r\nHost: ex.com:81\r\n\r\n", check: host("ex.com:81")},
	{name: "Host IPv6 literal", raw: "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", check: host("[::1]:8080")},
	{name: "Host with a path", raw: "GET / HTTP/1.1\r\nHost: evil.com/x?y@z:abc\r\n\r\n", status: 400},
	{name: "Host with userinfo", raw: "GET / HTTP/1.1\r\nHost: u@ex.com\r\n\r\n", status: 400},
	{name: "Host with a space", raw: "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", status: 400},
	{name: "Host with a bad port", raw: "GET / HTTP/1.1\r\nHost: ex.com:8x\r\n\r\n", status: 400},
	{name: "duplicate Host", raw: "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", status: 400},
	{name: "duplicate Host same value", raw: "GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", status: 400},
	{name: "empty Host", raw: "GET / HTTP/1.1\r\nHost:\r\n\r\n", check: host("")},
	{name: "duplicate Content-Type", raw: "GET / HTTP/1.1\r\nHost: h\r\nContent-Type: a\r\nContent-Type: b\r\n\r\n", status: 400},

	// Content-Length.
	{name: "content-length", raw: "POST / HTTP/1.1\r\nHost: h\r\ncontent-LENGTH: 42\r\n\r\n", check: all(contentLength(42), notChunked)},
	{name: "no content-length", raw: "POST / HTTP/1.1\r\nHost: h\r\n\r\n", check: all(contentLength(-1), notChunked)},
	{name: "content-length leading zeros", raw: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 007\r\n\r\n", check: contentLength(7)},
	{name: "content-length max int64", raw: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 9223372036854775807\r\n\r\n", check: contentLength(1<<63 - 1)},
	{name: "content-length overflow", raw: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 9223372036854775808\r\n\r\n", status: 400},
	{name: "content-length negative", raw: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", status: 400},
	{name: "content-length minus zero", raw: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -0\r\n\r\n", status: 400},
	{name: "content-length plus", raw: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +1\r\n\r\n", status: 400},
	{name: "content-length underscore", raw: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0_1\r\n\r\n", status: 400},
	{name: "content-length inner space", raw: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3 1\r\n\r\n", status: 400},
	{name: "content-length hex", raw: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x10\r\n\r\n", status: 400},
	{name: "content-length empty", raw: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: \r\n\r\n", status: 400},
	{name: "content-length list", raw: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\n\r\n", status: 400},
	{name: "content-length twice equal", raw: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", status: 400},
	{name: "content-length twice differ", raw: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 2\r\n\r\n", status: 400},

	// Transfer-Encoding.
	{name: "chunked", raw: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", check: all(contentLength(-1), chunked)},
	{name: "chunked any case and OWS", raw: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: \t CHUNKED \r\n\r\n", check: chunked},
	{name: "CL and TE", raw: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", status: 400},
	{name: "TE and CL", raw: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", status: 400},
	{name: "TE on HTTP/1.0", raw: "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", status: 400},
	{name: "TE gzip only", raw: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", status: 501},
	{name: "TE identity only", raw: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: identity\r\n\r\n", status: 501},
	{name: "TE chunked then gzip", raw: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", status: 400},
	{name: "TE chunked then gzip fields", raw: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n", status: 400},
	{name: "TE chunked twice", raw: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", status: 400},
	{name: "TE chunked twice fields", raw: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", status: 400},
	{name: "TE identity chunked identity chunked", raw: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: identity, chunked, identity, chunked\r\n\r\n", status: 400},
	{name: "TE gzip chunked", raw: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", status: 501},
	{name: "TE gzip chunked fields", raw: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n", status: 501},
	{name: "TE identity chunked", raw: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: identity, chunked\r\n\r\n", status: 501},
	{name: "TE xchunked", raw: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: xchunked\r\n\r\n", status: 501},
	{name: "TE chunked with param", raw: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked;\r\n\r\n", status: 400},
	{name: "TE chunked inner space", raw: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chun ked\r\n\r\n", status: 400},
	{name: "TE empty element", raw: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: , chunked\r\n\r\n", status: 400},
	{name: "TE empty", raw: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\r\n\r\n", status: 400},
	{name: "TE quoted", raw: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: \"chunked\"\r\n\r\n", status: 400},
	{name: "TE vertical tab", raw: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: \vchunked\r\n\r\n", status: 400},
	{name: "TE underscore name ignored", raw: "POST / HTTP/1.1\r\nHost: h\r\nTransfer_Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n", check: chunked},

	// Connection and Expect.
	{name: "keep-alive default 1.1", raw: "GET / HTTP/1.1\r\nHost: h\r\n\r\n", check: keepAlive(true)},
	{name: "close 1.1", raw: "GET / HTTP/1.1\r\nHost: h\r\nConnection: Close\r\n\r\n", check: keepAlive(false)},
	{name: "close in list", raw: "GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade , CLOSE\r\n\r\n", check: keepAlive(false)},
	{name: "close in second field", raw: "GET / HTTP/1.1\r\nHost: h\r\nConnection: te\r\nConnection: close\r\n\r\n", check: keepAlive(false)},
	{name: "not quite close", raw: "GET / HTTP/1.1\r\nHost: h\r\nConnection: closed\r\n\r\n", check: keepAlive(true)},
	{name: "1.0 default close", raw: "GET / HTTP/1.0\r\n\r\n", check: keepAlive(false)},
	{name: "1.0 keep-alive", raw: "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", check: keepAlive(true)},
	{name: "1.0 keep-alive and close", raw: "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", check: keepAlive(false)},
	{name: "expect 100-continue", raw: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nExpect: 100-Continue\r\n\r\n", check: expect100(true)},
	{name: "expect 100-continue on 1.0 ignored", raw: "POST / HTTP/1.0\r\nContent-Length: 1\r\nExpect: 100-continue\r\n\r\n", check: expect100(false)},
	{name: "no expect", raw: "POST / HTTP/1.1\r\nHost: h\r\n\r\n", check: expect100(false)},
	{name: "expect other", raw: "POST / HTTP/1.1\r\nHost: h\r\nExpect: 200-ok\r\n\r\n", status: 417},

	// Limits.
	{name: "request line at limit", raw: "GET /" + strings.Repeat("a", 16-len("GET / HTTP/1.1")) + " HTTP/1.1\r\nHost: h\r\n\r\n",
		lim: &Limits{MaxRequestLine: 16}},
	{name: "request line over limit", raw: "GET /" + strings.Repeat("a", 17-len("GET / HTTP/1.1")) + " HTTP/1.1\r\nHost: h\r\n\r\n",
		lim: &Limits{MaxRequestLine: 16}, status: 414},
	{name: "request line over default", raw: "GET /" + strings.Repeat("a", 8191) + " HTTP/1.1\r\nHost: h\r\n\r\n", status: 414},
	{name: "field at limit", raw: "GET / HTTP/1.1\r\nHost: hhhh\r\n\r\n", lim: &Limits{MaxFieldSize: 12}},
	{name: "field over limit", raw: "GET / HTTP/1.1\r\nHost: hhhhh\r\n\r\n", lim: &Limits{MaxFieldSize: 12}, status: 431},
	{name: "field over default", raw: "GET / HTTP/1.1\r\nHost: h\r\nX: " + strings.Repeat("v", 8190-5+1) + "\r\n\r\n", status: 431},
	{name: "field at default", raw: "GET / HTTP/1.1\r\nHost: h\r\nX: " + strings.Repeat("v", 8190-5) + "\r\n\r\n"},
	{name: "fields at limit", raw: "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\n\r\n", lim: &Limits{MaxHeaders: 2}},
	{name: "fields over limit", raw: "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n", lim: &Limits{MaxHeaders: 2}, status: 431},
	{name: "dropped fields count", raw: "GET / HTTP/1.1\r\nHost: h\r\nA_: 1\r\nB_: 2\r\n\r\n", lim: &Limits{MaxHeaders: 2}, status: 431},
	{name: "fields over default", raw: "GET / HTTP/1.1\r\nHost: h\r\n" + strings.Repeat("A: 1\r\n", 100) + "\r\n", status: 431},
}

func TestReadRequest(t *testing.T) {
	for _, tt := range parseTests {
		t.Run(tt.name, func(t *testing.T) {
			for _, mode := range []string{"whole", "bytewise"} {
				var r io.Reader = strings.NewReader(tt.raw)
				if mode == "bytewise" {
					r = iotest.OneByteReader(r)
				}
				var req Request
				err := ReadRequest(bufio.NewReaderSize(r, 64), tt.lim, &req)
				if got := statusOf(err); got != tt.status {
					t.Fatalf("%s: status %d (err %v), want %d", mode, got, err, tt.status)
				}
				if err == nil && tt.check != nil {
					if err := tt.check(&req); err != nil {
						t.Fatalf("%s: %v", mode, err)
					}
				}
			}
		})
	}
}

// statusOf maps a ReadRequest result to a status: 0 for success, -1 for a
// non-*Error failure.
func statusOf(err error) int {
	if err == nil {
		return 0
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return -1
}

func want(method, target, path, query string, major, minor int) func(*Request) error {
	return func(r *Request) error {
		if string(r.Method) != method || string(r.Target) != target || string(r.Path) != path ||
			string(r.Query) != query || r.Major != major || r.Minor != minor {
			return fmt.Errorf("got %q %q path %q query %q HTTP/%d.%d, want %q %q path %q query %q HTTP/%d.%d",
				r.Method, r.Target, r.Path, r.Query, r.Major, r.Minor, method, target, path, query, major, minor)
		}
		return nil
	}
}

func all(checks ...func(*Request) error) func(*Request) error {
	return func(r *Request) error {
		for _, c := range checks {
			if err := c(r); err != nil {
				return err
			}
		}
		return nil
	}
}

func host(h string) func(*Request) error {
	return func(r *Request) error {
		if string(r.Host) != h || (h == "" && r.Host != nil && len(r.Host) != 0) {
			return fmt.Errorf("Host %q, want %q", r.Host, h)
		}
		return nil
	}
}

func headers(kv ...string) func(*Request) error {
	return func(r *Request) error {
		var got []string
		for _, h := range r.Headers {
			got = append(got, string(h.Name), string(h.Value))
		}
		if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", kv) {
			return fmt.Errorf("headers %q, want %q", got, kv)
		}
		return nil
	}
}

func contentLength(n int64) func(*Request) error {
	return func(r *Request) error {
		if r.ContentLength != n {
			return fmt.Errorf("ContentLength %d, want %d", r.ContentLength, n)
		}
		return nil
	}
}

func chunked(r *Request) error {
	if !r.Chunked || r.ContentLength != -1 {
		return fmt.Errorf("Chunked %v ContentLength %d, want chunked", r.Chunked, r.ContentLength)
	}
	return nil
}

func notChunked(r *Request) error {
	if r.Chunked {
		return errors.New("Chunked set")
	}
	return nil
}

func keepAlive(want bool) func(*Request) error {
	return func(r *Request) error {
		if r.KeepAlive != want {
			return fmt.Errorf("KeepAlive %v, want %v", r.KeepAlive, want)
		}
		return nil
	}
}

func expect100(want bool) func(*Request) error {
	return func(r *Request) error {
		if r.Expect100 != want {
			return fmt.Errorf("Expect100 %v, want %v", r.Expect100, want)
		}
		return nil
	}
}

func TestReadRequestEOF(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want error
	}{
		{"empty", "", io.EOF},
		{"only CRLFs", "\r\n\r\n", io.EOF},
		{"inside request line", "GET / HT", ErrTruncated},
		{"inside headers", "GET /foo/bar HTTP/1.0\r\nbaz", ErrTruncated},
		{"before final CRLF", "GET / HTTP/1.1\r\nHost: h\r\n", ErrTruncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var req Request
			err := ReadRequest(bufio.NewReader(strings.NewReader(tt.raw)), nil, &req)
			if err != tt.want {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
		})
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string { return "i/o timeout" }
func (timeoutErr) Timeout() bool { return true }

func TestReadRequestWrapsReadError(t *testing.T) {
	r := io.MultiReader(strings.NewReader("GET / HTTP/1.1\r\n"), iotest.ErrReader(timeoutErr{}))
	var req Request
	err := ReadRequest(bufio.NewReader(r), nil, &req)
	if !errors.Is(err, timeoutErr{}) || !strings.HasPrefix(err.Error(), "httpfront: ") {
		t.Fatalf("err %v, want a wrapped timeoutErr", err)
	}
}

func TestErrorString(t *testing.T) {
	if got := errDupCL.Error(); got != "httpfront: more than one Content-Length" {
		t.Fatalf("Error() = %q", got)
	}
}

func TestPipelinedReuse(t *testing.T) {
	raw := "GET /first?a HTTP/1.1\r\nHost: one\r\nX: 1\r\n\r\n" +
		"POST /second HTTP/1.1\r\nHost: two\r\nContent-Length: 3\r\n\r\nabc" +
		"GET /third HTTP/1.1\r\nHost: three\r\nConnection: close\r\n\r\n"
	br := bufio.NewReaderSize(strings.NewReader(raw), 16)
	var req Request
	for i, w := range []struct {
		path, host string
		cl         int64
		keep       bool
	}{{"/first", "one", -1, true}, {"/second", "two", 3, true}, {"/third", "three", -1, false}} {
		if err := ReadRequest(br, nil, &req); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if string(req.Path) != w.path || string(req.Host) != w.host || req.ContentLength != w.cl || req.KeepAlive != w.keep {
			t.Fatalf("request %d: path %q host %q cl %d keep %v", i, req.Path, req.Host, req.ContentLength, req.KeepAlive)
		}
		if req.ContentLength > 0 {
			body := make([]byte, req.ContentLength)
			if _, err := io.ReadFull(br, body); err != nil || string(body) != "abc" {
				t.Fatalf("body %q, %v", body, err)
			}
		}
	}
	if err := ReadRequest(br, nil, &req); err != io.EOF {
		t.Fatalf("after last request: %v, want io.EOF", err)
	}
}

const benchRequest = "GET /api/v1/items?id=42&sort=asc HTTP/1.1\r\n" +
	"Host: example.com\r\n" +
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0\r\n" +
	"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n" +
	"Accept-Language: en-US,en;q=0.5\r\n" +
	"Accept-Encoding: gzip, deflate, br\r\n" +
	"Connection: keep-alive\r\n" +
	"Cookie: session=0123456789abcdef; theme=dark\r\n" +
	"Cache-Control: max-age=0\r\n" +
	"\r\n"

// loopReader serves the same bytes forever without allocating.
type loopReader struct {
	data string
	off  int
}

func (l *loopReader) Read(p []byte) (int, error) {
	n := copy(p, l.data[l.off:])
	l.off = (l.off + n) % len(l.data)
	return n, nil
}

func TestReadRequestZeroAllocs(t *testing.T) {
	br := bufio.NewReader(&loopReader{data: benchRequest})
	var req Request
	if err := ReadRequest(br, nil, &req); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(1000, func() {
		if err := ReadRequest(br, nil, &req); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per request, want 0", allocs)
	}
	if len(req.Headers) != 8 {
		t.Fatalf("%d headers, want 8", len(req.Headers))
	}
}

func BenchmarkReadRequest(b *testing.B) {
	br := bufio.NewReader(&loopReader{data: benchRequest})
	var req Request
	b.ReportAllocs()
	b.SetBytes(int64(len(benchRequest)))
	for b.Loop() {
		if err := ReadRequest(br, nil, &req); err != nil {
			b.Fatal(err)
		}
	}
}
