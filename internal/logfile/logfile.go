// Package logfile points the process's stdout and stderr at a log file
// (--logto), for Go and Python output alike, reopens it after a rotation
// (SIGUSR1), and rotates it itself once it reaches a size (--log-maxsize).
package logfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// Redirect opens path for appending and makes it fd 1 and fd 2; "" does
// nothing. Calling it again reopens the file by name. /dev/stdout and
// /dev/stderr name the descriptor the process already has (a container's
// pipe, which a worker running as another user could not open by name).
func Redirect(path string) error {
	var fd int
	switch path {
	case "":
		return nil
	case "/dev/stdout":
		fd = 1
	case "/dev/stderr":
		fd = 2
	default:
		f, err := openLog(path)
		if err != nil {
			return err
		}
		defer f.Close()
		fd = int(f.Fd())
	}
	for _, to := range []int{1, 2} {
		if to == fd {
			continue
		}
		if private >= 0 && !sameFile(to, private) {
			// The app closed it, and the number is another file's now
			// (a client's socket): not the log's to take back.
			continue
		}
		if err := syscall.Dup2(fd, to); err != nil {
			return err
		}
	}
	if private >= 0 && private != fd {
		syscall.ForkLock.RLock() // (dup2 clears close-on-exec)
		defer syscall.ForkLock.RUnlock()
		if err := syscall.Dup2(fd, private); err != nil {
			return err
		}
		syscall.CloseOnExec(private)
	}
	return nil
}

// sameFile reports whether descriptors a and b are open on the same file.
func sameFile(a, b int) bool {
	var sa, sb syscall.Stat_t
	return syscall.Fstat(a, &sa) == nil && syscall.Fstat(b, &sb) == nil && sa.Dev == sb.Dev && sa.Ino == sb.Ino
}

// private is the process's own copy of fd 2 (see Private); -1: none.
var private = -1

// Private returns a copy of fd 2, for carafe's own log lines, which
// Redirect points at the log too. An app that closes fd 1 and 2 (a
// daemonising library's habit) leaves those numbers to the next sockets
// the worker accepts: the lines written to fd 2, other clients' request
// lines among them, went to whichever client got it.
func Private() (*os.File, error) {
	fd, err := dupCloexec(2)
	if err != nil {
		return nil, err
	}
	private = fd
	return os.NewFile(uintptr(fd), "/dev/stderr"), nil
}

// mode is what --logfile-chmod asks the log files to have; 0 leaves them
// as created: 0640 less the umask, as uWSGI makes them (a request log
// holds query strings, not for every user of the machine). Set by SetMode
// before any log opens.
var mode os.FileMode

// SetMode makes every log file opened from now on (by Redirect, Open, a
// reopen after a rotation) have mode m (--logfile-chmod).
func SetMode(m os.FileMode) { mode = m }

// guarded is set in a root process whose workers run as another user
// (--uid): the log's directory may be writable by that user, who could
// replace the log with a link to another file (/etc/shadow) for root to
// append to, and to chmod, at the next reopen.
var guarded bool

// Guard makes every log file opened from now on be refused where its name
// is a symbolic link, or a hard link of a regular file, in a directory that
// a user other than root may write (see guarded).
func Guard() { guarded = true }

// errLinked refuses a guarded log path that is a link.
var errLinked = errors.New("is a link in a directory others may write: refused, as carafe runs as root " +
	"with workers as another user (--uid), who could have planted it; give the file's real path")

// openIn opens path as os.OpenFile does or, guarded, by name within its
// directory opened as a Dir, which then adds O_NOFOLLOW unless only root
// may change that directory and every one on the way to it (safe: a link
// there is root's own, as in /dev (/dev/stdout) and /proc (/proc/1/fd/1,
// /dev/fd/1's target)).
func openIn(path string, flag int, perm os.FileMode) (f *os.File, safe bool, err error) {
	if !guarded {
		f, err := os.OpenFile(path, flag, perm)
		return f, true, err
	}
	d, err := OpenDirOf(path)
	if err != nil {
		return nil, false, err
	}
	defer d.Close()
	f, err = d.Open(filepath.Base(path), flag, perm)
	return f, d.rootOnly, err
}

// OpenAppend opens path for appending, creating it, as every log file is
// opened (--daemonize's, which becomes the process's output).
func OpenAppend(path string) (*os.File, error) { return openLog(path) }

// stdout is the descriptor that /dev/stdout names to the log files: fd 1,
// or its copy once fd 1 has become stderr (KeepStdout).
var stdout = 1

// KeepStdout keeps a copy of fd 1, for a log file named /dev/stdout, before
// fd 1 is made stderr: opened by name then, it opened stderr's file a
// second time (--req-logger file:/dev/stdout, a container's request log
// on stdout, went to stderr, or overwrote it in a file of the shell's).
func KeepStdout() error {
	fd, err := dupCloexec(1)
	if err != nil {
		return err
	}
	stdout = fd
	return nil
}

// dupCloexec is a copy of fd that a program the process starts does not
// inherit.
func dupCloexec(fd int) (int, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	nfd, err := syscall.Dup(fd)
	if err == nil {
		syscall.CloseOnExec(nfd)
	}
	return nfd, err
}

