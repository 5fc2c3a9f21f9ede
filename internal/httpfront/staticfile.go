package httpfront

import (
	"carafe/internal/httpsyntax"
	"errors"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"carafe/internal/uwsgi"
)

// serveStatic answers a GET or HEAD for a --static-map path without
// Python, and reports whether it did (a missing file falls through to the
// app, as in uWSGI).
func (c *conn) serveStatic(start time.Time) (served bool) {
	r := &c.req
	if c.s.opts.Static == nil || !c.s.opts.Static.Match(r.Path) {
		return false
	}
	req := c.staticRequest()
	if req == nil {
		return false
	}
	w := &staticWriter{c: c, hdr: make(http.Header)}
	if !c.s.opts.Static.Serve(w, req) {
		return false
	}
	w.finish()
	c.finished(start)
	return true
}

// staticRequest adapts the parsed request for net/http's ServeContent
// (Range, conditional requests); URL.Path is decoded exactly once. Over
// uwsgi the path is PATH_INFO, already decoded, the one the map was
// matched on and the gateway routed by (nginx after its rewrites), and
// the request's headers are the HTTP_* variables.
func (c *conn) staticRequest() *http.Request {
	r := &c.req
	var u *url.URL
	var h http.Header
	if c.s.opts.Protocol == UWSGI {
		u = &url.URL{Path: string(r.Path), RawQuery: string(r.Query)}
		h = uwsgiHeaders(&c.ureq)
	} else {
		// A fragment (which clients should not send) is no part of the
		// path, as the app's PATH_INFO has none (see the parser).
		target, _, _ := strings.Cut(string(r.Target), "#")
		var err error
		if u, err = url.ParseRequestURI(target); err != nil {
			return nil
		}
		h = make(http.Header, len(r.Headers))
		for _, f := range r.Headers {
			h.Add(string(f.Name), string(f.Value))
		}
	}
	return &http.Request{Method: string(r.Method), URL: u, Header: h,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: r.Minor, RequestURI: string(r.Target)}
}

// uwsgiHeaders turns a packet's HTTP_* variables back into the request
// headers they came from: HTTP_IF_NONE_MATCH is If-None-Match.
func uwsgiHeaders(ureq *uwsgi.Request) http.Header {
	h := make(http.Header)
	for _, v := range ureq.Vars {
		name, ok := strings.CutPrefix(string(v.Key), "HTTP_")
		if !ok || name == "" {
			continue
		}
		h.Add(strings.ReplaceAll(name, "_", "-"), string(v.Value))
	}
	return h
}

// staticWriter is the http.ResponseWriter ServeContent writes to. Its
// ReadFrom hands the file to the socket, which uses sendfile.
type staticWriter struct {
	c           *conn
	hdr         http.Header
	wroteHeader bool
	left        int64 // body bytes the Content-Length still allows; -1 none given
}

func (w *staticWriter) Header() http.Header { return w.hdr }

