package listen

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
)

// oPath is Linux's O_PATH, which the syscall package does not name.
const oPath = 0x200000

// chmodSocket sets the mode of the socket file at path without following
// a symbolic link there: between bind(2) and the chmod, whoever may write
// the socket's directory (the --uid user, in the recipe's /run/carafe)
// could put a link to another file in its place, for root to chmod (a
// root-only file made 0666). The path is opened O_PATH|O_NOFOLLOW (a link
// fails with ELOOP), checked to be a socket, and changed through its
// /proc/self/fd entry, which names that very inode.
func chmodSocket(path string, mode os.FileMode) error {
	fd, err := syscall.Open(path, oPath|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return &os.PathError{Op: "stat", Path: path, Err: err}
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFSOCK {
		return fmt.Errorf("%s is no longer the socket bound there: something replaced it", path)
	}
	return os.Chmod("/proc/self/fd/"+strconv.Itoa(fd), mode)
}
