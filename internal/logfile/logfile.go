// Package logfile points the process's stdout and stderr at a log file
// (--logto), for Go and Python output alike, and reopens it after a
// rotation (SIGUSR1).
package logfile

import (
	"os"
	"syscall"
)

// Redirect opens path for appending and makes it fd 1 and fd 2; "" does
// nothing. Calling it again reopens the file by name.
func Redirect(path string) error {
	if path == "" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
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
