//go:build !linux

package listen

import "os"

// chmodSocket sets the socket file's mode (see chmod_linux.go for the
// link a Linux build refuses to follow).
func chmodSocket(path string, mode os.FileMode) error { return os.Chmod(path, mode) }
