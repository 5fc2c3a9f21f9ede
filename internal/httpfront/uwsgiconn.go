package httpfront

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"time"

	"carafe/internal/uwsgi"
	"carafe/internal/wsgi"
)

// Protocol selects what a Server's connections speak.
type Protocol int

const (
	// HTTP is HTTP/1.1 from clients or HTTP proxies.
	HTTP Protocol = iota
	// UWSGI is the uwsgi binary protocol from nginx's uwsgi_pass or
	// Apache's mod_proxy_uwsgi: one request per connection, the request
	// arriving as CGI variables, the response plain HTTP/1.x framed by
	// Content-Length or by closing (never chunked: nginx's uwsgi module
	// cannot de-chunk).
	UWSGI
)

// serveUWSGI serves the one request of a uwsgi connection. Like
// net/http/fcgi's child, it turns the gateway's variables into the same
// request state an HTTP request makes, so the response side is shared.
func (c *conn) serveUWSGI() {
	c.takeBufs() // the gateway sends its request at once
	c.readDeadline(c.start, c.s.opts.HeaderTimeout)
	ureq := &c.ureq
	if err := uwsgi.ReadRequest(c.br, c.s.opts.BufferSize, ureq); err != nil {
		c.rejectUWSGI(err)
		return
	}
	c.busy() // a uwsgi connection always closes after its request
	r := &c.req
	r.Method = varOr(ureq, "REQUEST_METHOD", "GET")
	r.Target = varOr(ureq, "REQUEST_URI", "")
	r.Path, _ = ureq.Get("PATH_INFO")
	r.Query, _ = ureq.Get("QUERY_STRING")
	r.Major, r.Minor = 1, 1
	if p, _ := ureq.Get("SERVER_PROTOCOL"); string(p) == "HTTP/1.0" {
		r.Minor = 0
	}
	r.ContentLength = ureq.ContentLength
	r.Chunked, r.KeepAlive, r.Expect100, r.Headers, r.Host = false, false, false, r.Headers[:0], nil
	if ra, ok := ureq.Get("REMOTE_ADDR"); ok {
		c.remote = string(ra) // the client nginx saw, for the access log
	}
	c.start = c.now()
	c.handle(true)
	c.flush()
	if c.linger {
		c.lingerClose()
	}
}

func varOr(r *uwsgi.Request, key, def string) []byte {
	if v, ok := r.Get(key); ok && len(v) > 0 {
		return v
	}
	return []byte(def)
}

// rejectUWSGI logs why a packet was refused, with the advice the operator
// needs (uWSGI's "invalid request block size" never said which).
func (c *conn) rejectUWSGI(err error) {
	var ue *uwsgi.Error
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, uwsgi.ErrTruncated):
		return
	case errors.As(err, &ue):
		c.s.opts.Log.Warn("uwsgi: request refused", "remote", c.remote, "err", err.Error())
		if ue.Kind == uwsgi.ErrHTTPRequest {
			// Someone pointed a browser or an HTTP proxy here: say so.
			c.writeDeadline(time.Now(), c.s.opts.IOTimeout)
			c.bw.WriteString("HTTP/1.0 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n" +
				"This is a uwsgi-protocol socket (for nginx uwsgi_pass or Apache mod_proxy_uwsgi), not HTTP.\n")
			c.bw.Flush()
		}
	default:
		c.s.opts.Log.Info("uwsgi: reading a request failed", "remote", c.remote, "err", err)
	}
}

// buildUWSGIEnv passes the gateway's variables to the app as given (its
// REMOTE_ADDR, HTTPS, SCRIPT_NAME and any uwsgi_param), adding what WSGI
// needs on top.
func (c *conn) buildUWSGIEnv(bodyLen int64) {
	ureq := &c.ureq
	e := &c.env
	e.Reset()
	scheme := "http"
	scriptName, _ := ureq.Get("SCRIPT_NAME")
	// Defaults a sparse gateway may leave out; the gateway's own values,
	// added after, win.
	e.AddString(wsgi.KeyRequestMethod, "GET")
	e.AddString(wsgi.KeyPathInfo, "")
	e.AddString(wsgi.KeyQueryString, "")
	e.AddString(wsgi.KeyServerProtocol, "HTTP/1.1")
	for _, v := range ureq.Vars {
		switch string(v.Key) {
		case "CONTENT_LENGTH", "HTTP_CONTENT_LENGTH", "HTTP_CONTENT_TYPE", "HTTP_TRANSFER_ENCODING":
			// Framing is set below (the gateway de-chunked the body);
			// CONTENT_TYPE comes as its own variable.
			continue
		case "PATH_INFO":
			if ureq.Header.Modifier1 == 30 {
				e.Add(wsgi.KeyPathInfo, uwsgi.StripScriptName(scriptName, v.Value))
				continue
			}
			if len(scriptName) == 0 {
				e.Add(wsgi.KeyPathInfo, c.mount(v.Value))
				continue
			}
		case "SCRIPT_NAME":
			if len(scriptName) == 0 && c.s.opts.MountPoint != "" {
				continue // empty: the mount's, added with PATH_INFO, stands
			}
		case "HTTPS":
			if s := string(v.Value); s == "on" || s == "1" || s == "ON" {
				scheme = "https"
			}
		case "REQUEST_SCHEME", "UWSGI_SCHEME":
			if string(v.Value) == "https" {
				scheme = "https"
			}
		default:
			if bytes.HasPrefix(v.Key, []byte("wsgi.")) {
				continue // PEP 3333's own keys are the server's, whatever a gateway sets
			}
		}
		e.AddVar(v.Key, v.Value)
	}
	e.AddString(wsgi.KeyURLScheme, scheme)
	if bodyLen > 0 || ureq.ContentLength > 0 {
		c.scratch = strconv.AppendInt(c.scratch[:0], bodyLen, 10)
		e.Add(wsgi.KeyContentLength, c.scratch)
	}
}