// openLog opens path for appending, creating it, and gives a regular
// file the --logfile-chmod mode. /dev/stdout and /dev/stderr are copies
// of the descriptors the process has, as Redirect takes them: opened by
// name, a journald socket refused them (ENXIO).
func openLog(path string) (*os.File, error) {
	std := -1
	switch path {
	case "/dev/stdout":
		std = stdout
	case "/dev/stderr":
		std = 2
	}
	if std >= 0 {
		fd, err := dupCloexec(std)
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: path, Err: err}
		}
		return os.NewFile(uintptr(fd), path), nil
	}
	f, safe, err := openIn(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if !safe && errors.Is(err, syscall.ELOOP) {
		return nil, fmt.Errorf("%s %w", path, errLinked)
	}
	if err != nil {
		return f, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); !safe && st.Mode().IsRegular() && ok && sys.Nlink > 1 {
		f.Close()
		return nil, fmt.Errorf("%s %w", path, errLinked)
	}
	if mode == 0 {
		return f, nil
	}
	if st.Mode().IsRegular() && st.Mode().Perm() != mode {
		if err := f.Chmod(mode); err != nil {
			f.Close()
			return nil, err
		}
	}
	return f, nil
}

// Claim gives the log file at path, created if need be, to uid:gid (-1
// leaves one as it is), so that processes running as that user can open
// it by name. Only a regular file of one name, reached without following a
// symbolic link, is handed over: carafe runs this as root, and whoever may
// write the log's directory could otherwise plant a link to another file
// (/etc/shadow). Anything else is left as it is, and reports false.
func Claim(path string, uid, gid int) (bool, error) {
	f, _, err := openIn(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0o640)
	if errors.Is(err, syscall.ELOOP) || errors.Is(err, syscall.ENXIO) { // a link; a FIFO with no reader
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return false, err
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); !st.Mode().IsRegular() || !ok || sys.Nlink != 1 {
		return false, nil
	}
	if mode != 0 {
		if err := f.Chmod(mode); err != nil {
			return false, err
		}
	}
	return true, f.Chown(uid, gid)
}

// CheckEvery is how often the process that owns the rotation (the master,
// or a worker running without one) looks at the log's size: the file may
// grow past Max by what is logged in that time.
const CheckEvery = time.Second

// Rotation is --log-maxsize: once the log file has grown to Max bytes it is
// renamed, and every process writing it reopens Path, a new file.
type Rotation struct {
	Path   string // the --logto file
	Backup string // --log-backupname: the name it is renamed to, replacing the last; "" = Path.<unix seconds>
	Max    int64  // bytes; 0 = never
}

// Rename renames the log file when it has reached Max bytes and returns
// its new name; "" when it has not (or there is no file, or no Max). The
// caller then makes every process writing the log Redirect to Path.
func (r Rotation) Rename(now time.Time) (string, error) {
	if r.Max <= 0 || r.Path == "" {
		return "", nil
	}
	from, err := OpenDirOf(r.Path)
	if err != nil {
		return "", err
	}
	defer from.Close()
	fi, err := from.Lstat(filepath.Base(r.Path))
	if err != nil {
		return "", nil // a missing file is recreated by the next reopen, not here
	}
	if !fi.Mode().IsRegular() {
		// /dev/stdout (a link to the process's fd 1), a pipe, a link: it
		// is not carafe's to rename.
		return "", fmt.Errorf("--log-maxsize: %s is not a regular file, so it is not rotated", r.Path)
	}
	if fi.Size() < r.Max {
		return "", nil
	}
	to := r.Backup
	if to == "" {
		// Two rotations within a second (a late tick) must not replace
		// the first one's file.
		to = fmt.Sprintf("%s.%d", r.Path, now.Unix())
		for n := 1; exists(to); n++ {
			to = fmt.Sprintf("%s.%d.%d", r.Path, now.Unix(), n)
		}
	}
	into, err := OpenDirOf(to)
	if err != nil {
		return "", err
	}
	defer into.Close()
	if err := from.Rename(filepath.Base(r.Path), into, filepath.Base(to)); err != nil {
		return "", err
	}
	return to, nil
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// File is a log file of its own (the request log of --req-logger), opened
// for appending and reopened by name after a rotation while others write.
type File struct {
	path string
	mu   sync.Mutex
	f    *os.File
}

// Open opens path for appending, creating it.
func Open(path string) (*File, error) {
	f := &File{path: path}
	if err := f.Reopen(); err != nil {
		return nil, err
	}
	return f, nil
}

// Reopen opens the file by name again: writes after it go to the file now
// at the path.
func (f *File) Reopen() error {
	nf, err := openLog(f.path)
	if err != nil {
		return err
	}
	f.mu.Lock()
	old := f.f
	f.f = nf
	f.mu.Unlock()
	if old != nil {
		old.Close()
	}
	return nil
}

func (f *File) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.f.Write(p)
}

// Close closes the file.
func (f *File) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.f.Close()
}

// Cause is what a failed rotation's error says without its file names,
// which change at every try (the backup's name holds the time): a cause
// that lasts (a directory the process may not write) is said once, where
// its message, new each second, was logged every second.
func Cause(err error) string {
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Op + ": " + le.Err.Error()
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Op + ": " + pe.Err.Error()
	}
	return err.Error()
}
