package listen

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

func TestSameAddr(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "run")
	if err := os.Mkdir(real, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(real, filepath.Join(dir, "varrun")); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(real, "app.sock")
	ul, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ul.Close()
	v4 := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8000}
	any4 := &net.TCPAddr{IP: net.IPv4zero, Port: 8000}
	any6 := &net.TCPAddr{IP: net.IPv6unspecified, Port: 8000}
	for _, tt := range []struct {
		name string
		addr string
		at   net.Addr
		want bool
	}{
		{"same path", sock, ul.Addr(), true},
		{"path through a link", filepath.Join(dir, "varrun", "app.sock"), ul.Addr(), true},
		{"path not cleaned", real + "//./app.sock", ul.Addr(), true},
		{"another path", filepath.Join(real, "other.sock"), ul.Addr(), false},
		{"path for TCP", sock, v4, false},
		{"TCP for a path", "127.0.0.1:8000", ul.Addr(), false},
		{"same IP and port", "127.0.0.1:8000", v4, true},
		{"another port", "127.0.0.1:8001", v4, false},
		{"another IP", "127.0.0.2:8000", v4, false},
		{"localhost", "localhost:8000", v4, true},
		{":port, IPv4 wildcard", ":8000", any4, true},
		{":port, dual-stack wildcard", ":8000", any6, true},
		{"0.0.0.0, IPv6 wildcard", "0.0.0.0:8000", any6, true},
		{"[::], IPv4 wildcard", "[::]:8000", any4, true},
		{"wildcard for one IP", ":8000", v4, false},
		{"one IP for a wildcard", "127.0.0.1:8000", any4, false},
		{"no port", "127.0.0.1", v4, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := SameAddr(tt.addr, tt.at); got != tt.want {
				t.Errorf("SameAddr(%q, %v) = %v, want %v", tt.addr, tt.at, got, tt.want)
			}
		})
	}
}

func TestTake(t *testing.T) {
	listener := func() Passed {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		return Passed{Addr: l.Addr().String(), L: l}
	}
	a, b := listener(), listener()
	got, warnings, err := Take([]Passed{a, b}, []string{"10.9.9.9:1", b.Addr, a.Addr})
	if err != nil || len(warnings) > 0 {
		t.Fatal(err, warnings)
	}
	if len(got) != 2 || got[a.Addr] != a.L || got[b.Addr] != b.L {
		t.Fatalf("Take = %v, want each passed listener by its address", got)
	}
	a.L.Close()
	b.L.Close()

	a, b = listener(), listener()
	_, _, err = Take([]Passed{a, b}, []string{a.Addr})
	if err == nil || !strings.Contains(err.Error(), "systemd passed a socket on "+b.Addr+" that no") {
		t.Fatalf("Take with a socket nobody names: %v", err)
	}
	for _, p := range []Passed{a, b} { // both closed: carafe does not start
		if c, err := net.Dial("tcp", p.Addr); err == nil {
			c.Close()
			t.Errorf("%s still listens after the refusal", p.Addr)
		}
	}
}

// An IPv6 wildcard socket (systemd's ListenStream=PORT) paired with
// carafe's IPv4 wildcard is served, with a warning that it takes IPv6 too.
func TestTakeDualStackWarns(t *testing.T) {
	l, err := net.Listen("tcp", "[::]:0")
	if err != nil {
		t.Skip("no IPv6 here:", err)
	}
	p := Passed{Addr: l.Addr().String(), L: l}
	port := l.Addr().(*net.TCPAddr).Port
	addr := ":" + strconv.Itoa(port)
	got, warnings, err := Take([]Passed{p}, []string{addr})
	if err != nil || got[addr] != l {
		t.Fatalf("Take: %v, %v", got, err)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "ListenStream=0.0.0.0:"+strconv.Itoa(port)) {
		t.Errorf("warnings %q, want one that says how to take IPv4 alone", warnings)
	}
	l.Close()
}

// passedSocket takes a listening socket and closes the descriptor it was
// given; what is not one is refused, its descriptor closed too.
func TestPassedSocket(t *testing.T) {
	// dup gives passedSocket a descriptor of its own, as systemd would.
	dup := func(c syscall.Conn) int {
		rc, err := c.SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		fd := -1
		rc.Control(func(s uintptr) { fd, err = syscall.Dup(int(s)) })
		if err != nil {
			t.Fatal(err)
		}
		return fd
	}

	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tl.Close()
	p, err := passedSocket(dup(tl.(*net.TCPListener)))
	if err != nil {
		t.Fatal(err)
	}
	if p.Addr != tl.Addr().String() {
		t.Errorf("Addr %q, want %q", p.Addr, tl.Addr())
	}
	p.L.Close()

	sock := filepath.Join(t.TempDir(), "app.sock")
	ul, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ul.Close()
	if p, err = passedSocket(dup(ul.(*net.UnixListener))); err != nil || p.Addr != sock {
		t.Fatalf("unix socket: %+v, %v; want %s", p, err, sock)
	}
	p.L.Close()

	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	conn, err := net.Dial("tcp", tl.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	abstract, err := net.Listen("unix", "@carafe-test-"+filepath.Base(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	defer abstract.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	rfd, err := syscall.Dup(int(r.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		fd   int
		want string
	}{
		{"datagram", dup(udp.(*net.UDPConn)), "ListenStream= sockets only"},
		{"connection", dup(conn.(*net.TCPConn)), "Accept=no"},
		{"abstract", dup(abstract.(*net.UnixListener)), "abstract unix socket"},
		{"pipe", rfd, "not a socket"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := passedSocket(tt.fd)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("passedSocket: %v, want an error with %q", err, tt.want)
			}
		})
	}
}
