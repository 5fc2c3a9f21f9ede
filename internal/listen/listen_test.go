package listen

import (
	"fmt"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestBindUnixModeStaleAndInUse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.sock")
	l, err := Bind(path, Perm{Mode: "660"})
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o660 {
		t.Fatalf("mode %v, %v; want 0660", st.Mode().Perm(), err)
	}
	if _, err := Bind(path, Perm{}); err == nil || !strings.Contains(err.Error(), "another server") {
		t.Fatalf("second bind on a live socket: %v, want a refusal", err)
	}
	l.Close() // the file stays, as after a crash
	l2, err := Bind(path, Perm{})
	if err != nil {
		t.Fatalf("stale socket not replaced: %v", err)
	}
	l2.Close()
	if err := Vacuum([]string{path, "127.0.0.1:1"}); err != nil {
		t.Errorf("Vacuum: %v", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("Vacuum left %s", path)
	}
	if err := Vacuum([]string{path}); err != nil {
		t.Errorf("Vacuum of a socket gone already: %v, want nothing to say", err)
	}
	// A socket it cannot remove is said: the master logs it (a root-only
	// directory after the privilege drop left the socket behind silently).
	// As root no directory's mode stops a removal, so a path whose
	// parent is not a directory stands in for it.
	notDir := filepath.Join(t.TempDir(), "file")
	os.WriteFile(notDir, nil, 0o644)
	if err := Vacuum([]string{filepath.Join(notDir, "app.sock")}); err == nil {
		t.Error("Vacuum of a socket it cannot remove: no error")
	}
}

func TestBindRefusesNonSocketFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "not-a-socket")
	os.WriteFile(path, []byte("x"), 0o644)
	if _, err := Bind(path, Perm{}); err == nil {
		t.Fatal("replaced a regular file")
	}
}

func TestBindTCPInUse(t *testing.T) {
	l, err := Bind("127.0.0.1:0", Perm{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	addr := l.Addr().(*net.TCPAddr).String()
	if _, err := Bind(addr, Perm{}); err == nil || !strings.Contains(err.Error(), "another server listens there") {
		t.Fatalf("bound a port already in use, or no hint: %v", err)
	}
	if _, err := BindGroup(addr, 2, Perm{}); err == nil || !strings.Contains(err.Error(), "another server listens there") {
		t.Fatalf("a group bound a port already in use, or no hint: %v", err)
	}
}

// With ReusePort on both, a second listener binds a port in use, and
// connections reach it (the kernel spreads them over both).
func TestBindTCPReusePort(t *testing.T) {
	a, err := Bind("127.0.0.1:0", Perm{ReusePort: true})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	addr := a.Addr().String()
	if _, err := Bind(addr, Perm{}); err == nil {
		t.Fatal("bound a reuse-port listener's port without reuse-port")
	}
	b, err := Bind(addr, Perm{ReusePort: true})
	if err != nil {
		t.Fatalf("second reuse-port listener on %s: %v", addr, err)
	}
	a.Close() // connections can only go to b now
	done := make(chan error, 1)
	go func() {
		c, err := b.Accept()
		if err == nil {
			c.Close()
		}
		done <- err
	}()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatalf("dial %s with only the second listener left: %v", addr, err)
	}
	c.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the second listener accepted nothing")
	}
	b.Close()
}

// BindGroup binds n sockets on one port, the kernel spreads connections
// over all of them, and the port stays refused to a plain bind and to a
// second group (a second carafe) unless that one asks for reuse-port.
func TestBindGroup(t *testing.T) {
	ls := bindGroup(t, 3)
	addr := ls[0].Addr().String()
	for _, l := range ls[1:] {
		if l.Addr().String() != addr {
			t.Fatalf("group sockets on %s and %s, want one address", addr, l.Addr())
		}
	}
	if _, err := Bind(addr, Perm{}); err == nil {
		t.Error("a plain bind took a grouped port")
	}
	if _, err := BindGroup(addr, 2, Perm{}); err == nil {
		t.Error("a second group took the port without reuse-port")
	}
	joined, err := BindGroup(addr, 1, Perm{ReusePort: true})
	if err != nil {
		t.Fatalf("joining with reuse-port: %v", err)
	}
	joined[0].Close()

	got := acceptCounts(t, ls, 90)
	t.Logf("90 connections accepted per socket: %v", got)
	for i, n := range got {
		// 30 expected each; under 10 is a one-in-ten-thousand draw.
		if n < 10 {
			t.Errorf("socket %d accepted %d of 90 connections: %v", i, n, got)
		}
	}
}

