package main

import (
	"bytes"
	"fmt"
	"strings"
	"time"
)

// scenario is one workload at one processes × threads setting.
type scenario struct {
	id, title string
	app       string // directory under bench/apps
	method    string
	path      string
	body      []byte // the check request's body; wrk sends the script's
	script    string // wrk Lua script under bench/scripts, or ""
	procs     int
	threads   int
	conns     int
	quick     bool // part of quick mode too
	static    bool // serves a generated file from a static directory
	nginx     bool // behind nginx, over the uwsgi protocol
	// optional: servers may lack the feature the scenario needs; one
	// that fails to start or answers wrong is "not supported yet" instead
	// of stopping the benchmark.
	optional bool
	// want checks the check request's response body.
	want func(body []byte) error
	note string
}

const (
	staticName = "file100k.bin"
	staticSize = 100 * 1024
	echoSize   = 1 << 20
	downSize   = 10 << 20
)

func scenarios() []*scenario {
	hello := exact([]byte("Hello world!"))
	list := []*scenario{
		{id: "hello-1x8", title: "hello world, 1 process", app: "hello", procs: 1, threads: 8, conns: 64, quick: true, want: hello},
		{id: "hello-2x8", title: "hello world, 2 processes", app: "hello", procs: 2, threads: 8, conns: 64, quick: true, want: hello},
		{id: "flask-1x8", title: "Flask JSON, 1 process", app: "flaskjson", procs: 1, threads: 8, conns: 64, quick: true,
			want: contains(`"status":"ok"`)},
		{id: "flask-2x8", title: "Flask JSON, 2 processes", app: "flaskjson", procs: 2, threads: 8, conns: 64,
			want: contains(`"status":"ok"`)},
		{id: "django-1x8", title: "Django page, 1 process", app: "djangopage", procs: 1, threads: 8, conns: 64, quick: true,
			want: contains("<h1>Benchmark page</h1>")},
		{id: "django-2x8", title: "Django page, 2 processes", app: "djangopage", procs: 2, threads: 8, conns: 64,
			want: contains("<h1>Benchmark page</h1>")},
		{id: "echo-1m", title: "1 MiB POST echo", app: "echo", method: "POST", body: repeat(echoSize, echoUnit),
			script: "post1m.lua", procs: 1, threads: 8, conns: 16, quick: true, want: exact(repeat(echoSize, echoUnit))},
		{id: "download-10m", title: "10 MiB download", app: "download", procs: 1, threads: 8, conns: 16, quick: true,
			want: exact(repeat(downSize, upTo(256)))},
		{id: "sleep-50ms", title: "50 ms handler, 256 conns", app: "sleep", procs: 1, threads: 64, conns: 256, quick: true,
			want: exact([]byte("slept 50 ms")),
			note: "Every server gets 64 threads for a handler that waits (ideal: 64 / 0.05 s = 1280 req/s, each request queued behind 256 / 64 = 4 handler times)"},
		{id: "static-100k", title: "100 KiB static file", app: "static", path: "/static/" + staticName,
			procs: 1, threads: 8, conns: 64, quick: true, static: true, optional: true, want: exact(repeat(staticSize, upTo(251))),
			note: "carafe and uWSGI serve it with `--static-map`, Granian with `--static-path-mount`; Gunicorn and waitress have no static map, so the app sends it with `wsgi.file_wrapper`"},
		{id: "nginx-uwsgi", title: "nginx → uwsgi socket", app: "hello", procs: 1, threads: 8, conns: 64, quick: true,
			nginx: true, optional: true, want: hello,
			note: "hello world through nginx (`uwsgi_pass` to a unix socket); the same nginx config for both"},
	}
	for _, s := range list {
		if s.method == "" {
			s.method = "GET"
		}
		if s.path == "" {
			s.path = "/"
		}
	}
	return list
}

// request describes the scenario's request for the docs.
func (s *scenario) request() string {
	r := s.method + " " + s.path
	if s.body != nil {
		r += fmt.Sprintf(" (%d KiB body)", len(s.body)/1024)
	}
	return r
}

// repeat is n bytes of unit over and over: the download app's body is
// bytes 0..255 repeated, the echo script's "0123456789abcdef", and the
// static file, which the harness writes, bytes 0..250.
func repeat(n int, unit []byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = unit[i%len(unit)]
	}
	return b
}

// upTo is the bytes 0, 1, ..., n-1.
func upTo(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

var echoUnit = []byte("0123456789abcdef") // bench/scripts/post1m.lua

func exact(want []byte) func([]byte) error {
	return func(got []byte) error {
		if bytes.Equal(got, want) {
			return nil
		}
		return fmt.Errorf("body is %d bytes %s, want %d bytes %s", len(got), preview(got), len(want), preview(want))
	}
}

func contains(want string) func([]byte) error {
	return func(got []byte) error {
		if bytes.Contains(got, []byte(want)) {
			return nil
		}
		return fmt.Errorf("body %s lacks %q", preview(got), want)
	}
}

func preview(b []byte) string {
	const n = 60
	s := string(b)
	if len(s) > n {
		s = s[:n] + "…"
	}
	return fmt.Sprintf("%q", strings.ToValidUTF8(s, "?"))
}

// wrkTimeout is wrk's per-request timeout: long enough that the queueing
// of the 50 ms scenario is latency, not errors.
const wrkTimeout = 10 * time.Second
