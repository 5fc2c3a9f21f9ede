//go:build !linux

package listen

import (
	"errors"
	"net"
	"syscall"
)

// Tune sets carafe's options on an accepted connection (see the Linux
// version); elsewhere there are none.
func Tune(net.Conn) {}

// reusePort refuses: carafe sets SO_REUSEPORT on Linux only.
func reusePort(_, _ string, _ syscall.RawConn) error {
	return errors.New("--reuse-port is supported on Linux only")
}

// groupSupported: workers share one socket elsewhere (see Grouped).
const groupSupported = false

// Steer refuses: there are no socket groups elsewhere (see Grouped).
func Steer(net.Listener, int) error { return errors.New("listen: no socket groups on this system") }

// SteerTo is Steer's general form (Linux only).
func SteerTo(net.Listener, []int) error { return errors.New("listen: no socket groups on this system") }
