package httpfront

import "time"

// A connection's deadlines are armed lazily: arming one reads the clock
// and updates a runtime timer, and a keep-alive request used to arm four
// (idle, head, write, and the next idle). A deadline that only moves later
// is re-armed once it has fallen behind by more than deadlineSlack, so a
// timeout of d fires between d minus the slack and d after the wait began;
// one that must come sooner (a head timeout shorter than the keep-alive,
// a stopping server's grace) is armed at once.

// deadlineSlack is how far a deadline may lag: an eighth of the timeout,
// at most a second.
func deadlineSlack(d time.Duration) time.Duration { return min(d/8, time.Second) }

// readDeadline makes reads fail d after now, or up to deadlineSlack(d)
// sooner.
func (c *conn) readDeadline(now time.Time, d time.Duration) {
	want := now.Add(d)
	if c.rdl.IsZero() || want.Before(c.rdl) || want.Sub(c.rdl) > deadlineSlack(d) {
		c.rdl = want
		c.nc.SetReadDeadline(want)
	}
}

// writeDeadline is readDeadline for writes.
func (c *conn) writeDeadline(now time.Time, d time.Duration) {
	want := now.Add(d)
	if c.wdl.IsZero() || want.Before(c.wdl) || want.Sub(c.wdl) > deadlineSlack(d) {
		c.wdl = want
		c.nc.SetWriteDeadline(want)
	}
}
