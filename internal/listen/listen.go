// Package listen binds carafe's listeners: TCP addresses, and unix socket
// paths with the requested mode, refusing an address another server holds
// (a stale socket file left by a crash is replaced).
package listen

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/user"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// IsUnix reports whether addr names a unix socket (it holds a '/').
func IsUnix(addr string) bool { return strings.Contains(addr, "/") }

// NotsentLowat bounds the unsent bytes of an accepted TCP connection (see
// Tune). With a 10 MiB download at 16 connections on 2 CPUs, 128 KiB
// served 1.2-1.3x the requests/s of no bound; 64 KiB did as well (with
// twice the writes), 16 KiB, 256 KiB, 512 KiB and 1 MiB less.
const NotsentLowat = 128 << 10

// HTTPWhere names an HTTP listener's address for a log line: a URL for
// TCP, the path for a unix socket.
func HTTPWhere(a net.Addr) string {
	if a.Network() == "unix" {
		return "unix socket " + a.String()
	}
	return "http://" + a.String()
}

// Perm is what a unix socket file gets once bound; a TCP listener gets
// only ReusePort.
type Perm struct {
	Mode  string // --chmod-socket, octal ("666"); "" keeps the umask's
	Owner string // --chown-socket, USER[:GROUP] (names or numbers); "" keeps the creator
	// ReusePort (--reuse-port) sets SO_REUSEPORT on TCP listeners, so
	// that another server (a new carafe during an upgrade) can bind the
	// same port; the kernel then spreads new connections over both.
	ReusePort bool
}

// tcp is the network to listen on at the TCP address addr: IPv4 alone
// for ":PORT" and "0.0.0.0:PORT", as uWSGI binds them and as the docs
// say. Go's "tcp" would listen on a dual-stack [::] there, and a site
// firewalled for IPv4 alone would be open over IPv6. "[::]:PORT" asks for
// both.
func tcp(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil && (host == "" || host == "0.0.0.0") {
		return "tcp4"
	}
	return "tcp"
}

// Bind listens on addr. A unix socket's file gets p.
func Bind(addr string, p Perm) (net.Listener, error) {
	if !IsUnix(addr) {
		var lc net.ListenConfig
		if p.ReusePort {
			lc.Control = reusePort
		}
		l, err := lc.Listen(context.Background(), tcp(addr), addr)
		if err != nil {
			return nil, bindError(addr, err)
		}
		return l, nil
	}
	if len(addr) > maxUnixPath {
		// bind(2) would say only "invalid argument".
		return nil, fmt.Errorf("carafe: cannot listen on unix socket %s: the path is %d bytes long, and a "+
			"unix socket's can be at most %d: use a shorter one (such as /run/APP/app.sock)", addr, len(addr), maxUnixPath)
	}
	if err := removeStale(addr); err != nil {
		return nil, err
	}
	l, err := net.Listen("unix", addr)
	if err != nil {
		return nil, fmt.Errorf("carafe: cannot listen on unix socket %s: %w", addr, err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false) // workers share it; Vacuum removes it
	// A socket whose mode or owner cannot be set is not left behind.
	fail := func(err error) (net.Listener, error) {
		l.Close()
		os.Remove(addr)
		return nil, err
	}
	if p.Mode != "" {
		m, err := strconv.ParseUint(p.Mode, 8, 32)
		if err == nil {
			err = chmodSocket(addr, os.FileMode(m))
		}
		if err != nil {
			return fail(fmt.Errorf("carafe: --chmod-socket %s on %s: %w", p.Mode, addr, err))
		}
	}
	if p.Owner != "" {
		uid, gid, err := Owner(p.Owner)
		if err == nil {
			err = os.Lchown(addr, uid, gid)
		}
		if err != nil {
			return fail(fmt.Errorf("carafe: --chown-socket %s on %s: %w", p.Owner, addr, err))
		}
	}
	noteBound(addr)
	return l, nil
}

// maxUnixPath is the longest path a unix socket can be bound to on Linux:
// sockaddr_un's sun_path, less its terminating NUL.
const maxUnixPath = 107

// bindError says why addr could not be bound, with what to do for the
// two causes a first run meets: a port another server holds, and one
// below 1024 without the privilege for it.
func bindError(addr string, err error) error {
	hint := ""
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		hint = " (another server listens there: stop it, or give carafe another address)"
	case errors.Is(err, syscall.EACCES):
		hint = " (a port below 1024 needs root, or the capability CAP_NET_BIND_SERVICE: " +
			"start carafe as root with --uid, or use a higher port behind nginx)"
	}
	return fmt.Errorf("carafe: cannot listen on %s: %w%s", addr, err, hint)
}

