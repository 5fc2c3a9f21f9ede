package pyembed

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// checkVenv refuses what cannot work as --virtualenv (no venv at all, one
// of another Python version), warns of one another installation made,
// and takes a venv of the embedded Python, or an installation's prefix.
func TestCheckVenv(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "py311", "bin", "python3")
	other := filepath.Join(dir, "other", "bin", "python3.11")
	for _, f := range []string{exe, other} {
		os.MkdirAll(filepath.Dir(f), 0o755)
		if err := os.WriteFile(f, nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	link := filepath.Join(dir, "py311", "bin", "python3.11")
	if err := os.Symlink(exe, link); err != nil {
		t.Fatal(err)
	}
	venv := func(name, cfg string) string {
		d := filepath.Join(dir, name)
		os.MkdirAll(d, 0o755)
		if cfg != "" {
			if err := os.WriteFile(filepath.Join(d, "pyvenv.cfg"), []byte(cfg), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return d
	}
	prefix := venv("prefix", "")
	os.MkdirAll(filepath.Join(prefix, "lib", "python3.11"), 0o755)
	tests := []struct {
		dir, warning, err string
	}{
		{venv("empty", ""), "", "is not a venv (it has no pyvenv.cfg), nor a Python 3.11 installation"},
		{prefix, "", ""},
		{venv("same", "home = "+filepath.Dir(exe)+"\nversion = 3.11.7\nexecutable = "+link+"\n"), "", ""},
		{venv("virtualenv", "home = "+filepath.Dir(exe)+"\nversion_info = 3.11.7.final.0\n"), "", ""},
		{venv("v312", "home = /x/bin\nversion = 3.12.1\nexecutable = /x/bin/python3.12\n"), "",
			"was made by Python 3.12.1 (/x/bin/python3.12), and carafe embeds Python 3.11"},
		{venv("v3_1", "version_info = 3.1.5\n"), "", "was made by Python 3.1.5"},
		{venv("other", "home = "+filepath.Dir(other)+"\nversion = 3.11.2\n"), "was made by " + other, ""},
		{venv("gone", "home = /nowhere/bin\nversion = 3.11.2\n"), "", ""},
	}
	for _, tt := range tests {
		warning, err := checkVenv(tt.dir, "3.11", exe)
		if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("%s: error %v, want %q", filepath.Base(tt.dir), err, tt.err)
		}
		if tt.warning == "" && warning != "" || !strings.Contains(warning, tt.warning) {
			t.Errorf("%s: warning %q, want %q", filepath.Base(tt.dir), warning, tt.warning)
		}
	}
}

// An activated venv that carafe does not use gets a warning; none when
// --virtualenv is given, or when carafe was built with that venv's own
// interpreter (make build with the venv active), which then is used.
func TestActivatedVenvWarning(t *testing.T) {
	exe := "/usr/bin/python3"
	if w := activatedVenvWarning("/srv/site/venv", "", exe); !strings.Contains(w, "(/usr/bin/python3) and takes a venv") ||
		!strings.HasSuffix(w, "give --virtualenv /srv/site/venv") {
		t.Errorf("no --virtualenv: %q", w)
	}
	if w := activatedVenvWarning("/srv/site/venv", "", ""); !strings.Contains(w, "embeds the Python it was built with and") {
		t.Errorf("no executable known: %q", w)
	}
	for _, tc := range [][3]string{
		{"", "", exe},
		{"/srv/site/venv", "/srv/site/venv", exe},
		{"/srv/site/venv", "", "/srv/site/venv/bin/python3"},
		{"/srv/site/venv/", "", "/srv/site/venv/bin/python3"},
	} {
		if w := activatedVenvWarning(tc[0], tc[1], tc[2]); w != "" {
			t.Errorf("%q: %q, want none", tc, w)
		}
	}
}

func TestImportHint(t *testing.T) {
	tb := func(last string) string {
		return "Traceback (most recent call last):\n  File \"/srv/site/wsgi.py\", line 1, in <module>\n" + last
	}
	mod := Options{Module: "mysite.wsgi:application"}
	venv := Options{Module: "mysite.wsgi", Virtualenv: "/srv/venv"}
	tests := []struct {
		name, traceback string
		o               Options
		want            string // "" for no hint
	}{
		{"the app's package", tb("ModuleNotFoundError: No module named 'mysite'"), mod,
			`the app's module "mysite.wsgi" is not under /srv (the working directory)`},
		{"the app's submodule", tb("ModuleNotFoundError: No module named 'mysite.wsgi'"), mod,
			`the app's module "mysite.wsgi" is not under /srv`},
		{"a package, no venv", tb("ModuleNotFoundError: No module named 'django'"), mod,
			`"django" is not installed for the Python carafe embeds (/usr/bin/python3), and no --virtualenv was given`},
		{"a subpackage, no venv", tb("ModuleNotFoundError: No module named 'rest_framework.views'\n"), mod,
			`"rest_framework" is not installed`},
		{"a package, a venv", tb("ModuleNotFoundError: No module named 'django'"), venv,
			`"django" is in neither --virtualenv /srv/venv nor /srv (the working directory): install it with /srv/venv/bin/python3 -m pip install`},
		{"a module of the app's package", tb("ModuleNotFoundError: No module named 'mysite.local_settings'"), mod, ""},
		{"a wsgi-file's import", tb("ModuleNotFoundError: No module named 'mysite'"), Options{WSGIFile: "mysite.wsgi"},
			`"mysite" is not installed`},
		{"uWSGI's API", tb("ModuleNotFoundError: No module named 'uwsgi'"), venv,
			`"uwsgi" is uWSGI's in-process API, which exists only inside uWSGI`},
		{"uWSGI's decorators", tb("ModuleNotFoundError: No module named 'uwsgidecorators'"), mod,
			`"uwsgidecorators" is uWSGI's in-process API`},
		{"another error", tb("ImportError: cannot import name 'x' from 'y'"), mod, ""},
		{"a message of the app's", tb("ValueError: No module named 'x'"), mod, ""},
	}
	// The embedded Python's own standard library has math (as a pyenv
	// build's lib-dynload does); a venv made by Debian's python3, whose
	// math is built in, leads the embedded one to a library without it.
	py := t.TempDir()
	dynload := filepath.Join(py, "lib", "python"+embeddedVersion(), "lib-dynload")
	os.MkdirAll(dynload, 0o755)
	os.WriteFile(filepath.Join(dynload, "math.cpython-311-x86_64-linux-gnu.so"), nil, 0o644)
	os.WriteFile(filepath.Join(dynload, "..", "decimal.py"), nil, 0o644)
	exe := filepath.Join(py, "bin", "python3")
	for _, tt := range []struct{ name, want string }{
		{"math", `"math" is in the standard library of the Python carafe embeds (` + exe + `), but not in the one --virtualenv /srv/venv leads to`},
		{"decimal", `"decimal" is in the standard library`},
		{"django", `"django" is in neither --virtualenv`},
	} {
		if got := importHint(tb("ModuleNotFoundError: No module named '"+tt.name+"'"), venv, exe, "/srv"); !strings.Contains(got, tt.want) {
			t.Errorf("%s with a venv of another Python: got %q, want one containing %q", tt.name, got, tt.want)
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := importHint(tt.traceback, tt.o, "/usr/bin/python3", "/srv")
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Errorf("got %q, want one containing %q", got, tt.want)
			}
		})
	}
}
