package master

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"carafe/internal/control"
	"carafe/internal/listen"
)

// procInfo is a copy of what the stats server may read about a worker
// outside the event loop.
type procInfo struct {
	id, pid  int
	state    procState
	respawns int
	ctl      *control.Conn
	stats    chan *control.WorkerStats
}

func (m *master) snapshot() []procInfo {
	out := make([]procInfo, 0, len(m.procs))
	for _, p := range m.procs {
		out = append(out, procInfo{id: p.id, pid: p.pid, state: p.state,
			respawns: slotOf(p.id).respawns, ctl: p.ctl, stats: p.stats})
	}
	return out
}

// StatsDoc is the JSON document the stats server sends.
type StatsDoc struct {
	Pid     int           `json:"pid"`
	Uptime  float64       `json:"uptime_s"`
	Workers []WorkerEntry `json:"workers"`
}

// WorkerEntry is one worker in StatsDoc.
type WorkerEntry struct {
	ID       int    `json:"id"`
	Pid      int    `json:"pid"`
	Status   string `json:"status"` // idle, busy, starting, stopping
	RSS      int64  `json:"rss"`
	Respawns int    `json:"respawns"`
	control.WorkerStats
}

// bindStats binds the --stats address (a path with '/' is a unix socket)
// with the other listeners, before privileges are dropped, so that it may
// be in a directory only root can write; handOver then gives a unix one to
// the run-as user, as uWSGI's (made after the drop) would be.
func (m *master) bindStats() error {
	if m.o.Stats == "" {
		return nil
	}
	l, err := listen.Bind(m.o.Stats, listen.Perm{})
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
	var mu sync.Mutex // one collection at a time: replies are not tagged
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				httpClient := sentHTTPRequest(c)
				mu.Lock()
				doc := m.collect()
				mu.Unlock()
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

// collect asks every worker for its figures (waiting at most a second).
func (m *master) collect() StatsDoc {
	reply := make(chan []procInfo, 1)
	m.events <- event{kind: evSnapshot, reply: reply}
	infos := <-reply
	for _, p := range infos {
		select { // drop a reply that came too late last time
		case <-p.stats:
		default:
		}
		p.ctl.Send(control.Msg{T: control.StatsReq})
	}
	doc := StatsDoc{Pid: os.Getpid(), Uptime: time.Since(m.started).Seconds(), Workers: []WorkerEntry{}}
	deadline := time.After(time.Second)
	for _, p := range infos {
		e := WorkerEntry{ID: p.id, Pid: p.pid, Status: p.state.String(), RSS: rssBytes(p.pid), Respawns: p.respawns}
		e.Threads = []control.ThreadStats{}
		select {
		case st := <-p.stats:
			if st != nil {
				e.WorkerStats = *st
			}
		case <-deadline:
		}
		if p.state == stateReady {
			e.Status = "idle"
			if len(e.Threads) > 0 {
				e.Status = "busy"
			}
		}
		doc.Workers = append(doc.Workers, e)
	}
	return doc
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
