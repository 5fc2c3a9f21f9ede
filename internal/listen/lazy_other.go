//go:build !linux

package listen

import "net"

// Lazy returns l: elsewhere than Linux, connections join the poller at
// once (see the Linux version).
func Lazy(l net.Listener) net.Listener { return l }
