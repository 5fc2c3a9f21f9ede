package listen

import (
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
)

// tcpNotsentLowat is TCP_NOTSENT_LOWAT, which Go's syscall package names
// on some architectures only.
const tcpNotsentLowat = 0x19

// Tune sets carafe's options on an accepted TCP connection: it may hold at
// most NotsentLowat bytes the kernel has not sent yet; a write waits once
// that many are queued, until they go out. Without a bound each socket
// queues up to its whole send buffer (autotuned to 4 MiB): a 10 MiB
// download at 16 connections held 30-40 MiB in send queues, more than the
// CPU's cache, so the kernel's copies in and out of them ran from memory.
// Bytes in flight are not bounded, so a long, fast path to the client is
// still kept full. A value set for the whole machine (sysctl
// net.ipv4.tcp_notsent_lowat) wins. The option is set on each connection,
// not once on the listener: Go makes listeners multipath TCP sockets, and
// a connection accepted from one does not inherit it.
func Tune(c net.Conn) {
	tc, ok := c.(*net.TCPConn)
	if !ok || !lowatUnset() {
		return
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) { boundUnsent(int(fd)) })
}

// boundUnsent sets Tune's bound on the TCP socket fd, unless the machine
// sets one. Best effort: without it (a kernel before 3.12) the socket
// behaves as before.
func boundUnsent(fd int) {
	if lowatUnset() {
		syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, tcpNotsentLowat, NotsentLowat)
	}
}

// lowatUnset reports whether the machine leaves tcp_notsent_lowat at the
// kernel's default (no bound).
var lowatUnset = sync.OnceValue(func() bool {
	b, err := os.ReadFile("/proc/sys/net/ipv4/tcp_notsent_lowat")
	return err == nil && kernelDefault(string(b))
})

// kernelDefault reports whether the sysctl's text is the kernel's default.
func kernelDefault(sysctl string) bool {
	return strings.TrimSpace(sysctl) == "4294967295"
}
