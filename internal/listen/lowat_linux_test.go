package listen

import (
	"net"
	"os"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// unsent returns the bytes c's socket holds that it has not sent yet
// (SIOCOUTQNSD).
func unsent(t *testing.T, c net.Conn) int {
	t.Helper()
	rc, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var v int32
	var errno syscall.Errno
	rc.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, 0x894B, uintptr(unsafe.Pointer(&v)))
	})
	if errno != 0 {
		t.Fatalf("SIOCOUTQNSD: %v", errno)
	}
	return int(v)
}

// queued accepts a connection on l whose client reads nothing, tunes it
// when tune is set, writes a large body to it until the write blocks, and
// returns the unsent bytes the server's socket then holds.
func queued(t *testing.T, l net.Listener, tune bool) int {
	t.Helper()
	cl, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	cl.(*net.TCPConn).SetReadBuffer(4096) // a client that reads slowly
	c, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if tune {
		Tune(c)
	}
	go c.Write(make([]byte, 32<<20)) // ends with an error when c closes
	n, last := 0, -1
	for i := 0; i < 100 && n != last; i++ { // until the queue stops growing
		time.Sleep(20 * time.Millisecond)
		last, n = n, unsent(t, c)
	}
	return n
}

func TestTuneBoundsUnsentBytes(t *testing.T) {
	if b, err := os.ReadFile("/proc/sys/net/ipv4/tcp_notsent_lowat"); err != nil || !kernelDefault(string(b)) {
		t.Skipf("net.ipv4.tcp_notsent_lowat is set on this machine (%q, %v): Tune leaves it be", b, err)
	}
	l, err := Bind("127.0.0.1:0", Perm{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	plain := queued(t, l, false)
	if plain <= 2*NotsentLowat {
		t.Skipf("this kernel queues only %d unsent bytes without a bound; nothing to compare", plain)
	}
	// One write may overshoot the bound by the segment it was filling.
	if n := queued(t, l, true); n == 0 || n > NotsentLowat+64<<10 {
		t.Errorf("a tuned connection holds %d unsent bytes, want at most about %d (untuned: %d)", n, NotsentLowat, plain)
	} else {
		t.Logf("unsent bytes on a stalled connection: %d tuned, %d untuned", n, plain)
	}
}

func TestKernelDefault(t *testing.T) {
	for s, want := range map[string]bool{"4294967295\n": true, "4294967295": true, "131072\n": false, "": false} {
		if got := kernelDefault(s); got != want {
			t.Errorf("kernelDefault(%q) = %v, want %v", s, got, want)
		}
	}
}
