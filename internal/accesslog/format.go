package accesslog

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Format is a request line in uWSGI's log-format syntax: literal text and
// %(name) variables, compiled once. Request-supplied values are escaped
// as in the default line, or as JSON in a format that is a JSON object,
// so a client cannot forge log lines.
type Format struct {
	parts []part
	// Headers says that a variable reads a request header (host, uagent,
	// referer, var.HTTP_*): the front end fills those Entry fields only
	// then.
	Headers bool
	// Counts says that %(headers) is used: the front end counts the
	// response's header fields only then.
	Counts bool
	// Vars are the names of the %(var.HTTP_NAME) variables, in the order
	// of Entry.Vars.
	Vars []string
	pid  string
	wid  string
	// json: the format is a JSON object ({...}), whose values are escaped
	// as JSON strings (see appendJSON) rather than with \xNN, which is
	// not JSON: a log shipper dropped each line a quote or a non-ASCII
	// byte came in.
	json bool
}

type part struct {
	lit string
	v   logVar // 0: lit
	i   int    // varVar: the index in Entry.Vars
}

// logVar is a log-format variable; a switch (not a table of funcs) keeps
// the Entry a logger formats on the caller's stack.
type logVar int

const (
	_ logVar = iota
	varAddr
	varUser
	varHost
	varMethod
	varURI
	varProto
	varUagent
	varReferer
	varStatus
	varMicros
	varMsecs
	varSecs
	varTime
	varEpoch
	varTmsecs
	varTmicros
	varCtime
	varLtime
	varSize
	varHsize
	varRsize
	varCl
	varPid
	varWid
	varVar // %(var.HTTP_NAME): a request header, as the environ names it
	varCore
	varSwitches
	varIOErr
	varRErr
	varWErr
	varHeaders
	varVars
	varModifier1
	varModifier2
)

// logVars are the uWSGI log-format variables carafe fills (see
// docs/options.md): request fields, response figures, times, process ids.
var logVars = map[string]logVar{
	"addr": varAddr, "user": varUser, "host": varHost, "method": varMethod, "uri": varURI,
	"proto": varProto, "uagent": varUagent, "referer": varReferer, "status": varStatus,
	"micros": varMicros, "msecs": varMsecs, "secs": varSecs, "time": varTime, "epoch": varEpoch,
	"tmsecs": varTmsecs, "tmicros": varTmicros, "ctime": varCtime, "ltime": varLtime,
	"size": varSize, "hsize": varHsize, "rsize": varRsize, "cl": varCl, "pid": varPid, "wid": varWid,
	"ftime": varLtime, // uWSGI's ltime unless logformat-strftime, which carafe refuses
	"core":  varCore, "switches": varSwitches, "ioerr": varIOErr, "rerr": varRErr, "werr": varWErr,
	"headers": varHeaders, "vars": varVars, "modifier1": varModifier1, "modifier2": varModifier2,
}

// appendVar formats one variable of e onto b.
func (f *Format) appendVar(b []byte, p *part, now time.Time, e *Entry) []byte {
	switch p.v {
	case varVar:
		if p.i < len(e.Vars) {
			return f.appendField(b, e.Vars[p.i])
		}
		return append(b, '-')
	case varAddr: // REMOTE_ADDR: the address without the port carafe's own line shows
		addr := e.Remote
		if host, _, err := net.SplitHostPort(addr); err == nil && !e.Forwarded {
			addr = host
		}
		return f.appendField(b, []byte(addr))
	case varUser:
		return f.appendField(b, e.User)
	case varHost:
		return f.appendField(b, e.Host)
	case varMethod:
		return f.appendField(b, e.Method)
	case varURI:
		return f.appendField(b, e.Target)
	case varProto:
		return append(b, e.Proto...)
	case varUagent:
		return f.appendField(b, e.UserAgent)
	case varReferer:
		return f.appendField(b, e.Referer)
	case varStatus:
		return strconv.AppendInt(b, int64(e.Status), 10)
	case varMicros:
		return strconv.AppendInt(b, e.Duration.Microseconds(), 10)
	case varMsecs:
		return strconv.AppendInt(b, e.Duration.Milliseconds(), 10)
	case varSecs:
		return strconv.AppendFloat(b, e.Duration.Seconds(), 'f', 6, 64)
	case varTime:
		return strconv.AppendInt(b, start(now, e).Unix(), 10)
	case varEpoch:
		return strconv.AppendInt(b, now.Unix(), 10)
	case varTmsecs:
		return strconv.AppendInt(b, start(now, e).UnixMilli(), 10)
	case varTmicros:
		return strconv.AppendInt(b, start(now, e).UnixMicro(), 10)
	case varCtime:
		return start(now, e).AppendFormat(b, "Mon Jan _2 15:04:05 2006")
	case varLtime:
		return start(now, e).AppendFormat(b, "02/Jan/2006:15:04:05 -0700")
	case varSize:
		return strconv.AppendInt(b, e.HeadBytes+e.Bytes, 10)
	case varHsize:
		return strconv.AppendInt(b, e.HeadBytes, 10)
	case varRsize:
		return strconv.AppendInt(b, e.Bytes, 10)
	case varCl:
		return strconv.AppendInt(b, e.ContentLength, 10)
	case varPid:
		return append(b, f.pid...)
	case varWid:
		return append(b, f.wid...)
	case varCore: // uWSGI's thread number; carafe's calls are not bound to one
		return append(b, '0')
	case varSwitches: // uWSGI's async switches; a carafe call runs in one go
		return append(b, '1')
	case varIOErr:
		return strconv.AppendInt(b, int64(b2i(e.ReadErr)+b2i(e.WriteErr)), 10)
	case varRErr:
		return strconv.AppendInt(b, int64(b2i(e.ReadErr)), 10)
	case varWErr:
		return strconv.AppendInt(b, int64(b2i(e.WriteErr)), 10)
	case varHeaders:
		return strconv.AppendInt(b, int64(e.RespHeaders), 10)
	case varVars:
		return strconv.AppendInt(b, int64(e.RequestVars), 10)
	case varModifier1:
		return strconv.AppendInt(b, int64(e.Modifier1), 10)
	case varModifier2:
		return strconv.AppendInt(b, int64(e.Modifier2), 10)
	}
	return b
}

