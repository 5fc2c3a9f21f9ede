package static

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// secret is the content of every file outside the mapped directory; no
// response may ever contain it.
const secret = "SECRET-OUTSIDE-DIR"

// mtime is given to every fixture file so headers are predictable.
var mtime = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// bigText is 1000 bytes whose offsets are easy to check in Range tests.
var bigText = strings.Repeat("0123456789", 100)

// fixture lays out, under a temporary directory:
//
//	secret.txt, secretdir/secret.txt   outside every mapping
//	static/                            mapped at /static
//	static2/                           mapped at /static too, tried second
//	static/testdata-files              see the map below
//	static/out, abs, outdir            symlinks leading out of static/
//	static/absin, absdir, viaparent    symlinks that end inside static/ by
//	                                   an absolute path or by way of ..
//	static/fifo                        a named pipe
//
// and returns the base directory.
func fixture(t testing.TB) string {
	t.Helper()
	base := t.TempDir()
	files := map[string]string{
		"secret.txt":               secret,
		"secretdir/secret.txt":     secret,
		"static/a.css":             "body{color:red}\n",
		"static/big.txt":           bigText,
		"static/app.js":            strings.Repeat("console.log(1);\n", 20),
		"static/app.js.br":         "BROTLI-BYTES",
		"static/app.js.gz":         "GZIP-BYTES",
		"static/only.css":          strings.Repeat("p{}\n", 30),
		"static/only.css.gz":       "GZ-ONLY",
		"static/noext":             "plain words, nothing binary\n",
		"static/sniffed":           "<!DOCTYPE html><html><body>hi</body></html>",
		"static/sniffed.gz":        "GZ-OF-HTML",
		"static/sub/index.html":    "<h1>index</h1>\n",
		"static/sub/index.html.gz": "GZ-INDEX",
		"static/empty/.keep":       "",
		"static/lit/%2e%2e":        "literal percent name\n",
		"static/UPPER.PNG":         "\x89PNG\r\n\x1a\n",
		"static/zero.txt":          "",
		"static2/extra.txt":        "from the second directory\n",
	}
	for name, body := range files {
		p := filepath.Join(base, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		"static/out":       "../secret.txt",
		"static/abs":       filepath.Join(base, "secret.txt"),
		"static/outdir":    "../secretdir",
		"static/in":        "a.css",
		"static/insub":     "sub",
		"static/broken":    "nowhere.txt",
		"static/absin":     filepath.Join(base, "static", "a.css"),
		"static/absdir":    filepath.Join(base, "static", "sub"),
		"static/viaparent": "../static/a.css",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(base, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(filepath.Join(base, "static", "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	return base
}

// newHandler builds a Handler over a fresh fixture, serving static/ and
// then static2/ at /static, with the given options on top.
func newHandler(t testing.TB, o Options) (*Handler, string) {
	t.Helper()
	base := fixture(t)
	if o.Maps == nil {
		o.Maps = []Mapping{
			{Prefix: "/static", Dir: filepath.Join(base, "static")},
			{Prefix: "/static", Dir: filepath.Join(base, "static2")},
		}
	}
	h, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h, base
}

// do runs one request through Serve and returns whether it was served.
func do(h *Handler, method, target string, hdr ...string) (bool, *httptest.ResponseRecorder) {
	r := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Add(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	return h.Serve(w, r), w
}

// etagOf is the ETag the handler gives a fixture file of n bytes.
func etagOf(n int, suffix string) string {
	return fmt.Sprintf(`"%x-%x%s"`, mtime.UnixNano(), n, suffix)
}

var lastModified = mtime.Format(http.TimeFormat)
