package master

import (
	"fmt"
	"math"
	"strings"
	"syscall"
	"time"

	"carafe/internal/control"
)

// Cheaper is --cheaper and its family: the workers scale with the load
// between Min and Options.Processes, as under uWSGI's cheaper subsystem.
// Min 0 turns it off.
type Cheaper struct {
	Min, Initial, Step int
	// Overload is how many seconds the load must stay high before workers
	// are added (spare, and busyness's averaging period).
	Overload int
	Algo     string // spare, spare2 or busyness
	Idle     int    // spare2: seconds with a worker too many idle before one is stopped
	// BusyMin and BusyMax are busyness's bounds on the average load (0 to
	// 1); BusyMult is how many periods below BusyMin stop a worker.
	BusyMin, BusyMax float64
	BusyMult         int
	// RSSSoft stops adding workers, and RSSHard stops one, while the
	// workers' resident memory, all together, is above it (bytes; 0: no
	// limit).
	RSSSoft, RSSHard int64
}

// A worker's load is the share of its threads' time spent in requests
// over the last second (see the worker's reportLoad): 1 when every
// thread ran a request all the time, 0.5 for one of two threads always
// busy, or each half the time.
const (
	// busyLoad is the load from which spare counts a worker busy (uWSGI
	// looks at one instant, where a request is running or not; a load is
	// an average, and a worker at 90% has almost no instant free).
	busyLoad = 0.9
	// spareRoom is the load spare leaves the workers when it stops one:
	// only when the others could take its share and stay under this.
	spareRoom = 0.75
)

// cheaperState carries the algorithms' counts from one second to the
// next.
type cheaperState struct {
	over, idle int     // seconds (spare, spare2) or periods (busyness) in a row
	sum        float64 // busyness: the mean loads of the period so far
	n          int     // and how many
}

// decide returns how many workers to add, or -1 to stop one, or 0, given
// the load of each of the want workers over the last second.
func (c *Cheaper) decide(st *cheaperState, loads []float64, want, most int) (int, string) {
	total := 0.0
	busy := 0
	for _, l := range loads {
		total += l
		if l >= busyLoad {
			busy++
		}
	}
	// loads has the ready workers' figures: a slot whose worker is
	// starting (a respawn, a recycle's replacement) has none yet.
	ready := len(loads)
	add := func(n int) int { return max(0, min(n, c.Step, most-want)) }
	switch c.Algo {
	case "spare2":
		// Keep Min workers' worth of threads idle.
		free := float64(ready) - total
		if free < float64(c.Min) {
			st.idle = 0
			return add(int(math.Ceil(float64(c.Min) - free))), fmt.Sprintf("%.2f workers' worth idle, under %d", free, c.Min)
		}
		if free-1 >= float64(c.Min) && want > c.Min {
			if st.idle++; st.idle >= c.Idle {
				st.idle = 0
				return -1, fmt.Sprintf("%.2f workers' worth idle for %d s", free, c.Idle)
			}
			return 0, ""
		}
		st.idle = 0
	case "busyness":
		st.sum += total / float64(ready)
		if st.n++; st.n < c.Overload {
			return 0, ""
		}
		avg := st.sum / float64(st.n)
		st.sum, st.n = 0, 0
		switch {
		case avg > c.BusyMax:
			st.idle = 0
			return add(c.Step), fmt.Sprintf("average load %.0f%% over %d s, above %.0f%%", 100*avg, c.Overload, 100*c.BusyMax)
		case avg < c.BusyMin && want > c.Min:
			if st.idle++; st.idle >= c.BusyMult {
				st.idle = 0
				return -1, fmt.Sprintf("average load under %.0f%% for %d periods of %d s", 100*c.BusyMin, c.BusyMult, c.Overload)
			}
		default:
			st.idle = 0
		}
	default: // spare
		switch {
		case busy == ready:
			st.idle = 0
			if st.over++; st.over >= c.Overload {
				st.over = 0
				return add(c.Step), fmt.Sprintf("every worker busy for %d s", c.Overload)
			}
		case want > c.Min && ready > 1 && total <= spareRoom*float64(ready-1):
			st.over = 0
			if st.idle++; st.idle >= c.Overload {
				st.idle = 0
				return -1, fmt.Sprintf("the load, %.1f workers' worth, has fit in fewer workers for %d s", total, c.Overload)
			}
		default:
			st.over, st.idle = 0, 0
		}
	}
	return 0, ""
}

