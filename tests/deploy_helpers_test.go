package tests

// Helpers of the deployment tests (deploy_*_test.go): they run the real
// nginx and Apache of the machine, under t.TempDir(), in front of carafe,
// with the config files under deploy/ rendered for the test.

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// deployTool finds a web server binary. A developer's bare `go test`
// without bin/carafe skips; under make test (CARAFE_BIN set) a missing
// binary fails: make integration installs nginx and apache2 through
// scripts/deps.sh.
func deployTool(t *testing.T, name string) string {
	t.Helper()
	carafeBin(t) // skips first when there is no carafe to test
	for _, p := range []string{"/usr/sbin/" + name, "/usr/local/sbin/" + name} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if os.Getenv("CARAFE_BIN") == "" {
		t.Skipf("no %s on this machine: `make integration` installs it (Debian packages nginx, apache2)", name)
	}
	t.Fatalf("no %s on this machine: scripts/deps.sh should have installed it (CARAFE_DEBS=\"nginx apache2\")", name)
	return ""
}

// deployDir is t.TempDir(), made traversable (0755, with its parent) so
// that web server workers running as www-data reach the socket and the
// files in it.
func deployDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// deployRunAs is the user web server workers switch to when the test runs
// as root ("" otherwise: they stay the current user).
func deployRunAs() (usr, group string) {
	if os.Geteuid() != 0 {
		return "", ""
	}
	if _, err := user.Lookup("www-data"); err == nil {
		return "www-data", "www-data"
	}
	return "nobody", "nogroup"
}

// deployRender reads the repository file rel and applies the replacements
// (old, new pairs). Every old string must occur: when the file changes,
// the test says so instead of silently testing something else.
func deployRender(t *testing.T, rel string, oldnew ...string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for i := 0; i+1 < len(oldnew); i += 2 {
		if !strings.Contains(s, oldnew[i]) {
			t.Fatalf("%s no longer contains %q: update the test's rendering", rel, oldnew[i])
		}
		s = strings.ReplaceAll(s, oldnew[i], oldnew[i+1])
	}
	return s
}

