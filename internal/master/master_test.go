package master

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	want := []time.Duration{0, 0, 100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond}
	for fails, w := range want {
		if got := backoff(fails); got != w {
			t.Errorf("backoff(%d) = %v, want %v", fails, got, w)
		}
	}
	if got := backoff(40); got != 10*time.Second {
		t.Errorf("backoff(40) = %v, want the 10s cap", got)
	}
}

// killAll asks every worker to leave, one still counted as starting too:
// the master may not have read its word that it is ready, and it may
// have served requests whose log lines it writes out as it leaves. A
// SIGKILL would lose them. (Each "worker" here is a shell that says which
// signal it got.)
func TestKillAllLetsWorkersLeave(t *testing.T) {
	m, outs := killAllProcs(t, `trap 'echo INT > "$OUT"; exit 0' INT
trap 'echo QUIT > "$OUT"; exit 0' QUIT`, stateStarting, stateReady)
	start := time.Now()
	killed := m.killAll()
	if d := time.Since(start); d >= killGrace || killed != 0 {
		t.Errorf("killAll took %v and killed %d: the workers were killed, not asked", d, killed)
	}
	for i, st := range []procState{stateStarting, stateReady} {
		b, err := os.ReadFile(outs[i])
		if got := strings.TrimSpace(string(b)); err != nil || got != "INT" {
			t.Errorf("a %v worker got %q (%v), want SIGINT", st, got, err)
		}
	}
}

// Workers that do not leave when asked are killed after killGrace, every
// one of them: the master once waited for the second for good.
func TestKillAllKillsStayers(t *testing.T) {
	m, _ := killAllProcs(t, `trap '' INT QUIT`, stateReady, stateReady, stateStarting)
	done := make(chan struct{})
	start := time.Now()
	var killed int
	go func() { killed = m.killAll(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("killAll still waiting 10 s on workers that ignore SIGINT")
	}
	if d := time.Since(start); d < killGrace || d > killGrace+2*time.Second {
		t.Errorf("killAll took %v, want about %v", d, killGrace)
	}
	if killed != 3 {
		t.Errorf("killAll says it killed %d, want 3", killed)
	}
}

// killAllProcs starts a shell for each state, running trap and then
// waiting, and returns a master holding them and the file each shell's
// $OUT names.
func killAllProcs(t *testing.T, trap string, states ...procState) (*master, []string) {
	t.Helper()
	dir := t.TempDir()
	m := &master{}
	var outs []string
	for i, st := range states {
		out := filepath.Join(dir, fmt.Sprint(i))
		cmd := exec.Command("sh", "-c", trap+"\necho > \"$OUT.up\"\nwhile :; do sleep 0.01; done")
		cmd.Env = append(os.Environ(), "OUT="+out)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		p := &proc{id: i + 1, pid: cmd.Process.Pid, cmd: cmd, state: st, exited: make(chan struct{})}
		go func() { cmd.Wait(); close(p.exited) }()
		t.Cleanup(func() { cmd.Process.Kill(); <-p.exited })
		m.procs = append(m.procs, p)
		outs = append(outs, out)
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			if _, err := os.Stat(out + ".up"); err == nil {
				break
			} else if time.Now().After(deadline) {
				t.Fatal("the shell did not start")
			}
		}
	}
	return m, outs
}

// A worker still starting a minute on (an import that hangs) is said to
// be, once, with the worker it replaces, which serves on meanwhile.
func TestTickSaysSlowStart(t *testing.T) {
	var buf strings.Builder
	m := &master{o: Options{Log: slog.New(slog.NewTextHandler(&buf, nil))}}
	old := &proc{id: 1, pid: 100, state: stateReady, started: time.Now().Add(-time.Hour)}
	slow := &proc{id: 1, pid: 101, state: stateStarting, started: time.Now().Add(-slowStart - time.Second), replaces: old}
	fresh := &proc{id: 2, pid: 102, state: stateStarting, started: time.Now()}
	m.procs = []*proc{old, slow, fresh}
	m.tick()
	m.tick()
	log := buf.String()
	if strings.Count(log, "has been starting") != 1 || !strings.Contains(log, "worker 1 (pid 101) has been starting for 1m1s") ||
		!strings.Contains(log, "pid 100, which it replaces, serves on meanwhile") {
		t.Errorf("log:\n%s", log)
	}
}

func TestStandinHeadRead(t *testing.T) {
	for _, tt := range []struct {
		b     string
		uwsgi bool
		want  bool
	}{
		{"GET / HTTP/1.1\r\nHost: x\r\n", false, false},
		{"GET / HTTP/1.1\r\nHost: x\r\n\r\n", false, true},
		{"\x00\x05\x00", true, false},
		{"\x00\x05\x00\x00abcd", true, false},
		{"\x00\x05\x00\x00abcde", true, true},
	} {
		if got := headRead([]byte(tt.b), tt.uwsgi); got != tt.want {
			t.Errorf("headRead(%q, %v) = %v", tt.b, tt.uwsgi, got)
		}
	}
}

