package main

import (
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"carafe/internal/config"
	"carafe/internal/control"
)

// Every option masterOwned names is in the option table, under that name.
func TestMasterOwnedAreOptions(t *testing.T) {
	if got := len(ownedOptions()); got != len(masterOwned) {
		t.Errorf("%d of the %d master-owned names are options", got, len(masterOwned))
	}
}

// docs/operations.md's SIGHUP row names every option a reload does not
// apply: an operator who changes one and reloads must not be surprised.
// The sockets and the pidfiles it names as groups.
func TestMasterOwnedDocumented(t *testing.T) {
	b, err := os.ReadFile("../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	var row string
	for line := range strings.Lines(string(b)) {
		if strings.HasPrefix(line, "| `SIGHUP` |") {
			row = line
		}
	}
	groups := map[string]string{
		"http": "the sockets", "socket": "the sockets", "chmod-socket": "the sockets", "chown-socket": "the sockets",
		"reuse-port": "the sockets", "pidfile": "the pidfiles", "pidfile2": "the pidfiles",
		"safe-pidfile": "the pidfiles", "safe-pidfile2": "the pidfiles",
	}
	for _, name := range masterOwned {
		want := "`" + name + "`"
		if g, ok := groups[name]; ok {
			want = g
		}
		if !strings.Contains(row, want) {
			t.Errorf("docs/operations.md's SIGHUP row does not name %s (%s), which a reload does not apply", name, want)
		}
	}
}

// A worker takes the master's values, and says which ones differ from
// its own reading of the config.
func TestInheritSettings(t *testing.T) {
	master := config.Default()
	master.LogTo, master.Processes, master.HTTP = "/var/log/a.log", 2, []string{":8000"}
	t.Setenv(control.EnvSettings, strings.TrimPrefix(masterSettings(master).Env(), control.EnvSettings+"="))
	worker := config.Default()
	worker.LogTo, worker.Processes, worker.HTTP = "/var/log/b.log", 2, []string{":8000"}
	var log strings.Builder
	inheritSettings(worker, &log)
	if worker.LogTo != master.LogTo {
		t.Errorf("worker logto %q, want the master's %q", worker.LogTo, master.LogTo)
	}
	if !strings.Contains(log.String(), "logto changed") || strings.Contains(log.String(), "processes") ||
		strings.Contains(log.String(), "http") {
		t.Errorf("the worker said %q; want a word on logto only", log.String())
	}
}

// A reload applies cheaper's family (cheaper-initial aside: the start's)
// while cheaper stays on and below the --processes the master started
// with; turning it on or off, or a minimum the workers' sockets cannot
// hold, waits for a restart, and the values the last reload applied stay.
func TestReconfigureCheaper(t *testing.T) {
	ini := filepath.Join(t.TempDir(), "site.ini")
	write := func(body string) {
		if err := os.WriteFile(ini, []byte("[uwsgi]\nhttp = 127.0.0.1:0\nmodule = app\nprocesses = 4\n"+body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var logged strings.Builder
	log := slog.New(slog.NewTextHandler(&logged, nil))
	args := []string{"--ini", ini}
	write("cheaper = 1\n")
	start, _, err := config.Parse(args, nil)
	if err != nil {
		t.Fatal(err)
	}
	reload := reconfigure(args, start, log)
	for _, tc := range []struct {
		name, edit   string
		min          int
		algo, warned string
	}{
		{"applied", "cheaper = 2\ncheaper-algo = spare2\n", 2, "spare2", ""},
		{"the same again", "cheaper = 2\ncheaper-algo = spare2\n", 2, "spare2", ""},
		{"cheaper-initial is the start's", "cheaper = 2\ncheaper-algo = spare2\ncheaper-initial = 3\n", 2, "spare2", ""},
		{"turned off", "", 2, "spare2", "turned on or off"},
		{"past the sockets", "processes = 8\ncheaper = 5\n", 2, "spare2", "not below the 4 processes"},
		{"back to the start's", "cheaper = 1\n", 1, "spare", ""},
	} {
		write(tc.edit)
		logged.Reset()
		r, err := reload(nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if r.Cheaper.Min != tc.min || r.Cheaper.Algo != tc.algo {
			t.Errorf("%s: the reload's scaling %+v; want cheaper %d with %s", tc.name, r.Cheaper, tc.min, tc.algo)
		}
		if got := string(r.WorkerSettings["cheaper"]); got != strconv.Itoa(tc.min) {
			t.Errorf("%s: the workers are given cheaper %s, want %d", tc.name, got, tc.min)
		}
		if got := string(r.WorkerSettings["cheaper-initial"]); got != "0" {
			t.Errorf("%s: the workers are given cheaper-initial %s, want the start's, 0", tc.name, got)
		}
		if said := strings.Contains(logged.String(), "restart carafe"); said != (tc.warned != "") || !strings.Contains(logged.String(), tc.warned) {
			t.Errorf("%s: the master logged %q, want a word with %q", tc.name, logged.String(), tc.warned)
		}
	}
}
