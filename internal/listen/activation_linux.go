package listen

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"syscall"
)

// firstPassedFD is where systemd's passed sockets start (SD_LISTEN_FDS_START).
const firstPassedFD = 3

// Activated takes the listening sockets systemd passed this process, as
// sd_listen_fds(3) does: LISTEN_FDS of them from descriptor 3, when
// LISTEN_PID is this process. The variables are unset whoever they were
// for, so that no worker and no subprocess of the app takes them for its
// own. Each socket's descriptor is made close-on-exec (systemd passes them
// inheritable, and a worker gets its sockets at numbers of its own); a
// descriptor that is not a listening stream socket is an error that says
// which setting of the .socket unit made it. A warning says when sockets
// were passed to another process (LISTEN_PID), which carafe then does not
// take.
func Activated() (passed []Passed, warning string, err error) {
	pid, fds := os.Getenv("LISTEN_PID"), os.Getenv("LISTEN_FDS")
	os.Unsetenv("LISTEN_PID")
	os.Unsetenv("LISTEN_FDS")
	os.Unsetenv("LISTEN_FDNAMES")
	if pid == "" {
		return nil, "", nil
	}
	if pid != strconv.Itoa(os.Getpid()) {
		if fds != "" && fds != "0" {
			warning = fmt.Sprintf("carafe: LISTEN_PID=%s is not this process (%d): the socket(s) systemd passed "+
				"(LISTEN_FDS=%s) are not taken, and carafe binds its own (was it started through a program that "+
				"forks, such as sudo or su? give the unit User= instead, or run carafe with exec)", pid, os.Getpid(), fds)
		}
		return nil, warning, nil
	}
	if fds == "" {
		return nil, "", nil // none, as sd_listen_fds(3) reads it
	}
	n, err := strconv.Atoi(fds)
	if err != nil || n < 0 {
		return nil, "", fmt.Errorf("carafe: systemd socket activation: LISTEN_FDS=%q is not a count of sockets", fds)
	}
	for fd := firstPassedFD; fd < firstPassedFD+n; fd++ {
		syscall.CloseOnExec(fd) // first, every one: none may leak to a worker if one fails below
	}
	for fd := firstPassedFD; fd < firstPassedFD+n; fd++ {
		p, err := passedSocket(fd)
		if err != nil {
			for _, p := range passed {
				p.L.Close()
			}
			for fd++; fd < firstPassedFD+n; fd++ {
				syscall.Close(fd)
			}
			if errors.Is(err, errNotSocket) {
				err = fmt.Errorf("%w (LISTEN_FDS=%d: does it count more sockets than were passed?)", err, n)
			}
			return nil, "", err
		}
		passed = append(passed, p)
	}
	return passed, "", nil
}

// errNotSocket is passedSocket's error for a descriptor that is no socket.
var errNotSocket = errors.New("not a socket")

// passedSocket makes descriptor fd, passed by systemd, a listener, and
// closes fd itself (the listener holds a copy).
func passedSocket(fd int) (Passed, error) {
	fail := func(format string, args ...any) (Passed, error) {
		syscall.Close(fd)
		return Passed{}, fmt.Errorf("carafe: systemd socket activation: descriptor %d: "+format, append([]any{fd}, args...)...)
	}
	typ, err := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_TYPE)
	if err != nil {
		return fail("%w (%v)", errNotSocket, err)
	}
	if typ != syscall.SOCK_STREAM {
		return fail("not a stream socket: carafe takes ListenStream= sockets only")
	}
	if on, err := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_ACCEPTCONN); err != nil || on == 0 {
		return fail("a connection, not a listening socket: give the .socket unit Accept=no (its default)")
	}
	f := os.NewFile(uintptr(fd), "systemd socket")
	l, err := net.FileListener(f)
	f.Close()
	if err != nil {
		return Passed{}, fmt.Errorf("carafe: systemd socket activation: descriptor %d: %w", fd, err)
	}
	addr := l.Addr().String()
	if l.Addr().Network() == "unix" {
		if addr == "" || addr[0] == '@' || addr[0] == 0 {
			l.Close()
			return Passed{}, fmt.Errorf("carafe: systemd socket activation: descriptor %d: an abstract unix "+
				"socket (%q) is not supported: it has no permissions, so any local user could connect; "+
				"give ListenStream= a path (/run/carafe/app.sock) with SocketMode=", fd, addr)
		}
		if addr[0] != '/' {
			l.Close()
			return Passed{}, fmt.Errorf("carafe: systemd socket activation: descriptor %d: unix socket "+
				"path %q is not absolute", fd, addr)
		}
	}
	return Passed{Addr: addr, L: l}, nil
}
