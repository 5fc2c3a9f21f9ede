package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
)

// EnvFiles names the variable in which a master passes its workers the
// files its configuration read (Config.Files, as JSON).
const EnvFiles = "CARAFE_CONFIG_FILES"

// configFiles reads the files a configuration names: ini files, @(FILE)s,
// for-readline files. A worker reads its configuration again, as the user
// the master dropped to: a root-only uwsgi.ini or secret (mode 0600, as
// is usual) it may not read, and a file removed since the start it cannot.
// It then takes the master's copy, as read at the start; a file it can
// read, it reads, so a reload still sees an edited ini.
type configFiles struct {
	master map[string]string // the master's copies (EnvFiles), by absolute path
	done   map[string]string // every file read, by absolute path
}

func newConfigFiles(fromMaster string) (*configFiles, error) {
	cf := &configFiles{}
	if fromMaster != "" {
		if err := json.Unmarshal([]byte(fromMaster), &cf.master); err != nil {
			return nil, fmt.Errorf("config: %s: %w", EnvFiles, err)
		}
	}
	return cf, nil
}

// read is the content of the regular file at path, of at most max bytes,
// or the master's copy of one this process cannot read.
func (cf *configFiles) read(path string, max int64) ([]byte, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	data, err := readRegular(path, max)
	if err != nil {
		copy, ok := cf.master[abs]
		if !ok || !(errors.Is(err, fs.ErrPermission) || errors.Is(err, fs.ErrNotExist)) {
			return nil, err
		}
		data = []byte(copy)
	}
	if cf.done == nil {
		cf.done = map[string]string{}
	}
	cf.done[abs] = string(data)
	return data, nil
}
