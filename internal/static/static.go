// Package static serves files for --static-map without calling Python: it
// matches request paths against URL prefixes, resolves them safely inside
// the mapped directories, picks precompressed .br/.gz siblings from
// Accept-Encoding, and answers through http.ServeContent (Range, 304,
// HEAD). It owns the rules for which paths may be served and which fall
// through to the app.
package static

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Mapping serves the files under Dir at the URL prefix Prefix: with
// Prefix "/static", the path "/static/css/a.css" is Dir/css/a.css.
// Prefix "/" maps every path. Prefix is compared byte for byte with the
// paths given to Match and Serve, so it may be any absolute path: an
// X-Sendfile mapping is a directory mapped onto its own file path,
// spaces and all. ParseMapping, for URL prefixes, is the stricter one.
type Mapping struct {
	Prefix string
	Dir    string
	// Source names the mapping in errors: the option and the value its
	// user gave ("--check-static /srv/www"). Empty, errors name Prefix=Dir.
	Source string
}

// Options configures a Handler. The zero value serves nothing.
type Options struct {
	// Maps are tried in order, as uWSGI does: the first mapping whose
	// prefix matches and whose directory holds the file serves it, so two
	// mappings may share a prefix to overlay directories.
	Maps []Mapping

	// Index names the files tried, in order, for a request naming a
	// directory (--static-index). Each is a plain file name. With none,
	// directories are never served and never listed.
	Index []string

	// Expires, when positive, adds "Cache-Control: public, max-age=N"
	// and an Expires header N seconds ahead to every file served whose
	// response has neither header yet (an app answering with X-Sendfile
	// may have set its own, "private" say, which must stand).
	Expires time.Duration

	// Precompressed serves FILE.br or FILE.gz in place of FILE when the
	// sibling exists and Accept-Encoding allows its coding.
	Precompressed bool

	// SkipExt names endings (".py") of files never served: their requests
	// go to the app, as if the file were not there (--static-skip-ext).
	SkipExt []string

	// ExpiresRules (uWSGI's static-expires*) set the expiry of the files
	// they match, in place of Expires.
	ExpiresRules []ExpiresRule

	// Safe names directories a symlink in a mapped directory may lead
	// into (uWSGI's static-safe): Django's collectstatic --link makes
	// STATIC_ROOT links into each app's static directory, and a Debian
	// package's files are links into /usr/share.
	Safe []string

	// Log, when set, is told of a file that could not be opened for a
	// reason of the server's (out of descriptors, an I/O error), which
	// is answered 500; nil says nothing.
	Log *slog.Logger
}

// ParseMapping parses a --static-map value "URL=DIR" (uWSGI's syntax);
// option names the option it came from, for errors. The prefix is cleaned
// and DIR is made absolute; neither is checked against the file system
// here (New does that).
func ParseMapping(option, s string) (Mapping, error) {
	prefix, dir, ok := strings.Cut(s, "=")
	if !ok || !strings.HasPrefix(prefix, "/") || dir == "" {
		return Mapping{}, fmt.Errorf("static: --%s %q: want /URL-PREFIX=DIR", option, s)
	}
	prefix = path.Clean(prefix)
	// Match compares raw request bytes and Serve decoded ones; a URL
	// prefix that reads the same both ways keeps the two in agreement.
	if (&url.URL{Path: prefix}).EscapedPath() != prefix {
		return Mapping{}, fmt.Errorf("static: --%s %q: the prefix must not need percent-encoding", option, s)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return Mapping{}, fmt.Errorf("static: --%s %q: %w", option, s, err)
	}
	return Mapping{Prefix: prefix, Dir: abs, Source: "--" + option + " " + s}, nil
}

// Handler serves static files. Its methods are safe for concurrent use.
// A nil *Handler matches nothing.
type Handler struct {
	maps          []*source
	safe          []safeDir
	missing       []string // the options whose directory does not exist, as given
	index         []string
	expires       time.Duration
	cacheControl  string
	precompressed bool
	skipExt       []string
	rules         []ExpiresRule
	log           *slog.Logger
}

