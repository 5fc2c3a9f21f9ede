package main

import (
	"log/slog"
	"os"
	"path/filepath"
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

// A reload applies cheaper's settings (the master's rescale keeps the
// start's cheaper-initial) while cheaper stays on and below the
// --processes the master started with; turning it on or off, or a
// minimum the workers' sockets cannot hold, waits for a restart, and the
// master says so.
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
	for _, tc := range []struct {
		name, start, edit string
		min               int // of the scaling the reload applies; 0: none
		algo, warned      string
	}{
		{"applied", "cheaper = 1\n", "cheaper = 2\ncheaper-algo = spare2\n", 2, "spare2", ""},
		{"unchanged", "cheaper = 1\n", "cheaper = 1\n", 1, "spare", ""},
		{"turned off", "cheaper = 1\n", "", 0, "", "turned on or off"},
		{"turned on", "", "cheaper = 1\n", 0, "", "turned on or off"},
		{"off still", "", "cheaper-algo = spare2\n", 0, "", ""},
		{"as many as the start's processes", "cheaper = 1\n", "processes = 5\ncheaper = 4\n", 0, "", "not below the 4 processes"},
		{"past the sockets", "cheaper = 1\n", "processes = 8\ncheaper = 5\n", 0, "", "not below the 4 processes"},
	} {
		write(tc.start)
		start, _, err := config.Parse(args, nil)
		if err != nil {
			t.Fatal(err)
		}
		write(tc.edit)
		logged.Reset()
		r, err := reconfigure(args, start, log)(nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		switch {
		case tc.min == 0 && r.Cheaper != nil:
			t.Errorf("%s: the reload applies %+v, want none", tc.name, *r.Cheaper)
		case tc.min > 0 && (r.Cheaper == nil || r.Cheaper.Min != tc.min || r.Cheaper.Algo != tc.algo):
			t.Errorf("%s: the reload applies %+v, want cheaper %d with %s", tc.name, r.Cheaper, tc.min, tc.algo)
		}
		if said := strings.Contains(logged.String(), "restart carafe"); said != (tc.warned != "") || !strings.Contains(logged.String(), tc.warned) {
			t.Errorf("%s: the master logged %q, want a word with %q", tc.name, logged.String(), tc.warned)
		}
	}
}
