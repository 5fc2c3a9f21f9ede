package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"

	"carafe/internal/config"
	"carafe/internal/control"
	"carafe/internal/master"
)

// masterOwned names the options the master acts on: it binds the sockets,
// writes the pidfiles, serves the stats, rotates the log, cuts drains
// short, drops privileges. A reload restarts the workers only, so a value
// changed in the ini since the master started does not apply (cheaper's
// settings aside, see reconfigure); the workers take the master's, not
// their own reading of the file.
var masterOwned = []string{
	"http", "socket", "chmod-socket", "chown-socket", "reuse-port",
	"processes", "worker-reload-mercy", "harakiri-graceful-timeout", "touch-reload", "touch-logreopen",
	"logto", "logfile-chmod", "req-logger", "log-maxsize", "log-backupname",
	"uid", "gid", "master-as-root", "pidfile", "pidfile2", "safe-pidfile", "safe-pidfile2", "vacuum", "stats", "master-fifo",
	// Whether cheaper is on: a worker reports its load for the master's
	// algorithm then. The master scales with the rest of the family, which
	// no worker uses, and says itself what a reload does not apply of it.
	"cheaper",
}

// ownedOptions are masterOwned's rows of the option table.
func ownedOptions() []config.Option {
	var out []config.Option
	for _, o := range config.Options() {
		if slices.Contains(masterOwned, o.Name) && o.Field != nil {
			out = append(out, o)
		}
	}
	return out
}

// masterSettings are the master's values of the options it owns, for its
// workers.
func masterSettings(cfg *config.Config) control.Settings {
	s := control.Settings{}
	for _, o := range ownedOptions() {
		b, _ := json.Marshal(o.Field(cfg)) // plain values: cannot fail
		s[o.Name] = b
	}
	return s
}

// inheritSettings gives a worker its master's values of the options the
// master owns, and says to log which ones the configuration, read again
// (by a reload, after an edit), now gives otherwise.
func inheritSettings(cfg *config.Config, log io.Writer) {
	s, ok := control.InheritedSettings()
	os.Unsetenv(control.EnvSettings) // not for the app
	if !ok {
		return
	}
	for _, o := range ownedOptions() {
		master, ok := s[o.Name]
		if !ok {
			continue
		}
		mine, _ := json.Marshal(o.Field(cfg))
		if sameValue(mine, master) {
			continue
		}
		if err := json.Unmarshal(master, o.Field(cfg)); err != nil {
			continue // a master of another build; its own value then
		}
		if o.Name == "cheaper" {
			continue // the master says what a reload applies of it (see reconfigure)
		}
		fmt.Fprintf(log, "carafe: worker %d: %s changed in the config (now %s, the master's %s); "+
			"a reload does not apply it: restart carafe\n", control.WorkerID(), o.Name, mine, master)
	}
}

// sameValue compares two options' JSON values, an empty list and none
// alike.
func sameValue(a, b []byte) bool {
	empty := func(v []byte) bool { return string(v) == "null" || string(v) == "[]" }
	return bytes.Equal(a, b) || empty(a) && empty(b)
}

// maxFilesEnv bounds the config files passed in one variable: Linux takes
// no single environment string over 128 KiB.
const maxFilesEnv = 100 << 10

// configFilesEnv passes the workers the files the master's configuration
// read (see config.EnvFiles), for those they may not read themselves once
// privileges are dropped. Files too big to pass are not: the workers then
// read them themselves, and a warning says so where they may not.
func configFilesEnv(cfg *config.Config, log *slog.Logger) []string {
	if len(cfg.Files) == 0 {
		return nil
	}
	b, err := json.Marshal(cfg.Files)
	if err != nil || len(b) > maxFilesEnv {
		if cfg.UID != "" || cfg.GID != "" {
			log.Warn(fmt.Sprintf("carafe: the config files (%d KiB) are too big to pass to the workers; "+
				"they read them again as the --uid/--gid user, who must be able to", len(b)>>10))
		}
		return nil
	}
	return []string{config.EnvFiles + "=" + string(b)}
}

// reconfigure reads the configuration again in the master, for a reload:
// the files afresh, the master's copies of those it may no longer read.
// The workers the reload starts, and those that replace them, take the
// files as read here. Of the options the master owns, a reload applies
// cheaper's settings (as uWSGI's reload does), cheaper-initial aside (a
// start's), while cheaper stays on and below the --processes carafe
// started with: turning it on or off changes how the workers' sockets are
// kept, which takes a restart. start is the configuration the master
// started with; the settings the master runs with are its own, and a
// reload that fails applies none of this one's.
func reconfigure(args []string, start *config.Config, log *slog.Logger) func([]string) (master.Reconfig, error) {
	return func(prev []string) (master.Reconfig, error) {
		env := os.Environ()
		for _, kv := range prev {
			if files, ok := strings.CutPrefix(kv, config.EnvFiles+"="); ok {
				env = append(env, config.EnvFilesFallback+"="+files)
			}
		}
		cfg, warnings, err := config.Parse(args, env)
		for _, w := range warnings { // the same as at the start, and those of an edit
			log.Warn(w)
		}
		if err != nil {
			return master.Reconfig{}, err
		}
		if err := absPaths(cfg); err != nil {
			return master.Reconfig{}, err
		}
		r := master.Reconfig{WorkerEnv: configFilesEnv(cfg, log)}
		switch {
		case start.Cheaper == 0 && cfg.Cheaper == 0:
			// Off, and off still: the config says of each cheaper line
			// that it is not applied.
		case start.Cheaper == 0 || cfg.Cheaper == 0:
			log.Warn("carafe: master: cheaper is turned on or off in the config; a reload does not apply it, " +
				"nor the rest of its family: restart carafe")
		case cfg.Cheaper >= start.Processes:
			log.Warn(fmt.Sprintf("carafe: master: cheaper %d in the config is not below the %d processes carafe "+
				"started with; a reload does not apply it, nor the rest of its family: restart carafe", cfg.Cheaper, start.Processes))
		default:
			c := cheaperOf(cfg)
			r.Cheaper = &c
		}
		return r, nil
	}
}