// Grouped reports whether the master gives each of its workers a socket of
// its own on addr (see BindGroup): on Linux, for a TCP address, with more
// than one worker. Master and workers decide it alike from the same
// configuration.
func Grouped(addr string, workers int) bool {
	return groupSupported && workers > 1 && !IsUnix(addr)
}

// BindGroup listens on the TCP address addr with n sockets, SO_REUSEPORT
// set on each, for the master to hand one to each worker: the kernel then
// spreads new connections over them evenly. On one socket that all the
// workers accept from, the first worker to run takes every connection
// queued, so a burst of new keep-alive connections (a load balancer's pool,
// nginx's upstream keepalive, a benchmark) went 53 to 11, even 64 to 0, to
// one of two workers, whose GIL then served them all while the other
// idled: Flask at 2 processes ran at 6.3k to 17.4k requests/s from one
// run to the next, 16-17k with a socket per worker.
//
// Unless p.ReusePort asks to share the port with another server, a plain
// socket is bound first and closed, so that a second carafe on a port in
// use still fails here, loudly, rather than join the group.
func BindGroup(addr string, n int, p Perm) ([]net.Listener, error) {
	if !p.ReusePort {
		probe, err := net.Listen(tcp(addr), addr)
		if err != nil {
			return nil, bindError(addr, err)
		}
		addr = concretePort(addr, probe.Addr())
		probe.Close()
	}
	lc := net.ListenConfig{Control: reusePort}
	// Plain TCP, not the runtime's default Multipath TCP listener, which
	// refuses the steering program (see Steer).
	lc.SetMultipathTCP(false)
	var ls []net.Listener
	for range n {
		l, err := lc.Listen(context.Background(), tcp(addr), addr)
		if err != nil {
			for _, l := range ls {
				l.Close()
			}
			return nil, bindError(addr, err)
		}
		addr = concretePort(addr, l.Addr())
		ls = append(ls, l)
	}
	return ls, nil
}

// concretePort replaces port 0 in addr (any free port) with the one a
// listener got, so that the group's sockets share it.
func concretePort(addr string, got net.Addr) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port != "0" {
		return addr
	}
	if t, ok := got.(*net.TCPAddr); ok {
		return net.JoinHostPort(host, strconv.Itoa(t.Port))
	}
	return addr
}

// Owner resolves USER[:GROUP] (names or numeric ids) to a uid and a gid;
// the gid is -1 (unchanged, for chown) when no group is given.
func Owner(spec string) (uid, gid int, err error) {
	name, group, hasGroup := strings.Cut(spec, ":")
	if uid, _, err = LookupUser(name); err != nil {
		return 0, 0, fmt.Errorf("user %q: %w", name, err)
	}
	gid = -1
	if hasGroup {
		if gid, err = LookupGroup(group); err != nil {
			return 0, 0, fmt.Errorf("group %q: %w", group, err)
		}
	}
	return uid, gid, nil
}

// LookupUser finds a user by name, or else by numeric id, with its
// primary group. A number that no user has is taken as it is, as uWSGI
// takes it (a container's user often has no /etc/passwd entry); its
// primary group is then -1, unknown.
func LookupUser(name string) (uid, gid int, err error) {
	u, err := user.Lookup(name)
	if err != nil {
		if u, err = user.LookupId(name); err != nil {
			if id, ok := numericID(name); ok {
				return id, -1, nil
			}
			return 0, 0, errors.New("no such user")
		}
	}
	uid, _ = strconv.Atoi(u.Uid)
	gid, _ = strconv.Atoi(u.Gid)
	return uid, gid, nil
}

// UserGroups lists the ids of the groups the user (a name, or else a
// number) is a member of in the group database, its primary group left
// out (as initgroups(3) with another group leaves it out); none for a
// number that no user has.
func UserGroups(name string) ([]int, error) {
	u, err := user.Lookup(name)
	if err != nil {
		if u, err = user.LookupId(name); err != nil {
			return nil, nil
		}
	}
	ids, err := u.GroupIds()
	if err != nil {
		return nil, err
	}
	groups := make([]int, 0, len(ids))
	for _, id := range ids {
		if n, err := strconv.Atoi(id); err == nil && id != u.Gid {
			groups = append(groups, n)
		}
	}
	return groups, nil
}

