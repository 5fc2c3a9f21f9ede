package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want func(c *Config) // applied to the defaults to build the expected config
	}{
		{
			name: "long forms",
			args: []string{"--module", "app:application", "--http=127.0.0.1:8001", "--processes", "4", "--threads=8"},
			want: func(c *Config) {
				c.Module, c.HTTP, c.Processes, c.Threads = "app:application", []string{"127.0.0.1:8001"}, 4, 8
			},
		},
		{
			name: "short letters",
			args: []string{"-w", "app", "-s", "/tmp/a.sock", "-p4", "-M", "-H", "/venv", "-T"},
			want: func(c *Config) {
				c.Module, c.Socket, c.Processes, c.Master, c.Virtualenv = "app", []string{"/tmp/a.sock"}, 4, true, "/venv"
			},
		},
		{
			name: "short with equals",
			args: []string{"-w=app", "-p=2", "-s", ":3031", "-M=false"},
			want: func(c *Config) { c.Module, c.Processes, c.Socket = "app", 2, []string{"0.0.0.0:3031"} },
		},
		{
			name: "aliases",
			args: []string{"--wsgi-file", "app.py", "--http-socket", ":80", "--http11-socket", "127.0.0.1:81", "--uwsgi-socket", "10.0.0.1:3031",
				"--workers", "3", "--venv", "/v", "--pp", "/a", "--python-path", "/b", "--stats-server", "127.0.0.1:9191"},
			want: func(c *Config) {
				c.WSGIFile, c.HTTP, c.Socket = "app.py", []string{"0.0.0.0:80", "127.0.0.1:81"}, []string{"10.0.0.1:3031"}
				c.Processes, c.Virtualenv, c.PythonPath, c.Stats = 3, "/v", []string{"/a", "/b"}, "127.0.0.1:9191"
			},
		},
		{
			name: "file home pyhome",
			args: []string{"--file", "x.py", "--home", "/h", "--pyhome", "/p", "--http", ":1"},
			want: func(c *Config) { c.WSGIFile, c.Virtualenv, c.HTTP = "x.py", "/p", []string{"0.0.0.0:1"} },
		},
		{
			name: "booleans",
			args: []string{"app", "--master", "--vacuum=yes", "--disable-logging=ON", "--die-on-term", "--strict=0"},
			want: func(c *Config) {
				c.Module, c.HTTP, c.Master, c.Vacuum, c.DisableLogging, c.DieOnTerm = "app", []string{DefaultHTTP}, true, true, true, true
			},
		},
		{
			name: "lists repeat",
			args: []string{"app", "--env", "A=1", "--env=B=2", "--static-map", "/s=/srv/s", "--static-map", "/m=/srv/m"},
			want: func(c *Config) {
				c.Module, c.HTTP, c.Env, c.StaticMap = "app", []string{DefaultHTTP}, []string{"A=1", "B=2"}, []string{"/s=/srv/s", "/m=/srv/m"}
			},
		},
		{
			name: "scalars last wins",
			args: []string{"app", "--threads", "2", "--threads", "6", "--logto", "/a.log", "--logto=/b.log"},
			want: func(c *Config) { c.Module, c.HTTP, c.Threads, c.LogTo = "app", []string{DefaultHTTP}, 6, "/b.log" },
		},
		{
			name: "numbers and limits",
			args: []string{"app", "--harakiri", "30", "--max-requests", "5000", "--reload-on-rss", "512", "--buffer-size", "65535",
				"--limit-post", "10737418240", "--limit-request-line", "4094", "--limit-request-fields", "50", "--limit-request-field-size", "1024",
				"--http-header-timeout", "0.5", "--http-timeout", "30", "--socket-timeout", "4", "--http-keepalive", "0"},
			want: func(c *Config) {
				c.Module, c.HTTP = "app", []string{DefaultHTTP}
				c.Harakiri, c.MaxRequests, c.ReloadOnRSS, c.BufferSize = 30, 5000, 512, 65535
				c.LimitPost, c.LimitRequestLine, c.LimitRequestFields, c.LimitRequestFieldSize = 10737418240, 4094, 50, 1024
				c.HTTPHeaderTimeout, c.HTTPTimeout, c.SocketTimeout, c.HTTPKeepalive = 0.5, 30, 4, 0
			},
		},
		{
			name: "chmod-socket bare then module",
			args: []string{"--socket", "/run/a.sock", "--chmod-socket", "app:app"},
			want: func(c *Config) { c.Socket, c.ChmodSocket, c.Module = []string{"/run/a.sock"}, "666", "app:app" },
		},
		{
			name: "chmod-socket with value",
			args: []string{"--socket", "/run/a.sock", "--chmod-socket", "660", "-w", "app"},
			want: func(c *Config) { c.Socket, c.ChmodSocket, c.Module = []string{"/run/a.sock"}, "660", "app" },
		},
		{
			name: "chmod-socket bare at end",
			args: []string{"-w", "app", "--socket", "/run/a.sock", "--chmod-socket"},
			want: func(c *Config) { c.Socket, c.ChmodSocket, c.Module = []string{"/run/a.sock"}, "666", "app" },
		},
		{
			name: "short form",
			args: []string{"hello:app"},
			want: func(c *Config) { c.Module, c.HTTP = "hello:app", []string{"127.0.0.1:8000"} },
		},
		{
			name: "short form with socket keeps no http",
			args: []string{"--socket", "127.0.0.1:3031", "hello"},
			want: func(c *Config) { c.Module, c.Socket = "hello", []string{"127.0.0.1:3031"} },
		},
		{
			name: "double dash ends options",
			args: []string{"--http", "127.0.0.1:1", "--", "_dash.mod2:app"},
			want: func(c *Config) { c.Module, c.HTTP = "_dash.mod2:app", []string{"127.0.0.1:1"} },
		},
		{
			name: "harmless uWSGI options",
			args: []string{"app", "--enable-threads", "--ignore-sigpipe", "--ignore-write-errors=true", "--disable-write-exception",
				"--single-interpreter", "--need-app", "--lazy-apps", "--lazy", "--thunder-lock", "--memory-report",
				"--plugin", "python3", "--plugins=python312,http",
				"--auto-procname", "--procname-prefix-spaced", "mysite", "--procname-master=uwsgi master",
				"--harakiri-verbose", "--no-orphans", "--so-keepalive", "--stats-http", "--listen", "1024", "-l128",
				"--log-date", "--logdate=%Y-%m-%d %H:%M:%S", "--log-master", "--threaded-logger", "--log-reopen",
				"--close-on-exec", "--close-on-exec2", "--py-call-osafterfork", "--http-auto-chunked", "--threads-stacksize", "512",
				"--need-plugin", "python3", "--plugins-dir", "/usr/lib/uwsgi/plugins", "--min-worker-lifetime", "10",
				"--file-serve-mode", "x-accel-redirect", "--fileserve-mode=x-sendfile",
				"--log-master-bufsize", "65536", "--log-master-stream", "--log-master-req-stream"},
			want: func(c *Config) { c.Module, c.HTTP = "app", []string{DefaultHTTP} },
		},
		{
			name: "http on a unix socket",
			args: []string{"app", "--http", "/run/app.sock"},
			want: func(c *Config) { c.Module, c.HTTP = "app", []string{"/run/app.sock"} },
		},
		{
			name: "protocol http makes sockets HTTP",
			args: []string{"app", "--socket", ":9000", "--socket", "/run/a.sock", "--protocol=http", "--http", ":8000"},
			want: func(c *Config) {
				c.Module, c.HTTP, c.Protocol = "app", []string{"0.0.0.0:8000", "0.0.0.0:9000", "/run/a.sock"}, "http"
			},
		},
		{
			name: "protocol uwsgi changes nothing",
			args: []string{"app", "--socket", ":9000", "--socket-protocol", "uwsgi"},
			want: func(c *Config) { c.Module, c.Socket, c.Protocol = "app", []string{"0.0.0.0:9000"}, "uwsgi" },
		},
		{
			name: "uWSGI's wsgi, touch-chain-reload and touch-workers-reload spellings",
			args: []string{"--wsgi", "app:application", "--touch-chain-reload", "/srv/reload", "--http", ":8000",
				"--touch-workers-reload", "/srv/workers"},
			want: func(c *Config) {
				c.Module, c.HTTP, c.TouchReload = "app:application", []string{"0.0.0.0:8000"}, []string{"/srv/reload", "/srv/workers"}
			},
		},
		{
			name: "logger file: is logto; req-logger has its own file",
			args: []string{"app", "--logger", "file:/var/log/app.log", "--req-logger", "file:/var/log/access.log"},
			want: func(c *Config) {
				c.Module, c.HTTP, c.Logger, c.LogTo = "app", []string{DefaultHTTP}, "file:/var/log/app.log", "/var/log/app.log"
				c.ReqLogger = "file:/var/log/access.log"
			},
		},
		{
			name: "static-expires rules kept per option",
			args: []string{"app", "--static-expires-uri", `\.css$ 60`, "--static-expires-type", "text/css=3600",
				"--static-expires-uri", `\.js$ 60`},
			want: func(c *Config) {
				c.Module, c.HTTP = "app", []string{DefaultHTTP}
				c.StaticExpires[6] = []string{"text/css=3600"}
				c.StaticExpires[4] = []string{`\.css$ 60`, `\.js$ 60`}
			},
		},
		{
			name: "static-gzip-all is static-precompressed",
			args: []string{"app", "--static-gzip-all"},
			want: func(c *Config) { c.Module, c.HTTP, c.StaticPrecompressed = "app", []string{DefaultHTTP}, true },
		},
		{
			name: "callable agreeing with module",
			args: []string{"wsgi:app", "--callable", "app"},
			want: func(c *Config) { c.Module, c.HTTP, c.Callable = "wsgi:app", []string{DefaultHTTP}, "app" },
		},
		{
			name: "uid gid pidfile chdir",
			args: []string{"app", "--uid", "www-data", "--gid=33", "--pidfile", "/run/c.pid", "--chdir", "/srv"},
			want: func(c *Config) {
				c.Module, c.HTTP, c.UID, c.GID, c.Pidfile, c.Chdir = "app", []string{DefaultHTTP}, "www-data", "33", "/run/c.pid", "/srv"
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, warnings, err := Parse(tt.args, []string{})
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.args, err)
			}
			if len(warnings) != 0 {
				t.Errorf("warnings: %q", warnings)
			}
			want := Default()
			tt.want(want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Parse(%q)\n got %+v\nwant %+v", tt.args, got, want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string // the whole error message
	}{
		{"unknown flag", []string{"--process", "2", "app"}, `config: unknown option "--process" (did you mean "--processes"?)`},
		{"unknown flag typo", []string{"--htpt", ":80", "app"}, `config: unknown option "--htpt" (did you mean "--http"?)`},
		{"unknown flag prefix", []string{"--limit-request", "1", "app"}, `config: unknown option "--limit-request" (did you mean "--limit-request-line"?)`},
		{"unknown flag no suggestion", []string{"--zzzzzz", "app"}, `config: unknown option "--zzzzzz"`},
		{"single dash long", []string{"-processes", "2", "app"}, `config: unknown option "-processes" (did you mean "--processes"?)`},
		{"unknown short", []string{"-x", "app"}, `config: unknown option "-x"`},
		{"master-fifo empty", []string{"--master-fifo=", "app"}, `config: --master-fifo: empty file name`},
		{"master-fifo 11", append(strings.Split(strings.Repeat("--master-fifo=/f ", 11), " ")[:11], "app"),
			`config: --master-fifo given 11 times: at most 10, for the commands 0 to 9 that switch between them`},
		// Gunicorn's names, which edit distance alone mapped to --ini
		// (--bind), --reload-mercy (--reload) or nothing (--timeout).
		{"gunicorn bind", []string{"app", "--bind", "0.0.0.0:8000"}, `config: unknown option "--bind" (Gunicorn's --bind is carafe's --http; see README.md, "From Gunicorn")`},
		{"gunicorn reload", []string{"app", "--reload"}, `config: unknown option "--reload" (uWSGI's --reload PIDFILE is ` + "`kill -HUP $(cat PIDFILE)`" + `: carafe has no control commands; see docs/operations.md, "Signals"; Gunicorn's --reload is carafe's --py-autoreload 1; see README.md, "From Gunicorn")`},
		{"uwsgi stop", []string{"--stop", "/run/app.pid"}, `config: unknown option "--stop" (uWSGI's --stop PIDFILE is ` + "`kill -TERM $(cat PIDFILE) (kill -INT stops at once)`" + `: carafe has no control commands; see docs/operations.md, "Signals")`},
		{"gunicorn access-logformat", []string{"app", "--access-logformat", "%(h)s"}, `config: unknown option "--access-logformat" (Gunicorn's --access-logformat is carafe's --log-format with uWSGI's variables; Apache's combined format is '%(addr) - %(user) [%(ltime)] "%(method) %(uri) %(proto)" %(status) %(size) "%(referer)" "%(uagent)"'; see README.md, "From Gunicorn")`},
		{"gunicorn backlog", []string{"app", "--backlog", "2048"}, `config: unknown option "--backlog" (Gunicorn's --backlog is carafe's --listen (carafe asks for the largest backlog the kernel allows); see README.md, "From Gunicorn")`},
		{"gunicorn timeout", []string{"app", "--timeout=30"}, `config: unknown option "--timeout" (Gunicorn's --timeout is carafe's --harakiri (it ends a request that runs longer; Gunicorn's default is 30, carafe has no limit unless given one); see README.md, "From Gunicorn")`},
		{"gunicorn -b", []string{"app", "-b", "0.0.0.0:8000"}, `config: -b 0.0.0.0:8000: carafe's -b is uWSGI's --buffer-size; Gunicorn's -b (bind) is --http 0.0.0.0:8000`},
		{"gunicorn -b unix", []string{"app", "-b", "unix:/run/app.sock"}, `config: -b unix:/run/app.sock: carafe's -b is uWSGI's --buffer-size; Gunicorn's -b (bind) is --http /run/app.sock`},
		{"gunicorn -w", []string{"-w", "4", "app:app"}, `config: -w 4: carafe's -w is uWSGI's --module; Gunicorn's -w (workers) is --processes 4`},
		{"gunicorn -p", []string{"-p", "/run/app.pid", "app:app"}, `config: -p /run/app.pid: carafe's -p is uWSGI's --processes; Gunicorn's -p (pid file) is --pidfile /run/app.pid`},
		{"gunicorn -c", []string{"-c", "gunicorn.conf.py", "app:app"}, `config: unknown option "-c" (Gunicorn's -c (--config) is carafe's --ini (a gunicorn.conf.py is Python, which carafe does not run: put its settings in an ini file); see README.md, "From Gunicorn")`},
		{"gunicorn -kgthread", []string{"-kgthread", "app:app"}, `config: unknown option "-k" (Gunicorn's -k (--worker-class) has no equivalent in carafe: every worker runs --threads of its own; carafe serves WSGI apps only, so an ASGI app (uvicorn's worker) needs an ASGI server; see README.md, "From Gunicorn")`},
		{"gunicorn -k", []string{"-k", "gthread", "app:app"}, `config: unknown option "-k" (Gunicorn's -k (--worker-class) has no equivalent in carafe: every worker runs --threads of its own; carafe serves WSGI apps only, so an ASGI app (uvicorn's worker) needs an ASGI server; see README.md, "From Gunicorn")`},
		{"gunicorn preload", []string{"app:app", "--preload"}, `config: unknown option "--preload" (Gunicorn's --preload has no equivalent in carafe: Go cannot fork, so each worker imports the app itself, as uWSGI's --lazy-apps; see README.md, "From Gunicorn")`},
		{"gunicorn certfile", []string{"app:app", "--certfile", "c.pem"}, `config: unknown option "--certfile" (Gunicorn's --certfile has no equivalent in carafe: carafe speaks no TLS; put nginx (or another proxy) in front for HTTPS; see README.md, "From Gunicorn")`},
		{"gunicorn capture-output", []string{"app:app", "--capture-output"}, `config: unknown option "--capture-output" (Gunicorn's --capture-output has no equivalent in carafe: the app's stdout and stderr already go where carafe logs (--logto); see README.md, "From Gunicorn")`},
		{"unknown single dash word", []string{"-xyz", "app"}, `config: unknown option "-xyz" (long options start with --)`},
		{"short bool with value", []string{"-Mp", "app"}, `config: -M takes no value (write each one-letter option separately)`},
		{"unsupported flag", []string{"--emperor", "/etc/vassals"}, `config: option --emperor is a uWSGI feature carafe does not implement: Run one carafe per app under systemd (or another supervisor) instead.`},
		{"unsupported alias-free", []string{"app", "--emperor=/tmp/x"}, `config: option --emperor is a uWSGI feature carafe does not implement: Run one carafe per app under systemd (or another supervisor) instead.`},
		{"bool separate value", []string{"app", "--master", "false"}, `config: --master takes no separate value; write --master=false`},
		{"bool bad value", []string{"app", "--master=maybe"}, `config: --master: invalid boolean "maybe" (want true/false, yes/no, on/off or 1/0)`},
		{"noop bad value", []string{"app", "--enable-threads=perhaps"}, `config: --enable-threads: invalid boolean "perhaps" (want true/false, yes/no, on/off or 1/0)`},
		{"missing value", []string{"app", "--processes"}, `config: --processes needs a value`},
		{"missing short value", []string{"app", "-p"}, `config: -p needs a value`},
		{"bad int", []string{"app", "--processes", "two"}, `config: --processes: invalid integer "two"`},
		{"bad float", []string{"app", "--http-timeout", "NaN"}, `config: --http-timeout: invalid number "NaN"`},
		{"bad listen", []string{"app", "--listen", "lots"}, `config: --listen: want a positive number of connections, got "lots"`},
		{"zero listen", []string{"app", "-l", "0"}, `config: -l: want a positive number of connections, got "0"`},
		{"bad plugin", []string{"app", "--plugin", "php"}, `config: --plugin: plugin "php" is not available in carafe: only python (python3, python311, ...), http and logfile are built in; remove it`},
		{"two positionals", []string{"a:app", "b:app"}, `config: more than one app given (["a:app" "b:app"]); give a single module:callable, and options as --name value`},
		{"positional and module", []string{"a:app", "--module", "b"}, `config: "a:app" given as the app, but --module, --wsgi-file or --paste is also set; give only one`},
		{"positional and wsgi-file", []string{"--wsgi-file", "x.py", "a:app"}, `config: "a:app" given as the app, but --module, --wsgi-file or --paste is also set; give only one`},
		{"no app", []string{"--http", ":80"}, `config: no app given: use --module MOD[:CALLABLE], --wsgi-file PATH, --paste config:FILE, or carafe MOD:CALLABLE`},
		{"file and paste", []string{"--http", ":80", "--wsgi-file", "a.py", "--paste", "config:a.ini"}, `config: --wsgi-file "a.py" and --paste "config:a.ini" are both set; give one`},
		{"paste-logger alone", []string{"app", "--paste-logger"}, `config: --paste-logger needs --paste`},
		{"two mounts", []string{"--http", ":80", "--mount", "/a=a:app", "--mount", "/b=b:app"}, `config: --mount given 2 times; carafe runs one app (mount several with a WSGI dispatcher such as Werkzeug's DispatcherMiddleware)`},
		{"bad mount", []string{"--http", ":80", "--mount", "a=a:app"}, `config: --mount "a=a:app": want /PREFIX=APP`},
		{"mount and module", []string{"--http", ":80", "--mount", "/a=a:app", "--module", "b"}, `config: --mount "/a=a:app" names the app, and so does --module, --wsgi-file or --paste; give one`},
		{"paste-logger on egg:", []string{"--http", ":80", "--paste", "egg:MyApp", "--paste-logger"}, `config: --paste-logger reads the logging sections of a config: file; --paste "egg:MyApp" names none`},
		{"paste with callable", []string{"--http", ":80", "--paste", "config:a.ini", "--callable", "app"}, `config: --callable "app" does not apply to --paste: the app is what PasteDeploy builds`},
		{"module is a file", []string{"app.py"}, `config: --module "app.py" looks like a file path; use --wsgi-file for files`},
		{"bad module", []string{"app:"}, `config: --module "app:": want a module name, optionally followed by :callable`},
		{"not a module name", []string{"--", "--weird"}, `config: --module "--weird": "--weird" is not a Python module name`},
		{"module digit", []string{"my.1app"}, `config: --module "my.1app": "my.1app" is not a Python module name`},
		{"factory with arguments", []string{"wsgi:create_app('prod')"}, `config: --module "wsgi:create_app('prod')": "create_app('prod')" is not a callable's name, nor a factory's call without arguments (wsgi:create_app())`},
		{"callable with arguments", []string{"wsgi", "--callable", "make(1)"}, `config: --callable "make(1)" is not a Python name, nor a factory's call without arguments (create_app())`},
		{"no listener", []string{"-w", "app"}, `config: no listener: give --http ADDR or --socket ADDR`},
		{"bad http addr", []string{"app", "--http", "localhost"}, `config: --http "localhost": want host:port, or :port for all interfaces`},
		{"bad port", []string{"app", "--http", ":99999"}, `config: --http ":99999": invalid port "99999"`},
		{"abstract socket", []string{"app", "--socket", "@app"}, `config: --socket "@app": an abstract unix socket (@NAME) is not supported: it has no permissions, so any local user could connect; give a path (/run/carafe/app.sock) with --chmod-socket`},
		{"gunicorn unix spelling", []string{"app", "--http", "unix:/tmp/h.sock"}, `config: --http "unix:/tmp/h.sock": write the socket path alone: /tmp/h.sock`},
		{"duplicate addr", []string{"app", "--http", ":80", "--socket", "0.0.0.0:80"}, `config: --socket "0.0.0.0:80": address already given to --http`},
		{"add-header without colon", []string{"app", "--add-header", "X-Frame-Options DENY"}, `config: --add-header "X-Frame-Options DENY": want 'Name: value' (a header name, then printable text)`},
		{"add-header bad name", []string{"app", "--add-header", "X Frame: DENY"}, `config: --add-header "X Frame: DENY": want 'Name: value' (a header name, then printable text)`},
		{"add-header CRLF", []string{"app", "--add-header", "X-A: 1\r\nSet-Cookie: x=1"}, `config: --add-header "X-A: 1\r\nSet-Cookie: x=1": want 'Name: value' (a header name, then printable text)`},
		{"add-header framing", []string{"app", "--add-header", "content-length: 0"}, `config: --add-header "content-length: 0": carafe frames each response itself; a content-length added to every one would contradict it`},
		{"bad umask", []string{"app", "--umask", "rw"}, `config: --umask "rw": want an octal mask such as 022`},
		{"umask too big", []string{"app", "--umask=1000"}, `config: --umask "1000": want an octal mask such as 022`},
		{"chown without user", []string{"app", "--socket", "/a.sock", "--chown-socket", ":www-data"}, `config: --chown-socket ":www-data": want USER or USER:GROUP`},
		{"chown empty group", []string{"app", "--socket", "/a.sock", "--chown-socket", "www-data:"}, `config: --chown-socket "www-data:": want USER or USER:GROUP`},
		{"bad chmod", []string{"app", "--socket", "/a.sock", "--chmod-socket=rw"}, `config: --chmod-socket "rw": want an octal mode such as 660`},
		{"chmod too big", []string{"app", "--socket", "/a.sock", "--chmod-socket=1777"}, `config: --chmod-socket "1777": want an octal mode such as 660`},
		{"zero processes", []string{"app", "-p", "0"}, `config: --processes must be between 1 and 4096, got 0`},
		{"processes past any machine", []string{"app", "-p", "99999999999"}, `config: --processes must be between 1 and 4096, got 99999999999`},
		{"too many threads", []string{"app", "--threads", "513"}, `config: --threads must be between 1 and 512, got 513`},
		{"zero threads", []string{"app", "--threads", "0"}, `config: --threads must be between 1 and 512, got 0`},
		{"zero buffer", []string{"app", "--buffer-size", "0"}, `config: --buffer-size must be at least 1, got 0`},
		{"number for a socket", []string{"app", "--socket", "8000"}, `config: --socket "8000": want host:port, or :port for all interfaces`},
		{"IP for a socket", []string{"app", "--socket", "127.0.0.1"}, `config: --socket "127.0.0.1": want host:port, or :port for all interfaces`},
		{"log-maxsize without logto", []string{"app", "--log-maxsize", "1000000"}, `config: --log-maxsize 1000000 needs --logto FILE: without it the log goes to stderr, and there is no file to rotate`},
		{"negative log-maxsize", []string{"app", "--logto", "/tmp/a.log", "--log-maxsize=-1"}, `config: --log-maxsize must be at least 0, got -1`},
		{"empty skip-ext", []string{"app", "--static-skip-ext="}, `config: --static-skip-ext "": want a file name ending such as .py`},
		{"fastcgi protocol", []string{"app", "--socket", ":9000", "--protocol", "fastcgi"}, `config: --protocol "fastcgi": carafe speaks uwsgi or http`},
		{"syslog logger", []string{"app", "--logger", "syslog:carafe"}, `config: --logger "syslog:carafe": carafe logs to a file (file:FILE) or to stderr; other uWSGI loggers are not available`},
		{"logger and logto differ", []string{"app", "--logger", "file:/a.log", "--logto", "/b.log"}, `config: --logger "file:/a.log" and --logto "/b.log" name different files; give one`},
		{"req-logger not a file", []string{"app", "--req-logger", "socket:1.2.3.4:514"}, `config: --req-logger "socket:1.2.3.4:514": want file:FILE`},
		{"bad static-expires-uri", []string{"app", "--static-expires-uri", "(css 60"}, "config: --static-expires-uri \"(css 60\": error parsing regexp: missing closing ): `(css`"},
		{"negative max-fd", []string{"app", "--max-fd=-1"}, `config: --max-fd must be at least 0, got -1`},
		{"stacksize not a number", []string{"app", "--thread-stacksize", "big"}, `config: --thread-stacksize: want a number of kilobytes, got "big"`},
		{"negative harakiri", []string{"app", "--harakiri", "-1"}, `config: --harakiri must be at least 0, got -1`},
		{"negative limit-post", []string{"app", "--limit-post=-1"}, `config: --limit-post must be at least 0, got -1`},
		{"zero header timeout", []string{"app", "--http-header-timeout", "0"}, `config: --http-header-timeout must be a positive number of seconds, got 0`},
		{"negative keepalive", []string{"app", "--http-keepalive=-1"}, `config: --http-keepalive must be at least 0, got -1`},
		{"bad env", []string{"app", "--env", "NOEQUALS"}, `config: --env "NOEQUALS": want KEY=VALUE`},
		{"bad static-map", []string{"app", "--static-map", "static=/srv"}, `config: --static-map "static=/srv": want /URL-PREFIX=DIR`},
		{"bad static-map2", []string{"app", "--static-map2", "/static"}, `config: --static-map2 "/static": want /URL-PREFIX=DIR`},
		{"static-map2 prefix needing escapes", []string{"app", "--static-map2", "/a b=/srv"}, `config: --static-map2 "/a b=/srv": the prefix must not need percent-encoding`},
		{"missing ini", []string{"--ini", "testdata/nope.ini"}, `config: ini: open testdata/nope.ini: no such file or directory`},
		{"missing positional ini", []string{"testdata/nope.ini"}, `config: ini: open testdata/nope.ini: no such file or directory`},
		{
			"several problems", []string{"app", "--threads", "0", "--processes", "0"},
			"config: --processes must be between 1 and 4096, got 0\nconfig: --threads must be between 1 and 512, got 0",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, err := Parse(tt.args, []string{})
			if err == nil {
				t.Fatalf("Parse(%q) = %+v, want error %q", tt.args, c, tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("Parse(%q) error\n got %q\nwant %q", tt.args, err, tt.want)
			}
		})
	}
}