// A stand-in on a socket SIGTTOU has retired (closed, out of its group)
// is dropped, with its outage: standIn walks only the sockets in use.
func TestStandInDropsRetiredSocket(t *testing.T) {
	var buf strings.Builder
	m := &master{o: Options{Log: slog.New(slog.NewTextHandler(&buf, nil))},
		standins: map[net.Listener]*standin{}, outages: map[net.Listener]*outage{}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l.Close() // retired
	o := &outage{name: "127.0.0.1:1 (worker 2's socket)"}
	s := &standin{l: l, stop: make(chan struct{}), answered: &o.answered}
	m.standins[l], m.outages[l] = s, o
	m.standIn()
	if len(m.standins) != 0 || len(m.outages) != 0 {
		t.Errorf("left: %d stand-ins, %d outages", len(m.standins), len(m.outages))
	}
	select {
	case <-s.stop:
	default:
		t.Error("the stand-in was not told to stop")
	}
	if !strings.Contains(buf.String(), "is retired (SIGTTOU)") {
		t.Errorf("log:\n%s", buf.String())
	}
}

// withPlaces has the stand-ins share n places (see standinConns) for the
// test.
func withPlaces(t *testing.T, n int) {
	bound := make(chan struct{}, n)
	was := standinConns
	standinConns = func() chan struct{} { return bound }
	t.Cleanup(func() { standinConns = was })
}

// startStandIn runs a stand-in on a new listener; end (once) stops it, as
// the test's end does.
func startStandIn(t *testing.T) (s *standin, addr string, end func()) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s = &standin{l: l, stop: make(chan struct{}), answered: new(atomic.Int64)}
	go s.serve()
	end = sync.OnceFunc(s.end)
	t.Cleanup(end)
	return s, l.Addr().String(), end
}

// dialStandIn connects to addr, closed with the test.
func dialStandIn(t *testing.T, addr string) net.Conn {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(5 * time.Second))
	return c
}

// ask sends c a request and reports whether it got a 503.
func ask(c net.Conn) ([]byte, bool) {
	c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	b, _ := io.ReadAll(c)
	return b, bytes.HasPrefix(b, []byte("HTTP/1.1 503 "))
}

// The stand-ins answer at most standinConns connections at once; the rest
// wait in the socket's queue until one is answered. Clients that connected
// and sent nothing once took every descriptor the master had.
func TestStandInBoundsConnections(t *testing.T) {
	withPlaces(t, 2)
	s, addr, _ := startStandIn(t)
	silent := []net.Conn{dialStandIn(t, addr), dialStandIn(t, addr)}
	third := dialStandIn(t, addr)
	time.Sleep(300 * time.Millisecond)
	if n := s.answered.Load(); n != 2 {
		t.Fatalf("%d connections taken with room for 2", n)
	}
	if b, ok := ask(silent[0]); !ok {
		t.Fatalf("first client got %q", b)
	}
	if b, ok := ask(third); !ok {
		t.Errorf("the waiting client got %q once a place was free", b)
	}
}

// Stand-ins do not hold places while they wait for a connection: with more
// stand-ins than places, a client of each still gets its 503.
func TestStandInsMoreThanPlaces(t *testing.T) {
	withPlaces(t, 2)
	var addrs []string
	for range 3 {
		_, addr, _ := startStandIn(t)
		addrs = append(addrs, addr)
		time.Sleep(50 * time.Millisecond) // each waits in Accept before the next starts
	}
	for i := len(addrs) - 1; i >= 0; i-- { // the last started first
		c := dialStandIn(t, addrs[i])
		c.SetDeadline(time.Now().Add(2 * time.Second))
		if b, ok := ask(c); !ok {
			t.Errorf("socket %d: got %q, want a 503", i, b)
		}
	}
}

// A stand-in stopped (its worker back) while a connection it accepted
// waits for a place answers that one at once, not once a place is free.
func TestStandInStopAnswersWaiting(t *testing.T) {
	withPlaces(t, 1)
	_, addr, end := startStandIn(t)
	dialStandIn(t, addr) // silent: holds the place up to 2 s
	time.Sleep(100 * time.Millisecond)
	waiting := dialStandIn(t, addr) // accepted, no place for it
	time.Sleep(100 * time.Millisecond)
	stopped := time.Now()
	end()
	if b, ok := ask(waiting); !ok || time.Since(stopped) > 500*time.Millisecond {
		t.Errorf("got %q %v after the stop, want a 503 at once", b, time.Since(stopped).Round(time.Millisecond))
	}
}