// Steer keeps new connections off the group's last socket, which can then
// close with nothing queued on it.
func TestSteer(t *testing.T) {
	ls := bindGroup(t, 3)
	if err := Steer(ls[0], 2); err != nil {
		t.Fatal(err)
	}
	got := acceptCounts(t, ls, 60)
	t.Logf("60 connections per socket, steered to the first two: %v", got)
	if got[2] != 0 || got[0] < 10 || got[1] < 10 {
		t.Errorf("per socket %v, want none on the third and both others used", got)
	}
}

// SteerTo keeps new connections off the sockets it leaves out, whichever
// they are, and can be changed again.
func TestSteerTo(t *testing.T) {
	ls := bindGroup(t, 4)
	if err := SteerTo(ls[0], []int{0, 3}); err != nil {
		t.Fatal(err)
	}
	got := acceptCounts(t, ls, 60)
	t.Logf("60 connections per socket, steered to the first and last: %v", got)
	if got[1] != 0 || got[2] != 0 || got[0] < 10 || got[3] < 10 {
		t.Errorf("per socket %v, want none on the middle two and both others used", got)
	}
	ls = bindGroup(t, 3)
	for _, to := range [][]int{{2}, {1}} { // the second replaces the first
		if err := SteerTo(ls[0], to); err != nil {
			t.Fatal(err)
		}
	}
	if got = acceptCounts(t, ls, 20); got[1] != 20 {
		t.Errorf("per socket %v, want all 20 on the second", got)
	}
}

// bindGroup binds a group of n sockets on a free port for the test.
func bindGroup(t *testing.T, n int) []net.Listener {
	t.Helper()
	ls, err := BindGroup("127.0.0.1:0", n, Perm{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, l := range ls {
			l.Close()
		}
	})
	return ls
}

// acceptCounts dials n connections to the group ls and counts what each
// socket accepts.
func acceptCounts(t *testing.T, ls []net.Listener, n int) []int {
	t.Helper()
	got := make([]int, len(ls))
	var mu sync.Mutex
	for i, l := range ls {
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				mu.Lock()
				got[i]++
				mu.Unlock()
				c.Close()
			}
		}()
	}
	for range n {
		c, err := net.DialTimeout("tcp", ls[0].Addr().String(), 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		sum := 0
		for _, v := range got {
			sum += v
		}
		mu.Unlock()
		if sum == n {
			break
		}
	}
	mu.Lock()
	defer mu.Unlock()
	return append([]int(nil), got...)
}

func TestGrouped(t *testing.T) {
	if !groupSupported {
		t.Skip("a socket per worker is Linux's")
	}
	for _, c := range []struct {
		addr    string
		workers int
		want    bool
	}{
		{"127.0.0.1:8000", 2, true},
		{":8000", 4, true},
		{"127.0.0.1:8000", 1, false},
		{"/run/app.sock", 4, false},
	} {
		if got := Grouped(c.addr, c.workers); got != c.want {
			t.Errorf("Grouped(%q, %d) = %v, want %v", c.addr, c.workers, got, c.want)
		}
	}
}