// deployWrite writes content to dir/name and returns the path.
func deployWrite(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// deployCopyDir copies the tree src to dst (files 0644, dirs 0755), so a
// web server's workers can read it whatever the checkout's permissions.
func deployCopyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// deployWaitUnix waits until a unix socket accepts connections.
func deployWaitUnix(t *testing.T, s *server, path string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("unix", path, 200*time.Millisecond); err == nil {
			c.Close()
			return
		}
		if s != nil {
			if _, exited := s.wait(0); exited {
				t.Fatalf("carafe exited before serving %s:\n%s", path, s.Log())
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("nothing accepts on %s after 20s", path)
}

// deployWaitTCP waits until addr accepts connections, or p exits.
func deployWaitTCP(t *testing.T, p *deployProc, addr string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			t.Fatalf("%s exited before listening on %s (%v):\n%s", p.name, addr, p.err, p.logs())
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s did not listen on %s within 15s:\n%s", p.name, addr, p.logs())
}

// deployProc is a running web server.
type deployProc struct {
	name     string
	cmd      *exec.Cmd
	out      bytes.Buffer // stdout and stderr; read only after done
	logFiles []string     // its own log files, shown when a test fails
	done     chan struct{}
	err      error
}

// deployStartProc runs a web server in the foreground in its own process
// group, and stops it (SIGTERM, then SIGKILL) when the test ends.
func deployStartProc(t *testing.T, name string, env []string, logFiles []string, bin string, args ...string) *deployProc {
	t.Helper()
	p := &deployProc{name: name, logFiles: logFiles, done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
		if t.Failed() {
			t.Logf("%s:\n%s", name, p.logs())
		}
	})
	return p
}

// logs is the server's output (once it has exited) and its log files.
func (p *deployProc) logs() string {
	var b strings.Builder
	select {
	case <-p.done:
		b.WriteString(p.out.String())
	default:
	}
	for _, f := range p.logFiles {
		data, _ := os.ReadFile(f)
		fmt.Fprintf(&b, "--- %s\n%s", f, data)
	}
	return b.String()
}

// deployStartCarafe runs carafe with exactly args (no --http added, unlike
// startNoWait) and waits until addr accepts connections.
func deployStartCarafe(t *testing.T, addr string, args ...string) *server {
	t.Helper()
	s := launch(t, addr, args...)
	s.waitReady(20 * time.Second)
	return s
}

// deployNginx runs nginx with the rendered site config (a server block)
// inside a minimal nginx.conf of the test's own: foreground, pid, logs and
// temp files under dir. It returns nginx's address and its access log.
func deployNginx(t *testing.T, dir, site string) *deployProc {
	t.Helper()
	bin := deployTool(t, "nginx")
	// The site says "include uwsgi_params;", which nginx resolves next to
	// the main config file: give it Debian's.
	params, err := os.ReadFile("/etc/nginx/uwsgi_params")
	if err != nil {
		t.Fatalf("nginx's uwsgi_params: %v", err)
	}
	deployWrite(t, dir, "uwsgi_params", string(params))
	deployWrite(t, dir, "site.conf", site)
	usr, _ := deployRunAs()
	userLine := ""
	if usr != "" {
		userLine = "user " + usr + ";"
	}
	conf := fmt.Sprintf(`# written by tests/deploy_helpers_test.go
daemon off;
%[2]s
worker_processes 2;
pid %[1]s/nginx.pid;
error_log %[1]s/nginx-error.log info;
events { worker_connections 256; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log %[1]s/nginx-access.log;
    client_body_temp_path %[1]s/nginx-client-body;
    proxy_temp_path %[1]s/nginx-proxy;
    fastcgi_temp_path %[1]s/nginx-fastcgi;
    uwsgi_temp_path %[1]s/nginx-uwsgi;
    scgi_temp_path %[1]s/nginx-scgi;
    include %[1]s/site.conf;
}
`, dir, userLine)
	confPath := deployWrite(t, dir, "nginx.conf", conf)
	errLog := filepath.Join(dir, "nginx-error.log")
	if out, err := exec.Command(bin, "-t", "-q", "-c", confPath, "-p", dir, "-e", errLog).CombinedOutput(); err != nil {
		t.Fatalf("nginx -t: %v\n%s\n--- site.conf\n%s", err, out, site)
	}
	return deployStartProc(t, "nginx", nil, []string{errLog}, bin, "-c", confPath, "-p", dir, "-e", errLog)
}

// deployApache runs apache2 in the foreground with the rendered site
// (VirtualHosts on the port listen) inside a minimal httpd.conf that loads
// only the modules the site needs.
func deployApache(t *testing.T, dir, site, listen string) *deployProc {
	t.Helper()
	bin := deployTool(t, "apache2")
	deployWrite(t, dir, "site.conf", site)
	var b strings.Builder
	fmt.Fprintf(&b, "# written by tests/deploy_helpers_test.go\n")
	fmt.Fprintf(&b, "ServerRoot /etc/apache2\nServerName localhost\nListen %s\n", listen)
	fmt.Fprintf(&b, "DefaultRuntimeDir %[1]s\nPidFile %[1]s/httpd.pid\nErrorLog %[1]s/apache-error.log\nLogLevel info\n", dir)
	if usr, group := deployRunAs(); usr != "" {
		fmt.Fprintf(&b, "User %s\nGroup %s\n", usr, group)
	}
	// Debian builds unixd and log_config in; the guard makes the list work
	// where they are shared modules too.
	for _, m := range []string{"mpm_event", "unixd", "log_config", "authz_core", "proxy", "proxy_uwsgi", "proxy_http", "mime", "dir", "alias"} {
		fmt.Fprintf(&b, "<IfModule !%[1]s_module>\n    LoadModule %[1]s_module /usr/lib/apache2/modules/mod_%[1]s.so\n</IfModule>\n", m)
	}
	fmt.Fprintf(&b, "TypesConfig /etc/mime.types\n")
	fmt.Fprintf(&b, "LogFormat \"%%h \\\"%%r\\\" %%>s %%b\" plain\nCustomLog %s/apache-access.log plain\n", dir)
	fmt.Fprintf(&b, "Include %s/site.conf\n", dir)
	confPath := deployWrite(t, dir, "httpd.conf", b.String())
	// What Debian's /etc/apache2/envvars exports, for anything that still
	// refers to it.
	env := []string{"APACHE_RUN_DIR=" + dir, "APACHE_PID_FILE=" + dir + "/httpd.pid",
		"APACHE_LOCK_DIR=" + dir, "APACHE_LOG_DIR=" + dir, "LANG=C"}
	check := exec.Command(bin, "-t", "-f", confPath)
	check.Env = append(os.Environ(), env...)
	if out, err := check.CombinedOutput(); err != nil {
		t.Fatalf("apache2 -t: %v\n%s\n--- httpd.conf\n%s\n--- site.conf\n%s", err, out, b.String(), site)
	}
	return deployStartProc(t, "apache2", env, []string{filepath.Join(dir, "apache-error.log")},
		bin, "-f", confPath, "-DFOREGROUND")
}

// deployClient is an HTTP client with a bounded timeout and no reuse of
// connections between tests.
func deployClient() *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
}

// deployDo sends req (with Host host when not "") and returns the response
// and its whole body.
func deployDo(t *testing.T, req *http.Request, host string) (*http.Response, []byte) {
	t.Helper()
	if host != "" {
		req.Host = host
	}
	resp, err := deployClient().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", req.Method, req.URL, err)
	}
	return resp, body
}

// deployGet is GET url (Host host when not ""), requiring status want.
func deployGet(t *testing.T, url, host string, want int) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, body := deployDo(t, req, host)
	if resp.StatusCode != want {
		t.Fatalf("GET %s (Host %q): %d, want %d\n%.500s", url, host, resp.StatusCode, want, body)
	}
	return resp, body
}

// deployJSON decodes a JSON body into v.
func deployJSON(t *testing.T, body []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("not JSON (%v): %.500s", err, body)
	}
}

