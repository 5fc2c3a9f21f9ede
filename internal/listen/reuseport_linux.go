package listen

import (
	"fmt"
	"net"
	"os"
	"runtime"
	"syscall"
	"unsafe"
)

// groupSupported: the kernel spreads connections over SO_REUSEPORT sockets.
const groupSupported = true

// reusePort is a ListenConfig.Control that sets SO_REUSEPORT.
func reusePort(_, _ string, c syscall.RawConn) error {
	var serr error
	if err := c.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, soReusePort, 1)
	}); err != nil {
		return err
	}
	return serr
}

// soAttachReuseportCBPF is SO_ATTACH_REUSEPORT_CBPF (the same number on
// the architectures carafe builds for).
const soAttachReuseportCBPF = 51

// Steer makes the kernel give new connections on l's group (see
// BindGroup) to its first n sockets only, at random, so that the others
// can be closed without a connection queued on them: a socket closed with
// connections in its queue resets them. The sockets are numbered in the
// order they were bound, less those closed since, and a closed one's place
// goes to the last: close only from the end.
func Steer(l net.Listener, n int) error {
	sc, ok := l.(syscall.Conn)
	if !ok || n < 1 {
		return fmt.Errorf("listen: cannot steer %T to %d sockets", l, n)
	}
	const (
		ldRandom = syscall.BPF_LD | syscall.BPF_W | syscall.BPF_ABS
		skfRand  = 0xfffff000 + 56                        // SKF_AD_OFF + SKF_AD_RANDOM
		modK     = syscall.BPF_ALU | 0x90 | syscall.BPF_K // BPF_MOD
		retA     = syscall.BPF_RET | syscall.BPF_A
	)
	prog := []syscall.SockFilter{{Code: ldRandom, K: skfRand}, {Code: modK, K: uint32(n)}, {Code: retA}}
	fprog := syscall.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	rc, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		_, _, e := syscall.Syscall6(syscall.SYS_SETSOCKOPT, fd, syscall.SOL_SOCKET, soAttachReuseportCBPF,
			uintptr(unsafe.Pointer(&fprog)), unsafe.Sizeof(fprog), 0)
		if e != 0 {
			serr = os.NewSyscallError("setsockopt SO_ATTACH_REUSEPORT_CBPF", e)
		}
	}); err != nil {
		return err
	}
	runtime.KeepAlive(prog)
	return serr
}
