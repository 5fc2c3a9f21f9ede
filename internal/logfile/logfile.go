// Package logfile points the process's stdout and stderr at a log file
// (--logto), for Go and Python output alike, reopens it after a rotation
// (SIGUSR1), and rotates it itself once it reaches a size (--log-maxsize).
package logfile

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"
)

// Redirect opens path for appending and makes it fd 1 and fd 2; "" does
// nothing. Calling it again reopens the file by name.
func Redirect(path string) error {
	if path == "" {
		return nil
	}
	f, err := openLog(path)
	if err != nil {
		return err
	}
	defer f.Close()
	for _, fd := range []int{1, 2} {
		if err := syscall.Dup2(int(f.Fd()), fd); err != nil {
			return err
		}
	}
	return nil
}

// openLog opens path for appending, creating it, and refuses a symbolic
// link: carafe may run as root when it opens its logs.
func openLog(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND|syscall.O_NOFOLLOW, 0o644)
	if errors.Is(err, syscall.ELOOP) {
		return nil, fmt.Errorf("%s is a symbolic link; name the file itself", path)
	}
	return f, err
}

// Claim makes path exist as Redirect would create it and, through the
// open file, gives it to uid:gid (-1 leaves one as it is) and mode (0
// leaves it). It refuses a symbolic link and a file with several names:
// whoever may write the log's directory could plant a link to another
// file (/etc/shadow), which root would then hand over.
func Claim(path string, uid, gid int, mode os.FileMode) error {
	f, err := openLog(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && sys.Nlink > 1 {
		return fmt.Errorf("%s has %d hard links; carafe hands over only a file of one name", path, sys.Nlink)
	}
	if uid >= 0 || gid >= 0 {
		if err := f.Chown(uid, gid); err != nil {
			return err
		}
	}
	if mode != 0 {
		return f.Chmod(mode)
	}
	return nil
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
	fi, err := os.Stat(r.Path)
	if err != nil || fi.Size() < r.Max {
		return "", nil // a missing file is recreated by the next reopen, not here
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
	if err := os.Rename(r.Path, to); err != nil {
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