func (w *staticWriter) WriteHeader(code int) {
	if w.wroteHeader {
		return
	}
	w.wroteHeader = true
	c := w.c
	c.status = code
	c.headWritten = true
	b := append(c.scratch[:0], "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, ' ')
	b = append(b, http.StatusText(code)...)
	b = append(b, "\r\n"...)
	w.left = -1
	if cl := w.hdr.Get("Content-Length"); cl != "" {
		w.left, _ = strconv.ParseInt(cl, 10, 64)
	} else if code != 304 && code != 204 && !c.isHead {
		c.closeAfter = true // a body of unknown length ends at close
	}
	for k, vs := range w.hdr {
		for _, v := range vs {
			b = append(b, k...)
			b = append(b, ": "...)
			b = append(b, v...)
			b = append(b, "\r\n"...)
		}
	}
	// An app answering with X-Sendfile may have set its own (Werkzeug's
	// send_file sets Date): one of each, as in writeHead.
	_, hasDate := w.hdr["Date"]
	_, hasServer := w.hdr["Server"]
	b = appendOrigin(b, c.s.opts.Protocol, c.start, hasDate, hasServer)
	b = append(b, c.s.opts.AddHeaders...)
	if c.closeAfter || !c.req.KeepAlive || c.s.opts.Keepalive <= 0 || c.stopping() {
		c.closeAfter = true
		if c.s.opts.Protocol != UWSGI { // (see writeHead)
			b = append(b, "Connection: close\r\n"...)
		}
	} else if c.req.Minor == 0 {
		b = append(b, "Connection: keep-alive\r\n"...)
	}
	b = append(b, "\r\n"...)
	c.scratch = b
	c.headSize = int64(len(b))
	c.countHead(b)
	c.write(b)
}

func (w *staticWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	if w.c.isHead {
		return len(p), nil
	}
	w.c.write(p)
	w.c.written += int64(len(p))
	return len(p), w.c.writeErr
}

// ReadFrom sends r (the file, under an io.LimitedReader) straight to the
// socket: the kernel copies it (sendfile) without passing through Go.
func (w *staticWriter) ReadFrom(r io.Reader) (int64, error) {
	w.WriteHeader(http.StatusOK)
	c := w.c
	if c.isHead {
		return io.Copy(io.Discard, r)
	}
	c.flush()
	if c.writeErr != nil {
		return 0, c.writeErr
	}
	// sendfile looks through one LimitedReader only, and copyFile adds
	// its own: hand it the file itself.
	limit := int64(math.MaxInt64)
	lr, limited := r.(*io.LimitedReader)
	if limited {
		r, limit = lr.R, lr.N
	}
	n, err := c.copyFile(r, limit)
	if limited {
		lr.N -= n
	}
	c.written += n
	if err == io.EOF {
		err = nil // the file ended early: finish sees the short body
	}
	if err != nil {
		c.writeErr = err
	}
	return n, err
}

// filePiece is the most of a file copied to the socket under one write
// deadline when the copy cannot go on after a deadline (see resumable in
// copyFile). The deadline is re-armed for every piece, so --http-timeout
// bounds how long a client takes over a piece, and not the whole
// download: at the 60 s default a client must read about 2 KB/s (a slow
// mobile link still does).
const filePiece = 128 << 10

// sendfilePiece is the piece of a copy that goes on after a deadline while
// the client takes bytes (sendfile from a regular file): as much as one
// sendfile call of Go's sends. A 10 MiB file in 128 KiB pieces took 12%
// more CPU a request, and 8-20% fewer requests/s, than in 4 MiB ones
// (three alternating runs on this 2-core box).
const sendfilePiece = 4 << 20

// copyFile copies up to n bytes of src, a file, to the socket in pieces
// (sendfilePiece, or filePiece), re-arming the write deadline for each. Like io.CopyN it
// returns io.EOF when src ends first.
func (c *conn) copyFile(src io.Reader, n int64) (int64, error) {
	c.sentFile = true
	sink, turns := c.fileSink(src)
	// sendfile leaves a regular file's offset after what it sent, so a
	// piece the deadline cut short can go on from there.
	resumable := sink == io.Writer(c.nc) && isRegularFile(src)
	var start int64
	if resumable {
		start, _ = src.(*os.File).Seek(0, io.SeekCurrent)
	}
	piece := int64(filePiece)
	if resumable {
		piece = sendfilePiece
	}
	var written int64
	for written < n {
		c.writeDeadline(time.Now(), c.s.opts.IOTimeout)
		watched := turns && c.fileTurn()
		m, err := io.CopyN(sink, src, min(piece, n-written))
		written += m
		if watched {
			c.nc.SetWriteDeadline(c.wdl)
			if errors.Is(err, os.ErrDeadlineExceeded) {
				if m == 0 {
					c.startSpool() // the client takes nothing while its body waits (see spool.go)
				}
				continue
			}
		}
		if err == nil {
			c.sendQueued = -1 // see writeProgress
		}
		if resumable && errors.Is(err, os.ErrDeadlineExceeded) && sentAll(src, start+written) && c.progressed(int(m)) {
			continue // a slow client, but one that reads: the timeout bounds a stall (see writeProgress)
		}
		if err != nil {
			return written, err
		}
	}
	return written, nil
}

// sentAll reports whether src, a file copyFile sends, stands at at: all
// it read went out, as sendfile leaves it, so the copy can go on from
// there. Where the socket fell back to a copy through a buffer (a file
// system without sendfile), a deadline loses what the buffer held.
func sentAll(src io.Reader, at int64) bool {
	pos, err := src.(*os.File).Seek(0, io.SeekCurrent)
	return err == nil && pos == at
}

// fileSink is where src's bytes are copied: the socket itself, whose
// ReadFrom uses sendfile, or with NoSendfile the socket seen as a plain
// writer, so that io.Copy reads and writes through a buffer. turns says
// whether copyFile may watch the copy in turns (see fileTurn): only
// sendfile from a regular file, which leaves the file's offset after what
// it sent when a turn ends it. A copy through a buffer would lose what it
// had read and not yet written; while the body is unread it goes through
// connWriter instead, whose watched writes never give up a byte.
func (c *conn) fileSink(src io.Reader) (sink io.Writer, turns bool) {
	if c.s.opts.NoSendfile {
		return struct{ io.Writer }{connWriter{c}}, false
	}
	if !c.spoolable() {
		return c.nc, false
	}
	if _, ok := c.nc.(io.ReaderFrom); ok && isRegularFile(src) {
		return c.nc, true
	}
	return struct{ io.Writer }{connWriter{c}}, false
}

// isRegularFile reports whether r is an *os.File of a regular file, one
// that sendfile can send from.
func isRegularFile(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode().IsRegular()
}

func (w *staticWriter) finish() {
	w.WriteHeader(http.StatusOK)
	if w.left >= 0 && w.c.written < w.left && !w.c.isHead && w.c.status != 304 {
		w.c.closeAfter = true // short (a file that shrank): do not reuse the connection
	}
}

// takeRedirect checks the app's head for X-Sendfile or X-Accel-Redirect,
// honoured only when enabled (--x-sendfile-dir, --x-accel-redirect); the
// app's other headers (Content-Disposition, say) are kept for the file.
func (c *conn) takeRedirect() bool {
	o := &c.s.opts
	if o.XSendfile == nil && o.XAccel == nil {
		return false
	}
	var path string
	x := false
	for _, f := range c.head.Fields {
		switch {
		case o.XSendfile != nil && httpsyntax.EqualFold(f.Name, "x-sendfile"):
			path, x = string(f.Value), true
		case o.XAccel != nil && httpsyntax.EqualFold(f.Name, "x-accel-redirect"):
			path, x = string(f.Value), false
		}
	}
	if path == "" {
		return false
	}
	c.redirect, c.redirectX = path, x
	c.redirectHdr = make(http.Header, len(c.head.Fields))
	for _, f := range c.head.Fields {
		if httpsyntax.EqualFold(f.Name, "x-sendfile") || httpsyntax.EqualFold(f.Name, "x-accel-redirect") {
			continue
		}
		c.redirectHdr.Add(string(f.Name), string(f.Value))
	}
	return true
}

// serveRedirect answers with the file the app named, through the same
// safe resolution as --static-map: X-Sendfile paths must lie under a
// --x-sendfile-dir, X-Accel-Redirect URIs under an --x-accel-map or
// --static-map prefix.
func (c *conn) serveRedirect() {
	h := c.s.opts.XAccel
	if c.redirectX {
		h = c.s.opts.XSendfile
	}
	req, match := c.redirectRequest()
	w := &staticWriter{c: c, hdr: c.redirectHdr}
	if req == nil || !h.Match(match) || !h.ServeNamed(w, req) {
		c.s.opts.Log.Warn("httpfront: the app's X-Sendfile / X-Accel-Redirect names no servable file",
			"target", string(c.req.Target), "file", c.redirect)
		const body = "Not Found\n"
		// With its length the answer does not cost the connection.
		w.hdr = http.Header{"Content-Type": {"text/plain; charset=utf-8"}, "Content-Length": {strconv.Itoa(len(body))}}
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(body))
	}
	w.finish()
}

// redirectRequest is the request for the file the app named, with the
// client's headers (Range, If-None-Match), and the path to match the
// mappings on; nil for a value that names nothing. An X-Sendfile value
// is a file path, taken as it is. An X-Accel-Redirect value is a URI, as
// nginx reads it: percent-decoded once (libraries that target nginx
// encode it), its query dropped, and a bad escape refused.
func (c *conn) redirectRequest() (*http.Request, []byte) {
	u := &url.URL{Path: c.redirect}
	match := []byte(c.redirect)
	if !c.redirectX {
		var err error
		u, err = url.ParseRequestURI(c.redirect)
		if err != nil || !strings.HasPrefix(c.redirect, "/") {
			return nil, nil
		}
		u.RawQuery = ""
		match = []byte(u.EscapedPath())
	}
	req := c.staticRequest()
	if req == nil {
		req = &http.Request{Header: http.Header{}}
	}
	req.Method, req.URL = "GET", u
	if c.isHead {
		req.Method = "HEAD"
	}
	return req, match
}