// An accepted TCP connection has TCP_NODELAY (what --tcp-nodelay asks for
// in uWSGI, documented as always on).
func TestAcceptedNoDelay(t *testing.T) {
	l, err := Bind("127.0.0.1:0", Perm{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rc, err := s.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	v, gerr := -1, error(nil)
	rc.Control(func(fd uintptr) { v, gerr = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_NODELAY) })
	if gerr != nil || v == 0 {
		t.Errorf("TCP_NODELAY on an accepted connection: %d %v, want on", v, gerr)
	}
}

func TestOwner(t *testing.T) {
	for _, tc := range []struct {
		spec     string
		uid, gid int
		err      string
	}{
		{"root", 0, -1, ""}, // no group: left as it is
		{"root:root", 0, 0, ""},
		{"0:0", 0, 0, ""},             // numbers where no name matches
		{"4242:4243", 4242, 4243, ""}, // numbers nobody has: taken as they are
		{"4242", 4242, -1, ""},
		{"-5", 0, 0, `user "-5": no such user`},
		{"4294967295", 0, 0, `user "4294967295": no such user`},
		{"root:4294967295", 0, 0, `group "4294967295": no such group`},
		{"no-such-user-xyz", 0, 0, `user "no-such-user-xyz": no such user`},
		{"root:no-such-group-xyz", 0, 0, `group "no-such-group-xyz": no such group`},
	} {
		uid, gid, err := Owner(tc.spec)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("Owner(%q) error %v, want %q", tc.spec, err, tc.err)
			}
			continue
		}
		if err != nil || uid != tc.uid || gid != tc.gid {
			t.Errorf("Owner(%q) = %d, %d, %v; want %d, %d", tc.spec, uid, gid, err, tc.uid, tc.gid)
		}
	}
}

// --chown-socket gives the socket file away after --chmod-socket; a bad
// owner is an error naming the option, and the socket is not left bound.
func TestBindUnixOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("chown needs root")
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skip("no user nobody")
	}
	path := filepath.Join(t.TempDir(), "app.sock")
	l, err := Bind(path, Perm{Mode: "660", Owner: "nobody"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(st.Uid) != nobody.Uid || st.Gid != 0 || st.Mode&0o777 != 0o660 {
		t.Errorf("socket uid %d gid %d mode %o; want uid %s, gid 0 (unchanged), 660", st.Uid, st.Gid, st.Mode&0o777, nobody.Uid)
	}
	bad := filepath.Join(t.TempDir(), "bad.sock")
	if _, err := Bind(bad, Perm{Owner: "no-such-user-xyz"}); err == nil ||
		!strings.Contains(err.Error(), "--chown-socket no-such-user-xyz on "+bad) {
		t.Errorf("bad owner: %v, want an error naming --chown-socket and the socket", err)
	}
	if _, err := os.Lstat(bad); !os.IsNotExist(err) {
		t.Errorf("after a failed chown the socket file is left: %v", err)
	}
	if l2, err := Bind(bad, Perm{}); err != nil { // closed after the failure: the path binds again
		t.Errorf("after a failed chown the socket is still held: %v", err)
	} else {
		l2.Close()
	}
}

// A unix socket path longer than the system allows is named as such, not
// as bind(2)'s "invalid argument"; the longest allowed binds.
func TestBindUnixPathTooLong(t *testing.T) {
	dir := t.TempDir()
	fit := filepath.Join(dir, strings.Repeat("a", maxUnixPath-len(dir)-1))
	l, err := Bind(fit, Perm{})
	if err != nil {
		t.Fatalf("a path of %d bytes: %v", len(fit), err)
	}
	l.Close()
	long := fit + "b"
	if _, err := Bind(long, Perm{}); err == nil || !strings.Contains(err.Error(), "the path is 108 bytes long") {
		t.Errorf("a path of %d bytes: %v, want it named too long", len(long), err)
	}
}

// File's descriptor stays non-blocking when exec reads it (Fd): the socket
// is every worker's, and a blocking one kept their accept calls in the
// kernel.
func TestFileKeepsSocketNonBlocking(t *testing.T) {
	for _, network := range []string{"tcp", "unix"} {
		addr := "127.0.0.1:0"
		if network == "unix" {
			addr = filepath.Join(t.TempDir(), "s.sock")
		}
		l, err := net.Listen(network, addr)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		f, err := File(l)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		fd := int(f.Fd())
		if fcntl(t, fd, syscall.F_GETFL)&syscall.O_NONBLOCK == 0 {
			t.Errorf("%s: the socket is blocking once its file's Fd was read", network)
		}
		if fcntl(t, fd, syscall.F_GETFD)&syscall.FD_CLOEXEC == 0 {
			t.Errorf("%s: the duplicate is inherited by every exec", network)
		}
	}
}

func fcntl(t *testing.T, fd, cmd int) int {
	r, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), uintptr(cmd), 0)
	if errno != 0 {
		t.Fatalf("fcntl: %v", errno)
	}
	return int(r)
}

