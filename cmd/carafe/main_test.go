package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"carafe/internal/config"
)

// Relative paths are taken as uWSGI takes them: --logto and --pidfile
// from the directory carafe starts in (uWSGI opens and writes them before
// it changes directory); unix sockets and every file uWSGI opens or looks
// at after that (the touch files, --pidfile2 and the safe pidfiles, the
// logger and req-logger files, --master-fifo) from --chdir. Without
// --chdir, all from the start directory.
func TestAbsPaths(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		chdir string
		dir   string // where the paths uWSGI takes from --chdir land
	}{
		{"/srv/app", "/srv/app"},
		{"site", filepath.Join(wd, "site")},
		{"", wd},
	} {
		cfg, _, err := config.Parse([]string{"--module", "wsgi", "--chdir", tt.chdir, "--socket", "app.sock",
			"--socket", "/run/abs.sock", "--socket", "127.0.0.1:3031", "--http", "./web.sock",
			"--stats", "stats.sock", "--logto", "app.log", "--pidfile", "p.pid", "--pidfile2", "p2.pid",
			"--safe-pidfile", "sp.pid", "--safe-pidfile2", "sp2.pid", "--req-logger", "file:req.log",
			"--touch-reload", "reload.txt", "--touch-logreopen", "/abs/reopen.txt", "--touch-logreopen", "reopen.txt",
			"--master-fifo", "fifo"}, []string{})
		if err != nil {
			t.Fatal(err)
		}
		if err := absPaths(cfg); err != nil {
			t.Fatal(err)
		}
		in := func(name string) string { return filepath.Join(tt.dir, name) }
		start := func(name string) string { return filepath.Join(wd, name) }
		for _, c := range []struct{ what, got, want string }{
			{"socket", cfg.Socket[0], in("app.sock")},
			{"absolute socket", cfg.Socket[1], "/run/abs.sock"},
			{"TCP socket", cfg.Socket[2], "127.0.0.1:3031"},
			{"http", cfg.HTTP[0], in("web.sock")},
			{"stats", cfg.Stats, in("stats.sock")},
			{"logto", cfg.LogTo, start("app.log")},
			{"pidfile", cfg.Pidfile, start("p.pid")},
			{"pidfile2", cfg.Pidfile2, in("p2.pid")},
			{"safe-pidfile", cfg.SafePidfile, in("sp.pid")},
			{"safe-pidfile2", cfg.SafePidfile2, in("sp2.pid")},
			{"req-logger", cfg.ReqLogger, "file:" + in("req.log")},
			{"touch-reload", cfg.TouchReload[0], in("reload.txt")},
			{"absolute touch-logreopen", cfg.TouchLogReopen[0], "/abs/reopen.txt"},
			{"touch-logreopen", cfg.TouchLogReopen[1], in("reopen.txt")},
			{"master-fifo", cfg.MasterFifo[0], in("fifo")},
		} {
			if c.got != c.want {
				t.Errorf("--chdir %q: %s is %q, want %q", tt.chdir, c.what, c.got, c.want)
			}
		}
	}
	// The logger's file is opened after the change of directory: unlike
	// --logto, it is taken from --chdir.
	cfg, _, err := config.Parse([]string{"--module", "wsgi", "--chdir", "/srv/app", "--logger", "file:app.log", "--http", ":8000"}, []string{})
	if err != nil {
		t.Fatal(err)
	}
	if err := absPaths(cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.LogTo != "/srv/app/app.log" || cfg.Logger != "file:/srv/app/app.log" {
		t.Errorf("--logger file:app.log with --chdir /srv/app: logto %q, logger %q; want /srv/app/app.log", cfg.LogTo, cfg.Logger)
	}
}

// --log-backupname naming the log itself (log-backupname = %(logto)) is
// refused: each rotation renamed the file onto itself, which changed
// nothing, and the master said "log rotated" every second for good.
func TestLogBackupNameIsNotTheLog(t *testing.T) {
	dir := t.TempDir()
	cfg, _, err := config.Parse([]string{"--module", "wsgi", "--http", ":8000", "--chdir", dir, "--logto", filepath.Join(dir, "x.log"),
		"--log-maxsize", "200", "--log-backupname", filepath.Join(dir, ".", "x.log")}, []string{})
	if err != nil {
		t.Fatal(err)
	}
	if err := absPaths(cfg); err == nil || !strings.Contains(err.Error(), "is the log itself") {
		t.Errorf("--log-backupname = --logto: %v, want refused", err)
	}
	cfg.LogBackupName = filepath.Join(dir, "x.log.old")
	if err := absPaths(cfg); err != nil {
		t.Errorf("another backup name: %v", err)
	}
}
