package static

import (
	"net/http"
	"strings"
	"testing"
)

func TestParseExpiresRule(t *testing.T) {
	for _, tt := range []struct{ name, value, err string }{
		{"static-expires-uri", `/static/.*\.[a-f0-9]{12,}\.(css|js) 315360000`, ""},
		{"static-expires", `/srv/app/static/.*\.png 86400`, ""},
		{"static-expires-mtime", `\.png$ 86400`, ""},
		{"static-expires-path-info", `^/media/ 60`, ""},
		{"static-expires-type", "text/css=3600", ""},
		{"static-expires-type-mtime", "image/png=3600", ""},
		{"static-expires-uri", `\.css$`, `static: --static-expires-uri "\\.css$": want REGEXP SECONDS`},
		{"static-expires-uri", `(unclosed 60`, "missing closing )"},
		{"static-expires-uri", `\.css$ soon`, "want REGEXP SECONDS"},
		{"static-expires-type", "text/css 3600", `static: --static-expires-type "text/css 3600": want TYPE=SECONDS`},
		{"static-expires-type", "=3600", "want TYPE=SECONDS"},
		{"static-expires-type", "text/css=-1", "want TYPE=SECONDS"},
		{"static-expires-host", "x 1", "not a static-expires option"},
	} {
		_, err := ParseExpiresRule(tt.name, tt.value)
		if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("%s %q: error %v, want %q", tt.name, tt.value, err, tt.err)
		}
	}
}

// Blanks around the value (a command-line argument, an environment
// variable) are not part of the rule: a leading one cut the pattern's
// last character ("\.css$" became "\.css", which matches x.css.map).
func TestParseExpiresRuleBlanks(t *testing.T) {
	for _, v := range []string{`\.css$ 3600`, ` \.css$ 3600`, "  \t\\.css$  3600 ", `	\.css$	3600`} {
		r, err := ParseExpiresRule("static-expires-uri", v)
		if err != nil || r.re.String() != `\.css$` || r.after.Seconds() != 3600 {
			t.Errorf("%q: %v, pattern %v after %v; want \\.css$ and 1h", v, err, r.re, r.after)
		}
	}
}

// The first rule that matches a file sets its expiry, from now or from its
// mtime; files no rule matches get Options.Expires.
func TestExpiresRules(t *testing.T) {
	var rules []ExpiresRule
	for _, nv := range [][2]string{
		{"static-expires-uri", `\.css\?v=\d+$ 100`},
		{"static-expires-mtime", `/big\.txt$ 300`},
		{"static-expires-type", "text/plain=200"},
	} {
		r, err := ParseExpiresRule(nv[0], nv[1])
		if err != nil {
			t.Fatal(err)
		}
		rules = append(rules, r)
	}
	h, _ := newHandler(t, Options{ExpiresRules: rules, Expires: 50e9})
	for _, tt := range []struct {
		target, cache, expires string
	}{
		{"/static/a.css?v=3", "public, max-age=100", ""},
		{"/static/a.css", "public, max-age=50", ""}, // no rule: the default
		{"/static/big.txt", "public, max-age=0", mtime.Add(300e9).Format(http.TimeFormat)},
		{"/static/extra.txt", "public, max-age=200", ""},
	} {
		served, w := do(h, "GET", tt.target)
		if !served || w.Code != 200 {
			t.Fatalf("%s: served %v code %d", tt.target, served, w.Code)
		}
		if got := w.Header().Get("Cache-Control"); got != tt.cache {
			t.Errorf("%s: Cache-Control %q, want %q", tt.target, got, tt.cache)
		}
		if tt.expires != "" && w.Header().Get("Expires") != tt.expires {
			t.Errorf("%s: Expires %q, want %q", tt.target, w.Header().Get("Expires"), tt.expires)
		}
	}
}

// FuzzExpiresRule: blanks around a value do not change the rule it gives.
func FuzzExpiresRule(f *testing.F) {
	for _, s := range []string{`\.css$ 3600`, `\.(png|jpg)$  86400`, `text/css=60`, `a b c 5`} {
		f.Add(0, s, " ")
		f.Add(3, s, "\t ")
	}
	names := []string{"static-expires", "static-expires-uri", "static-expires-path-info", "static-expires-type", "static-expires-mtime"}
	f.Fuzz(func(t *testing.T, which int, value, pad string) {
		if strings.Trim(pad, " \t") != "" {
			return
		}
		name := names[uint(which)%uint(len(names))]
		r1, err1 := ParseExpiresRule(name, strings.TrimSpace(value))
		r2, err2 := ParseExpiresRule(name, pad+value+pad)
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("%s %q: trimmed err %v, padded err %v", name, value, err1, err2)
		}
		if err1 == nil && (r1.after != r2.after || r1.ctype != r2.ctype || (r1.re == nil) != (r2.re == nil) ||
			r1.re != nil && r1.re.String() != r2.re.String()) {
			t.Fatalf("%s %q: trimmed %v %q %v, padded %v %q %v", name, value, r1.re, r1.ctype, r1.after, r2.re, r2.ctype, r2.after)
		}
	})
}
