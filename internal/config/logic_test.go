package config

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// parseLogicIni writes text as an ini file in dir and parses it with env.
func parseLogicIni(t *testing.T, dir, text string, env []string) (*Config, []string, error) {
	t.Helper()
	ini := filepath.Join(dir, "site.ini")
	if err := os.WriteFile(ini, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return Parse([]string{ini}, env)
}

// uWSGI's configuration logic: for blocks repeat their lines with %(_) as
// each value; if-* blocks read theirs only when the condition holds, else
// when it does not; lines after the end are read once, as usual.
func TestIniLogic(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "present.txt")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	lines := filepath.Join(dir, "hosts.txt")
	if err := os.WriteFile(lines, []byte("a.example\r\nb.example\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	text := "[uwsgi]\nmodule = app\nprocesses = 4\ntier = prod\n" +
		"for = 3031 3032\nsocket = 127.0.0.1:%(_)\nendfor =\n" +
		"socket = /run/last.sock\n" +
		"if-env = VIRTUAL_ENV\nvirtualenv = %(_)\nendif =\n" +
		"if-env = STAGE=live\nenv = STAGE_IS=live\nelse =\nenv = STAGE_IS=other\nendif =\n" +
		"if-not-env = NO_SUCH_VAR\nenv = NO_SUCH_VAR=unset\nend =\n" +
		"if-exists = " + file + "\nenv = FOUND=%(_)\nendif =\n" +
		"if-file = " + dir + "\nenv = DIR_IS_FILE=1\nendif =\n" +
		"if-dir = " + dir + "\nchdir = %(_)\nendif =\n" +
		"if-not-exists = " + dir + "/missing\nenv = MISSING=1\nendif =\n" +
		"if-opt = processes=4\nenv = FOUR=%(_)\nendif =\n" +
		"if-opt = processes=5\nenv = FIVE=1\nendif =\n" +
		"if-opt = tier\nenv = TIER=%(_)\nendif =\n" +
		"for-readline = " + lines + "\npythonpath = /srv/%(_)\nendfor =\n" +
		"for-times = 2\nenv = W%(_)=1\nend-for =\n" +
		"if-hostname = " + host + "\nenv = HOST=1\nendif =\n" +
		"if-reload =\nenv = RELOAD=1\nendif =\n" +
		"if-not-reload =\nenv = FIRST=1\nendif =\n" +
		"if-plugin = python3\nenv = PY=%(_)\nendif =\n" +
		"set-placeholder = base=/srv/site\nlogto = %(base)/app.log\n"
	c, warnings, err := parseLogicIni(t, dir, text, []string{"VIRTUAL_ENV=/srv/venv", "STAGE=test"})
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 0 {
		t.Errorf("warnings %q, want none", warnings)
	}
	if want := []string{"127.0.0.1:3031", "127.0.0.1:3032", "/run/last.sock"}; !slices.Equal(c.Socket, want) {
		t.Errorf("socket %q, want %q", c.Socket, want)
	}
	if c.Virtualenv != "/srv/venv" || c.Chdir != dir || c.LogTo != "/srv/site/app.log" {
		t.Errorf("virtualenv %q, chdir %q, logto %q", c.Virtualenv, c.Chdir, c.LogTo)
	}
	if want := []string{"/srv/a.example", "/srv/b.example"}; !slices.Equal(c.PythonPath, want) {
		t.Errorf("pythonpath %q, want %q", c.PythonPath, want)
	}
	wantEnv := []string{"STAGE_IS=other", "NO_SUCH_VAR=unset", "FOUND=" + file, "MISSING=1", "FOUR=4",
		"TIER=prod", "W1=1", "W2=1", "HOST=1", "FIRST=1", "PY=python3"}
	if !slices.Equal(c.Env, wantEnv) {
		t.Errorf("env %q,\nwant %q", c.Env, wantEnv)
	}

	// uWSGI's short names for some openers: a block under one applies
	// only when its condition holds, as under the long name.
	c, warnings, err = parseLogicIni(t, dir, "[uwsgi]\nmodule = app\nhttp = :8000\n"+
		"ifenv = NO_SUCH_VAR\nprocesses = 3\nendif =\n"+
		"ifenv = STAGE\nenv = A=%(_)\nendif =\n"+
		"ifexists = "+dir+"/missing\nenv = B=1\nendif =\n"+
		"ifexists = "+file+"\nenv = C=1\nendif =\n"+
		"ifdir = "+file+"\nenv = D=1\nendif =\n"+
		"if-directory = "+dir+"\nenv = E=1\nendif =\n"+
		"ifplugin = python3\nenv = F=1\nendif =\n"+
		"ifplugin = emperor_zeromq\nenv = G=1\nendif =\n", []string{"STAGE=test"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"A=test", "C=1", "E=1", "F=1"}; !slices.Equal(c.Env, want) || c.Processes != 1 || len(warnings) != 0 {
		t.Errorf("short names: env %q (want %q), processes %d (want 1), warnings %q", c.Env, want, c.Processes, warnings)
	}

	// The else of a condition that holds is skipped.
	c, _, err = parseLogicIni(t, dir, "[uwsgi]\nmodule = app\nhttp = :8000\nif-env = STAGE=live\nenv = A=1\nelse =\nenv = A=2\nendif =\n",
		[]string{"STAGE=live"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Env, []string{"A=1"}) {
		t.Errorf("if that holds, then else: env %q, err %v", c.Env, err)
	}
}

// Mistakes in blocks are told: nesting and a stray else are errors (the
// lines' meaning would be a guess); a stray end and a block left open are
// warnings; an unknown key inside a for block is reported once.
func TestIniLogicMistakes(t *testing.T) {
	dir := t.TempDir()
	for text, want := range map[string]string{
		"for = a b\nif-env = X\nendif =\nendfor =\n": "inside the for block opened at",
		"else =\n":                            "else outside an if-* block",
		"for = a\nelse =\nendfor =\n":         "else outside an if-* block",
		"if-colour = red\nendif =\n":          "unknown block",
		"for-times = lots\nend =\n":           `want a count, got "lots"`,
		"for-times = 20000\nend =\n":          "at most 10000",
		"for-readline = " + dir + "\nend =\n": "not a regular file",
		"set-placeholder = module=x\n":        `"module" is an option`,
		"set-placeholder = nothing\n":         "want name=value",
	} {
		_, _, err := parseLogicIni(t, dir, "[uwsgi]\nmodule = app\nhttp = :8000\n"+text, []string{})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q in it", text, err, want)
		}
	}
	_, warnings, err := parseLogicIni(t, dir, "[uwsgi]\nmodule = app\nhttp = :8000\nendif =\nfor = a b c\nmodle = %(_)\n", []string{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"endif with no for or if-* block open", `unknown option "modle"`, "has no end; it ends with the file"}
	if len(warnings) != len(want) {
		t.Fatalf("warnings %q, want %d", warnings, len(want))
	}
	for _, w := range want {
		found := false
		for _, got := range warnings {
			found = found || strings.Contains(got, w)
		}
		if !found {
			t.Errorf("warnings %q, want %q among them", warnings, w)
		}
	}
}

// uWSGI's placeholder arithmetic: %(a op b) with spaces, over keys,
// numbers and magic variables, left to right; keys set further on count;
// a key that is set nowhere is empty, with a warning.
func TestPlaceholderMath(t *testing.T) {
	dir := t.TempDir()
	text := "[uwsgi]\nmodule = app\nhttp = :8000\nbase = 3\n" +
		"processes = %(%k * 2)\nthreads = %(base + 1)\n" +
		"env = A=%(later * 10)\nlater = 7\n" +
		"env = B=%(base ++)\nenv = C=%(base - 10)\nenv = D=%(base / 0)\nenv = E=%(base suffix)\nsuffix = x\n" +
		"env = F=%(nokey + 2)\nenv = G=%(2 + 3 * 4)\n"
	c, warnings, err := parseLogicIni(t, dir, text, []string{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Processes != 2*runtime.NumCPU() || c.Threads != 4 {
		t.Errorf("processes %d (want %d), threads %d (want 4)", c.Processes, 2*runtime.NumCPU(), c.Threads)
	}
	if want := []string{"A=70", "B=4", "C=-7", "D=0", "E=3x", "F=2", "G=20"}; !slices.Equal(c.Env, want) {
		t.Errorf("env %q, want %q", c.Env, want)
	}
	if len(warnings) != 1 || !strings.HasSuffix(warnings[0], "%(nokey) names no option or key; taken as empty, as uWSGI takes it") {
		t.Errorf("warnings %q, want one for nokey", warnings)
	}
}
