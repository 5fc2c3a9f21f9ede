//go:build !linux

package master

import "os"

// listenQueue is not known here.
func listenQueue(*os.File) (queue, limit int, ok bool) { return 0, 0, false }
