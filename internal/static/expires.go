package static

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// ExpiresRule is one of uWSGI's static-expires options: a file it matches
// is sent with Expires (and Cache-Control max-age) After from now, or from
// the file's modification time. Rules are tried in order; the first that
// matches wins over Options.Expires.
type ExpiresRule struct {
	on        expiresOn
	re        *regexp.Regexp // for a path, a URI or a PATH_INFO
	ctype     string         // for a content type
	after     time.Duration
	fromMtime bool
}

type expiresOn int

const (
	onPath     expiresOn = iota // the file's path on disk
	onURI                       // the request target, query included
	onPathInfo                  // the decoded path
	onType                      // the content type, parameters left out
)

// expiresOptions are the uWSGI option names ParseExpiresRule takes.
var expiresOptions = map[string]expiresOn{
	"static-expires":           onPath,
	"static-expires-uri":       onURI,
	"static-expires-path-info": onPathInfo,
	"static-expires-type":      onType,
}

// ParseExpiresRule parses the value of the uWSGI option name: "REGEXP
// SECONDS" for static-expires (matched against the file's path),
// static-expires-uri and static-expires-path-info; "TYPE=SECONDS" for
// static-expires-type. A -mtime suffix on the name counts from the file's
// modification time instead of now. Go's regexp syntax (RE2) is uWSGI's
// PCRE less backreferences and lookaround.
func ParseExpiresRule(name, value string) (ExpiresRule, error) {
	base, mtime := strings.CutSuffix(name, "-mtime")
	on, ok := expiresOptions[base]
	if !ok {
		return ExpiresRule{}, fmt.Errorf("static: %s is not a static-expires option", name)
	}
	r := ExpiresRule{on: on, fromMtime: mtime}
	var secs string
	if on == onType {
		r.ctype, secs, ok = strings.Cut(strings.TrimSpace(value), "=")
		ok = ok && r.ctype != "" && !strings.ContainsAny(r.ctype, " ;")
	} else {
		var pattern string
		v := strings.TrimSpace(value)
		i := strings.LastIndexAny(v, " \t")
		ok = i > 0
		if ok {
			pattern, secs = strings.TrimSpace(v[:i]), v[i+1:]
			var err error
			if r.re, err = regexp.Compile(pattern); err != nil {
				return ExpiresRule{}, fmt.Errorf("static: --%s %q: %v", name, value, err)
			}
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(secs), 10, 64)
	if !ok || err != nil || n < 0 {
		want := "REGEXP SECONDS"
		if on == onType {
			want = "TYPE=SECONDS"
		}
		return ExpiresRule{}, fmt.Errorf("static: --%s %q: want %s", name, value, want)
	}
	r.after = time.Duration(n) * time.Second
	return r, nil
}

// expiry is when the file expires by the first rule matching it, and its
// max-age from now; ok is false when no rule matches.
func (h *Handler) expiry(r *http.Request, m *mapping, rel, ctype string, mtime time.Time) (at time.Time, age time.Duration, ok bool) {
	for i := range h.rules {
		rule := &h.rules[i]
		var match bool
		switch rule.on {
		case onPath:
			match = rule.re.MatchString(m.dir + "/" + rel)
		case onURI:
			match = rule.re.MatchString(r.RequestURI)
		case onPathInfo:
			match = rule.re.MatchString(r.URL.Path)
		case onType:
			t, _, _ := strings.Cut(ctype, ";")
			match = strings.EqualFold(strings.TrimSpace(t), rule.ctype)
		}
		if !match {
			continue
		}
		if rule.fromMtime {
			at = mtime.Add(rule.after)
			return at, max(time.Until(at), 0), true
		}
		return time.Now().Add(rule.after), rule.after, true
	}
	return time.Time{}, 0, false
}

// setCaching sets Cache-Control and Expires for a file from the first
// rule matching it, or from Options.Expires; with neither it sets none.
func (h *Handler) setCaching(hdr http.Header, r *http.Request, m *mapping, rel, ctype string, mtime time.Time) {
	if at, age, ok := h.expiry(r, m, rel, ctype, mtime); ok {
		hdr.Set("Cache-Control", "public, max-age="+strconv.FormatInt(int64(age/time.Second), 10))
		hdr.Set("Expires", at.UTC().Format(http.TimeFormat))
	} else if h.expires > 0 {
		hdr.Set("Cache-Control", h.cacheControl)
		hdr.Set("Expires", time.Now().Add(h.expires).UTC().Format(http.TimeFormat))
	}
}
