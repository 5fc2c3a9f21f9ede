package static

import (
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ServeHTTP serves r like Serve, answering 404 where Serve would hand the
// request to the app and 405 for methods other than GET and HEAD.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.Serve(w, r) {
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		answer(w, http.StatusMethodNotAllowed)
		return
	}
	answer(w, http.StatusNotFound)
}

// Serve answers r from the mapped directories and reports whether it did.
// It returns false, having written nothing, when the app should have the
// request instead, as uWSGI would give it: the method is not GET or HEAD
// (an app may accept POST under /static), no mapping matches, or no
// mapping holds a file for the path (a directory without an index file
// counts as no file). It returns true for a file (200, 206, 304, 412,
// 416), a redirect from a directory to its slash form, and a refusal:
// 403 for a symlink leading out of the directory, and for anything but a
// regular file or directory. A path whose ".." climbs above a mapping's
// directory, or with a NUL byte, names no file there (see cleanRel).
// Every answer carries a Content-Length, so the connection stays usable.
//
// Serve reads r.URL.Path, which the caller must have percent-decoded
// exactly once (as url.ParseRequestURI does); it never decodes again, so
// "%252e%252e" names a file called "%2e%2e".
func (h *Handler) Serve(w http.ResponseWriter, r *http.Request) (served bool) {
	return h.serve(w, r, false)
}

// ServeNamed is Serve for a path the app named (X-Sendfile,
// X-Accel-Redirect) rather than one the client asked for. A directory
// named without its trailing slash counts as no file instead of being
// redirected: the client never saw that path, so a relative Location
// would resolve against the app's URL.
func (h *Handler) ServeNamed(w http.ResponseWriter, r *http.Request) (served bool) {
	return h.serve(w, r, true)
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, named bool) bool {
	if h == nil || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		return false
	}
	var now time.Time
	for _, src := range h.maps {
		rest, ok := cutPrefixString(r.URL.Path, src.prefix)
		if !ok {
			continue
		}
		if now.IsZero() {
			now = time.Now()
		}
		m := src.current(now)
		if m == nil {
			continue // (its directory does not exist)
		}
		rel, dirForm, ok := cleanRel(rest)
		if !ok {
			continue // no file of this mapping's (see cleanRel)
		}
		if m.file != "" {
			if rel != "." || dirForm {
				continue // a file's mapping serves it at its prefix alone
			}
			rel = m.file
		}
		if h.serveFrom(w, r, m, rel, dirForm, named) {
			return true
		}
	}
	return false
}

// serveFrom serves rel from one mapping; false means it holds no file.
func (h *Handler) serveFrom(w http.ResponseWriter, r *http.Request, m *mapping, rel string, dirForm, named bool) bool {
	if h.skipped(rel) {
		return false
	}
	f, fi, res, err := m.open(rel)
	switch {
	case res == missing:
		return false
	case res != found:
		h.refuse(w, r, m, rel, res, err)
		return true
	case fi.IsDir():
		f.Close()
		if named && !dirForm {
			return false
		}
		return h.serveIndex(w, r, m, rel, dirForm)
	case dirForm:
		// "a.css/" names a directory that is not there.
		f.Close()
		return false
	}
	h.serveFile(w, r, m, rel, f, fi)
	return true
}

// serveIndex serves the first Index file of directory rel. A request
// without the trailing slash is redirected to it first, so that relative
// links in the index page resolve inside the directory.
func (h *Handler) serveIndex(w http.ResponseWriter, r *http.Request, m *mapping, rel string, dirForm bool) bool {
	for _, name := range h.index {
		irel := path.Join(rel, name)
		if h.skipped(irel) {
			continue
		}
		f, fi, res, err := m.open(irel)
		switch {
		case res == missing:
			continue
		case res != found:
			h.refuse(w, r, m, irel, res, err)
			return true
		case fi.IsDir():
			f.Close()
			continue
		case !dirForm:
			f.Close()
			redirectToDir(w, r)
			return true
		}
		h.serveFile(w, r, m, irel, f, fi)
		return true
	}
	return false
}