// deployWhoami is what deploy_flask's /whoami answers.
type deployWhoami struct {
	ScriptName    string  `json:"script_name"`
	PathInfo      string  `json:"path_info"`
	RemoteAddr    string  `json:"remote_addr"`
	HasRemoteAddr bool    `json:"has_remote_addr"`
	URLScheme     string  `json:"url_scheme"`
	ServerName    string  `json:"server_name"`
	Host          string  `json:"host"`
	ForwardedHost *string `json:"forwarded_host"`
	ForwardedFor  *string `json:"forwarded_for"`
	Multithread   bool    `json:"multithread"`
}

// deployUpload is what deploy_flask's /upload answers.
type deployUpload struct {
	Size             int     `json:"size"`
	SHA256           string  `json:"sha256"`
	ContentLength    *string `json:"content_length"`
	TransferEncoding *string `json:"transfer_encoding"`
}

// deployQuery is what deploy_flask's / answers.
type deployQuery struct {
	Query string              `json:"query"`
	Args  map[string][]string `json:"args"`
}

// deployDownloadSHA256 is the hex sha256 of deploy_flask's /download: 20
// MiB in 64 KiB blocks, block i being sha256(str(i)) repeated 2048 times.
var deployDownloadSHA256 = sync.OnceValue(func() string {
	h := sha256.New()
	for i := 0; i < 320; i++ {
		sum := sha256.Sum256([]byte(strconv.Itoa(i)))
		h.Write(bytes.Repeat(sum[:], 2048))
	}
	return hex.EncodeToString(h.Sum(nil))
})

const deployDownloadSize = 20 << 20

// deployCheckDownload fetches /download and checks its length and sha256.
func deployCheckDownload(t *testing.T, url, host string) {
	t.Helper()
	resp, body := deployGet(t, url, host, 200)
	if len(body) != deployDownloadSize {
		t.Fatalf("download: %d bytes, want %d (Content-Length %q)", len(body), deployDownloadSize, resp.Header.Get("Content-Length"))
	}
	sum := sha256.Sum256(body)
	if got := hex.EncodeToString(sum[:]); got != deployDownloadSHA256() {
		t.Fatalf("download corrupted: sha256 %s, want %s", got, deployDownloadSHA256())
	}
}

// deployUwsgiPacket builds one uwsgi request packet: the 4-byte header
// (modifier1, little-endian var block size, modifier2) and the vars, each
// name and value prefixed with its little-endian 16-bit length.
func deployUwsgiPacket(modifier1 byte, vars [][2]string) []byte {
	var block []byte
	for _, kv := range vars {
		for _, s := range kv {
			block = binary.LittleEndian.AppendUint16(block, uint16(len(s)))
			block = append(block, s...)
		}
	}
	pkt := []byte{modifier1, 0, 0, 0}
	binary.LittleEndian.PutUint16(pkt[1:3], uint16(len(block)))
	return append(pkt, block...)
}

// deployUwsgiGet sends a GET for path (and query) over the uwsgi protocol
// to network/addr and reads the HTTP response that comes back.
func deployUwsgiGet(t *testing.T, network, addr, path, query string) (*http.Response, []byte) {
	t.Helper()
	c, err := net.DialTimeout(network, addr, 2*time.Second)
	if err != nil {
		t.Fatalf("uwsgi socket %s: %v", addr, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	pkt := deployUwsgiPacket(0, [][2]string{
		{"REQUEST_METHOD", "GET"},
		{"REQUEST_URI", path + "?" + query},
		{"PATH_INFO", path},
		{"QUERY_STRING", query},
		{"SERVER_PROTOCOL", "HTTP/1.1"},
		{"REQUEST_SCHEME", "http"},
		{"SERVER_NAME", "localhost"},
		{"SERVER_PORT", "80"},
		{"REMOTE_ADDR", "192.0.2.7"},
		{"REMOTE_PORT", "40000"},
		{"HTTP_HOST", "localhost"},
		{"CONTENT_LENGTH", ""},
	})
	if _, err := c.Write(pkt); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: "GET"})
	if err != nil {
		t.Fatalf("uwsgi response from %s: %v", addr, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("uwsgi response body from %s: %v", addr, err)
	}
	if len(resp.TransferEncoding) > 0 {
		t.Errorf("uwsgi response is %v: nginx cannot de-chunk", resp.TransferEncoding)
	}
	return resp, body
}

// deployQueued sends n requests at once to url's /slow (0.3 s each), more
// than carafe has threads: those that wait for one, in carafe's queue or
// in the listen backlog, must still run when it comes. The web server
// keeps its upstream connection open while it waits (carafe skips a
// request whose client closed the connection, and a server that shut its
// sending side would lose them).
func deployQueued(t *testing.T, url, host string, n int) {
	t.Helper()
	errs := make(chan string, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("GET", url, nil)
			if host != "" {
				req.Host = host
			}
			resp, err := deployClient().Do(req)
			if err != nil {
				errs <- err.Error()
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(body) != "slept" {
				errs <- fmt.Sprintf("%d %.200q", resp.StatusCode, body)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("a request that waited for a thread: %s", e)
	}
}
