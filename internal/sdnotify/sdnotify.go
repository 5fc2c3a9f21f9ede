// Package sdnotify tells systemd how the service is doing, for units with
// Type=notify (or notify-reload): sd_notify's protocol, one datagram of
// KEY=VALUE lines to the unix socket named by $NOTIFY_SOCKET.
package sdnotify

import (
	"net"
	"os"
	"strconv"
	"syscall"
	"time"
	"unsafe"
)

// Notifier sends states to systemd. A nil *Notifier (no $NOTIFY_SOCKET:
// not started by systemd, or a unit of another type) sends nothing.
type Notifier struct {
	addr *net.UnixAddr
}

// Take returns a Notifier for $NOTIFY_SOCKET and unsets the variable, so
// that the processes started after (workers, the app's programs) do not
// report in the service's name; nil when it is not set.
func Take() *Notifier {
	path := os.Getenv("NOTIFY_SOCKET")
	os.Unsetenv("NOTIFY_SOCKET")
	if path == "" {
		return nil
	}
	// A leading '@' names an abstract socket; Go's net package maps it.
	return &Notifier{addr: &net.UnixAddr{Name: path, Net: "unixgram"}}
}

// Unheard is the warning for a READY=1 that could not be sent: under a
// Type=notify unit, systemd then stops the service at its start timeout,
// and this line is the only clue why.
const Unheard = "carafe: cannot tell systemd the service is ready ($NOTIFY_SOCKET); a Type=notify unit will time out"

// Send sends state ("READY=1", "STOPPING=1", lines joined by '\n'). It is
// best effort: systemd not listening must not stop the server.
func (n *Notifier) Send(state string) error {
	if n == nil {
		return nil
	}
	c, err := net.DialUnix("unixgram", nil, n.addr)
	if err != nil {
		return err
	}
	defer c.Close()
	// A listener that stopped reading (a full queue) must not hold the
	// master's event loop: the send gives up after a second.
	c.SetWriteDeadline(time.Now().Add(time.Second))
	_, err = c.Write([]byte(state))
	return err
}

// Reloading is the state for the start of a reload: RELOADING=1 with the
// CLOCK_MONOTONIC time that Type=notify-reload units require.
func Reloading() string {
	var ts syscall.Timespec
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, 1 /* CLOCK_MONOTONIC */, uintptr(unsafe.Pointer(&ts)), 0)
	usec := ts.Sec*1e6 + ts.Nsec/1e3
	return "RELOADING=1\nMONOTONIC_USEC=" + strconv.FormatInt(usec, 10)
}
