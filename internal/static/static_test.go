package static

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestParseMapping(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, in string
		want     Mapping
		wantErr  string
	}{
		{"absolute", "/static=/srv/app/static", Mapping{Prefix: "/static", Dir: "/srv/app/static"}, ""},
		{"relative dir made absolute", "/media=media", Mapping{Prefix: "/media", Dir: filepath.Join(wd, "media")}, ""},
		{"trailing slash cleaned", "/static/=/srv/s/", Mapping{Prefix: "/static", Dir: "/srv/s"}, ""},
		{"root prefix", "/=/srv/www", Mapping{Prefix: "/", Dir: "/srv/www"}, ""},
		{"equals in dir kept", "/s=/srv/a=b", Mapping{Prefix: "/s", Dir: "/srv/a=b"}, ""},
		{"no equals", "/static", Mapping{}, "want /URL-PREFIX=DIR"},
		{"no leading slash", "static=/srv", Mapping{}, "want /URL-PREFIX=DIR"},
		{"empty dir", "/static=", Mapping{}, "want /URL-PREFIX=DIR"},
		{"escaped prefix", "/st tic=/srv", Mapping{}, "percent-encoding"},
		{"percent prefix", "/a%41=/srv", Mapping{}, "percent-encoding"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseMapping("static-map2", tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "static: --static-map2 ") {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			tt.want.Source = "--static-map2 " + tt.in
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestNew(t *testing.T) {
	base := fixture(t)
	dir := filepath.Join(base, "static")
	link := filepath.Join(base, "link")
	if err := os.Symlink("static", link); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(base, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		o       Options
		wantErr string
	}{
		{"zero", Options{}, ""},
		{"ok", Options{Maps: []Mapping{{Prefix: "/static", Dir: dir}}, Index: []string{"index.html"}, Expires: time.Hour}, ""},
		{"root symlink resolved", Options{Maps: []Mapping{{Prefix: "/s", Dir: link}}}, ""},
		{"one file", Options{Maps: []Mapping{{Prefix: "/s", Dir: filepath.Join(dir, "a.css")}}}, ""},
		{"fifo", Options{Maps: []Mapping{{Prefix: "/s", Dir: fifo}}}, "neither a directory nor a file"},
		{"relative prefix", Options{Maps: []Mapping{{Prefix: "s", Dir: dir}}}, "must start with /"},
		// An X-Sendfile mapping's prefix is a file path, compared as is.
		{"file path prefix", Options{Maps: []Mapping{{Prefix: "/srv/my files/café", Dir: dir}}}, ""},
		{"index with slash", Options{Index: []string{"a/index.html"}}, "plain file name"},
		{"index dotdot", Options{Index: []string{".."}}, "plain file name"},
		{"index empty", Options{Index: []string{""}}, "plain file name"},
	}
	// A mapped directory that does not exist does not stop the start, as
	// uWSGI's does not (a STATIC_ROOT before collectstatic): its URLs go
	// to the app, and the option is named for the caller to warn.
	t.Run("missing dir", func(t *testing.T) {
		m := Mapping{Prefix: "/s", Dir: filepath.Join(base, "nope"), Source: "--static-map /s=nope"}
		h, err := New(Options{Maps: []Mapping{m, {Prefix: "/static", Dir: dir}}})
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		if got := h.Missing(); len(got) != 1 || got[0] != "--static-map /s=nope" {
			t.Errorf("Missing() = %q, want the mapping named", got)
		}
		w := httptest.NewRecorder()
		if h.Serve(w, httptest.NewRequest("GET", "/s/a.css", nil)) {
			t.Errorf("the missing mapping served %d %q", w.Code, w.Body)
		}
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := New(tt.o)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "static: ") {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := h.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestMatch(t *testing.T) {
	h, err := New(Options{Maps: []Mapping{
		{Prefix: "/static", Dir: t.TempDir()},
		{Prefix: "/media/", Dir: t.TempDir()},
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	root, err := New(Options{Maps: []Mapping{{Prefix: "/", Dir: t.TempDir()}}})
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	tests := []struct {
		name string
		h    *Handler
		path string
		want bool
	}{
		{"prefix itself", h, "/static", true},
		{"prefix slash", h, "/static/", true},
		{"file", h, "/static/css/a.css", true},
		{"encoded inside", h, "/static/%2e%2e/x", true},
		{"second map", h, "/media/x.png", true},
		{"second map bare", h, "/media", true},
		{"longer word", h, "/staticfiles/a.css", false},
		{"shorter", h, "/stati", false},
		{"other", h, "/app/static/a.css", false},
		{"encoded prefix goes to app", h, "/st%61tic/a.css", false},
		{"case differs", h, "/Static/a.css", false},
		{"empty", h, "", false},
		{"double slash", h, "//static/a.css", false},
		{"root map", root, "/anything", true},
		{"root map slash", root, "/", true},
		{"root map double slash", root, "//etc/passwd", true},
		{"root map not a path", root, "*", false},
		{"root map empty", root, "", false},
		{"nil handler", nil, "/static/a.css", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.h.Match([]byte(tt.path)); got != tt.want {
				t.Errorf("Match(%q) = %v, want %v", tt.path, got, tt.want)
			}
		})
	}
}

func TestMatchAllocs(t *testing.T) {
	h, err := New(Options{Maps: []Mapping{{Prefix: "/static", Dir: t.TempDir()}, {Prefix: "/media", Dir: t.TempDir()}}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	for _, p := range []string{"/static/css/site.css", "/media/x", "/api/users?x", "/"} {
		b := []byte(p)
		if n := testing.AllocsPerRun(1000, func() { h.Match(b) }); n != 0 {
			t.Errorf("Match(%q) allocates %v times, want 0", p, n)
		}
	}
}

func BenchmarkMatch(b *testing.B) {
	h, err := New(Options{Maps: []Mapping{{Prefix: "/static", Dir: b.TempDir()}, {Prefix: "/media", Dir: b.TempDir()}}})
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	hit, miss := []byte("/media/img/logo.png"), []byte("/api/v1/users/42")
	b.ReportAllocs()
	for b.Loop() {
		h.Match(hit)
		h.Match(miss)
	}
}

// A mapping looks at its directory again as requests come (at most every
// relookEvery): one made after the start is served, one replaced on disk
// (rm -rf and a rebuild, a "current" symlink switched) serves its new
// files, and one removed serves nothing. A mapping of one file serves it
// at its prefix alone, and its replacement too.
func TestSourceRelook(t *testing.T) {
	defer func(e, r time.Duration) { relookEvery, retireAfter = e, r }(relookEvery, retireAfter)
	relookEvery, retireAfter = 0, 10*time.Millisecond
	base := t.TempDir()
	write := func(name, body string) {
		t.Helper()
		os.MkdirAll(filepath.Dir(filepath.Join(base, name)), 0o755)
		if err := os.WriteFile(filepath.Join(base, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("favicon.ico", "icon one")
	h, err := New(Options{Maps: []Mapping{
		{Prefix: "/static", Dir: filepath.Join(base, "current")},
		{Prefix: "/favicon.ico", Dir: filepath.Join(base, "favicon.ico")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	get := func(target string) string {
		t.Helper()
		w := httptest.NewRecorder()
		if !h.Serve(w, httptest.NewRequest("GET", target, nil)) {
			return "(app)"
		}
		return w.Body.String()
	}
	steps := []struct {
		do           func()
		target, want string
	}{
		{func() {}, "/static/a.css", "(app)"},
		{func() { write("one/a.css", "one"); os.Symlink("one", filepath.Join(base, "current")) }, "/static/a.css", "one"},
		{func() {
			write("two/a.css", "two")
			os.Symlink("two", filepath.Join(base, "next"))
			os.Rename(filepath.Join(base, "next"), filepath.Join(base, "current"))
		}, "/static/a.css", "two"},
		{func() { os.RemoveAll(filepath.Join(base, "two")); write("two/a.css", "rebuilt") }, "/static/a.css", "rebuilt"},
		{func() { os.RemoveAll(filepath.Join(base, "two")) }, "/static/a.css", "(app)"},
		{func() {}, "/favicon.ico", "icon one"},
		{func() {}, "/favicon.ico/", "(app)"},
		{func() {}, "/favicon.ico/x", "(app)"},
		{func() {
			write("new.ico", "icon two")
			os.Rename(filepath.Join(base, "new.ico"), filepath.Join(base, "favicon.ico"))
		},
			"/favicon.ico", "icon two"},
	}
	for i, st := range steps {
		st.do()
		if got := get(st.target); got != st.want {
			t.Errorf("step %d: GET %s = %q, want %q", i, st.target, got, st.want)
		}
	}
}