func b2i(v bool) int {
	if v {
		return 1
	}
	return 0
}

// headerVars read request headers (see Format.Headers).
var headerVars = map[string]bool{"host": true, "uagent": true, "referer": true, "user": true}

// start is when the request began: now less its duration.
func start(now time.Time, e *Entry) time.Time { return now.Add(-e.Duration) }

// appendField appends a request-supplied value escaped, "-" when empty.
func (f *Format) appendField(b, v []byte) []byte {
	if len(v) == 0 {
		return append(b, '-')
	}
	if f.json {
		return appendJSON(b, v)
	}
	return appendSafe(b, v)
}

// appendJSON escapes v for the inside of a JSON string, as nginx's
// escape=json does, and so that no byte can forge a line or a terminal
// code: " and \ get a backslash, control characters (C0, DEL, C1) and
// the line separators U+2028 and U+2029 are \u00XX (\u2028), valid
// UTF-8 stays as it is, and a byte that is not UTF-8 is \u00XX, the
// character of its value, so that the line stays valid UTF-8 for the
// tools that read it.
func appendJSON(b, v []byte) []byte {
	const hex = "0123456789abcdef"
	for len(v) > 0 {
		r, n := utf8.DecodeRune(v)
		switch {
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r < 0x20 || r == 0x7f || 0x80 <= r && r <= 0x9f || r == utf8.RuneError && n == 1:
			c := v[0]
			if n > 1 {
				c = byte(r)
			}
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
		case r == 0x2028 || r == 0x2029:
			b = append(b, `\u202`...)
			b = append(b, hex[r&15])
		default:
			b = append(b, v[:n]...)
		}
		v = v[n:]
	}
	return b
}

// ParseFormat compiles a log-format line. pid and wid fill %(pid) and
// %(wid) (the worker's number; 0 without a master). A variable carafe does
// not fill is an error naming the ones it does.
func ParseFormat(s string, pid, wid int) (*Format, error) {
	t := strings.TrimSpace(s)
	f := &Format{pid: strconv.Itoa(pid), wid: strconv.Itoa(wid), json: strings.HasPrefix(t, "{") && strings.HasSuffix(t, "}")}
	for s != "" {
		i := strings.Index(s, "%(")
		if i < 0 {
			f.parts = append(f.parts, part{lit: s})
			break
		}
		if i > 0 {
			f.parts = append(f.parts, part{lit: s[:i]})
		}
		j := strings.IndexByte(s[i:], ')')
		if j < 0 {
			return nil, fmt.Errorf("log-format: %q: unclosed %%(", s[i:])
		}
		name := s[i+2 : i+j]
		if cgi, ok := strings.CutPrefix(name, "var."); ok {
			if !validVarName(cgi) {
				return nil, fmt.Errorf("log-format: %%(%s): carafe fills var.HTTP_NAME, a request header "+
					"as the environ names it (var.HTTP_X_FORWARDED_FOR), and no other var.", name)
			}
			f.parts = append(f.parts, part{v: varVar, i: len(f.Vars)})
			f.Vars = append(f.Vars, cgi)
			f.Headers = true
			s = s[i+j+1:]
			continue
		}
		v, ok := logVars[name]
		if !ok {
			return nil, fmt.Errorf("log-format: %%(%s) is not a variable carafe fills; it has %s", name, varNames())
		}
		f.parts = append(f.parts, part{v: v})
		f.Headers = f.Headers || headerVars[name]
		f.Counts = f.Counts || v == varHeaders
		s = s[i+j+1:]
	}
	return f, nil
}

// validVarName reports whether name is HTTP_ and a header's name as the
// environ gives it: upper-case letters, digits and underscores.
func validVarName(name string) bool {
	rest, ok := strings.CutPrefix(name, "HTTP_")
	if !ok || rest == "" {
		return false
	}
	for _, c := range []byte(rest) {
		if !('A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func varNames() string {
	names := make([]string, 0, len(logVars)+1)
	for n := range logVars {
		names = append(names, "%("+n+")")
	}
	sort.Strings(names)
	names = append(names, "%(var.HTTP_NAME)")
	return strings.Join(names, " ")
}

// append formats e by f, with its newline.
func (f *Format) append(b []byte, now time.Time, e *Entry) []byte {
	for i := range f.parts {
		if p := &f.parts[i]; p.v != 0 {
			b = f.appendVar(b, p, now, e)
		} else {
			b = append(b, p.lit...)
		}
	}
	return append(b, '\n')
}
