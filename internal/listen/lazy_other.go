//go:build !linux

package listen

import "net"

// Lazy returns l: elsewhere than Linux, connections join the poller at
// once (see the Linux version).
func Lazy(l net.Listener) net.Listener { return l }

// Waiter cannot wait elsewhere than Linux: the caller reads as it would
// have (see the Linux version).
type Waiter struct{}

// Reset does nothing.
func (w *Waiter) Reset(nc net.Conn) {}

// Read reports that it cannot read so.
func (w *Waiter) Read(read func(fd uintptr) (done bool)) (bool, error) { return false, nil }

// PeerGone reports false: elsewhere than Linux carafe does not look (see
// the Linux version).
func PeerGone(c net.Conn) bool { return false }
