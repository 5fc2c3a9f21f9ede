package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func fuzzEnv() *iniEnv {
	getenv := func(k string) (string, bool) {
		switch k {
		case "A":
			return "$(A)%d", true
		case "B":
			return "b b", true
		}
		return "", false
	}
	return &iniEnv{getenv: getenv, ph: newPlaceholders([]string{"UWSGI_X=%(x)"}), files: &configFiles{}}
}

// printIni writes settings back as an ini file: a %% for each %, so that
// the values are read back as written.
func printIni(section string, ss []setting) (string, bool) {
	if section == "" {
		section = "uwsgi"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "[%s]\n", section)
	for _, s := range ss {
		v := s.value
		if strings.Contains(v, "$(") || strings.Contains(v, "@(") || strings.ContainsAny(v, "\n\r") ||
			strings.TrimSpace(v) != v || strings.TrimSpace(s.name) != s.name {
			return "", false
		}
		if s.bare {
			fmt.Fprintf(&b, "%s\n", s.name)
			continue
		}
		fmt.Fprintf(&b, "%s = %s\n", s.name, strings.ReplaceAll(v, "%", "%%"))
	}
	return b.String(), true
}

func settingsString(ss []setting) string {
	var b strings.Builder
	for _, s := range ss {
		fmt.Fprintf(&b, "%s(%s)=%q bare=%v; ", s.opt.Name, s.name, s.value, s.bare)
	}
	return b.String()
}

// FuzzIniRoundTrip: parse(print(parse(x))) == parse(x), for the settings
// an ini file gives.
func FuzzIniRoundTrip(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.ini"))
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, "")
	}
	f.Add([]byte("[uwsgi]\nbase = /srv/%(base)\nchdir = %(base)/%(chdir)%(\nlogto = %(b%(ase))\n"), "")
	f.Add([]byte("[uwsgi]\nharakiri = 60 ; s\nsocket = :80 # x\nenv = A=%%d\nprocesses = %(harakiri + 1)\n"), "")
	f.Fuzz(func(t *testing.T, data []byte, section string) {
		if strings.ContainsAny(section, "[]\n\r") || strings.TrimSpace(section) != section {
			return
		}
		start := time.Now()
		res, err := parseIni("testdata/fuzz.ini", data, section, fuzzEnv(), nil)
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("parseIni took %v", d)
		}
		if err != nil {
			return
		}
		text, ok := printIni(section, res.settings)
		if !ok {
			return
		}
		again, err := parseIni("testdata/fuzz.ini", []byte(text), section, fuzzEnv(), nil)
		if err != nil {
			t.Fatalf("printed file refused: %v\n%s", err, text)
		}
		if a, b := settingsString(res.settings), settingsString(again.settings); a != b {
			t.Fatalf("round trip changed the settings:\n%s\n%s\nprinted:\n%s", a, b, text)
		}
	})
}

// FuzzExpand: expand never panics, leaves text with no %, $ or @ alone,
// and keeps what it cannot expand as written.
func FuzzExpand(f *testing.F) {
	for _, s := range []string{"%d%n", "%(x)", "$(A)", "@(/nonexistent)", "%(a + 1)", "%(%k * 2)", "%%(x)",
		"%(", "$(", "%(x y)", "%(processes ++)", "%[[0m", "%t"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ie := fuzzEnv()
		ie.ph.set("x", "X")
		ie.ph.set("n", "12")
		ex := newExpander("testdata/fuzz.ini", ie)
		start := time.Now()
		got := ex.expand("w: ", s)
		if d := time.Since(start); d > time.Second {
			t.Fatalf("expand(%q) took %v", s, d)
		}
		if !strings.ContainsAny(s, "%$@") && got != s {
			t.Fatalf("expand(%q) = %q", s, got)
		}
		if len(got) > 100*len(s)+4096 {
			t.Fatalf("expand(%q) grew to %d bytes", s, len(got))
		}
	})
}
