package main

import (
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