// noteLoad takes a worker's report (see the worker's reportLoad): its
// requests' time in it so far in nanoseconds, and its threads. It keeps
// the worker's load since the report before.
func (m *master) noteLoad(p *proc, text string) {
	var ns int64
	var threads int
	if n, err := fmt.Sscanf(text, "%d %d", &ns, &threads); n != 2 || err != nil || threads < 1 {
		return
	}
	now := time.Now()
	if !p.loadAt.IsZero() {
		if d := now.Sub(p.loadAt); d > 0 {
			p.load = min(max(float64(ns-p.loadNs)/(float64(d)*float64(threads)), 0), 1)
			p.loaded = true
		}
	}
	p.loadNs, p.loadAt = ns, now
}

// scale runs the cheaper algorithm once a second: it adds workers or
// gives up the last slot. It decides on the workers that are ready and
// have reported their load, and not during a reload or a stop. While a
// slot's worker starts (a new one, a respawn, a recycle's replacement) it
// adds none: that worker is capacity on its way, and with an import of a
// few seconds each second's look added one more, up to --processes.
func (m *master) scale() {
	c := &m.o.Cheaper
	if c.Min == 0 || m.stopping || m.reloading {
		return
	}
	loads := make([]float64, 0, m.want)
	var rss int64
	for id := 1; id <= m.want; id++ {
		for _, p := range m.live(id) {
			if p.state == stateReady && p.loaded {
				loads = append(loads, p.load)
				if c.RSSSoft > 0 || c.RSSHard > 0 {
					_, r := memory(p.pid)
					rss += r
				}
				break
			}
		}
	}
	if len(loads) == 0 {
		return
	}
	if c.RSSHard > 0 && rss > c.RSSHard && m.want > c.Min {
		m.cheaper = cheaperState{}
		m.fewer(fmt.Sprintf("cheaper: the workers' memory, %d MiB, is above cheaper-rss-limit-hard (%d MiB)", rss>>20, c.RSSHard>>20))
		return
	}
	n, why := c.decide(&m.cheaper, loads, m.want, max(m.o.Processes, c.Min))
	switch {
	case n > 0 && len(loads) < m.want:
		// (decide counts again from here: the next look after the start
		// sees the new worker's load)
	case n > 0 && c.RSSSoft > 0 && rss > c.RSSSoft:
		if !m.cheaperSoftSaid {
			m.cheaperSoftSaid = true
			m.o.Log.Warn(fmt.Sprintf("carafe: master: cheaper (%s): %s, but the workers' memory, %d MiB, is above "+
				"cheaper-rss-limit-soft (%d MiB): no worker more", c.Algo, why, rss>>20, c.RSSSoft>>20))
		}
	case n > 0:
		m.cheaperSoftSaid = false
		m.more(n, fmt.Sprintf("cheaper (%s): %s", c.Algo, why))
	case n < 0:
		m.fewer(fmt.Sprintf("cheaper (%s): %s", c.Algo, why))
	}
}

// rescale takes cheaper's settings as a completed reload read them again.
// The algorithm starts counting afresh; a minimum above the workers
// running adds workers, and one below them leaves the algorithm to give
// workers up as the load allows.
func (m *master) rescale(c Cheaper) {
	c.Initial = m.o.Cheaper.Initial // the start's
	if c == m.o.Cheaper || (c.Min == 0) != (m.o.Cheaper.Min == 0) {
		return // (on or off: the sockets are kept otherwise; a restart's)
	}
	change := c.changes(m.o.Cheaper)
	m.o.Cheaper, m.cheaper, m.cheaperSoftSaid = c, cheaperState{}, false
	m.o.Log.Info("carafe: master: the reload applies "+change, "workers", m.want)
	if n := min(c.Min, m.o.Processes) - m.want; n > 0 {
		m.more(n, fmt.Sprintf("cheaper %d", c.Min))
	}
}

