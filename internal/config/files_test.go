package config

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// A worker reads the configuration again; a file it cannot read (a
// root-only ini or secret, once privileges are dropped; here one removed
// since) comes from the master's copy, and one it can read is read
// afresh, so a reload still sees an edit.
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
		"for-readline = %dhosts\nenv = H=%(_)\nendfor\nthreads = 4\n")
	worker, _, err := Parse([]string{ini}, []string{EnvFiles + "=" + string(pass)})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"S=s3cret", "H=a", "H=b"}; !slices.Equal(worker.Env, want) || worker.Processes != 2 {
		t.Errorf("the worker's env %q, processes %d; want %q, 2", worker.Env, worker.Processes, want)
	}
	if worker.Threads != 4 {
		t.Errorf("threads %d: the edited site.ini was not read afresh", worker.Threads)
	}
	if _, _, err := Parse([]string{ini}, []string{}); err == nil {
		t.Error("without the master's copies, the removed files were found")
	}
}
