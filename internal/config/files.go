package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
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
	copy, haveCopy := cf.master[abs]
	var data []byte
	switch {
	case haveCopy && !cf.fallback:
		data = []byte(copy)
	default:
		data, err = readRegular(path, max)
		if err != nil {
			if !haveCopy || !(errors.Is(err, fs.ErrPermission) || errors.Is(err, fs.ErrNotExist)) {
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
	}
	if cf.done == nil {
		cf.done = map[string]string{}
	}
	cf.done[abs] = string(data)
	return data, nil
}