// serveFile answers with the open regular file f (or its precompressed
// sibling) through http.ServeContent, and closes f. Headers already in
// w's map are the app's (X-Sendfile, X-Accel-Redirect): its
// Content-Type, ETag and caching headers are kept, as nginx and Apache
// keep them, since an app that set "private" or a safe type for an upload
// means it.
func (h *Handler) serveFile(w http.ResponseWriter, r *http.Request, m *mapping, rel string, f *os.File, fi os.FileInfo) {
	defer f.Close()
	hdr := w.Header()
	ctype := hdr.Get("Content-Type")
	if ctype == "" {
		ctype = contentType(rel)
		hdr.Set("Content-Type", ctype)
	}
	body, bfi, suffix := f, fi, ""
	length := fi.Size()
	if h.precompressed {
		vf, vfi, c, vary := variant(m, rel, r.Header["Accept-Encoding"])
		if vary {
			addVary(hdr, "Accept-Encoding")
		}
		if vf != nil {
			defer vf.Close()
			hdr.Set("Content-Encoding", c.name)
			body, bfi, suffix, length = vf, vfi, c.suffix, vfi.Size()
		}
	}
	switch tag := hdr.Get("Etag"); {
	case tag == "":
		hdr.Set("Etag", etag(bfi, suffix))
	case suffix != "":
		// The app's tag names its file; the precompressed body is another
		// representation, which a strong validator must tell apart (RFC
		// 9110 §8.8.3), or a resumed download would mix the two.
		hdr.Set("Etag", variantTag(tag, suffix, bfi))
	}
	if hdr.Get("Cache-Control") == "" && hdr.Get("Expires") == "" {
		h.setCaching(hdr, r, m, rel, ctype, fi.ModTime())
	}
	if suffix != "" && multipleRanges(r.Header.Get("Range")) {
		// A multipart answer under Content-Encoding would claim the
		// multipart body compressed, which only its parts' bytes are
		// (curl --compressed fails on it): the whole file goes out, as
		// nginx's gzip_static sends it. One range is a slice of the
		// compressed file, which clients resume downloads with.
		r2 := *r
		r2.Header = r.Header.Clone()
		r2.Header.Del("Range")
		r = &r2
	}
	r = withRange(r, bfi.Size())
	fw := &fileWriter{ResponseWriter: w, length: length, size: bfi.Size()}
	http.ServeContent(fw, r, path.Base(rel), bfi.ModTime(), body)
}

// variant opens the best precompressed sibling of rel that Accept-Encoding
// allows, if any; vary reports that rel has a sibling at all, so its
// responses depend on Accept-Encoding whichever is sent.
func variant(m *mapping, rel string, accept []string) (f *os.File, fi os.FileInfo, c *coding, vary bool) {
	order, n := preference(acceptQ(accept))
	var tried [len(codings)]bool
	for _, i := range order[:n] {
		tried[i] = true
		f, fi, res, _ := m.open(rel + codings[i].ext)
		if res != found {
			continue
		}
		if fi.Mode().IsRegular() {
			return f, fi, &codings[i], true
		}
		f.Close()
	}
	for i := range codings {
		if tried[i] {
			continue
		}
		if fi, err := m.stat(rel + codings[i].ext); err == nil && fi.Mode().IsRegular() {
			return nil, nil, nil, true
		}
	}
	return nil, nil, nil, false
}

// lookup is the outcome of opening a path in a mapping.
type lookup int

const (
	found   lookup = iota // a regular file or a directory
	missing               // the app may have it
	refused               // 403
	failed                // 500: the open failed for a reason of the server's (see serverFault)
)

// refuse answers a file that is there but cannot be served: 403, or 500
// (said in the log) when the server could not open it.
func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, m *mapping, rel string, res lookup, err error) {
	if res == failed {
		if h.log != nil {
			h.log.Error("static: cannot open the file; answered 500", "path", r.URL.Path,
				"file", filepath.Join(m.dir, filepath.FromSlash(rel)), "err", err)
		}
		answer(w, http.StatusInternalServerError)
		return
	}
	answer(w, http.StatusForbidden)
}