// changes says what c changes of was, by the options' names: "cheaper 2
// (was 1), cheaper-algo spare2 (was spare)".
func (c Cheaper) changes(was Cheaper) string {
	var out []string
	say := func(name string, now, then any) {
		if now != then {
			out = append(out, fmt.Sprintf("%s %v (was %v)", name, now, then))
		}
	}
	say("cheaper", c.Min, was.Min)
	say("cheaper-step", c.Step, was.Step)
	say("cheaper-overload", c.Overload, was.Overload)
	say("cheaper-algo", c.Algo, was.Algo)
	say("cheaper-idle", c.Idle, was.Idle)
	say("cheaper-busyness-min", math.Round(100*c.BusyMin), math.Round(100*was.BusyMin))
	say("cheaper-busyness-max", math.Round(100*c.BusyMax), math.Round(100*was.BusyMax))
	say("cheaper-busyness-multiplier", c.BusyMult, was.BusyMult)
	say("cheaper-rss-limit-soft", c.RSSSoft, was.RSSSoft)
	say("cheaper-rss-limit-hard", c.RSSHard, was.RSSHard)
	return strings.Join(out, ", ")
}

// more adds n slots (SIGTTIN, cheaper).
func (m *master) more(n int, why string) {
	m.o.Log.Info(fmt.Sprintf("carafe: master: %s, %d %s more", why, n, plural(n, "worker", "workers")), "workers", m.want+n)
	for range n {
		m.want++
		m.spawnOrLog(m.want, 0)
	}
}

// fewer gives up the last slot, gracefully (SIGTTOU, cheaper). New
// connections are steered off its socket at once. Without --cheaper the
// socket is retired, and the worker goes on a moment to take the
// connections queued there, then stops within --worker-reload-mercy.
// With --cheaper the socket stays, for the slot's next worker, and the
// worker is retired (see retire): as uWSGI's cheaper stops only an idle
// worker, a long request on it (an export, a report) is not cut at the
// end of the mercy.
func (m *master) fewer(why string) {
	if m.want <= 1 {
		return
	}
	m.want--
	var linger time.Duration
	grouped := false
	for _, g := range m.socks {
		if len(g.files) > 1 {
			grouped = true
		}
		if m.o.Cheaper.Min == 0 && g.shrink(m.want, !m.o.SocketPerm.ReusePort, m.o.Log) {
			linger = retireLinger
		}
	}
	if m.o.Cheaper.Min > 0 && grouped {
		linger = retireLinger
	}
	then := ""
	for _, p := range m.procs {
		switch {
		case p.id != m.want+1 || p.state == stateStopping:
		case m.o.Cheaper.Min > 0 && p.state == stateReady:
			m.retire(p, why, linger)
			then = "; it stops once its requests are done"
		default:
			m.stopAfter(p, why, linger)
		}
	}
	m.o.Log.Info("carafe: master: "+why+", one worker fewer"+then, "workers", m.want)
}

// retire stops p without a deadline: after linger (for the connections
// queued on its own socket before the steering), it takes no new
// connection, closes each kept-alive one after its response in flight,
// and leaves once every request it has is done, however long they take
// (see the worker's retire). A stop of the server (SIGTERM) gives it the
// mercy, as any worker (see retiredMercy).
func (m *master) retire(p *proc, why string, linger time.Duration) {
	p.state = stateStopping
	p.stopAt = time.Now()
	p.killAt = p.stopAt.Add(100 * 365 * 24 * time.Hour)
	p.retiring = true
	m.o.Log.Info(fmt.Sprintf("carafe: stopping worker %d (pid %d) once its requests are done: %s", p.id, p.pid, why))
	ctl := p.ctl
	time.AfterFunc(linger, func() { ctl.Send(control.Msg{T: control.Retire}) })
}

// retiredMercy gives the workers retire stopped without a deadline the
// mercy now: the server stops.
func (m *master) retiredMercy() {
	for _, p := range m.procs {
		if p.retiring {
			p.retiring = false
			p.killAt = time.Now().Add(m.o.Mercy + time.Second)
			p.cmd.Process.Signal(syscall.SIGTERM)
		}
	}
}

// retiredOverdue says once of each retired worker still finishing its
// requests past the mercy that it is there, and why.
func (m *master) retiredOverdue(now time.Time) {
	for _, p := range m.procs {
		if p.retiring && !p.retireSaid && now.Sub(p.stopAt) > m.o.Mercy {
			p.retireSaid = true
			m.o.Log.Warn(fmt.Sprintf("carafe: master: worker %d (pid %d), whose slot cheaper gave up %s ago, is still "+
				"finishing its requests (it takes no new ones; a stop of the server cuts them at --worker-reload-mercy)",
				p.id, p.pid, now.Sub(p.stopAt).Round(time.Second)))
		}
	}
}
