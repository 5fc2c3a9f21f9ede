package master

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
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

// strayMax is the most a regular file at a FIFO's path may hold for the
// master to replace it: what `echo r > FILE` leaves when no carafe read
// FILE (during a restart, or before a switch to it was read). A bigger
// one is taken for a file the path names by mistake.
const strayMax = 64

// openFifo makes the file of slot and reads it from now on, in place of
// the one read before; its commands reach the event loop as evFifo. An
// error names the file and says what failed.
func (m *master) openFifo(slot int) error {
	fo := &m.fifo
	path := fo.paths[slot]
	// A FIFO left by an earlier run, or another carafe's, is replaced, as
	// uWSGI replaces it; so is what an echo left while nothing read it.
	if fi, err := os.Lstat(path); err == nil {
		switch {
		case fi.Mode().Type() == fs.ModeNamedPipe:
		case fi.Mode().IsRegular() && fi.Size() <= strayMax:
			m.o.Log.Warn(fmt.Sprintf("carafe: master: replacing the regular file %s (%d bytes) with the master "+
				"FIFO: a command written while no carafe read it is lost", path, fi.Size()))
		default:
			return fmt.Errorf("--master-fifo %s: the file exists and is not a FIFO (nor what an echo leaves); "+
				"give another path", path)
		}
		if err := os.Remove(path); err != nil {
			return fmt.Errorf("--master-fifo %s: cannot replace it: %w", path, unwrapPath(err))
		}
	}
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		return fmt.Errorf("--master-fifo %s: cannot make it: %w", path, err)
	}
	// Read and write: the pipe then never reads end-of-file when a writer
	// (each echo) closes it, and the read waits for the next one. Not
	// through a link, and a FIFO still: the directory may be another
	// user's to swap names in.
	f, err := os.OpenFile(path, os.O_RDWR|syscall.O_NONBLOCK|syscall.O_NOFOLLOW, 0)
	if err == nil {
		if fi, serr := f.Stat(); serr != nil || !madeHere(fi) {
			f.Close()
			err = errors.New("the file made was replaced by another")
		}
	}
	if err != nil {
		return fmt.Errorf("--master-fifo %s: cannot open it: %w", path, unwrapPath(err))
	}
	if fo.f != nil {
		fo.f.Close() // its reader returns
	}
	fo.f, fo.slot = f, slot
	fo.gen++
	gen, events := fo.gen, m.events
	go func() {
		buf := make([]byte, 4096)
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

// madeHere reports whether fi is a FIFO as openFifo makes it: this
// process's, for it alone (0600). A FIFO of another user's, open to all,
// renamed into place between the mkfifo and the open, passed for it, and
// whoever could write it could stop the master (q).
func madeHere(fi os.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && fi.Mode().Type() == fs.ModeNamedPipe && fi.Mode().Perm()&0o077 == 0 && int(st.Uid) == os.Geteuid()
}

// unwrapPath is err without a *fs.PathError's repeat of the path.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
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
// command, as uWSGI's, every one of a write in turn (a switch to another
// file included: the rest of the write was read already). Every reload
// carafe does is graceful, so uWSGI's brutal ones and its worker-only and
// chain reloads are the one reload. What is not a command is said once a
// write, whatever its size.
func (m *master) fifoCommands(in fifoInput) (code int, done bool) {
	if in.gen != m.fifo.gen {
		return 0, false // read from a file since closed
	}
	var unknown []byte
	for _, c := range in.b {
		why := "master FIFO " + fifoQuote(c)
		if m.stopping && c != 'Q' && c != 'q' && !isSpace(c) {
			m.o.Log.Warn("carafe: master: " + why + " ignored: carafe is stopping")
			continue
		}
		switch {
		case isSpace(c): // what echo and printf add
		case '0' <= c && c <= '9':
			slot := int(c - '0')
			switch {
			case slot >= len(m.fifo.paths):
				m.o.Log.Warn(fmt.Sprintf("carafe: master: %s: no such slot; --master-fifo was given %d file(s)", why, len(m.fifo.paths)))
			case slot == m.fifo.slot:
			default:
				if err := m.openFifo(slot); err != nil {
					m.o.Log.Error("carafe: master: " + why + ": cannot switch, commands still come from " +
						m.fifo.paths[m.fifo.slot] + ": " + err.Error())
					break
				}
				m.o.Log.Info("carafe: master: " + why + ": commands come from " + m.fifo.paths[slot] + " now")
			}
		case c == 'r' || c == 'R' || c == 'w' || c == 'W' || c == 'c':
			m.reload(why)
		case c == 'q':
			if m.stopping {
				break // stopping already
			}
			m.act(syscall.SIGTERM, why)
		case c == 'Q':
			return m.act(syscall.SIGINT, why)
		case c == 'l':
			m.act(syscall.SIGUSR1, why)
			m.o.Log.Info("carafe: master: " + why + ": log reopened")
		case c == 'L':
			m.rotateNow(why)
		case c == '+':
			m.act(syscall.SIGTTIN, why)
		case c == '-':
			m.act(syscall.SIGTTOU, why)
		case c == 'P':
			if err := errors.Join(m.writePidfiles(false), m.writePidfiles(true)); err != nil {
				m.o.Log.Warn("carafe: master: "+why+": cannot write a pidfile", "err", err)
			} else if len(m.o.Pidfiles) == 0 {
				m.o.Log.Warn("carafe: master: " + why + ": no pidfile is given")
			} else {
				m.o.Log.Info("carafe: master: " + why + ": pidfiles written")
			}
		default:
			unknown = append(unknown, c)
		}
	}
	if len(unknown) > 0 {
		first := unknown[:min(len(unknown), 8)]
		var names []string
		for _, c := range first {
			names = append(names, fifoQuote(c))
		}
		m.o.Log.Warn(fmt.Sprintf("carafe: master: master FIFO: %d character(s) that are not commands carafe has "+
			"(%s): it takes r, w, c, R, W: reload; q, Q: stop; l, L: reopen, rotate the log; +, -: a worker more, "+
			"fewer; P: pidfiles; 0-9: slot", len(unknown), strings.Join(names, " ")))
	}
	return 0, false
}

// rotateNow renames the --logto file now, whatever its size (the FIFO's L).
func (m *master) rotateNow(why string) {
	if m.o.LogFile.Path == "" {
		m.o.Log.Warn("carafe: master: " + why + ": no --logto file to rotate")
		return
	}
	r := m.o.LogFile
	r.Max = 1 // any size but empty
	to, err := r.Rename(time.Now())
	switch {
	case err != nil:
		m.o.Log.Error("carafe: master: "+why+": cannot rotate the log", "err", err)
	case to == "":
		m.o.Log.Info("carafe: master: " + why + ": the log is empty; not rotated")
	default:
		m.reopenLog()
		m.o.Log.Info("carafe: master: log rotated ("+why+")", "old", to)
	}
}

func isSpace(c byte) bool { return c == '\n' || c == '\r' || c == ' ' || c == '\t' }

// fifoQuote names a command character for the log: 'r', or '\xc3' for a
// byte that is not ASCII (a UTF-8 character arrives a byte at a time).
func fifoQuote(c byte) string {
	if c < 0x80 {
		return strconv.QuoteRune(rune(c))
	}
	return fmt.Sprintf("'\\x%02x'", c)
}
