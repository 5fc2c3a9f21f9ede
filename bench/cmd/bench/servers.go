package main

import (
	"net"
	"path/filepath"
	"strconv"
)

// listen is where one run's server listens: HTTP on a TCP address, or the
// uwsgi protocol on a unix socket (behind nginx).
type listen struct {
	http   string // "127.0.0.1:PORT", or ""
	socket string // a unix socket path, or ""
}

// runSpec is what a server is asked to serve in one run.
type runSpec struct {
	app       string // the app's directory, absolute; the module is wsgi
	procs     int
	threads   int
	listen    listen
	staticDir string // the static scenario's files, or ""
}

// server is one server under test.
type server struct {
	name string
	// argv is the command line for r; env is added to the environment.
	argv func(h *harness, r runSpec) []string
	env  func(h *harness, r runSpec) []string
	// single: one process only (waitress); such a server sits out
	// scenarios with more.
	single bool
	// uwsgiProto: it can listen on a uwsgi socket behind nginx.
	uwsgiProto bool
	// appOnly: it answers fixed bytes, whatever the app (the ceiling).
	appOnly bool
	// only lists the scenarios it runs in (all when empty): a variant of
	// carafe's own set-up runs where it tells something.
	only []string
	// command is its command line for the docs, with placeholders.
	command string
}

func servers() []*server {
	return []*server{
		{
			name: "carafe", uwsgiProto: true,
			command: "bin/carafe --http 127.0.0.1:PORT --chdir APP --module wsgi --processes P --threads T --disable-logging --virtualenv BENCH/.bench-venv\n" +
				"# static file: --static-map /static=DIR; behind nginx: --socket /PATH.sock instead of --http",
			argv: carafeArgv,
		},
		{
			// The same carafe under the SCHED_BATCH policy (what systemd's
			// CPUSchedulingPolicy=batch sets), where the workers fill both
			// CPUs: it measures what the kernel's wake-up preemption costs
			// carafe there, and what it buys. Not a peer, and no target
			// is judged on it.
			name: "carafe-batch", only: []string{"hello-2x8", "flask-2x8", "django-2x8"},
			command: "chrt --batch 0 bin/carafe ... (the same options as carafe)",
			argv: func(h *harness, r runSpec) []string {
				return append([]string{"chrt", "--batch", "0"}, carafeArgv(h, r)...)
			},
		},
		{
			name: "uwsgi", uwsgiProto: true,
			command: "uwsgi --plugin python3 --http11-socket 127.0.0.1:PORT --chdir APP --module wsgi --processes P --threads T --disable-logging --master --listen 1024 --pythonpath BENCH/.bench-venv/lib/python3.X/site-packages\n" +
				"# static file: --static-map /static=DIR; behind nginx: --socket /PATH.sock instead of --http11-socket",
			argv: func(h *harness, r runSpec) []string {
				a := []string{"uwsgi", "--plugin", "python3"}
				a = append(a, listenFlag(r.listen, "--http11-socket")...)
				a = append(a, "--chdir", r.app, "--module", "wsgi", "--processes", itoa(r.procs),
					"--threads", itoa(r.threads), "--disable-logging", "--master", "--listen", "1024",
					"--pythonpath", h.sitePackages)
				if r.staticDir != "" {
					a = append(a, "--static-map", "/static="+r.staticDir)
				}
				return a
			},
		},
		{
			name:    "gunicorn",
			command: "BENCH/.bench-venv/bin/gunicorn -k gthread -w P --threads T -b 127.0.0.1:PORT --chdir APP wsgi:application",
			argv: func(h *harness, r runSpec) []string {
				return []string{h.venvBin("gunicorn"), "-k", "gthread", "-w", itoa(r.procs), "--threads", itoa(r.threads),
					"-b", r.listen.http, "--chdir", r.app, "wsgi:application"}
			},
			env: appStatic,
		},
		{
			name: "granian",
			command: "BENCH/.bench-venv/bin/granian --interface wsgi --workers P --blocking-threads T --host 127.0.0.1 --port PORT --working-dir APP wsgi:application\n" +
				"# static file: --static-path-route /static --static-path-mount DIR",
			argv: func(h *harness, r runSpec) []string {
				host, port, _ := net.SplitHostPort(r.listen.http)
				a := []string{h.venvBin("granian"), "--interface", "wsgi", "--workers", itoa(r.procs),
					"--blocking-threads", itoa(r.threads), "--host", host, "--port", port, "--working-dir", r.app}
				if r.staticDir != "" {
					a = append(a, "--static-path-route", "/static", "--static-path-mount", r.staticDir)
				}
				return append(a, "wsgi:application")
			},
		},
		{
			name: "waitress", single: true,
			command: "cd APP && BENCH/.bench-venv/bin/waitress-serve --threads=T --listen=127.0.0.1:PORT wsgi:application",
			argv: func(h *harness, r runSpec) []string {
				return []string{h.venvBin("waitress-serve"), "--threads=" + itoa(r.threads), "--listen=" + r.listen.http, "wsgi:application"}
			},
			env: appStatic,
		},
		{
			name: "ceiling", appOnly: true,
			command: "bin/bench-ceiling -addr 127.0.0.1:PORT",
			argv: func(h *harness, r runSpec) []string {
				return []string{filepath.Join(h.cfg.root, "bin", "bench-ceiling"), "-addr", r.listen.http}
			},
		},
	}
}

func carafeArgv(h *harness, r runSpec) []string {
	a := []string{h.cfg.carafe}
	a = append(a, listenFlag(r.listen, "--http")...)
	a = append(a, "--chdir", r.app, "--module", "wsgi", "--processes", itoa(r.procs),
		"--threads", itoa(r.threads), "--disable-logging", "--virtualenv", h.cfg.venv)
	if r.staticDir != "" {
		a = append(a, "--static-map", "/static="+r.staticDir)
	}
	return a
}

// listenFlag is the flag for r's listener: httpFlag ADDR, or --socket PATH.
func listenFlag(l listen, httpFlag string) []string {
	if l.socket != "" {
		return []string{"--socket", l.socket}
	}
	return []string{httpFlag, l.http}
}

// appStatic asks the static app to serve the files itself, for servers
// that have no static map of their own.
func appStatic(_ *harness, r runSpec) []string {
	if r.staticDir == "" {
		return nil
	}
	return []string{"BENCH_STATIC_VIA_APP=1"}
}

func itoa(n int) string { return strconv.Itoa(n) }