// LookupGroup finds a group by name, or else by numeric id; a number that
// no group has is taken as it is.
func LookupGroup(name string) (int, error) {
	g, err := user.LookupGroup(name)
	if err != nil {
		if g, err = user.LookupGroupId(name); err != nil {
			if id, ok := numericID(name); ok {
				return id, nil
			}
			return 0, errors.New("no such group")
		}
	}
	return strconv.Atoi(g.Gid)
}

// numericID reads a user or group id given as a number.
func numericID(s string) (int, bool) {
	id, err := strconv.ParseUint(s, 10, 32)
	if err != nil || id == 1<<32-1 { // -1 as an id means "unchanged" to the kernel
		return 0, false
	}
	return int(id), true
}

// removeStale deletes a socket file nobody answers on, and refuses one in
// use, so a second carafe never silently takes over a live socket.
func removeStale(path string) error {
	st, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("carafe: unix socket %s: %w", path, err)
	}
	if st.Mode()&os.ModeSocket == 0 {
		return fmt.Errorf("carafe: %s exists and is not a socket; refusing to replace it", path)
	}
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return fmt.Errorf("carafe: cannot listen on unix socket %s: another server is using it", path)
	}
	return os.Remove(path)
}

// File returns a duplicate of a listener's descriptor as a file to pass to
// a child. The socket stays non-blocking: an *os.File made from a
// non-blocking descriptor switches it to blocking mode each time its Fd is
// read, which exec does to pass it on, and the mode belongs to the socket,
// which every worker shares. A spawn then left the other workers' accept
// calls blocked in the kernel, and a stopping worker hung on closing its
// listener until the next connection came, or its mercy ran out. So the
// file is made while the descriptor is blocking, which os.File then
// leaves alone, and the socket is made non-blocking again.
func File(l net.Listener) (*os.File, error) {
	sc, ok := l.(syscall.Conn)
	if !ok {
		return nil, fmt.Errorf("carafe: cannot pass a %T to a worker", l)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil, err
	}
	fd := -1
	var derr error
	if err := rc.Control(func(s uintptr) {
		fd, derr = syscall.Dup(int(s))
		if derr == nil {
			syscall.CloseOnExec(fd)
			derr = syscall.SetNonblock(fd, false)
		}
	}); err != nil {
		return nil, err
	}
	if derr != nil {
		if fd >= 0 {
			syscall.Close(fd)
		}
		return nil, os.NewSyscallError("dup", derr)
	}
	f := os.NewFile(uintptr(fd), l.Addr().Network()+":"+l.Addr().String())
	if err := syscall.SetNonblock(fd, true); err != nil {
		f.Close()
		return nil, os.NewSyscallError("fcntl", err)
	}
	return f, nil
}

// Vacuum removes the unix socket files among addrs. It returns the
// removals that failed for a reason other than the file being gone already
// (a socket bound as root in a root-only directory, by a process that has
// dropped privileges since), for the caller to say so.
//
// Only the socket bound here goes (or, for one this process did not bind,
// a socket): a file that took its place since (the --uid user may write
// the directory) is left, where it was removed whatever it was.
func Vacuum(addrs []string) error {
	var errs []error
	for _, a := range addrs {
		if !IsUnix(a) {
			continue
		}
		fi, err := os.Lstat(a)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
			continue
		}
		if !isBound(a, fi) {
			continue
		}
		if err := os.Remove(a); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// bound holds the file identity of each unix socket Bind made, by path:
// its device and inode (not its change time, which handing it to the
// --uid user changes).
var bound sync.Map // string -> fileIdentity

// noteBound records the socket file Bind made at path.
func noteBound(path string) {
	if fi, err := os.Lstat(path); err == nil {
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			bound.Store(path, identity(st))
		}
	}
}

// isBound reports whether fi, at path, is the socket Bind made there, or a
// socket where this process bound none.
func isBound(path string, fi os.FileInfo) bool {
	if fi.Mode().Type() != fs.ModeSocket {
		return false
	}
	v, ok := bound.Load(path)
	if !ok {
		return true
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && v.(fileIdentity) == identity(st)
}

type fileIdentity struct{ dev, ino uint64 }

func identity(st *syscall.Stat_t) fileIdentity { return fileIdentity{uint64(st.Dev), st.Ino} }