// mapping is a Mapping made ready to serve: prefix has no trailing slash
// ("" for "/"), and root is the directory (symlinks of Dir itself
// resolved) opened as an os.Root, which refuses any open that would
// leave it, symlinks included, without a check-then-open race. A Mapping
// of one file (uWSGI's "--static-map /favicon.ico=DIR/favicon.ico")
// opens the file's directory and serves the file alone, at the prefix.
type mapping struct {
	prefix string
	dir    string
	root   *os.Root
	file   string    // a mapping of one file: its name in dir
	safe   []safeDir // shared by every mapping of the handler
	id     fileID    // what dir (or file) was when opened
}

// fileID tells a directory or file from another put at the same path.
type fileID struct{ dev, ino uint64 }

// source is one Mapping as the handler keeps it: its directory as last
// opened (nil while it does not exist), looked at again at most every
// relookEvery as requests come. So a directory made after the start (a
// first collectstatic), or replaced on disk (an rm -rf and a rebuild, a
// deploy switching a "current" symlink), serves its files without a
// reload, as uWSGI's paths do.
type source struct {
	m      Mapping
	prefix string // as mappings hold it
	safe   []safeDir
	cur    atomic.Pointer[mapping]
	next   atomic.Int64 // unix ns of the next look
	mu     sync.Mutex   // one look at a time
}

// relookEvery is how often at most a source looks at its directory again.
var relookEvery = time.Second

// retireAfter is how long a replaced directory's root stays open for the
// requests that took it before the switch.
var retireAfter = time.Minute

// current is the source's mapping now: nil while its directory is missing.
func (s *source) current(now time.Time) *mapping {
	if ns := now.UnixNano(); ns >= s.next.Load() && s.mu.TryLock() {
		if ns >= s.next.Load() {
			s.relook()
			s.next.Store(ns + int64(relookEvery))
		}
		s.mu.Unlock()
	}
	return s.cur.Load()
}

// relook opens the directory again when its path leads elsewhere than
// the one open, or nowhere now. An error other than its absence keeps
// what is open: a passing EACCES must not take the files away.
func (s *source) relook() {
	old := s.cur.Load()
	real, id, err := identify(s.m.Dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		s.cur.Store(nil)
	case err != nil:
		return
	case old != nil && id == old.id && real == filepath.Join(old.dir, old.file):
		return
	default:
		m, err := openMapping(s.m)
		if err != nil {
			return
		}
		m.safe = s.safe
		s.cur.Store(&m)
	}
	if old != nil {
		time.AfterFunc(retireAfter, func() { old.root.Close() })
	}
}

// identify resolves path's symlinks and says what it leads to.
func identify(path string) (string, fileID, error) {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", fileID{}, err
	}
	if real, err = filepath.Abs(real); err != nil {
		return "", fileID{}, err
	}
	fi, err := os.Stat(real)
	if err != nil {
		return "", fileID{}, err
	}
	st, _ := fi.Sys().(*syscall.Stat_t)
	if st == nil {
		return real, fileID{}, nil
	}
	return real, fileID{dev: uint64(st.Dev), ino: st.Ino}, nil
}

// safeDir is a --static-safe directory, opened as the mapped ones are.
type safeDir struct {
	dir  string
	root *os.Root
}

// New validates o and opens every mapped directory; one that does not
// exist yet is served once it does (see source).
func New(o Options) (*Handler, error) {
	h := &Handler{
		index:         o.Index,
		expires:       o.Expires,
		precompressed: o.Precompressed,
		skipExt:       o.SkipExt,
		rules:         o.ExpiresRules,
		log:           o.Log,
	}
	if o.Expires > 0 {
		h.cacheControl = "public, max-age=" + strconv.FormatInt(int64(o.Expires/time.Second), 10)
	}
	for _, name := range o.Index {
		if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\\\x00") {
			return nil, fmt.Errorf("static: --static-index %q: want a plain file name", name)
		}
	}
	for _, d := range o.Safe {
		dir, err := realDir(d)
		if errors.Is(err, fs.ErrNotExist) {
			// As uWSGI: a path gone stale (a Python version's
			// site-packages after an upgrade) is skipped, and said.
			h.missing = append(h.missing, "--static-safe "+d)
			continue
		}
		if err == nil {
			var root *os.Root
			if root, err = os.OpenRoot(dir); err == nil {
				h.safe = append(h.safe, safeDir{dir: dir, root: root})
				continue
			}
		}
		h.Close()
		return nil, fmt.Errorf("static: --static-safe %s: %w", d, err)
	}
	next := time.Now().Add(relookEvery).UnixNano()
	for _, m := range o.Maps {
		if !strings.HasPrefix(m.Prefix, "/") {
			h.Close()
			return nil, fmt.Errorf("static: prefix %q: must start with /", m.Prefix)
		}
		src := &source{m: m, prefix: strings.TrimSuffix(path.Clean(m.Prefix), "/"), safe: h.safe}
		src.next.Store(next)
		h.maps = append(h.maps, src)
		mm, err := openMapping(m)
		if errors.Is(err, fs.ErrNotExist) {
			// As uWSGI: its URLs go to the app until it exists. A Django
			// site's static-map to a STATIC_ROOT that collectstatic has
			// not made yet must not keep the site from starting.
			h.missing = append(h.missing, mappingName(m))
			continue
		}
		if err != nil {
			h.Close()
			return nil, err
		}
		mm.safe = h.safe
		src.cur.Store(&mm)
	}
	return h, nil
}

