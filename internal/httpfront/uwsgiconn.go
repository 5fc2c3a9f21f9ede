package httpfront

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"time"

	"carafe/internal/httpsyntax"
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
	if len(ureq.Vars) == 0 {
		// No request at all: a gateway sends a dozen variables, and
		// uWSGI drops such a packet. It is not run as a GET of "".
		c.s.logRefused(slog.LevelWarn, "uwsgi: request refused", "remote", c.remote,
			"err", "a packet with no variables, so no request")
		return
	}
	c.busy() // a uwsgi connection always closes after its request
	r := &c.req
	r.Method = varOr(ureq, "REQUEST_METHOD", "GET")
	r.Target = varOr(ureq, "REQUEST_URI", "")
	r.Path, _ = ureq.Get("PATH_INFO")
	r.Query, _ = ureq.Get("QUERY_STRING")
	r.Major, r.Minor = 1, 1
	c.gwProto = ""
	switch p, _ := ureq.Get("SERVER_PROTOCOL"); string(p) {
	case "HTTP/1.0":
		r.Minor = 0
	case "HTTP/2.0", "HTTP/3.0": // nginx speaks them to the client, the uwsgi protocol to carafe
		c.gwProto = string(p) // (constant strings: no allocation)
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
		c.s.logRefused(slog.LevelWarn, "uwsgi: request refused", "remote", c.remote, "err", err.Error())
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
	scriptName, _ := ureq.Get("SCRIPT_NAME")
	// --manage-script-name's mount applies to the PATH_INFO the gateway
	// sends whatever SCRIPT_NAME comes with it, as uWSGI applies it: with
	// "uwsgi_param SCRIPT_NAME /app", nginx still sends the whole path.
	mount := c.s.opts.MountPoint != "" && ureq.Header.Modifier1 != 30
	dups := mayRepeat(ureq.Vars)
	var byName map[string][]int // for a packet too big to scan for each name
	if dups && len(ureq.Vars) > joinScanMax {
		byName = make(map[string][]int)
		for i, v := range ureq.Vars {
			if bytes.HasPrefix(v.Key, []byte("HTTP_")) {
				byName[string(v.Key)] = append(byName[string(v.Key)], i)
			}
		}
	}
	// Defaults a sparse gateway may leave out; the gateway's own values,
	// added after, win.
	e.AddString(wsgi.KeyRequestMethod, "GET")
	e.AddString(wsgi.KeyPathInfo, "")
	e.AddString(wsgi.KeyQueryString, "")
	e.AddString(wsgi.KeyServerProtocol, "HTTP/1.1")
	for i, v := range ureq.Vars {
		switch string(v.Key) {
		case "CONTENT_LENGTH", "HTTP_CONTENT_LENGTH", "HTTP_CONTENT_TYPE", "HTTP_TRANSFER_ENCODING":
			// Framing is set below (the gateway de-chunked the body);
			// CONTENT_TYPE comes as its own variable.
			continue
		case "PATH_INFO":
			switch {
			case ureq.Header.Modifier1 == 30:
				e.Add(wsgi.KeyPathInfo, uwsgi.StripScriptName(scriptName, v.Value))
				continue
			case mount:
				rest, under := c.underMount(v.Value)
				if under {
					e.AddString(wsgi.KeyScriptName, c.s.opts.MountPoint)
					scriptName = nil // the mount's stands, not the gateway's
				}
				e.Add(wsgi.KeyPathInfo, rest)
				continue
			}
		case "SCRIPT_NAME":
			if mount {
				continue // added after the loop, unless the mount's stands
			}
		default:
			if bytes.HasPrefix(v.Key, []byte("wsgi.")) {
				continue // PEP 3333's own keys are the server's, whatever a gateway sets
			}
			if dups && bytes.HasPrefix(v.Key, []byte("HTTP_")) {
				same := byName[string(v.Key)]
				if byName == nil {
					same = c.sameName(ureq.Vars, i)
				}
				val, first := c.joinRepeated(ureq.Vars, i, same)
				if !first {
					continue
				}
				v.Value = val
			}
		}
		e.AddVar(v.Key, v.Value)
	}
	if mount && scriptName != nil {
		e.Add(wsgi.KeyScriptName, scriptName)
	}
	e.AddString(wsgi.KeyURLScheme, uwsgiScheme(ureq))
	// The body's length, as read (the gateway may have sent it chunked):
	// also 0 where the gateway says so (a client's Content-Length: 0).
	if bodyLen > 0 || ureq.ContentLengthSet {
		c.scratch = strconv.AppendInt(c.scratch[:0], bodyLen, 10)
		e.Add(wsgi.KeyContentLength, c.scratch)
	}
}

