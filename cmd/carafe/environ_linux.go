package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// wipeStartEnv blanks the value of the variable name in the environment
// the process was started with, as /proc/PID/environ shows it. Unsetenv
// removes it from what the process (and the app) sees, but the kernel
// shows the start's strings: a worker's CARAFE_CONFIG_FILES, the full
// text of every config file the master read (a root-only ini, the
// sections not selected, @(FILE)s), was readable there by the app's user.
// The bytes are overwritten in place, through /proc/self/mem, once read
// (the parsed configuration holds copies).
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
	start, err := strconv.ParseInt(f[47], 10, 64)
	if err != nil {
		return err
	}
	env, err := os.ReadFile("/proc/self/environ")
	if err != nil {
		return err
	}
	prefix := []byte(name + "=")
	mem, err := os.OpenFile("/proc/self/mem", os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer mem.Close()
	for off := 0; off < len(env); {
		end := bytes.IndexByte(env[off:], 0)
		if end < 0 {
			end = len(env) - off
		}
		if entry := env[off : off+end]; bytes.HasPrefix(entry, prefix) && len(entry) > len(prefix) {
			blank := make([]byte, len(entry)-len(prefix))
			if _, err := mem.WriteAt(blank, start+int64(off+len(prefix))); err != nil {
				return err
			}
		}
		off += end + 1
	}
	return nil
}
