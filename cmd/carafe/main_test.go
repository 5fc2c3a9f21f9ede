package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"carafe/internal/config"
)

// Relative unix sockets are taken from --chdir, as uWSGI binds them after
// changing directory (an ini's `socket = app.sock` beside `chdir =
// /srv/app` is nginx's /srv/app/app.sock); the files carafe opens, and
// every path without --chdir, from the directory carafe starts in.
func TestAbsPaths(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		chdir     string
		sock, log string // want
	}{
		{"/srv/app", "/srv/app/app.sock", filepath.Join(wd, "app.log")},
		{"site", filepath.Join(wd, "site/app.sock"), filepath.Join(wd, "app.log")},
		{"", filepath.Join(wd, "app.sock"), filepath.Join(wd, "app.log")},
	} {
		cfg, _, err := config.Parse([]string{"--module", "wsgi", "--chdir", tt.chdir, "--socket", "app.sock",
			"--socket", "/run/abs.sock", "--socket", "127.0.0.1:3031", "--http", "./web.sock",
			"--stats", "stats.sock", "--logto", "app.log"}, []string{})
		if err != nil {
			t.Fatal(err)
		}
		if err := absPaths(cfg); err != nil {
			t.Fatal(err)
		}
		dir := filepath.Dir(tt.sock)
		if !slices.Equal(cfg.Socket, []string{tt.sock, "/run/abs.sock", "127.0.0.1:3031"}) ||
			!slices.Equal(cfg.HTTP, []string{filepath.Join(dir, "web.sock")}) ||
			cfg.Stats != filepath.Join(dir, "stats.sock") || cfg.LogTo != tt.log {
			t.Errorf("--chdir %q: socket %q, http %q, stats %q, logto %q", tt.chdir, cfg.Socket, cfg.HTTP, cfg.Stats, cfg.LogTo)
		}
	}
}
