package config

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseIni checks that no ini file content can make the parser (or
// applying and validating what it returns) panic.
func FuzzParseIni(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.ini"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, "")
		f.Add(data, "staging")
	}
	f.Add([]byte("[uwsgi]\nenv = $(A)$(%d%%$(\n"), "")
	f.Add([]byte("[uwsgi]\nbase = /srv/%(base)\nchdir = %(base)/%(chdir)%(\nlogto = %(b%(ase))\n"), "")
	f.Add([]byte("[uwsgi]\nfor = a b\nsocket = /run/%(_).sock\nendfor =\nif-env = A=x\nchdir = %(_)\nelse\nchdir = /\nendif\nfor-times = 3\nenv = W%(_)=1\nend\n"), "")
	getenv := func(k string) (string, bool) {
		if k == "A" {
			return "$(A)%d", true
		}
		return "", false
	}
	f.Fuzz(func(t *testing.T, data []byte, section string) {
		res, err := parseIni("testdata/fuzz.ini", data, section,
			&iniEnv{getenv: getenv, ph: newPlaceholders([]string{"UWSGI_X=%(x)"}), files: &configFiles{}}, nil)
		if err != nil {
			return
		}
		c := Default()
		for _, s := range res.settings {
			if readsIni(s.opt) {
				continue
			}
			if s.apply(c) != nil {
				return
			}
		}
		if c.Validate() == nil {
			c.normalize()
		}
	})
}
