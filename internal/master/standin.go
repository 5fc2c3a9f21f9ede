package master

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// A stand-in answers a listening socket's connections with 503 while no
// worker takes them because none can start: a worker died (a crash, a
// harakiri) after the code on disk broke (or its --chdir or venv went),
// and its restarts fail and back off, with no other worker sharing its
// socket. The kernel still completes each client's handshake and queues
// the connection, and nobody would accept it: a client (or nginx) waited
// for its own timeout, where uWSGI's forked workers come back from the
// master's copy of the app. A 503 says at once that the server is there
// and cannot serve; nginx passes it on, or tries another upstream. A
// worker that dies while the app still imports (a crash loop,
// --evil-reload-on-rss) is back within its backoff and an import, which
// its connections wait for, as at a start.
type standin struct {
	l        net.Listener
	uwsgi    bool
	stop     chan struct{}
	answered *atomic.Int64 // its outage's
}

// outage is the time a socket has no worker ready to take its
// connections, said once as it begins and once as it ends, however many
// times its stand-in starts and stops in between (once for each restart
// a crash loop backs off from).
type outage struct {
	name     string
	since    time.Time
	answered atomic.Int64
}

// standinBody is the 503's body; the response is the same over uwsgi,
// whose gateway reads an HTTP response.
const standinBody = "Service Unavailable: no worker is running; see the server's log.\n"

var standinResponse = []byte(fmt.Sprintf("HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"+
	"Content-Length: %d\r\nRetry-After: 5\r\nConnection: close\r\n\r\n%s", len(standinBody), standinBody))

// standIn starts a stand-in on each socket no worker takes, and stops
// those whose socket a worker takes again. It runs after every event.
func (m *master) standIn() {
	current := map[net.Listener]bool{}
	for _, g := range m.socks {
		n := len(g.listeners)
		for i, l := range g.listeners {
			current[l] = true
			served, ready := m.stopping, m.stopping // a stopping master has closed its listeners
			broken := false
			for id := 1; id <= m.want; id++ {
				if n == 1 || (id-1)%n == i {
					broken = broken || slotOf(id).broken
				}
			}
			served = served || !broken
			for _, p := range m.procs {
				// A starting worker takes its socket's connections once
				// its import ends: they wait for it, as at a start.
				if p.state != stateStopping && (n == 1 || (p.id-1)%n == i) {
					served = true
					ready = ready || p.state == stateReady
				}
			}
			o := m.outages[l]
			if !served && o == nil {
				o = &outage{name: l.Addr().String(), since: time.Now()}
				if n > 1 {
					o.name += fmt.Sprintf(" (worker %d's socket)", i+1)
				}
				m.outages[l] = o
				m.o.Log.Warn(fmt.Sprintf("carafe: master: no worker takes the connections of %s now; "+
					"answering them 503 until one does (see above why)", o.name))
			}
			s := m.standins[l]
			switch {
			case !served && s == nil:
				// On a copy of the socket, in the master's poller while
				// the stand-in runs (see held).
				sl, err := net.FileListener(g.files[i])
				if err != nil {
					m.o.Log.Error("carafe: master: cannot answer "+o.name+" meanwhile", "err", err)
					break
				}
				s = &standin{l: sl, uwsgi: g.uwsgi, stop: make(chan struct{}), answered: &o.answered}
				m.standins[l] = s
				go s.serve()
			case served && s != nil:
				delete(m.standins, l)
				s.end()
			}
			if ready && o != nil {
				delete(m.outages, l)
				if !m.stopping {
					m.o.Log.Info(fmt.Sprintf("carafe: master: a worker takes the connections of %s again, "+
						"after %s; %d answered 503 meanwhile", o.name, time.Since(o.since).Round(time.Millisecond),
						o.answered.Load()))
				}
			}
		}
	}
	// A socket SIGTTOU retired (closed) has no outage left to end.
	for l, s := range m.standins {
		if !current[l] {
			delete(m.standins, l)
			s.end()
		}
	}
	for l, o := range m.outages {
		if !current[l] {
			delete(m.outages, l)
			m.o.Log.Info(fmt.Sprintf("carafe: master: %s is retired (SIGTTOU); %d of its connections were answered 503",
				o.name, o.answered.Load()))
		}
	}
}

// end stops the stand-in: its Accept returns, its copy of the socket
// closed (the workers' and the master's stay open).
func (s *standin) end() {
	close(s.stop)
	s.l.Close()
}

// standinConns bounds the connections the stand-ins answer at once, each
// held up to 3 s for a client's head and close: a flood of clients that
// send nothing took every file descriptor the master had, and it could no
// longer start the worker that would end the outage. Past the bound, the
// connections wait in the socket's queue. A quarter of the master's
// descriptors, at most 256 (and one a stand-in, accepted and waiting for a
// place).
var standinConns = sync.OnceValue(func() chan struct{} {
	n := 256
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil && lim.Cur < 4*256 {
		n = max(int(lim.Cur/4), 1)
	}
	return make(chan struct{}, n)
})

// serve accepts and answers until stopped, or until the listener closes.
// A place among standinConns is taken once a connection has come: taken
// before, each stand-in waiting for one held a place, and past as many
// stand-ins as places (a socket a worker, two addresses, a broken deploy)
// the rest never accepted, their clients left waiting.
func (s *standin) serve() {
	conns := standinConns()
	for {
		c, err := s.l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond) // out of file descriptors, say
			continue
		}
		select {
		case conns <- struct{}{}: // answer503 gives it back; a 503 ends within 3 s
			s.answered.Add(1)
			go answer503(c, s.uwsgi, conns)
		case <-s.stop:
			// A worker takes the socket again: this one, accepted
			// already, is answered now, past the bound by one.
			s.answered.Add(1)
			go answer503(c, s.uwsgi, nil)
			return
		}
		select {
		case <-s.stop:
			return // (the one accepted as it was stopped was answered: a worker takes the next)
		default:
		}
	}
}

// answer503 reads what the client sent of its request's head (a socket
// closed with unread bytes resets the connection, and the client could
// lose the answer), answers 503, and closes; then it gives back its place
// in conns (see standinConns).
func answer503(c net.Conn, uwsgi bool, conns chan struct{}) {
	if conns != nil {
		defer func() { <-conns }()
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 0, 8192)
	for len(buf) < cap(buf) && !headRead(buf, uwsgi) {
		n, err := c.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil {
			break
		}
	}
	if _, err := c.Write(standinResponse); err != nil {
		return
	}
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	c.SetReadDeadline(time.Now().Add(time.Second))
	io.Copy(io.Discard, io.LimitReader(c, 1<<20)) // a body, until the client closes
}

// headRead reports whether b holds a whole request head: an HTTP
// request's up to its blank line, a uwsgi packet's variables.
func headRead(b []byte, uwsgi bool) bool {
	if uwsgi {
		return len(b) >= 4 && len(b) >= 4+int(binary.LittleEndian.Uint16(b[1:3]))
	}
	return bytes.Contains(b, []byte("\r\n\r\n"))
}