func TestHelpAndVersion(t *testing.T) {
	tests := []struct {
		args []string
		want error
	}{
		{[]string{"-h"}, ErrHelp},
		{[]string{"--bogus", "--help"}, ErrHelp},
		{[]string{"app", "--version"}, ErrVersion},
		{[]string{"--", "--help"}, nil}, // after --, it is the app's name
	}
	for _, tt := range tests {
		_, _, err := Parse(tt.args, nil)
		if tt.want != nil && !errors.Is(err, tt.want) {
			t.Errorf("Parse(%q) = %v, want %v", tt.args, err, tt.want)
		}
		if tt.want == nil && (errors.Is(err, ErrHelp) || errors.Is(err, ErrVersion)) {
			t.Errorf("Parse(%q) = %v", tt.args, err)
		}
	}
}

// --show-config lists the settings in the order they apply, as uWSGI's
// does (Caktus's Docker image runs uwsgi --show-config), placeholders
// expanded, the environment's first; the server then starts as usual. A
// switch given bare is true; a string given empty stays empty.
func TestShowConfig(t *testing.T) {
	ini := filepath.Join(t.TempDir(), "site.ini")
	if err := os.WriteFile(ini, []byte("[uwsgi]\nbase = /srv/site\nchdir = %(base)\nthreads = 3\npidfile =\nvacuum =\nharakiri =\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, _, err := Parse([]string{"app", "--show-config", "--ini", ini, "--threads", "4", "--master", "-C"},
		[]string{"UWSGI_HARAKIRI=30"})
	if err != nil {
		t.Fatal(err)
	}
	want := ";carafe instance configuration\n[uwsgi]\nharakiri = 30\nshow-config = true\nini = " + ini +
		"\nchdir = /srv/site\nthreads = 3\npidfile = \nvacuum = true\nharakiri = \nthreads = 4\nmaster = true\nchmod-socket = 666\n;end of configuration"
	if c.Shown != want || c.Threads != 4 {
		t.Errorf("shown:\n%s\nwant:\n%s", c.Shown, want)
	}
	if c, _, _ := Parse([]string{"app"}, nil); c.Shown != "" {
		t.Errorf("without --show-config: %q", c.Shown)
	}
}

// Flags and the ini files they name apply in the command line's order, as
// uWSGI applies them: the last value given wins (uWSGI 2.0.21's
// --show-config lists threads = 3 then threads = 4 for the first line
// below, and runs 4), and list values from both are kept in that order.
func TestFlagsAndIniInOrder(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		threads int
		http    []string
	}{
		{[]string{"--threads", "3", "--http", "127.0.0.1:1", "--ini", "testdata/sections.ini"}, 4,
			[]string{"127.0.0.1:1", "127.0.0.1:8080"}},
		{[]string{"--ini", "testdata/sections.ini", "--threads", "3", "--http", "127.0.0.1:1"}, 3,
			[]string{"127.0.0.1:8080", "127.0.0.1:1"}},
	} {
		c, _, err := Parse(tc.args, nil)
		if err != nil {
			t.Fatal(err)
		}
		if c.Threads != tc.threads || c.Processes != 4 || !reflect.DeepEqual(c.HTTP, tc.http) {
			t.Errorf("Parse(%q): threads %d processes %d http %q, want %d 4 %q", tc.args, c.Threads, c.Processes,
				c.HTTP, tc.threads, tc.http)
		}
	}
}