// open opens name inside the mapping. O_NONBLOCK keeps a FIFO planted in
// the directory from blocking the open (it is then refused by type). err
// is the open's failure, for a lookup other than found.
func (m *mapping) open(name string) (*os.File, os.FileInfo, lookup, error) {
	const flags = os.O_RDONLY | syscall.O_NONBLOCK
	f, err := m.root.OpenFile(name, flags, 0)
	if err != nil && !isMissing(err) {
		switch root, inside, res := m.resolve(name); res {
		case found:
			f, err = root.OpenFile(inside, flags, 0)
		case missing:
			err = fs.ErrNotExist
		}
	}
	if err != nil {
		if isMissing(err) {
			return nil, nil, missing, err
		}
		if serverFault(err) {
			return nil, nil, failed, err
		}
		return nil, nil, refused, err
	}
	fi, err := f.Stat()
	if err != nil || !(fi.IsDir() || fi.Mode().IsRegular()) {
		f.Close()
		return nil, nil, refused, err
	}
	return f, fi, found, nil
}

// stat is os.Root's Stat with open's fallback.
func (m *mapping) stat(name string) (os.FileInfo, error) {
	fi, err := m.root.Stat(name)
	if err != nil && !isMissing(err) {
		switch root, inside, res := m.resolve(name); res {
		case found:
			fi, err = root.Stat(inside)
		case missing:
			err = fs.ErrNotExist
		}
	}
	return fi, err
}

// resolve is the second try for a name os.Root refused. os.Root follows
// only relative symlinks that never step out of it, so it refuses links
// that end inside the directory by an absolute path or by way of its
// parent ("../static/a.css"), which deploy tools make and uWSGI and
// nginx serve. resolve follows every symlink with EvalSymlinks and
// returns the result relative to the directory, when it lies inside, or
// to a --static-safe directory it lies in, with that one's root. The
// caller opens that through the root again, so a link swapped in between
// the two steps still cannot lead out: the race costs a 403 at worst,
// never a file from outside. A name that does not exist, in a directory
// that resolves to an allowed place (a link to a --static-safe package
// directory, missing.css in it), is missing: its request goes to the app.
func (m *mapping) resolve(name string) (*os.Root, string, lookup) {
	path := filepath.Join(m.dir, filepath.FromSlash(name))
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, "", refused
		}
		for dir := filepath.Dir(path); len(dir) >= len(m.dir); dir = filepath.Dir(dir) {
			if real, err := filepath.EvalSymlinks(dir); err == nil {
				if root, _ := m.allowed(real); root != nil {
					return nil, "", missing
				}
				return nil, "", refused
			}
		}
		return nil, "", refused
	}
	if root, rel := m.allowed(target); root != nil {
		return root, rel, found
	}
	return nil, "", refused
}

// allowed returns the root a real path lies in (the mapped directory's or
// a --static-safe one's) and the path relative to it; nil if none.
func (m *mapping) allowed(real string) (*os.Root, string) {
	if rel, err := filepath.Rel(m.dir, real); err == nil && filepath.IsLocal(rel) {
		return m.root, rel
	}
	for _, s := range m.safe {
		if rel, err := filepath.Rel(s.dir, real); err == nil && filepath.IsLocal(rel) {
			return s.root, rel
		}
	}
	return nil, ""
}

// serverFault reports whether an open failed for a reason of the
// server's rather than the file's: out of descriptors or memory, an I/O
// error. It was a silent 403, which sent the operator looking for a
// permission problem (Django's admin assets, a directory deeper, failed
// first); nginx answers these 500 and logs them.
func serverFault(err error) bool {
	for _, e := range []error{syscall.EMFILE, syscall.ENFILE, syscall.ENOMEM, syscall.EIO, syscall.ENOBUFS} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// isMissing reports whether an open failed for want of a file, so the app
// may have the path, rather than for a reason that deserves a 403.
func isMissing(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.ENAMETOOLONG)
}

// etag is a strong validator from the modification time and size:
// "<hex unix nanoseconds>-<hex size><suffix>".
func etag(fi os.FileInfo, suffix string) string {
	b := make([]byte, 0, 40)
	b = append(b, '"')
	b = strconv.AppendInt(b, fi.ModTime().UnixNano(), 16)
	b = append(b, '-')
	b = strconv.AppendInt(b, fi.Size(), 16)
	b = append(b, suffix...)
	b = append(b, '"')
	return string(b)
}

// variantTag is the app's entity tag for a precompressed variant: the tag
// with the coding's suffix inside its quotes ("v7" becomes "v7-gz"), or
// the variant's own tag when the app's is not a quoted one.
func variantTag(tag, suffix string, fi os.FileInfo) string {
	if len(tag) < 2 || tag[len(tag)-1] != '"' {
		return etag(fi, suffix)
	}
	return tag[:len(tag)-1] + suffix + `"`
}

