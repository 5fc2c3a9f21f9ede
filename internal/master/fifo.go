package master

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"syscall"
	"time"
)

// fifo is uWSGI's master FIFO (--master-fifo): a named pipe the master
// reads commands from, one character each (`echo r > FILE`). Of the files
// given, one is read at a time, the first at start; a digit switches to
// that slot's file, as uWSGI's do (a new instance beside an old one can
// then take over the first file while the old one listens on another).
type fifo struct {
	paths []string
	slot  int
	f     *os.File
	gen   int // counts the files opened, so that a closed one's last bytes are dropped
}

// fifoInput is what the reading goroutine of the file of generation gen read.
type fifoInput struct {
	gen int
	b   []byte
}

// openFifo makes the file of slot and reads it from now on, in place of
// the one read before; its commands reach the event loop as evFifo.
func (m *master) openFifo(slot int) error {
	fo := &m.fifo
	path := fo.paths[slot]
	// A FIFO left by an earlier run (or one the instance beside this one
	// made) is replaced, as uWSGI replaces it; anything else is not ours
	// to remove.
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode().Type() != fs.ModeNamedPipe {
			return fmt.Errorf("carafe: --master-fifo %s: the file exists and is not a FIFO; give another path", path)
		}
		if err := os.Remove(path); err != nil {
			return fmt.Errorf("carafe: --master-fifo %s: %w", path, err)
		}
	}
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		return fmt.Errorf("carafe: --master-fifo %s: %w", path, &fs.PathError{Op: "mkfifo", Path: path, Err: err})
	}
	// Read and write: the pipe then never reads end-of-file when a writer
	// (each echo) closes it, and the read waits for the next one.
	f, err := os.OpenFile(path, os.O_RDWR|syscall.O_NONBLOCK, 0)
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("carafe: --master-fifo %s: %w", path, err)
	}
	if fo.f != nil {
		fo.f.Close() // its reader returns
	}
	fo.f, fo.slot = f, slot
	fo.gen++
	gen, events := fo.gen, m.events
	go func() {
		buf := make([]byte, 512)
		for {
			n, err := f.Read(buf)
			if n > 0 {
				events <- event{kind: evFifo, fifo: fifoInput{gen: gen, b: append([]byte(nil), buf[:n]...)}}
			}
			if err != nil {
				return // closed: another slot, or the master stops
			}
		}
	}()
	return nil
}

// closeFifo closes the file being read; with --vacuum it goes too, if
// it is still the one made here. Those switched away from are left: the
// switch hands them over to another instance, which makes them anew.
func (m *master) closeFifo() {
	f := m.fifo.f
	if f == nil {
		return
	}
	if m.o.Vacuum {
		path := m.fifo.paths[m.fifo.slot]
		mine, err1 := f.Stat()
		there, err2 := os.Lstat(path)
		if err1 == nil && err2 == nil && os.SameFile(mine, there) { // (open: its inode cannot be another's)
			os.Remove(path)
		}
	}
	f.Close()
	m.fifo.f = nil
}

// fifoCommands acts on what the master FIFO read: each character a
// command, as uWSGI's. Every reload carafe does is graceful, so uWSGI's
// brutal ones and its worker-only and chain reloads are the one reload.
func (m *master) fifoCommands(in fifoInput) (code int, done bool) {
	for _, c := range in.b {
		if in.gen != m.fifo.gen {
			return 0, false // read from a file since closed
		}
		why := "master FIFO " + strconv.QuoteRune(rune(c))
		switch {
		case c == '\n' || c == '\r' || c == ' ' || c == '\t': // what echo and printf add
		case '0' <= c && c <= '9':
			slot := int(c - '0')
			switch {
			case slot >= len(m.fifo.paths):
				m.o.Log.Warn(fmt.Sprintf("carafe: master: %s: no such slot; --master-fifo was given %d file(s)", why, len(m.fifo.paths)))
			case slot == m.fifo.slot:
			default:
				if err := m.openFifo(slot); err != nil {
					m.o.Log.Error("carafe: master: "+why+": cannot switch", "err", err)
					break
				}
				m.o.Log.Info("carafe: master: " + why + ": commands come from " + m.fifo.paths[slot] + " now")
				return 0, false // the rest was written to the old file
			}
		case c == 'r' || c == 'R' || c == 'w' || c == 'W' || c == 'c':
			m.reload(why)
		case c == 'q':
			return m.act(syscall.SIGTERM, why)
		case c == 'Q':
			return m.act(syscall.SIGINT, why)
		case c == 'l':
			m.act(syscall.SIGUSR1, why)
		case c == 'L':
			if m.o.LogFile.Path == "" {
				m.o.Log.Warn("carafe: master: " + why + ": no --logto file to rotate")
				break
			}
			r := m.o.LogFile
			r.Max = 1 // now, whatever its size (an empty one stays)
			if to, err := r.Rename(time.Now()); err != nil {
				m.o.Log.Error("carafe: master: "+why+": cannot rotate the log", "err", err)
			} else if to != "" {
				m.reopenLog()
				m.o.Log.Info("carafe: master: log rotated ("+why+")", "old", to)
			}
		case c == '+':
			m.act(syscall.SIGTTIN, why)
		case c == '-':
			m.act(syscall.SIGTTOU, why)
		case c == 'P':
			err := errors.Join(m.writePidfiles(false), m.writePidfiles(true))
			if err != nil {
				m.o.Log.Warn("carafe: master: "+why+": cannot write a pidfile", "err", err)
			}
		default:
			m.o.Log.Warn("carafe: master: " + why + " is not a command carafe has (it takes r, w, c, R, W: reload; " +
				"q, Q: stop; l, L: reopen, rotate the log; +, -: a worker more, fewer; P: pidfiles; 0-9: slot)")
		}
	}
	return 0, false
}
