package main

import (
	"os"
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
