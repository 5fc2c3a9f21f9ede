package master

import (
	"os"
	"syscall"
	"unsafe"
)

// listenQueue reads, as uWSGI does, a TCP listening socket's accept queue
// from TCP_INFO: for a listener the kernel reports the connections
// waiting in it as unacked and its bound as sacked. ok is false for other
// sockets (unix ones).
func listenQueue(f *os.File) (queue, limit int, ok bool) {
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, 0, false
	}
	var info syscall.TCPInfo
	var errno syscall.Errno
	rc.Control(func(fd uintptr) {
		n := uint32(syscall.SizeofTCPInfo)
		_, _, errno = syscall.Syscall6(syscall.SYS_GETSOCKOPT, fd, syscall.IPPROTO_TCP, syscall.TCP_INFO,
			uintptr(unsafe.Pointer(&info)), uintptr(unsafe.Pointer(&n)), 0)
	})
	if errno != 0 {
		return 0, 0, false
	}
	return int(info.Unacked), int(info.Sacked), true
}
