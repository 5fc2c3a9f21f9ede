package logfile

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Dir is the directory of a file that root opens, writes or renames by
// name for processes that run as another user: the logs, the pidfiles.
// Its files are reached by name within it (openat, renameat), so a name
// resolves the same way for every operation.
//
// Guarded (see Guard), opening it resolves every symbolic link on the way
// itself, and refuses one found in a directory a user other than root may
// write: that user (the workers' --uid) could have planted it, replacing
// a directory of the path with a link to /etc, say, for root to append to,
// chmod and chown a file there. O_NOFOLLOW on the file's own name guards
// its last component only.
type Dir struct {
	f    *os.File
	path string // resolved, guarded; as given otherwise
	// rootOnly: only root may change the entries of this directory and of
	// every one on the way to it (links followed).
	rootOnly bool
}

// oPath is O_PATH, which package syscall does not name: a descriptor that
// only locates a file, opened without read permission on it.
const oPath = 0x200000

// OpenDir opens dir (see Dir).
func OpenDir(dir string) (*Dir, error) {
	path, rootOnly, flag := dir, true, oPath|syscall.O_DIRECTORY|syscall.O_CLOEXEC
	if guarded {
		var err error
		if path, rootOnly, err = resolveDir(dir); err != nil {
			return nil, err
		}
		flag |= syscall.O_NOFOLLOW
	}
	fd, err := syscall.Open(path, flag, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	f := os.NewFile(uintptr(fd), path)
	if !rootOnly {
		// A directory on the way that another user may change could have
		// become a link between resolveDir's look and the open.
		if got, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd)); err != nil || got != path {
			f.Close()
			return nil, fmt.Errorf("%s: %w", dir, errMoved)
		}
	}
	return &Dir{f: f, path: path, rootOnly: rootOnly}, nil
}

var errMoved = errors.New("a directory on the way was replaced while carafe opened it; refused, as carafe " +
	"runs as root with workers as another user (--uid)")

// OpenDirOf opens the directory of the file at path (see Dir); a failure
// to reach it names path, the file the user gave.
func OpenDirOf(path string) (*Dir, error) {
	d, err := OpenDir(filepath.Dir(path))
	if pe, ok := err.(*os.PathError); ok {
		pe.Path = path
	}
	return d, err
}

// Close closes the directory.
func (d *Dir) Close() error { return d.f.Close() }

// Open opens name, a plain file name, within d. Where a user other than
// root may change d or a directory on the way to it, name itself is not
// followed either (O_NOFOLLOW).
func (d *Dir) Open(name string, flag int, perm os.FileMode) (*os.File, error) {
	if !d.rootOnly {
		flag |= syscall.O_NOFOLLOW
	}
	fd, err := syscall.Openat(int(d.f.Fd()), name, flag|syscall.O_CLOEXEC, uint32(perm.Perm()))
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: filepath.Join(d.path, name), Err: err}
	}
	return os.NewFile(uintptr(fd), filepath.Join(d.path, name)), nil
}

// Rename renames the entry old of d to new in to (d itself, or another).
func (d *Dir) Rename(old string, to *Dir, new string) error {
	if err := syscall.Renameat(int(d.f.Fd()), old, int(to.f.Fd()), new); err != nil {
		return &os.LinkError{Op: "rename", Old: filepath.Join(d.path, old), New: filepath.Join(to.path, new), Err: err}
	}
	return nil
}

// Lstat describes the entry name of d, not following it if a link.
func (d *Dir) Lstat(name string) (os.FileInfo, error) {
	f, err := d.Open(name, oPath|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Stat()
}

// Remove removes the file name from d.
func (d *Dir) Remove(name string) error {
	if err := syscall.Unlinkat(int(d.f.Fd()), name); err != nil {
		return &os.PathError{Op: "remove", Path: filepath.Join(d.path, name), Err: err}
	}
	return nil
}

// WriteTemp writes b to a new file of d, named from prefix and random
// characters, with mode perm, and returns its name.
func (d *Dir) WriteTemp(prefix string, b []byte, perm os.FileMode) (string, error) {
	var r [6]byte
	rand.Read(r[:])
	name := prefix + hex.EncodeToString(r[:])
	f, err := d.Open(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, perm)
	if err != nil {
		return "", err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Chmod(perm) // past the umask
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		d.Remove(name)
		return "", err
	}
	return name, nil
}

// resolveDir returns dir, made absolute, with every symbolic link on the
// way resolved, and whether only root may change the entries of it and of
// every directory before it. A link in a directory that another user may
// change is refused (see Dir); one in a directory only root may change is
// root's own (/var/run, /dev/fd) and is followed.
func resolveDir(dir string) (string, bool, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", false, err
	}
	type step struct {
		path     string
		rootOnly bool // this directory and every one before it
	}
	root := step{"/", rootOwned("/")}
	walked := []step{root}
	todo := strings.Split(abs, "/")
	for links := 0; len(todo) > 0; {
		name := todo[0]
		todo = todo[1:]
		cur := walked[len(walked)-1]
		switch name {
		case "", ".":
			continue
		case "..":
			if len(walked) > 1 {
				walked = walked[:len(walked)-1]
			}
			continue
		}
		next := filepath.Join(cur.path, name)
		fi, err := os.Lstat(next)
		if err != nil {
			return "", false, err
		}
		if fi.Mode()&os.ModeSymlink != 0 {
			if !cur.rootOnly {
				return "", false, fmt.Errorf("%s %w", next, errLinked)
			}
			if links++; links > 40 {
				return "", false, &os.PathError{Op: "resolve", Path: dir, Err: syscall.ELOOP}
			}
			target, err := os.Readlink(next)
			if err != nil {
				return "", false, err
			}
			if filepath.IsAbs(target) {
				walked = []step{root}
			}
			todo = append(strings.Split(target, "/"), todo...)
			continue
		}
		if !fi.IsDir() {
			return "", false, &os.PathError{Op: "open", Path: next, Err: syscall.ENOTDIR}
		}
		walked = append(walked, step{next, cur.rootOnly && rootOwnedInfo(fi)})
	}
	last := walked[len(walked)-1]
	return last.path, last.rootOnly, nil
}

// rootOwned reports whether only root may change the entries of dir (not
// followed if a link).
func rootOwned(dir string) bool {
	fi, err := os.Lstat(dir)
	return err == nil && fi.IsDir() && rootOwnedInfo(fi)
}

func rootOwnedInfo(fi os.FileInfo) bool {
	sys, ok := fi.Sys().(*syscall.Stat_t)
	return ok && sys.Uid == 0 && fi.Mode().Perm()&0o022 == 0
}