// ":PORT" and "0.0.0.0:PORT" listen on IPv4 alone, as in uWSGI: not on a
// dual-stack [::] that IPv6 clients reach past an IPv4 firewall. "[::]"
// still asks for both.
func TestBindWildcardIsIPv4(t *testing.T) {
	check := func(l net.Listener, what string) {
		t.Helper()
		defer l.Close()
		a := l.Addr().(*net.TCPAddr)
		if a.IP.To4() == nil {
			t.Errorf("%s listens on %s, want an IPv4 wildcard", what, a)
		}
		v6 := net.JoinHostPort("::1", strconv.Itoa(a.Port))
		if c, err := net.DialTimeout("tcp6", v6, time.Second); err == nil {
			c.Close()
			t.Errorf("%s: a client reached it over IPv6 at %s", what, v6)
		}
	}
	for _, addr := range []string{":0", "0.0.0.0:0"} {
		l, err := Bind(addr, Perm{})
		if err != nil {
			t.Fatal(err)
		}
		check(l, "Bind "+addr)
		ls, err := BindGroup(addr, 2, Perm{})
		if err != nil {
			t.Fatal(err)
		}
		check(ls[0], "BindGroup "+addr)
		ls[1].Close()
	}
	l, err := Bind("[::]:0", Perm{})
	if err != nil {
		t.Skipf("no IPv6 here: %v", err)
	}
	defer l.Close()
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	for _, a := range []string{"127.0.0.1", "::1"} {
		c, err := net.DialTimeout("tcp", net.JoinHostPort(a, port), time.Second)
		if err != nil {
			t.Errorf("[::] not reached at %s: %v", a, err)
			continue
		}
		c.Close()
	}
}

// UserGroups lists a user's groups without its primary one, and none for
// a number no user has.
func TestUserGroups(t *testing.T) {
	if gs, err := UserGroups("root"); err != nil || slices.Contains(gs, 0) {
		t.Errorf("root: %v %v, want its groups without 0 (its primary)", gs, err)
	}
	if gs, err := UserGroups("987654"); gs != nil || err != nil {
		t.Errorf("a number no user has: %v %v, want none", gs, err)
	}
}

// Vacuum removes the socket Bind made, not a file that took its place
// since (the --uid user may write the socket's directory): a regular file
// there, or another socket, went whatever it was.
func TestVacuumRemovesOnlyItsSocket(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.sock")
	l, err := Bind(path, Perm{Mode: "660"})
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	if err := Vacuum([]string{path}); err != nil { // its own, chmodded: removed
		t.Errorf("Vacuum: %v", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("Vacuum left the socket it bound: %v", err)
	}
	if l, err = Bind(path, Perm{}); err != nil {
		t.Fatal(err)
	}
	l.Close()
	// Moved aside (its inode kept alive, so that no new file gets its
	// number), and something else put in its place.
	if err := os.Rename(path, path+".moved"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("not carafe's"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Vacuum([]string{path}); err != nil {
		t.Errorf("Vacuum: %v", err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("Vacuum removed the file that took the socket's place: %v", err)
	}
	os.Remove(path)
	other, err := net.Listen("unix", path) // another socket, not the one bound
	if err != nil {
		t.Fatal(err)
	}
	other.(*net.UnixListener).SetUnlinkOnClose(false)
	defer other.Close()
	Vacuum([]string{path})
	if _, err := os.Stat(path); err != nil {
		t.Errorf("Vacuum removed another socket at the path: %v", err)
	}
}
