//go:build linux && (mips || mipsle || mips64 || mips64le)

package listen

// soReusePort is SO_REUSEPORT on MIPS, which numbers it apart.
const soReusePort = 0x200
