package master

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"carafe/internal/control"
	"carafe/internal/listen"
)

// procInfo is a copy of what the stats server may read about a worker
// outside the event loop.
type procInfo struct {
	id, pid   int
	state     procState
	accepting bool
	started   time.Time
	respawns  int
	harakiris int
	ctl       *control.Conn
	stats     chan *control.WorkerStats
	asked     *atomic.Bool // the proc's statsAsked
}

// snapshot is what collect needs of the event loop's state: the workers,
// and the sockets' queues (m.socks changes on SIGTTOU).
type snapshot struct {
	procs   []procInfo
	empty   []procInfo // the slots with no worker now (a restart put off): id and counts only
	cheap   []procInfo // the slots --cheaper does not run now: id and counts only
	stopped []procInfo // the slots whose worker left during a stop: id and counts only
	sockets []SocketEntry
}

func (m *master) snapshot() snapshot {
	var out snapshot
	for _, p := range m.procs {
		s := slotOf(p.id)
		out.procs = append(out.procs, procInfo{id: p.id, pid: p.pid, state: p.state,
			accepting: p.state == stateReady, started: p.started, // (a recycling one too: see worker.recycle)
			respawns: s.respawns, harakiris: s.harakiris, ctl: p.ctl, stats: p.stats, asked: &p.statsAsked})
	}
	for id := 1; id <= max(m.want, m.o.Processes); id++ {
		if slices.ContainsFunc(m.procs, func(p *proc) bool { return p.id == id }) {
			continue
		}
		s := slotOf(id)
		info := procInfo{id: id, respawns: s.respawns, harakiris: s.harakiris}
		switch {
		case id <= m.want && m.stopping:
			// Not to come back: "respawning" read as a crash loop.
			out.stopped = append(out.stopped, info)
		case id <= m.want:
			out.empty = append(out.empty, info)
		case m.o.Cheaper.Min > 0:
			out.cheap = append(out.cheap, info)
		}
	}
	out.sockets = []SocketEntry{}
	for i, g := range m.socks {
		e := SocketEntry{Name: g.listeners[0].Addr().String(), Proto: "uwsgi"}
		if i < len(m.o.HTTP) {
			e.Proto = "http"
		}
		for _, f := range g.files {
			q, limit, _ := listenQueue(f)
			e.Queue += q
			e.MaxQueue += limit
		}
		out.sockets = append(out.sockets, e)
	}
	return out
}

// StatsDoc is the JSON document the stats server sends: carafe's own
// names, and uWSGI's beside them (read by uwsgitop and the uWSGI
// collectors of Datadog, Telegraf, Diamond...). What carafe has no such
// thing for (signals, load, listen_queue_errors) is 0.
type StatsDoc struct {
	Pid     int           `json:"pid"`
	Uptime  float64       `json:"uptime_s"`
	Workers []WorkerEntry `json:"workers"`

	Version string `json:"version"`
	// ListenQueue is the connections waiting in the accept queues of the
	// TCP sockets (a unix socket's is not known): none free to take them.
	ListenQueue       int           `json:"listen_queue"`
	ListenQueueErrors int           `json:"listen_queue_errors"`
	Load              int           `json:"load"`
	SignalQueue       int           `json:"signal_queue"`
	Cwd               string        `json:"cwd"`
	UID               int           `json:"uid"`
	GID               int           `json:"gid"`
	Sockets           []SocketEntry `json:"sockets"`
}

// SocketEntry is one listening address in StatsDoc, as uWSGI's; the
// queues of an address with a socket per worker are added up.
type SocketEntry struct {
	Name       string `json:"name"`
	Proto      string `json:"proto"`
	Queue      int    `json:"queue"`
	MaxQueue   int    `json:"max_queue"`
	Shared     int    `json:"shared"`
	CanOffload int    `json:"can_offload"`
}

