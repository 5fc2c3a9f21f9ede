package static

import (
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"strconv"
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
// 403 for a path with "..", NUL or a backslash, for a symlink leading
// out of the directory, and for anything but a regular file or directory.
//
// Serve reads r.URL.Path, which the caller must have percent-decoded
// exactly once (as url.ParseRequestURI does); it never decodes again, so
// "%252e%252e" names a file called "%2e%2e".
func (h *Handler) Serve(w http.ResponseWriter, r *http.Request) (served bool) {
	if h == nil || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		return false
	}
	for i := range h.maps {
		m := &h.maps[i]
		rest, ok := cutPrefixString(r.URL.Path, m.prefix)
		if !ok {
			continue
		}
		rel, dirForm, ok := cleanRel(rest)
		if !ok {
			answer(w, http.StatusForbidden)
			return true
		}
		if h.serveFrom(w, r, m, rel, dirForm) {
			return true
		}
	}
	return false
}

// serveFrom serves rel from one mapping; false means it holds no file.
func (h *Handler) serveFrom(w http.ResponseWriter, r *http.Request, m *mapping, rel string, dirForm bool) bool {
	if h.skipped(rel) {
		return false
	}
	f, fi, res := open(m.root, rel)
	switch {
	case res == missing:
		return false
	case res == refused:
		answer(w, http.StatusForbidden)
		return true
	case fi.IsDir():
		f.Close()
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
		f, fi, res := open(m.root, irel)
		switch {
		case res == missing:
			continue
		case res == refused:
			answer(w, http.StatusForbidden)
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
// sibling) through http.ServeContent, and closes f.
func (h *Handler) serveFile(w http.ResponseWriter, r *http.Request, m *mapping, rel string, f *os.File, fi os.FileInfo) {
	defer f.Close()
	hdr := w.Header()
	ctype := contentType(rel)
	body, bfi, suffix := f, fi, ""
	var length int64 = -1
	if h.precompressed {
		vf, vfi, c, vary := variant(m.root, rel, r.Header["Accept-Encoding"])
		if vary {
			hdr.Set("Vary", "Accept-Encoding")
		}
		if vf != nil {
			defer vf.Close()
			if ctype == "" {
				// ServeContent would sniff the compressed bytes.
				ctype = sniff(f)
			}
			hdr.Set("Content-Encoding", c.name)
			body, bfi, suffix, length = vf, vfi, c.suffix, vfi.Size()
		}
	}
	if ctype != "" {
		hdr.Set("Content-Type", ctype)
	}
	hdr.Set("Etag", etag(bfi, suffix))
	caching := false
	if at, age, ok := h.expiry(r, m, rel, ctype, fi.ModTime()); ok {
		caching = true
		hdr.Set("Cache-Control", "public, max-age="+strconv.FormatInt(int64(age/time.Second), 10))
		hdr.Set("Expires", at.UTC().Format(http.TimeFormat))
	} else if h.expires > 0 {
		caching = true
		hdr.Set("Cache-Control", h.cacheControl)
		hdr.Set("Expires", time.Now().Add(h.expires).UTC().Format(http.TimeFormat))
	}
	if length >= 0 || caching {
		w = &fileWriter{ResponseWriter: w, length: length}
	}
	http.ServeContent(w, r, path.Base(rel), bfi.ModTime(), body)
}

// variant opens the best precompressed sibling of rel that Accept-Encoding
// allows, if any; vary reports that rel has a sibling at all, so its
// responses depend on Accept-Encoding whichever is sent.
func variant(root *os.Root, rel string, accept []string) (f *os.File, fi os.FileInfo, c *coding, vary bool) {
	order, n := preference(acceptQ(accept))
	var tried [len(codings)]bool
	for _, i := range order[:n] {
		tried[i] = true
		f, fi, res := open(root, rel+codings[i].ext)
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
		if fi, err := root.Stat(rel + codings[i].ext); err == nil && fi.Mode().IsRegular() {
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
)

// open opens name inside root. os.Root follows symlinks that stay inside
// root and fails on any that leave it; O_NONBLOCK keeps a FIFO planted in
// the directory from blocking the open (it is then refused by type).
func open(root *os.Root, name string) (*os.File, os.FileInfo, lookup) {
	f, err := root.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.ENAMETOOLONG) {
			return nil, nil, missing
		}
		return nil, nil, refused
	}
	fi, err := f.Stat()
	if err != nil || !(fi.IsDir() || fi.Mode().IsRegular()) {
		f.Close()
		return nil, nil, refused
	}
	return f, fi, found
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

func sniff(f *os.File) string {
	var buf [512]byte
	n, _ := f.ReadAt(buf[:], 0)
	return http.DetectContentType(buf[:n])
}

// redirectToDir answers a directory requested without its trailing slash.
// The Location is relative ("./name/") so that it holds behind any
// SCRIPT_NAME or proxy prefix, and keeps the request's own escaping.
func redirectToDir(w http.ResponseWriter, r *http.Request) {
	loc := "./" + path.Base(r.URL.EscapedPath()) + "/"
	if r.URL.RawQuery != "" {
		loc += "?" + r.URL.RawQuery
	}
	w.Header().Set("Location", loc)
	answer(w, http.StatusMovedPermanently)
}

// answer writes a short plain-text status page: every status this
// package chooses itself (ServeContent chooses the rest) goes through it.
func answer(w http.ResponseWriter, code int) {
	http.Error(w, strconv.Itoa(code)+" "+http.StatusText(code), code)
}

// fileWriter adjusts what ServeContent writes: it adds the Content-Length
// that ServeContent leaves out of a 200 with a Content-Encoding (carafe
// never chunks static files, and the uwsgi protocol cannot), and drops
// the caching headers from error answers (ServeContent drops them only
// from some). It keeps io.ReaderFrom visible so that the
// copy of the file still reaches sendfile.
type fileWriter struct {
	http.ResponseWriter
	length int64 // Content-Length of the whole body, or -1
}

func (w *fileWriter) WriteHeader(code int) {
	h := w.Header()
	switch {
	case code == http.StatusOK && w.length >= 0 && h.Get("Content-Length") == "":
		h.Set("Content-Length", strconv.FormatInt(w.length, 10))
	case code >= 400:
		h.Del("Cache-Control")
		h.Del("Expires")
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *fileWriter) ReadFrom(src io.Reader) (int64, error) {
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(src)
	}
	return io.Copy(w.ResponseWriter, src)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *fileWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