// redirectToDir answers a directory requested without its trailing slash.
// The Location is relative ("./name/") so that it holds behind any
// SCRIPT_NAME or proxy prefix, and keeps the request's own escaping.
func redirectToDir(w http.ResponseWriter, r *http.Request) {
	loc := "./" + path.Base(r.URL.EscapedPath()) + "/"
	if r.URL.RawQuery != "" {
		loc += "?" + escapeCTL(r.URL.RawQuery)
	}
	w.Header().Set("Location", loc)
	answer(w, http.StatusMovedPermanently)
}

// escapeCTL percent-encodes the control bytes of a query kept in a
// redirect. Over uwsgi the query is the gateway's QUERY_STRING, which no
// HTTP parser has checked: a CR LF in it would end the Location field and
// start one of the client's choosing.
func escapeCTL(q string) string {
	var b []byte
	for i := 0; i < len(q); i++ {
		if c := q[i]; c < 0x20 || c == 0x7f {
			if b == nil {
				b = append(make([]byte, 0, len(q)+8), q[:i]...)
			}
			b = append(b, '%', "0123456789ABCDEF"[c>>4], "0123456789ABCDEF"[c&15])
		} else if b != nil {
			b = append(b, c)
		}
	}
	if b == nil {
		return q
	}
	return string(b)
}

// answer writes a short plain-text status page: every status this
// package chooses itself (ServeContent chooses the rest) goes through it.
// Unlike http.Error it gives the length, which keeps a keep-alive
// connection open (a body without one ends at close).
func answer(w http.ResponseWriter, code int) {
	body := strconv.Itoa(code) + " " + http.StatusText(code) + "\n"
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	io.WriteString(w, body)
}

// addVary adds field to the response's Vary, keeping what the app put
// there (Django's sessions add Cookie to a permission-checked download):
// a shared cache must tell apart everything the response depends on.
func addVary(hdr http.Header, field string) {
	vals := hdr.Values("Vary")
	for _, v := range vals {
		for f := range strings.SplitSeq(v, ",") {
			if f = strings.TrimSpace(f); f == "*" || strings.EqualFold(f, field) {
				return
			}
		}
	}
	if len(vals) > 0 {
		field = strings.Join(vals, ", ") + ", " + field
	}
	hdr.Set("Vary", field)
}

// fileWriter adjusts what ServeContent writes: it adds the Content-Length
// that ServeContent leaves out of a 200 with a Content-Encoding (a
// precompressed sibling's, or one the app gave an X-Sendfile answer; carafe
// never chunks static files, and the uwsgi protocol cannot), and replaces
// ServeContent's error answers (412, 416), which come without a length,
// by answer's, without the caching headers and, for a 416, with the
// Content-Range RFC 9110 asks for. It keeps io.ReaderFrom visible so that
// the copy of the file still reaches sendfile.
type fileWriter struct {
	http.ResponseWriter
	length int64 // Content-Length of the whole body
	size   int64 // size of the file sent, for a 416's Content-Range
	own    bool  // answer wrote the response: ServeContent's body is dropped
}

func (w *fileWriter) WriteHeader(code int) {
	h := w.Header()
	if code < 400 {
		if code == http.StatusOK && h.Get("Content-Length") == "" {
			h.Set("Content-Length", strconv.FormatInt(w.length, 10))
		}
		w.ResponseWriter.WriteHeader(code)
		return
	}
	h.Del("Cache-Control")
	h.Del("Expires")
	h.Del("Content-Encoding") // answer's text is not the precompressed file
	if code == http.StatusRequestedRangeNotSatisfiable && h.Get("Content-Range") == "" {
		h.Set("Content-Range", "bytes */"+strconv.FormatInt(w.size, 10))
	}
	w.own = true
	answer(w.ResponseWriter, code)
}

func (w *fileWriter) Write(p []byte) (int, error) {
	if w.own {
		return len(p), nil
	}
	return w.ResponseWriter.Write(p)
}

func (w *fileWriter) ReadFrom(src io.Reader) (int64, error) {
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(src)
	}
	return io.Copy(w.ResponseWriter, src)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *fileWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
