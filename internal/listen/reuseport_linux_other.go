//go:build linux && !(mips || mipsle || mips64 || mips64le)

package listen

// soReusePort is SO_REUSEPORT, which Go's syscall package names on some
// architectures only.
const soReusePort = 0xf
