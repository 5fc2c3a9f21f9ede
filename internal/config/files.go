package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// EnvFiles names the variable in which a master passes its workers the
// files its configuration read (Config.Files, as JSON). EnvFilesFallback
// passes them to a configuration read again in the master, for a reload.
const (
	EnvFiles         = "CARAFE_CONFIG_FILES"
	EnvFilesFallback = "CARAFE_CONFIG_FILES_FALLBACK"
)

// configFiles reads the files a configuration names: ini files, @(FILE)s,
// for-readline files.
//
// A worker takes the master's copy of each (EnvFiles), as the master read
// it at its start or last reload, as uWSGI's workers take the master's
// parsed configuration: an ini edited since then takes effect at the next
// reload, not when a worker is replaced (--max-requests, a crash), and a
// mistake in it does not stop the workers that replace others. A worker
// reads for itself only a file the master did not read, or passed none of
// (too big to pass).
//
// The master, reading its configuration again for a reload, reads each
// file afresh; one it may no longer read (a root-only uwsgi.ini, mode
// 0600, once privileges are dropped) or that is gone, it takes from its
// copies (EnvFilesFallback).
type configFiles struct {
	master   map[string]string // the master's copies, by absolute path
	fallback bool              // read the files first; the copies only for those that fail
	done     map[string]string // every file read, by absolute path
	stale    []string          // warnings: the copies a reload's reading took instead of the files
}

func newConfigFiles(fromMaster, fallback string) (*configFiles, error) {
	cf := &configFiles{}
	from, name := fromMaster, EnvFiles
	if from == "" && fallback != "" {
		from, name, cf.fallback = fallback, EnvFilesFallback, true
	}
	if from != "" {
		if err := json.Unmarshal([]byte(from), &cf.master); err != nil {
			return nil, fmt.Errorf("config: %s: %w", name, err)
		}
	}
	return cf, nil
}

// read is the content of the regular file at path, of at most max bytes:
// the master's copy, or the file (see configFiles).
func (cf *configFiles) read(path string, max int64) ([]byte, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	if copy, ok := cf.masters(abs); ok {
		cf.record(abs, copy)
		return []byte(copy), nil
	}
	data, err := readRegular(path, max)
	if err != nil {
		copy, ok := cf.master[abs]
		if !ok || !(errors.Is(err, fs.ErrPermission) || errors.Is(err, fs.ErrNotExist)) {
			return nil, err
		}
		data = []byte(copy)
		if cf.fallback {
			why := err
			var pe *fs.PathError
			if errors.As(err, &pe) {
				why = pe.Err
			}
			cf.stale = append(cf.stale, fmt.Sprintf("carafe: %s: %v; this reload takes it as it was "+
				"read before (an edit is not seen: give the file to the --uid user, or restart carafe)", abs, why))
		}
	}
	cf.record(abs, string(data))
	return data, nil
}

// masters is the master's copy under key when this process takes it
// rather than reading for itself: a worker's (see configFiles).
func (cf *configFiles) masters(key string) (string, bool) {
	v, ok := cf.master[key]
	return v, ok && !cf.fallback
}

// The probes of the file system a configuration makes (for-glob, if-exists,
// if-file, if-dir) are kept with its files, under keys no absolute path
// has, so that a worker takes the master's answers as it takes the
// master's files: a file added to a globbed conf.d since the start does
// not reach a worker before the reload that reads it.
const (
	globKey = "glob:" // the matches, one a line
	statKey = "stat:" // "f" a regular file, "d" a directory, "x" anything else, "" nothing
)

// glob is filepath.Glob's matches for pattern, directories marked with a
// trailing '/' (glob(3)'s GLOB_MARK, as uWSGI), or the master's.
func (cf *configFiles) glob(pattern string) ([]string, error) {
	key := globKey + pattern
	if got, ok := cf.masters(key); ok {
		cf.record(key, got)
		if got == "" {
			return nil, nil
		}
		return strings.Split(got, "\n"), nil
	}
	m, err := filepath.Glob(pattern)
	if err != nil {
		return nil, err
	}
	for i, p := range m {
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			m[i] = p + "/"
		}
	}
	cf.record(key, strings.Join(m, "\n"))
	return m, nil
}

// stat is what path is ("f", "d", "x", or "" for nothing there), or the
// master's answer.
func (cf *configFiles) stat(path string) string {
	key := statKey + path
	if got, ok := cf.masters(key); ok {
		cf.record(key, got)
		return got
	}
	kind := ""
	if fi, err := os.Stat(path); err == nil {
		switch {
		case fi.Mode().IsRegular():
			kind = "f"
		case fi.IsDir():
			kind = "d"
		default:
			kind = "x"
		}
	}
	cf.record(key, kind)
	return kind
}

func (cf *configFiles) record(key, value string) {
	if cf.done == nil {
		cf.done = map[string]string{}
	}
	cf.done[key] = value
}