// Missing names the --static-safe directories and the mappings whose
// directory does not exist ("--static-map /static=DIR"): skipped, for the
// caller to say so.
func (h *Handler) Missing() []string { return h.missing }

// realDir is dir with its symlinks resolved, absolute.
func realDir(dir string) (string, error) {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", err
	}
	return filepath.Abs(real)
}

// mappingName is how errors name m: the option as given.
func mappingName(m Mapping) string {
	if m.Source != "" {
		return m.Source
	}
	return m.Prefix + "=" + m.Dir
}

func openMapping(m Mapping) (mapping, error) {
	if !strings.HasPrefix(m.Prefix, "/") {
		return mapping{}, fmt.Errorf("static: prefix %q: must start with /", m.Prefix)
	}
	prefix := strings.TrimSuffix(path.Clean(m.Prefix), "/")
	name := mappingName(m)
	dir, err := filepath.EvalSymlinks(m.Dir)
	if err != nil {
		return mapping{}, fmt.Errorf("static: %s: %w", name, err)
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return mapping{}, fmt.Errorf("static: %s: %w", name, err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return mapping{}, fmt.Errorf("static: %s: %w", name, err)
	}
	file := ""
	switch {
	case fi.Mode().IsRegular():
		dir, file = filepath.Dir(dir), filepath.Base(dir)
	case !fi.IsDir():
		return mapping{}, fmt.Errorf("static: %s: neither a directory nor a file", name)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return mapping{}, fmt.Errorf("static: %s: %w", name, err)
	}
	mm := mapping{prefix: prefix, dir: dir, root: root, file: file}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		mm.id = fileID{dev: uint64(st.Dev), ino: st.Ino}
	}
	return mm, nil
}

// skipped reports whether rel ends with one of the SkipExt endings.
func (h *Handler) skipped(rel string) bool {
	for _, ext := range h.skipExt {
		if strings.HasSuffix(rel, ext) {
			return true
		}
	}
	return false
}

// Close releases the mapped directories. Serve must not be called after.
func (h *Handler) Close() error {
	if h == nil {
		return nil
	}
	var errs []error
	for _, src := range h.maps {
		if m := src.cur.Swap(nil); m != nil {
			if err := m.root.Close(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	for _, s := range h.safe {
		if err := s.root.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	h.maps = nil
	return errors.Join(errs...)
}

// Match reports whether path, the raw (undecoded) path of the request
// target without its query, lies under a mapped prefix. It makes no
// system calls and does not allocate: it runs for every request.
// A percent-encoded prefix ("/st%61tic/") does not match and so goes to
// the app, which is safe: the app decides what to do with it.
func (h *Handler) Match(path []byte) bool {
	if h == nil {
		return false
	}
	for _, src := range h.maps {
		if _, ok := cutPrefix(path, src.prefix); ok {
			return true
		}
	}
	return false
}

// cutPrefix reports whether p is prefix or lies below it, and returns the
// rest ("" or starting with '/').
func cutPrefix(p []byte, prefix string) ([]byte, bool) {
	n := len(prefix)
	if len(p) < n || string(p[:n]) != prefix || len(p) > n && p[n] != '/' || len(p) == 0 {
		return nil, false
	}
	return p[n:], true
}

// cutPrefixString is cutPrefix for a decoded path.
func cutPrefixString(p, prefix string) (string, bool) {
	n := len(prefix)
	if len(p) < n || p[:n] != prefix || len(p) > n && p[n] != '/' || len(p) == 0 {
		return "", false
	}
	return p[n:], true
}