// WorkerEntry is one worker in StatsDoc.
type WorkerEntry struct {
	ID       int    `json:"id"`
	Pid      int    `json:"pid"`
	Status   string `json:"status"` // idle, busy, starting, stopping; respawning, cheap, stopped (pid 0)
	RSS      int64  `json:"rss"`
	Respawns int    `json:"respawns"`
	control.WorkerStats

	// uWSGI's names (tx, running_time are WorkerStats'). DeltaRequests
	// counts since the previous document.
	AvgRT         int64 `json:"avg_rt"` // µs
	RespawnCount  int   `json:"respawn_count"`
	HarakiriCount int   `json:"harakiri_count"`
	VSZ           int64 `json:"vsz"`
	LastSpawn     int64 `json:"last_spawn"` // unix time
	Signals       int   `json:"signals"`
	DeltaRequests int64 `json:"delta_requests"`
	Accepting     int   `json:"accepting"` // 1 when taking new connections
	Cores         []any `json:"cores"`
	Apps          []any `json:"apps"`
}

// bindStats binds the --stats address (a path with '/' is a unix socket)
// with the other listeners, before privileges are dropped, so that it may
// be in a directory only root can write; handOver then gives a unix one to
// the run-as user, as uWSGI's (made after the drop) would be.
func (m *master) bindStats() error {
	if m.o.Stats == "" {
		return nil
	}
	// A unix one gets the sockets' --chmod-socket / --chown-socket, as
	// uWSGI's does: a monitoring user (uwsgitop) must be able to connect.
	l, err := listen.Bind(m.o.Stats, m.o.SocketPerm)
	if err != nil {
		return fmt.Errorf("%w (--stats)", err)
	}
	m.stats = l
	return nil
}

// serveStats answers each connection to --stats with one JSON document,
// like uWSGI's stats server.
func (m *master) serveStats() {
	l := m.stats
	if l == nil {
		return
	}
	m.o.Log.Info("carafe: master: stats on " + m.o.Stats)
	var docs sharedDoc
	busy := make(chan struct{}, statsClients)
	go func() {
		for {
			// Past statsClients at once, the next wait in the kernel's
			// backlog: a flood of clients costs the master no descriptors.
			busy <- struct{}{}
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer func() { c.Close(); <-busy }()
				httpClient := sentHTTPRequest(c)
				doc := docs.get(m.collect)
				body, _ := json.MarshalIndent(doc, "", "  ")
				body = append(body, '\n')
				c.SetWriteDeadline(time.Now().Add(5 * time.Second))
				if httpClient {
					fmt.Fprintf(c, "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n"+
						"Content-Length: %d\r\nConnection: close\r\n\r\n", len(body))
				}
				c.Write(body)
			}()
		}
	}()
}

// statsClients is how many stats clients are served at once.
const statsClients = 16

// sharedDoc runs one collection at a time (the workers' replies are not
// tagged) and gives its document to every client that asked while it
// ran: with a worker that does not answer, each collection waits
// statsWait, and clients served one collection each would wait in turn.
type sharedDoc struct {
	mu      sync.Mutex
	running *docRun
}

type docRun struct {
	done chan struct{}
	doc  StatsDoc
}

// get returns the document of the collection running, or of one it runs.
func (s *sharedDoc) get(collect func() StatsDoc) StatsDoc {
	s.mu.Lock()
	if r := s.running; r != nil {
		s.mu.Unlock()
		<-r.done
		return r.doc
	}
	r := &docRun{done: make(chan struct{})}
	s.running = r
	s.mu.Unlock()
	r.doc = collect()
	s.mu.Lock()
	s.running = nil
	s.mu.Unlock()
	close(r.done)
	return r.doc
}

// statsWait is how long a stats document waits for the workers' figures,
// all of them together (a variable for the tests).
var statsWait = time.Second

