//go:build !linux

package listen

import "os"

// Activated takes no socket from systemd off Linux; it unsets the
// variables, as on Linux, so that no subprocess takes them for its own.
func Activated() ([]Passed, string, error) {
	os.Unsetenv("LISTEN_PID")
	os.Unsetenv("LISTEN_FDS")
	os.Unsetenv("LISTEN_FDNAMES")
	return nil, "", nil
}
