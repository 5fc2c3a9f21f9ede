package config

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A worker takes the master's copy of every file its configuration read,
// so an ini edited since changes nothing until a reload. The master,
// reading it again for the reload, reads each file afresh, and takes its
// copy of one it cannot read (a root-only ini or secret, once privileges
// are dropped; here one removed since).
func TestConfigFilesFromMaster(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("secret", "s3cret\n")
	write("hosts", "a\nb\n")
	write("base.ini", "[uwsgi]\nprocesses = 2\n")
	write("site.ini", "[uwsgi]\nmodule = app\nhttp = :8000\nini = %dbase.ini\nenv = S=@(%dsecret)\n"+
		"for-readline = %dhosts\nenv = H=%(_)\nendfor\n")
	ini := filepath.Join(dir, "site.ini")
	master, _, err := Parse([]string{ini}, []string{})
	if err != nil {
		t.Fatal(err)
	}
	if len(master.Files) != 4 || master.Files[filepath.Join(dir, "secret")] != "s3cret\n" {
		t.Fatalf("the master's files: %q", master.Files)
	}
	pass, _ := json.Marshal(master.Files)
	for _, name := range []string{"secret", "hosts", "base.ini"} {
		os.Remove(filepath.Join(dir, name))
	}
	write("site.ini", "[uwsgi]\nmodule = app\nhttp = :8000\nini = %dbase.ini\nenv = S=@(%dsecret)\n"+
		"for-readline = %dhosts\nenv = H=%(_)\nendfor\nthreads = lots\n")
	worker, _, err := Parse([]string{ini}, []string{EnvFiles + "=" + string(pass)})
	if err != nil {
		t.Fatalf("a worker read the edited (broken) site.ini: %v", err)
	}
	if want := []string{"S=s3cret", "H=a", "H=b"}; !slices.Equal(worker.Env, want) || worker.Processes != 2 || worker.Threads != 1 {
		t.Errorf("the worker's env %q, processes %d, threads %d; want %q, 2, 1", worker.Env, worker.Processes, worker.Threads, want)
	}
	// The reload: the edit is read (and its mistake found), the removed
	// files come from the copies.
	if _, _, err := Parse([]string{ini}, []string{EnvFilesFallback + "=" + string(pass)}); err == nil {
		t.Error("the reload's reading did not see the edit")
	}
	write("site.ini", "[uwsgi]\nmodule = app\nhttp = :8000\nini = %dbase.ini\nenv = S=@(%dsecret)\n"+
		"for-readline = %dhosts\nenv = H=%(_)\nendfor\nthreads = 4\n")
	reload, warnings, err := Parse([]string{ini}, []string{EnvFilesFallback + "=" + string(pass)})
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 3 || !strings.Contains(warnings[0], ": no such file or directory; this reload takes it as it was read before") {
		t.Errorf("warnings %q, want one for each file taken from the copies", warnings)
	}
	if want := []string{"S=s3cret", "H=a", "H=b"}; !slices.Equal(reload.Env, want) || reload.Threads != 4 || len(reload.Files) != 4 {
		t.Errorf("the reload's env %q, threads %d, %d files; want %q, 4, 4", reload.Env, reload.Threads, len(reload.Files), want)
	}
	if _, _, err := Parse([]string{ini}, []string{}); err == nil {
		t.Error("without the master's copies, the removed files were found")
	}
}

// A worker takes the master's answers to the configuration's probes of
// the file system too: a file added to a globbed conf.d, or one an
// if-exists tests for, changes nothing before the reload (whose reading
// sees it). A respawned worker read a conf.d file added since the start,
// with a mistake in it, and died in a loop.
func TestConfigProbesFromMaster(t *testing.T) {
	dir := t.TempDir()
	confd := filepath.Join(dir, "conf.d")
	if err := os.MkdirAll(confd, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("conf.d/a.ini", "[uwsgi]\nprocesses = 2\n")
	write("site.ini", "[uwsgi]\nmodule = app\nhttp = :8000\nfor-glob = %dconf.d/*.ini\nini = %(_)\nendfor =\n"+
		"if-exists = %dflag\nenv = FLAG=1\nendif =\nif-not-dir = %dconf.d\nenv = NODIR=1\nendif =\n")
	ini := filepath.Join(dir, "site.ini")
	master, _, err := Parse([]string{ini}, []string{})
	if err != nil {
		t.Fatal(err)
	}
	pass, _ := json.Marshal(master.Files)
	write("conf.d/b.ini", "[uwsgi]\nthreads = lots\n")
	write("flag", "")
	worker, _, err := Parse([]string{ini}, []string{EnvFiles + "=" + string(pass)})
	if err != nil {
		t.Fatalf("a worker read what was added since: %v", err)
	}
	if worker.Processes != 2 || len(worker.Env) != 0 {
		t.Errorf("the worker's processes %d, env %q; want 2 and none", worker.Processes, worker.Env)
	}
	if _, _, err := Parse([]string{ini}, []string{EnvFilesFallback + "=" + string(pass)}); err == nil ||
		!strings.Contains(err.Error(), "b.ini") {
		t.Errorf("the reload's reading did not see conf.d/b.ini: %v", err)
	}
}