// An unsupported uWSGI feature switched off asks for nothing: accepted, in
// an ini file and as --name=value; switched on it is still refused.
func TestUnsupportedSwitchedOff(t *testing.T) {
	ini := filepath.Join(t.TempDir(), "site.ini")
	off := "[uwsgi]\nmodule = app\nhttp = 127.0.0.1:1\npy-autoreload = 0\ncheaper = 0\nhttp-websockets = false\noffload-threads = 4\n"
	if err := os.WriteFile(ini, []byte(off), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, warnings, err := Parse([]string{ini, "--async=0"}, nil); err != nil || len(warnings) != 0 {
		t.Errorf("switched-off features: %v, warnings %q", err, warnings)
	}
	if err := os.WriteFile(ini, []byte("[uwsgi]\nmodule = app\nmules = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Parse([]string{ini}, nil); err == nil || !strings.Contains(err.Error(), `"mules" is a uWSGI feature`) {
		t.Errorf("mules = 1: %v, want it refused", err)
	}
	for _, name := range []string{"mule"} { // uWSGI's other spelling
		if _, _, err := Parse([]string{"app", "--" + name + "=1"}, nil); err == nil || !strings.Contains(err.Error(), "uWSGI feature") {
			t.Errorf("--%s=1: %v, want it refused", name, err)
		}
	}
	if _, _, err := Parse([]string{"app", "--spooler=/tmp/s"}, nil); err == nil {
		t.Error("--spooler=/tmp/s accepted")
	}
}

// uWSGI's four spellings of py-autoreload set it, and it implies a master,
// as in uWSGI; py-auto-reload-ignore is repeatable.
func TestPyAutoReload(t *testing.T) {
	for _, name := range []string{"py-autoreload", "py-auto-reload", "python-autoreload", "python-auto-reload"} {
		c, _, err := Parse([]string{"app", "--http", "127.0.0.1:1", "--" + name, "2",
			"--py-auto-reload-ignore", "a.b", "--py-auto-reload-ignore", "c"}, nil)
		if err != nil {
			t.Fatalf("--%s 2: %v", name, err)
		}
		if c.PyAutoReload != 2 || !c.NeedsMaster() || !reflect.DeepEqual(c.PyAutoReloadIgnore, []string{"a.b", "c"}) {
			t.Errorf("--%s 2: every %d s, master %v, ignoring %q", name, c.PyAutoReload, c.NeedsMaster(), c.PyAutoReloadIgnore)
		}
	}
	if _, _, err := Parse([]string{"app", "--http", "127.0.0.1:1", "--py-autoreload", "-1"}, nil); err == nil {
		t.Error("--py-autoreload -1 accepted")
	}
}

// A lone FILE.ini[:SECTION] is --ini FILE.ini[:SECTION], as `uwsgi site.ini`
// is in uWSGI, read after the flags wherever it stands, as uWSGI reads it
// (the file's threads = 4 beats --threads 3 in either order); an existing
// config file of a format carafe does not read is an error that says so,
// and a name that is no file stays a module.
func TestPositionalIni(t *testing.T) {
	for _, args := range [][]string{
		{"testdata/sections.ini"},
		{"--harakiri", "30", "--threads", "3", "testdata/sections.ini"},
		{"testdata/sections.ini", "--harakiri", "30", "--threads", "3"},
		{"testdata/sections.ini:staging"},
	} {
		want, _, err := Parse([]string{"--ini", slices.DeleteFunc(slices.Clone(args), func(a string) bool {
			return !strings.Contains(a, ".ini")
		})[0]}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(args) > 1 {
			want.Harakiri = 30
		}
		got, _, err := Parse(args, nil)
		if err != nil {
			t.Fatalf("Parse(%q): %v", args, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Parse(%q) = %+v\nwant the --ini form's %+v", args, got, want)
		}
	}
	yaml := filepath.Join(t.TempDir(), "site.yaml")
	if err := os.WriteFile(yaml, []byte("uwsgi:\n  module: site.wsgi\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := Parse([]string{yaml}, nil)
	if want := fmt.Sprintf("config: %q looks like a uWSGI YAML config; carafe reads ini files only (--ini FILE)", yaml); err == nil || err.Error() != want {
		t.Errorf("Parse(%q) error %v, want %s", yaml, err, want)
	}
	c, _, err := Parse([]string{"site.json"}, nil)
	if err != nil || c.Module != "site.json" {
		t.Errorf("Parse(site.json) = module %q, %v; want the module site.json (no such file)", c.Module, err)
	}
}

func TestSuggest(t *testing.T) {
	tests := map[string]string{
		"process":      "processes",
		"proceses":     "processes",
		"max_requests": "max-requests",
		"harakri":      "harakiri",
		"virtualen":    "virtualenv",
		"thread":       "threads",
		"chmod-sock":   "chmod-socket",
		"hepl":         "help",
		"q":            "",
		"ksm":          "", // uWSGI's, not js
		"xyzzy-plugh":  "",
	}
	for in, want := range tests {
		if got := suggest(in); got != want {
			t.Errorf("suggest(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIniUnderscoreKeys(t *testing.T) {
	if lookup("max_requests") == nil || lookup("limit_post") == nil {
		t.Error("underscore spelling not accepted")
	}
	if !strings.HasPrefix(didYouMean("procesess", "--"), ` (did you mean "--processes"`) {
		t.Error(didYouMean("procesess", "--"))
	}
}

// uWSGI's environment form (UWSGI_HTTP_SOCKET=:9000 is http-socket = :9000),
// as Docker images set it: between ini values and flags, UWSGI_INI loads a
// file, unknown names warn, refused features stop, other variables are not
// options.
func TestEnvironment(t *testing.T) {
	ini := filepath.Join(t.TempDir(), "app.ini")
	if err := os.WriteFile(ini, []byte("[uwsgi]\nmodule = fromini\nthreads = 8\nprocesses = 5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"PATH=/usr/bin", "UWSGIX=1", "UWSGI_=2", "UWSGI_INI=" + ini,
		"UWSGI_HTTP_SOCKET=:9000", "UWSGI_MASTER=1", "UWSGI_THREADS=4", "UWSGI_LAZY_APPS=1",
		"UWSGI_HTTP_AUTO_CHUNKED=1", "UWSGI_WSGI_ENV_BEHAVIOR=holy", "UWSGI_STATIC_MAP=/static/=/code/static/"}
	c, warnings, err := Parse([]string{"--threads", "2"}, env)
	if err != nil || len(warnings) != 0 {
		t.Fatalf("Parse: %v, warnings %q", err, warnings)
	}
	if c.Module != "fromini" || c.Processes != 5 || c.Threads != 2 || !c.Master ||
		!slices.Equal(c.HTTP, []string{"0.0.0.0:9000"}) || !slices.Equal(c.StaticMap, []string{"/static/=/code/static/"}) ||
		!slices.Equal(c.Ini, []string{ini}) {
		t.Errorf("config from the environment: %+v", c)
	}
	if c, _, err := Parse(nil, append(env, "UWSGI_MODULE=fromenv")); err != nil || c.Threads != 4 || c.Module != "fromenv" {
		t.Errorf("the environment should beat the ini file: %v %+v", err, c)
	}

	_, warnings, err = Parse([]string{"app"}, []string{"UWSGI_HARAKIRY=30"})
	if err != nil || len(warnings) != 1 || warnings[0] != `carafe: environment UWSGI_HARAKIRY: unknown option "harakiry" (did you mean "harakiri"?)` {
		t.Errorf("unknown variable: %v, warnings %q", err, warnings)
	}
	if _, _, err := Parse([]string{"app", "--strict"}, []string{"UWSGI_HARAKIRY=30"}); err == nil {
		t.Error("--strict: an unknown UWSGI_ variable is not an error")
	}
	// Under --strict every unknown key is named at once, not one a run.
	if _, _, err := Parse([]string{"app", "--strict"}, []string{"UWSGI_HARAKIRY=30", "UWSGI_PROCESS=2"}); err == nil ||
		strings.Count(err.Error(), "unknown option") != 2 {
		t.Errorf("--strict with two unknown variables: %v, want both named", err)
	}
	// An empty value clears a feature (a Dockerfile's ENV UWSGI_CHEAPER= over its image's
	// UWSGI_CHEAPER=2): uWSGI reads it as 0.
	if _, _, err := Parse([]string{"app"}, []string{"UWSGI_CHEAPER="}); err != nil {
		t.Errorf("UWSGI_CHEAPER= refused: %v", err)
	}
	if _, _, err := Parse([]string{"app"}, []string{"UWSGI_EMPEROR=/etc/uwsgi"}); err == nil ||
		!strings.Contains(err.Error(), `environment UWSGI_EMPEROR: option "emperor" is a uWSGI feature`) {
		t.Errorf("a refused feature in the environment: %v", err)
	}
	if _, _, err := Parse([]string{"app"}, []string{"UWSGI_THREADS=many"}); err == nil ||
		!strings.Contains(err.Error(), "environment UWSGI_THREADS: ") {
		t.Errorf("a bad value in the environment: %v, want the variable named", err)
	}
}

// As in uWSGI, which reads the environment before its command line, an
// ini file given on the command line overrides UWSGI_* variables (uWSGI
// 2.0.21 ran 2 workers for processes = 2 with UWSGI_PROCESSES=3; carafe
// ran 3), and its list values come after theirs; flags override both.
func TestEnvironmentUnderCommandLineIni(t *testing.T) {
	ini := filepath.Join(t.TempDir(), "app.ini")
	if err := os.WriteFile(ini, []byte("[uwsgi]\nmodule = app\nhttp = :8000\nprocesses = 2\nthreads = 8\n"+
		"pythonpath = /from/ini\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"UWSGI_PROCESSES=3", "UWSGI_THREADS=4", "UWSGI_PYTHONPATH=/from/env", "UWSGI_HARAKIRI=30"}
	c, _, err := Parse([]string{"--ini", ini, "--threads", "6"}, env)
	if err != nil {
		t.Fatal(err)
	}
	if c.Processes != 2 || c.Threads != 6 || c.Harakiri != 30 ||
		!slices.Equal(c.PythonPath, []string{"/from/env", "/from/ini"}) {
		t.Errorf("processes %d (want the ini's 2), threads %d (the flag's 6), harakiri %d (the environment's 30), "+
			"pythonpath %q", c.Processes, c.Threads, c.Harakiri, c.PythonPath)
	}
}

// A uWSGI limit carafe does not apply (limit-as, ...) is accepted, so the
// config starts, and said once at start with what to use instead; a value
// that switches it off says nothing.
func TestWarnedOptions(t *testing.T) {
	ini := filepath.Join(t.TempDir(), "site.ini")
	if err := os.WriteFile(ini, []byte("[uwsgi]\nmodule = app\nhttp = :8000\nlimit-as = 512\nreload-on-as = 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, warnings, err := Parse([]string{ini, "--cpu-affinity", "1"}, []string{"UWSGI_EVIL_RELOAD_ON_AS=900"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{ // in the order applied: a lone ini file after the flags
		"carafe: environment UWSGI_EVIL_RELOAD_ON_AS: evil-reload-on-as is not applied: ",
		"carafe: --cpu-affinity is not applied: Pin the service",
		"carafe: " + ini + ":4: limit-as is not applied: A Go worker reserves",
	}
	if len(warnings) != len(want) {
		t.Fatalf("warnings %q, want %d", warnings, len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(warnings[i], w) {
			t.Errorf("warning %d: %q, want it to start %q", i, warnings[i], w)
		}
	}
}

// --ini-paste FILE reads FILE and builds the app from it (paste =
// config:FILE, absolute); -logged adds paste-logger. In a file, paste =
// config:%p names the file itself.
func TestIniPaste(t *testing.T) {
	dir := t.TempDir()
	ini := filepath.Join(dir, "production.ini")
	os.WriteFile(ini, []byte("[uwsgi]\nhttp = :8000\n\n[app:main]\nuse = call:app:main\n"), 0o644)
	self := filepath.Join(dir, "self.ini")
	os.WriteFile(self, []byte("[uwsgi]\nhttp = :8000\npaste = config:%p\npaste-logger = true\n"), 0o644)
	for _, tc := range []struct {
		args   []string
		paste  string
		logger bool
	}{
		{[]string{"--ini-paste", ini}, "config:" + ini, false},
		{[]string{"--ini-paste-logged", ini}, "config:" + ini, true},
		{[]string{"--ini", self}, "config:" + self, true},
	} {
		c, _, err := Parse(tc.args, nil)
		if err != nil {
			t.Errorf("%q: %v", tc.args, err)
			continue
		}
		if c.Paste != tc.paste || c.PasteLogger != tc.logger || len(c.HTTP) != 1 {
			t.Errorf("%q: paste %q logger %v http %q, want %q %v and the file's http", tc.args, c.Paste,
				c.PasteLogger, c.HTTP, tc.paste, tc.logger)
		}
	}
}

// An end-of-line comment after a number or a boolean is dropped, as
// uWSGI's parsing of those ignores it; other values keep theirs.
func TestTrailingComment(t *testing.T) {
	for _, tc := range []struct{ opt, in, want string }{
		{"vacuum", "false        ; remove sockets", "false"},
		{"harakiri", "60\t# seconds", "60"},
		{"http-header-timeout", "2.5 ; s", "2.5"},
		{"listen", "1024 ; backlog", "1024"},
		{"harakiri", "60", "60"},
		{"harakiri", "60;x", "60;x"}, // no space: not a comment, and refused later
		{"add-header", "X-Note: keep ; this", "X-Note: keep ; this"},
		{"module", "app ; comment", "app ; comment"},
	} {
		if got := trailingComment(lookup(tc.opt), tc.in); got != tc.want {
			t.Errorf("%s = %q: got %q, want %q", tc.opt, tc.in, got, tc.want)
		}
	}
}

// --mount /PREFIX=APP names the app (a module, or a file) and the prefix.
func TestMount(t *testing.T) {
	for _, tc := range []struct{ mount, module, file, point string }{
		{"/yourapplication=myapp:app", "myapp:app", "", "/yourapplication"},
		{"/app/=/srv/app/app.wsgi", "", "/srv/app/app.wsgi", "/app"},
		{"/=site.py", "", "site.py", ""},
	} {
		c, _, err := Parse([]string{"--http", ":80", "--mount", tc.mount, "--manage-script-name"}, nil)
		if err != nil {
			t.Errorf("%s: %v", tc.mount, err)
			continue
		}
		if c.Module != tc.module || c.WSGIFile != tc.file || c.MountPoint != tc.point || !c.ManageScriptName {
			t.Errorf("%s: module %q file %q point %q, want %q %q %q", tc.mount, c.Module, c.WSGIFile, c.MountPoint,
				tc.module, tc.file, tc.point)
		}
	}
}

// hook-master-start is accepted for the signal mappings carafe has anyway
// (container configs set SIGTERM to graceful), refused for any other hook.
func TestHookMasterStart(t *testing.T) {
	for v, ok := range map[string]bool{
		"unix_signal:15 gracefully_kill_them_all":                 true,
		"unix_signal:2   kill_them_all":                           true,
		"unix_signal:15 gracefully_kill_them_all ; graceful stop": true,
		"unix_signal:15 kill_them_all":                            false,
		"exec:/usr/bin/true":                                      false,
	} {
		_, _, err := Parse([]string{"app", "--hook-master-start", v}, nil)
		if (err == nil) != ok {
			t.Errorf("--hook-master-start %q: %v, want accepted %v", v, err, ok)
		}
	}
}

// A config that fails comes with its warnings: a misspelt key is why the
// app is missing, and the error alone would not say so.
func TestErrorKeepsWarnings(t *testing.T) {
	ini := filepath.Join(t.TempDir(), "site.ini")
	if err := os.WriteFile(ini, []byte("[uwsgi]\nmodle = wsgi\nhttp = :8000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, warnings, err := Parse([]string{ini}, []string{})
	if err == nil {
		t.Fatal("a config without an app parsed")
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], `unknown option "modle" (did you mean "module"?)`) {
		t.Errorf("error %v came with warnings %q, want the misspelt key", err, warnings)
	}
}

// uWSGI's placeholders: %(name) is the value a key (an option, or one of
// the user's own) was given above, in this file or an included one, or by
// UWSGI_NAME; a key of the user's own used so is no unknown option; a
// %(name) that names nothing stays as written, with a warning, except in
// log-format, whose own variables look the same.
func TestIniPlaceholders(t *testing.T) {
	dir := t.TempDir()
	inc := filepath.Join(dir, "base.ini")
	ini := filepath.Join(dir, "site.ini")
	if err := os.WriteFile(inc, []byte("[uwsgi]\nlogbase = /var/log/site\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	text := "[uwsgi]\nini = " + inc + "\nmodule = app.wsgi\nhttp = :8000\n" +
		"logto = %(logbase)/%(module).log\npidfile = /run/%(tier)/%(module).pid\n" +
		"chdir = /srv/%(nosuch)\nlog-format = %(addr) %(status) %(module)\nunused_key = 1\n"
	if err := os.WriteFile(ini, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	c, warnings, err := Parse([]string{ini}, []string{"UWSGI_TIER=prod"})
	if err != nil {
		t.Fatal(err)
	}
	if c.LogTo != "/var/log/site/app.wsgi.log" || c.Pidfile != "/run/prod/app.wsgi.pid" ||
		c.Chdir != "/srv/%(nosuch)" || c.LogFormat != "%(addr) %(status) app.wsgi" {
		t.Errorf("expanded: logto %q, pidfile %q, chdir %q, log-format %q", c.LogTo, c.Pidfile, c.Chdir, c.LogFormat)
	}
	want := []string{"%(nosuch) names no option or key; kept as written", `unknown option "unused_key"`}
	if len(warnings) != len(want) {
		t.Fatalf("warnings %q, want %d", warnings, len(want))
	}
	for i, w := range want {
		if !strings.Contains(warnings[i], w) {
			t.Errorf("warning %d: %q, want %q in it", i, warnings[i], w)
		}
	}
}

// buffer-size, raised for big cookies as uWSGI configs do, raises the HTTP
// limits on a header field and the request line with it (uWSGI's bounds
// HTTP heads too), unless they are given; left alone, it changes nothing.
func TestBufferSizeRaisesHTTPLimits(t *testing.T) {
	for _, tt := range []struct {
		args        []string
		field, line int
	}{
		{[]string{"app"}, 8190, 8190},
		{[]string{"app", "--buffer-size", "32768"}, 32768, 32768},
		{[]string{"app", "--buffer-size", "65536"}, 65535, 65535},
		{[]string{"app", "--buffer-size", "2048"}, 8190, 8190},
		{[]string{"app", "--buffer-size", "32768", "--limit-request-field-size", "9000"}, 9000, 32768},
		{[]string{"app", "--limit-request-line", "100", "-b", "32768"}, 32768, 100},
	} {
		c, _, err := Parse(tt.args, []string{})
		if err != nil {
			t.Fatal(err)
		}
		if c.LimitRequestFieldSize != tt.field || c.LimitRequestLine != tt.line {
			t.Errorf("%q: field %d line %d, want %d %d", tt.args, c.LimitRequestFieldSize, c.LimitRequestLine, tt.field, tt.line)
		}
	}
}

// Placeholders as uWSGI resolves them, once the whole configuration is
// read and with the first value a key was given: a key set further on
// serves an earlier %(name) (carafe stopped: chdir %(base)/app: no such
// file), and a UWSGI_NAME variable overrides the ini's own (carafe gave
// the app stage dev under UWSGI_STAGE=prod, without a word).
func TestIniPlaceholdersAsUWSGI(t *testing.T) {
	dir := t.TempDir()
	ini := filepath.Join(dir, "site.ini")
	text := "[uwsgi]\nmodule = app\nhttp = :8000\nchdir = %(base)/app\npythonpath = %(lib)\n" +
		"env = STAGE=%(stage)\nenv = TIER=%(tier)\nstage = dev\ntier = one\ntier = two\n" +
		"lib = %(base)/lib\nbase = /srv/site\n"
	if err := os.WriteFile(ini, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	c, warnings, err := Parse([]string{ini}, []string{"UWSGI_STAGE=prod"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Chdir != "/srv/site/app" || !slices.Equal(c.PythonPath, []string{"/srv/site/lib"}) ||
		!slices.Equal(c.Env, []string{"STAGE=prod", "TIER=one"}) {
		t.Errorf("chdir %q, pythonpath %q, env %q", c.Chdir, c.PythonPath, c.Env)
	}
	for _, w := range warnings {
		if !strings.Contains(w, "UWSGI_STAGE") { // the variable names no option: said, as before
			t.Errorf("warning %q", w)
		}
	}
	// Keys that name each other end, with a warning.
	os.WriteFile(ini, []byte("[uwsgi]\nmodule = app\nhttp = :8000\nchdir = /srv/%(a)\n"+
		"a = %(b) %(b) %(b) %(b)\nb = %(a) %(a) %(a) %(a)\n"), 0o644) // each key once, not 4^depth times
	if _, warnings, err := Parse([]string{ini}, []string{}); err != nil || len(warnings) != 1 ||
		!strings.Contains(warnings[0], "leads back to itself") {
		t.Errorf("a loop of placeholders: %v, warnings %q", err, warnings)
	}
}

// A switch given a value that is none of the words for on and off (master
// = y, enable, 2) is on, as uWSGI reads it, with a warning; carafe refused
// to start such a config. On the command line it is still an error.
func TestIniSwitchWords(t *testing.T) {
	ini := filepath.Join(t.TempDir(), "site.ini")
	os.WriteFile(ini, []byte("[uwsgi]\nmodule = app\nhttp = :8000\nmaster = y\nvacuum = enable\n"+
		"disable-logging = false\n"), 0o644)
	c, warnings, err := Parse([]string{ini}, []string{})
	if err != nil {
		t.Fatal(err)
	}
	if !c.Master || !c.Vacuum || c.DisableLogging || len(warnings) != 2 ||
		!strings.Contains(warnings[0], "master = y is not a word for on or off") {
		t.Errorf("master %v vacuum %v disable-logging %v, warnings %q", c.Master, c.Vacuum, c.DisableLogging, warnings)
	}
	if _, _, err := Parse([]string{"app", "--master=y"}, []string{}); err == nil {
		t.Error("--master=y: no error")
	}
}

// A [carafe] section's keys win over [uwsgi]'s as placeholders too, as its
// options do: uWSGI never reads it, so a site keeps both layouts in one
// file (review: first-wins placeholders gave the [uwsgi] value).
func TestIniCarafeSectionPlaceholders(t *testing.T) {
	ini := filepath.Join(t.TempDir(), "site.ini")
	os.WriteFile(ini, []byte("[uwsgi]\nmodule = app\nhttp = :8000\nbase = /srv/uwsgi-layout\nchdir = %(base)/current\n"+
		"[carafe]\nbase = /srv/carafe-layout\nchdir = %(base)/current\nenv = B=%(base)\n"), 0o644)
	c, _, err := Parse([]string{ini}, []string{})
	if err != nil || c.Chdir != "/srv/carafe-layout/current" || !slices.Equal(c.Env, []string{"B=/srv/carafe-layout"}) {
		t.Errorf("%v: chdir %q, env %q", err, c.Chdir, c.Env)
	}
}

// A logic line is read at once, as in uWSGI: a %(name) there of a key set
// further on stays as written, and carafe says so (it said nothing).
func TestIniLogicLinePlaceholderWarned(t *testing.T) {
	ini := filepath.Join(t.TempDir(), "site.ini")
	os.WriteFile(ini, []byte("[uwsgi]\nmodule = app\nhttp = :8000\nif-exists = %(base)/probe.py\nenv = X=1\n"+
		"endif =\nbase = /srv\n"), 0o644)
	_, warnings, err := Parse([]string{ini}, []string{})
	if err != nil || len(warnings) != 2 || !strings.Contains(warnings[0], "%(base) names no key set above this line") ||
		!strings.Contains(warnings[1], `unknown option "base"`) { // used nowhere, in the end
		t.Errorf("%v, warnings %q", err, warnings)
	}
}

// A value Validate refuses names the ini line or the variable it came
// from, as one that does not parse does: `umask = 002 ; note` (uWSGI has
// no comments after a value) said only --umask, in a config of several
// files. The command line's own stay unplaced.
func TestValidateNamesWhere(t *testing.T) {
	dir := t.TempDir()
	ini, other := filepath.Join(dir, "site.ini"), filepath.Join(dir, "other.ini")
	if err := os.WriteFile(ini, []byte("[uwsgi]\nmodule = app\nhttp = :8000\numask = 002 ; note\n"+
		"static-map = /a=/srv/a\nthreads = 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(other, []byte("[uwsgi]\nstatic-map = nothing\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := Parse([]string{"--ini", ini}, nil)
	if err == nil || !strings.Contains(err.Error(), `config: `+ini+`:4: --umask "002 ; note": want an octal mask`) ||
		!strings.Contains(err.Error(), `config: `+ini+`:6: --threads`) {
		t.Errorf("from an ini file: %v", err)
	}
	_, _, err = Parse([]string{"--ini", ini, "--umask", "9", "--threads", "2"}, nil)
	if err == nil || !strings.Contains(err.Error(), `config: --umask "9"`) {
		t.Errorf("from the command line: %v", err)
	}
	_, _, err = Parse([]string{"app"}, []string{"UWSGI_UMASK=9z"})
	if err == nil || !strings.Contains(err.Error(), `config: environment UWSGI_UMASK: --umask "9z"`) {
		t.Errorf("from the environment: %v", err)
	}
	// A list several places added to: the quoted value finds its line.
	_, _, err = Parse([]string{"--ini", ini, "--ini", other, "--umask", "022", "--threads", "2"}, nil)
	if err == nil || !strings.Contains(err.Error(), `config: `+other+`:2: --static-map "nothing"`) {
		t.Errorf("a list from two files: %v", err)
	}
	twoEnv := filepath.Join(dir, "env.ini")
	if err := os.WriteFile(twoEnv, []byte("[uwsgi]\nmodule = app\nhttp = :8000\nenv = A=1\nenv = = eqval\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err = Parse([]string{"--ini", twoEnv}, nil)
	if err == nil || !strings.Contains(err.Error(), `config: `+twoEnv+`:5: --env "= eqval"`) {
		t.Errorf("one of two env lines: %v", err)
	}
	_, _, err = Parse([]string{"--ini", other, "--module", "app"}, nil)
	if err == nil || !strings.Contains(err.Error(), `config: `+other+`:2: --static-map "nothing"`) {
		t.Errorf("a list from one file: %v", err)
	}
	// protocol = http adds the socket values to --http: its line no
	// longer says where a value came from.
	merged := filepath.Join(dir, "merged.ini")
	if err := os.WriteFile(merged, []byte("[uwsgi]\nhttp = 127.0.0.1:8000\nsocket = 127.0.0.1:99999\n"+
		"protocol = http\nmodule = app\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err = Parse([]string{"--ini", merged}, nil)
	if err == nil || !strings.Contains(err.Error(), `config: --http "127.0.0.1:99999"`) {
		t.Errorf("socket values under protocol = http: %v", err)
	}
}

// Gunicorn mounts the app under $SCRIPT_NAME; carafe takes --mount, and
// says so rather than serve the site from / without a word.
func TestScriptNameWarning(t *testing.T) {
	// After the short form, the advice is a command line that runs: --mount
	// alone gives no listener, and with the app's name beside it is refused.
	const said = "carafe: SCRIPT_NAME=/shop in the environment is not applied (Gunicorn mounts the app there): "
	for _, tc := range []struct {
		args, env []string
		want      string
	}{
		{[]string{"app"}, nil, said + `give --http 127.0.0.1:8000 --mount /shop=app --manage-script-name in place of "app"`},
		{[]string{"--http", ":9000", "shop.wsgi"}, nil, said + `give --mount /shop=shop.wsgi --manage-script-name in place of "shop.wsgi"`},
		{[]string{"--http", ":9000", "--module", "app"}, nil, said + "give --mount /shop=APP --manage-script-name"},
		// Under socket activation, the address systemd passed, which the
		// command line must then name.
		{[]string{"app"}, []string{EnvActivated + `=["127.0.0.1:9000"]`},
			said + `give --http 127.0.0.1:9000 --mount /shop=app --manage-script-name in place of "app"`},
	} {
		_, warnings, err := Parse(tc.args, append([]string{"SCRIPT_NAME=/shop"}, tc.env...))
		if err != nil || !slices.Contains(warnings, tc.want) {
			t.Errorf("Parse(%q, %q): %v, warnings %q; want %q", tc.args, tc.env, err, warnings, tc.want)
		}
	}
	if _, _, err := Parse([]string{"--http", "127.0.0.1:8000", "--mount", "/shop=app", "--manage-script-name"}, nil); err != nil {
		t.Errorf("the advised command line: %v", err)
	}
	for _, tc := range []struct {
		args, env []string
	}{
		{[]string{"app"}, []string{"SCRIPT_NAME="}},
		{[]string{"--http", ":8000", "--mount", "/shop=app", "--manage-script-name"}, []string{"SCRIPT_NAME=/shop"}},
	} {
		if _, warnings, err := Parse(tc.args, tc.env); err != nil || len(warnings) != 0 {
			t.Errorf("Parse(%q, %q): %v, warnings %q; want none", tc.args, tc.env, err, warnings)
		}
	}
}

// A --pythonpath that is not there is named, a Gunicorn-style comma list
// or a mod_wsgi python-path= colon list with a word on the syntax; globs,
// and paths that are there (relative ones under --chdir), are not.
func TestPythonPathWarnings(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "lib"), 0o755)
	c, _, err := Parse([]string{"app", "--chdir", dir, "--pythonpath", "lib", "--pythonpath", dir,
		"--pythonpath", "/nowhere/a,/nowhere/b", "--pythonpath", "/nowhere/*/site-packages", "--pythonpath", "gone",
		"--pythonpath", "/srv/site:/srv/site/venv/lib/python3.11/site-packages"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"carafe: --pythonpath /nowhere/a,/nowhere/b: no such file or directory (it takes one directory: give --pythonpath once for each)",
		"carafe: --pythonpath gone: no such file or directory",
		"carafe: --pythonpath /srv/site:/srv/site/venv/lib/python3.11/site-packages: no such file or directory (it takes one directory: give --pythonpath once for each)",
	}
	if got := c.PythonPathWarnings(); !slices.Equal(got, want) {
		t.Errorf("warnings %q, want %q", got, want)
	}
}

// Every Gunicorn one-letter option carafe explains names a Gunicorn
// option it has advice for.
func TestGunicornShortNamesHaveAdvice(t *testing.T) {
	for short, long := range gunicornShortNames {
		if gunicornNames[long] == "" {
			t.Errorf("-%s maps to --%s, which gunicornNames has no advice for", short, long)
		}
		if byShort[short] != nil {
			t.Errorf("-%s is one of carafe's own options", short)
		}
	}
}

// The sockets systemd passed (EnvActivated) are the listeners of a
// configuration that names none: HTTP's for the short form (instead of its
// default), as Gunicorn's; uwsgi's otherwise, as uWSGI's. One that names
// some keeps them, and cmd/carafe pairs them with the passed.
func TestActivatedSockets(t *testing.T) {
	passed := EnvActivated + `=["127.0.0.1:9000","/run/carafe/app.sock"]`
	for _, tt := range []struct {
		name       string
		args, env  []string
		http, sock []string
		err        string
	}{
		{name: "short form", args: []string{"app:app"}, env: []string{passed},
			http: []string{"127.0.0.1:9000", "/run/carafe/app.sock"}},
		{name: "no listener given, uWSGI's way", args: []string{"--module", "app"}, env: []string{passed},
			sock: []string{"127.0.0.1:9000", "/run/carafe/app.sock"}},
		{name: "a listener given", args: []string{"--socket", "/run/carafe/app.sock", "app:app"}, env: []string{passed},
			sock: []string{"/run/carafe/app.sock"}},
		{name: "none passed", args: []string{"app:app"}, http: []string{DefaultHTTP}},
		{name: "not carafe's value", args: []string{"app:app"}, env: []string{EnvActivated + "=3"},
			http: []string{DefaultHTTP}},
		{name: "none passed, none given", args: []string{"--module", "app"}, err: "no listener"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, _, err := Parse(tt.args, append([]string{"PATH=/bin"}, tt.env...))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Parse: %v, want an error with %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(c.HTTP, tt.http) || !slices.Equal(c.Socket, tt.sock) {
				t.Errorf("http %q socket %q, want %q %q", c.HTTP, c.Socket, tt.http, tt.sock)
			}
		})
	}
}

// The command line's values are keys for %(name) in the ini files, as
// uWSGI takes them: an option's under its name (-p 3 is %(processes)),
// one given after the file too (uWSGI resolves at the end), the first
// value winning; --set-placeholder (--set-ph) and --set (-S) NAME=VALUE
// set a key of one's own, --set the option as well. A switch given bare
// gives none, as in uWSGI.
func TestFlagsAsPlaceholders(t *testing.T) {
	ini := filepath.Join(t.TempDir(), "site.ini")
	text := "[uwsgi]\nmodule = app\nhttp = :8000\nprocesses = 5\n" +
		"env = P=%(processes)\nenv = T=%(threads)\nenv = F=%(foo)\nenv = G=%(goo)\nenv = H=%(hoo)\nenv = M=%(master)\n" +
		"if-opt = foo=bar\nenv = IFOPT=%(_)\nendif =\n"
	if err := os.WriteFile(ini, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	c, warnings, err := Parse([]string{"-p", "3", "--set-ph", "foo=bar", "-S", "goo=baz", "--set=hoo=1", "--master",
		"--ini", ini, "--threads", "4"}, []string{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"P=3", "T=4", "F=bar", "G=baz", "H=1", "M=%(master)", "IFOPT=bar"}
	if !slices.Equal(c.Env, want) || c.Processes != 5 || c.Threads != 4 {
		t.Errorf("env %q (want %q), processes %d (want 5: the file's, after -p), threads %d", c.Env, want, c.Processes, c.Threads)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "%(master)") {
		t.Errorf("warnings %q, want one for %%(master)", warnings)
	}
	// An alias is a key under the name written too, as uWSGI exports it.
	alias := filepath.Join(t.TempDir(), "alias.ini")
	if err := os.WriteFile(alias, []byte("[uwsgi]\nmodule = app\nhttp = :8000\nthreads = %(workers)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if c, _, err := Parse([]string{"--workers", "3", "--ini", alias}, []string{}); err != nil || c.Threads != 3 {
		t.Errorf("--workers 3 with threads = %%(workers): %v, err %v", c, err)
	}
	c, _, err = Parse([]string{"--set", "processes=2", "app", "--http", ":8000"}, []string{})
	if err != nil || c.Processes != 2 {
		t.Errorf("--set processes=2: processes %v, err %v", c.Processes, err)
	}
	for _, args := range [][]string{{"--set-ph", "processes=2"}, {"--set-ph", "novalue"}, {"-S"}} {
		if _, _, err := Parse(append([]string{"app", "--http", ":8000"}, args...), []string{}); err == nil {
			t.Errorf("%q accepted", args)
		}
	}
}

// gunicorn.conf.py's settings pasted into an ini file (underscored, and
// the ones whose file names differ from the flags) get Gunicorn's hint,
// under the name the user wrote; edit distance offered --max-requests for
// max_requests_jitter and --stats for statsd_host.
func TestIniGunicornFileNames(t *testing.T) {
	ini := filepath.Join(t.TempDir(), "app.ini")
	lines := "[uwsgi]\nmodule = app\nhttp = :8000\nmax_requests_jitter = 50\nkeepalive = 5\npreload_app = true\n" +
		"worker_tmp_dir = /dev/shm\nstatsd_host = localhost:8125\ngraceful_timeout = 30\naccesslog = -\nlogconfig_dict = x\n"
	if err := os.WriteFile(ini, []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	_, warnings, err := Parse([]string{"--ini", ini}, nil)
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(warnings, "\n")
	for _, want := range []string{
		`unknown option "max_requests_jitter" (Gunicorn's max_requests_jitter (--max-requests-jitter) is carafe's --max-requests-delta;`,
		`unknown option "keepalive" (Gunicorn's keepalive (--keep-alive) is carafe's --http-keepalive;`,
		`unknown option "preload_app" (Gunicorn's preload_app (--preload) has no equivalent in carafe: Go cannot fork`,
		`unknown option "worker_tmp_dir" (Gunicorn's worker_tmp_dir (--worker-tmp-dir) has no equivalent`,
		`unknown option "statsd_host" (Gunicorn's statsd_host (--statsd-host) has no equivalent in carafe: carafe sends no statsd metrics`,
		`unknown option "graceful_timeout" (Gunicorn's graceful_timeout (--graceful-timeout) is carafe's --worker-reload-mercy;`,
		`unknown option "accesslog" (Gunicorn's accesslog (--access-logfile) is carafe's --req-logger file:PATH (requests are logged by default, to stderr; Gunicorn's - is file:/dev/stdout);`,
		`unknown option "logconfig_dict" (Gunicorn's logconfig_dict (--logconfig-dict) has no equivalent in carafe: configure Python's logging in the app`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("no %q in the warnings:\n%s", want, all)
		}
	}
	if strings.Contains(all, "did you mean") {
		t.Errorf("an edit-distance guess for a Gunicorn setting:\n%s", all)
	}
}

// Gunicorn's "-" for its log files, as its hints translate them: --logto
// - is stderr, where carafe logs anyway (it wrote a file named "-"), and
// --req-logger file:- is stdout, where Gunicorn's access log goes.
// Gunicorn's --paste takes the ini file's path; PasteDeploy a URI.
func TestGunicornDashAndPastePath(t *testing.T) {
	c, _, err := Parse([]string{"app", "--logto", "-", "--req-logger", "file:-"}, nil)
	if err != nil || c.LogTo != "" || c.ReqLogger != "file:/dev/stdout" {
		t.Errorf("--logto - --req-logger file:-: %v, LogTo %q ReqLogger %q; want \"\" and file:/dev/stdout", err, c.LogTo, c.ReqLogger)
	}
	for in, want := range map[string]string{"production.ini": "config:production.ini", "/srv/p.ini#main": "config:/srv/p.ini#main",
		"config:p.ini": "config:p.ini", "egg:MyApp": "egg:MyApp"} {
		if c, _, err := Parse([]string{"--http", ":80", "--paste", in}, nil); err != nil || c.Paste != want {
			t.Errorf("--paste %s: %v, %q; want %q", in, err, c.Paste, want)
		}
	}
}

// PORT and WEB_CONCURRENCY, which Gunicorn reads and hosting platforms
// set, are named when the short form gets no listener or --processes.
func TestPlatformVariablesWarned(t *testing.T) {
	env := []string{"PORT=10000", "WEB_CONCURRENCY=3"}
	_, warnings, err := Parse([]string{"app:app"}, env)
	want := []string{
		"carafe: PORT=10000 in the environment is not read (Gunicorn listens on 0.0.0.0:$PORT): give --http 0.0.0.0:10000; carafe listens on 127.0.0.1:8000",
		"carafe: WEB_CONCURRENCY=3 in the environment is not read (Gunicorn starts that many workers): give --processes 3",
	}
	if err != nil || !slices.Equal(warnings, want) {
		t.Errorf("Parse: %v, warnings %q; want %q", err, warnings, want)
	}
	for _, args := range [][]string{{"app:app", "--http", ":10000", "-p", "3"}, {"--http", ":1", "--module", "app"},
		{"app:app", "--socket", ":1", "--workers", "3"}} {
		if _, warnings, err := Parse(args, env); err != nil || len(warnings) != 0 {
			t.Errorf("Parse(%q): %v, warnings %q; want none", args, err, warnings)
		}
	}
}

// A WSGIDaemonProcess line's options pasted into an ini file get
// mod_wsgi's hint, not an edit-distance guess or nothing.
func TestIniModWSGINames(t *testing.T) {
	ini := filepath.Join(t.TempDir(), "app.ini")
	if err := os.WriteFile(ini, []byte("[uwsgi]\nmodule = app\nhttp = :8000\nmaximum-requests = 1000\n"+
		"python-home = /srv/venv\nrequest-timeout = 60\ndisplay-name = site\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name := range modWSGINames {
		if lookup(name) != nil {
			t.Errorf("%s is a carafe option: its mod_wsgi hint is never given", name)
		}
	}
	_, warnings, err := Parse([]string{"--ini", ini}, nil)
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(warnings, "\n")
	for _, want := range []string{
		`unknown option "maximum-requests" (mod_wsgi's maximum-requests= is carafe's --max-requests; see README.md, "From mod_wsgi")`,
		`unknown option "python-home" (mod_wsgi's python-home= is carafe's --virtualenv;`,
		`unknown option "request-timeout" (mod_wsgi's request-timeout= is carafe's --harakiri (per request`,
		`unknown option "display-name" (mod_wsgi's display-name= has no equivalent in carafe:`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("no %q in the warnings:\n%s", want, all)
		}
	}
}
