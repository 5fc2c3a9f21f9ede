//go:build !linux

package listen

import "net"

// Tune sets carafe's options on an accepted connection (see the Linux
// version); elsewhere there are none.
func Tune(net.Conn) {}