// uwsgiScheme is wsgi.url_scheme for a gateway's variables: UWSGI_SCHEME
// when set, else HTTPS ("on", in any case, or "1"), else REQUEST_SCHEME
// (nginx's uwsgi_params send it). uWSGI also takes HTTP_X_FORWARDED_PROTO,
// from any gateway: a stock nginx passes a client's own X-Forwarded-Proto
// on, so on a plain-HTTP site any client could claim https. carafe takes
// what the gateway itself says; behind a TLS load balancer nginx says it
// with "uwsgi_param UWSGI_SCHEME $http_x_forwarded_proto if_not_empty".
func uwsgiScheme(r *uwsgi.Request) string {
	if s, ok := r.Get("UWSGI_SCHEME"); ok {
		if httpsyntax.EqualFold(s, "https") {
			return "https"
		}
		if httpsyntax.EqualFold(s, "http") {
			return "http"
		}
	}
	if s, ok := r.Get("HTTPS"); ok {
		if httpsyntax.EqualFold(s, "on") || string(s) == "1" {
			return "https"
		}
		return "http"
	}
	if s, ok := r.Get("REQUEST_SCHEME"); ok && httpsyntax.EqualFold(s, "https") {
		return "https"
	}
	return "http"
}

// mayRepeat reports whether two of vars' HTTP_ variables may share a
// name, which they do when a client repeated a header: nginx passes each
// field on its own. It compares a 64-bit sieve of their lengths and last
// bytes, so that the common request, whose names all differ, costs a
// pass over them and no comparisons.
func mayRepeat(vars []uwsgi.Var) bool {
	var seen uint64
	for _, v := range vars {
		k := v.Key
		if len(k) <= 5 || string(k[:5]) != "HTTP_" {
			continue
		}
		bit := uint64(1) << ((uint(len(k))*7 + uint(k[len(k)-1])) % 64)
		if seen&bit != 0 {
			return true
		}
		seen |= bit
	}
	return false
}

// joinScanMax is the most variables a packet may have for each HTTP_ one
// to be looked for by a scan of the packet: past it, by a map built once
// (thousands of tiny header names, which nginx passes on when buffer-size
// is raised, made the scans cost 100 ms a 64 KiB packet).
const joinScanMax = 64

// sameName returns the indexes of the variables named as vars[i] is, in
// order, in a slice the next call reuses.
func (c *conn) sameName(vars []uwsgi.Var, i int) []int {
	c.same = c.same[:0]
	for j, v := range vars {
		if bytes.Equal(v.Key, vars[i].Key) {
			c.same = append(c.same, j)
		}
	}
	return c.same
}

// joinRepeated returns the value of vars[i] joined with those of the later
// variables of its name (same: the indexes of them all, in order), as the
// HTTP front end joins a repeated field (by ", ", a Cookie's by "; "), and
// whether vars[i] is the first of its name: a later one was joined into
// the first and is skipped.
//
// HTTP_HOST is not joined: the last one stands, as in uWSGI. A gateway
// refuses a client's second Host, so two come from its configuration:
// Debian's uwsgi_params sends "HTTP_HOST $host", and a site that sets
// "uwsgi_param HTTP_HOST $http_host" after the include means it to win.
// Joined, "site, site:8080" made Django refuse every request
// (DisallowedHost) and Flask build links with an empty host.
func (c *conn) joinRepeated(vars []uwsgi.Var, i int, same []int) ([]byte, bool) {
	if len(same) <= 1 {
		return vars[i].Value, true
	}
	if string(vars[i].Key) == "HTTP_HOST" {
		return vars[i].Value, same[len(same)-1] == i
	}
	if same[0] != i {
		return nil, false
	}
	sep := ", "
	if string(vars[i].Key) == "HTTP_COOKIE" {
		sep = "; "
	}
	c.scratch = append(c.scratch[:0], vars[i].Value...)
	for _, j := range same[1:] {
		c.scratch = append(append(c.scratch, sep...), vars[j].Value...)
	}
	return c.scratch, true
}
