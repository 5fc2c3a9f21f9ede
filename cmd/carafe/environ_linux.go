package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"unsafe"
)

// wipeStartEnv blanks the value of the variable name in the environment
// the process was started with, as /proc/PID/environ shows it. Unsetenv
// removes it from what the process (and the app) sees, but the kernel
// shows the start's strings: a worker's CARAFE_CONFIG_FILES, the full
// text of every config file the master read (a root-only ini, the
// sections not selected, @(FILE)s), was readable there by the app's user.
// The bytes, in the process's first stack, are overwritten in place with
// spaces (NULs would read as many empty entries) once read: the parsed
// configuration holds copies, and Go's runtime and C's environ no longer
// name the string. Written directly, not through /proc/self/mem, which a
// process the kernel made non-dumpable (a binary its user may not read)
// may not open.
func wipeStartEnv(name string) error {
	stat, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return err
	}
	// Fields 50 and 51 (env_start, env_end), counted from the state, the
	// third, after the command name in parentheses.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return fmt.Errorf("/proc/self/stat: no command name")
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 49 {
		return fmt.Errorf("/proc/self/stat: %d fields, want 51", len(f)+2)
	}
	start, err1 := strconv.ParseUint(f[47], 10, 64)
	end, err2 := strconv.ParseUint(f[48], 10, 64)
	if err1 != nil || err2 != nil || start == 0 || end <= start || end-start > 1<<30 {
		return fmt.Errorf("/proc/self/stat: env_start %s, env_end %s", f[47], f[48])
	}
	env := unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(nil), uintptr(start))), end-start)
	prefix := []byte(name + "=")
	for off := 0; off < len(env); {
		n := bytes.IndexByte(env[off:], 0)
		if n < 0 {
			n = len(env) - off
		}
		if entry := env[off : off+n]; bytes.HasPrefix(entry, prefix) {
			for j := len(prefix); j < len(entry); j++ {
				entry[j] = ' '
			}
		}
		off += n + 1
	}
	return nil
}
