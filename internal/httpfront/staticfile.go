package httpfront

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// serveStatic answers a GET or HEAD for a --static-map path without
// Python, and reports whether it did (a missing file falls through to the
// app, as in uWSGI).
func (c *conn) serveStatic(start time.Time) (served bool) {
	r := &c.req
	if c.s.opts.Static == nil || !c.s.opts.Static.Match(r.Path) {
		return false
	}
	req := c.staticRequest(r.Target)
	if req == nil {
		return false
	}
	w := &staticWriter{c: c, hdr: make(http.Header)}
	if !c.s.opts.Static.Serve(w, req) {
		return false
	}
	w.finish()
	c.logAccess(start)
	return true
}

// staticRequest adapts the parsed request for net/http's ServeContent
// (Range, conditional requests); URL.Path is decoded exactly once.
func (c *conn) staticRequest(target []byte) *http.Request {
	u, err := url.ParseRequestURI(string(target))
	if err != nil {
		return nil
	}
	h := make(http.Header, len(c.req.Headers))
	for _, f := range c.req.Headers {
		h.Add(string(f.Name), string(f.Value))
	}
	return &http.Request{Method: string(c.req.Method), URL: u, Header: h,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: c.req.Minor, RequestURI: string(target)}
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
	b = appendDate(b, c.start)
	b = append(b, "Server: carafe\r\n"...)
	b = append(b, c.s.opts.AddHeaders...)
	if c.closeAfter || !c.req.KeepAlive || c.s.opts.Keepalive <= 0 {
		c.closeAfter = true
		b = append(b, "Connection: close\r\n"...)
	} else if c.req.Minor == 0 {
		b = append(b, "Connection: keep-alive\r\n"...)
	}
	b = append(b, "\r\n"...)
	c.scratch = b
	c.headSize = int64(len(b))
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
	c.writeDeadline(time.Now(), c.s.opts.IOTimeout)
	n, err := io.Copy(c.fileSink(), r)
	c.written += n
	if err != nil {
		c.writeErr = err
	}
	return n, err
}

// fileSink is where a file's bytes are copied: the socket itself, whose
// ReadFrom uses sendfile, or with NoSendfile the socket seen as a plain
// writer, so that io.Copy reads and writes through a buffer.
func (c *conn) fileSink() io.Writer {
	if c.s.opts.NoSendfile {
		return struct{ io.Writer }{c.nc}
	}
	return c.nc
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
	if o.XSendfile == nil && !(o.XAccelRedirect && o.Static != nil) {
		return false
	}
	var path string
	x := false
	for _, f := range c.head.Fields {
		switch {
		case o.XSendfile != nil && equalFold(f.Name, "x-sendfile"):
			path, x = string(f.Value), true
		case o.XAccelRedirect && o.Static != nil && equalFold(f.Name, "x-accel-redirect"):
			path = string(f.Value)
		}
	}
	if path == "" {
		return false
	}
	c.redirect, c.redirectX = path, x
	c.redirectHdr = make(http.Header, len(c.head.Fields))
	for _, f := range c.head.Fields {
		if equalFold(f.Name, "x-sendfile") || equalFold(f.Name, "x-accel-redirect") {
			continue
		}
		c.redirectHdr.Add(string(f.Name), string(f.Value))
	}
	return true
}

// serveRedirect answers with the file the app named, through the same
// safe resolution as --static-map: X-Sendfile paths must lie under a
// --x-sendfile-dir, X-Accel-Redirect URIs under a --static-map prefix.
func (c *conn) serveRedirect() {
	h := c.s.opts.Static
	if c.redirectX {
		h = c.s.opts.XSendfile
	}
	u := &url.URL{Path: c.redirect}
	req := c.staticRequest(c.req.Target)
	if req == nil {
		req = &http.Request{Header: http.Header{}}
	}
	req.Method, req.URL = "GET", u
	if c.isHead {
		req.Method = "HEAD"
	}
	w := &staticWriter{c: c, hdr: c.redirectHdr}
	if !h.Match([]byte(c.redirect)) || !h.Serve(w, req) {
		c.s.opts.Log.Warn("httpfront: the app's X-Sendfile / X-Accel-Redirect names no servable file",
			"target", string(c.req.Target), "file", c.redirect)
		w.hdr = http.Header{}
		http.Error(w, "Not Found", http.StatusNotFound)
	}
	w.finish()
}