// collect asks every worker for its figures (waiting at most statsWait
// for them all). Only one collection runs at a time (see serveStats): it
// may keep lastRequests.
func (m *master) collect() StatsDoc {
	reply := make(chan snapshot, 1)
	m.events <- event{kind: evSnapshot, reply: reply}
	snap := <-reply
	for _, p := range snap.procs {
		select { // drop a reply that came too late last time
		case <-p.stats:
		default:
		}
		// One request at a time: a worker that does not read them (one
		// still importing the app, one stopped) had its control socket
		// fill up a few hundred documents later, and Send then blocked
		// this collection, and the stats server, for good.
		if p.asked.CompareAndSwap(false, true) {
			p.ctl.Send(control.Msg{T: control.StatsReq})
		}
	}
	doc := StatsDoc{Pid: os.Getpid(), Uptime: time.Since(m.started).Seconds(), Workers: []WorkerEntry{},
		Version: m.o.Version, Sockets: snap.sockets, UID: os.Getuid(), GID: os.Getgid()}
	doc.Cwd, _ = os.Getwd()
	for _, s := range snap.sockets {
		doc.ListenQueue += s.Queue
	}
	// One deadline for all the replies, which stays ready once passed:
	// with time.After's single tick, a second worker that did not answer
	// (one exiting in a reload, stopped, importing the app) was waited for
	// without bound, and the stats server with it.
	ctx, cancel := context.WithTimeout(context.Background(), statsWait)
	defer cancel()
	last := m.lastRequests
	m.lastRequests = map[int]int64{}
	// A slot's old and new processes both run during a reload or a
	// recycle: the slot's counts go with the newer only, so that their
	// sums over the list count each harakiri and respawn once.
	newest := map[int]time.Time{}
	for _, p := range snap.procs {
		if p.started.After(newest[p.id]) {
			newest[p.id] = p.started
		}
	}
	for _, p := range snap.procs {
		e := workerEntry(p)
		if p.started.Before(newest[p.id]) {
			e.Respawns, e.RespawnCount, e.HarakiriCount = 0, 0, 0
		}
		var st *control.WorkerStats
		if p.state == stateStarting {
			// Importing the app, it reads no request: waiting for it made
			// every document during a reload or a respawn take statsWait.
			select {
			case st = <-p.stats:
			default:
			}
		} else {
			select {
			case st = <-p.stats:
			case <-ctx.Done():
			}
		}
		if st != nil {
			e.WorkerStats = *st
		}
		e.AvgRT = int64(e.AvgRTms * 1000)
		e.DeltaRequests = e.Requests - last[p.pid]
		m.lastRequests[p.pid] = e.Requests
		if e.Shedding {
			e.Accepting = 0
		}
		if p.state == stateReady {
			e.Status = "idle"
			if len(e.Threads) > 0 {
				e.Status = "busy"
			}
		}
		doc.Workers = append(doc.Workers, e)
	}
	// A slot waiting out its restart's delay is listed too, as uWSGI lists
	// every worker: a monitor that counts them sees one missing, not none.
	// So is one that --cheaper does not run now, as uWSGI lists it ("cheap"):
	// what a monitor graphs keeps its series, and a dashboard shows how
	// many more workers the load may start.
	for i, slots := range [][]procInfo{snap.empty, snap.cheap, snap.stopped} {
		for _, p := range slots {
			doc.Workers = append(doc.Workers, WorkerEntry{ID: p.id, Status: []string{"respawning", "cheap", "stopped"}[i],
				Respawns: p.respawns, RespawnCount: p.respawns, HarakiriCount: p.harakiris, Cores: []any{},
				Apps: []any{}, WorkerStats: control.WorkerStats{Threads: []control.ThreadStats{}}})
		}
	}
	return doc
}

// workerEntry is what the master knows of p itself.
func workerEntry(p procInfo) WorkerEntry {
	e := WorkerEntry{ID: p.id, Pid: p.pid, Status: p.state.String(), Respawns: p.respawns,
		RespawnCount: p.respawns, HarakiriCount: p.harakiris, LastSpawn: p.started.Unix(),
		Cores: []any{}, Apps: []any{}}
	e.VSZ, e.RSS = memory(p.pid)
	e.Threads = []control.ThreadStats{}
	if p.accepting {
		e.Accepting = 1
	}
	return e
}

// sentHTTPRequest reports whether the client opened with an HTTP request
// (curl, a browser) rather than just reading, as uWSGI's stats clients
// do; it waits briefly for the first bytes and drains the request head.
func sentHTTPRequest(c net.Conn) bool {
	c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	defer c.SetReadDeadline(time.Time{})
	buf := make([]byte, 4096)
	n, _ := c.Read(buf)
	return n >= 4 && string(buf[:4]) == "GET "
}
