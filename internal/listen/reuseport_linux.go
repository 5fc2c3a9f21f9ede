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
	if n < 1 {
		return fmt.Errorf("listen: cannot steer %T to %d sockets", l, n)
	}
	const retA = syscall.BPF_RET | syscall.BPF_A
	return attachSteering(l, append(pickRandom(n), syscall.SockFilter{Code: retA}))
}

// SteerTo makes the kernel give new connections on l's group to the
// sockets numbered in to (see Steer for the numbering), at random: a
// master steers them off the socket of a worker that cannot take them.
func SteerTo(l net.Listener, to []int) error {
	if len(to) < 1 || 2*len(to)+3 > 4096 { // BPF_MAXINSNS
		return fmt.Errorf("listen: cannot steer to %d sockets", len(to))
	}
	const (
		jeqK = syscall.BPF_JMP | syscall.BPF_JEQ | syscall.BPF_K
		retK = syscall.BPF_RET | syscall.BPF_K
	)
	prog := pickRandom(len(to))
	for k, i := range to { // A == k: return the k-th socket's number
		prog = append(prog, syscall.SockFilter{Code: jeqK, K: uint32(k), Jt: 0, Jf: 1},
			syscall.SockFilter{Code: retK, K: uint32(i)})
	}
	return attachSteering(l, append(prog, syscall.SockFilter{Code: retK, K: uint32(to[0])}))
}

// pickRandom is a program's start: A = a random number below n.
func pickRandom(n int) []syscall.SockFilter {
	const (
		ldRandom = syscall.BPF_LD | syscall.BPF_W | syscall.BPF_ABS
		skfRand  = 0xfffff000 + 56                        // SKF_AD_OFF + SKF_AD_RANDOM
		modK     = syscall.BPF_ALU | 0x90 | syscall.BPF_K // BPF_MOD
	)
	return []syscall.SockFilter{{Code: ldRandom, K: skfRand}, {Code: modK, K: uint32(n)}}
}

// attachSteering sets prog as the steering program of l's group.
func attachSteering(l net.Listener, prog []syscall.SockFilter) error {
	sc, ok := l.(syscall.Conn)
	if !ok {
		return fmt.Errorf("listen: cannot steer %T", l)
	}
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
