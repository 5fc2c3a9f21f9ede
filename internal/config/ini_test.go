package config

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// uWSGI's magic variables beyond the file's own names: %h the host, %k
// the CPUs, %u/%g the ids, %e the extension, %0.. the directories on the
// way (empty past the file's depth, as in uWSGI), %v the working
// directory; those carafe does not give (the start
// time, the version) stay as written with a warning, and letters uWSGI
// does not define either stay without one.
func TestIniMagicVariables(t *testing.T) {
	dir := t.TempDir()
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	text := "[uwsgi]\nmodule = app\nhttp = :8000\n" +
		"env = HOST=%h\nenv = CPUS=%k\nenv = IDS=%u:%g\nenv = EXT=%e/%E\nenv = TOP=%0\nenv = WD=%v\n" +
		"env = DEEP=[%9]\n" +
		"env = START=%t\nenv = DATE=%Y\n"
	c, warnings, err := parseLogicIni(t, dir, text, []string{})
	if err != nil {
		t.Fatal(err)
	}
	top := strings.Split(strings.TrimPrefix(dir, "/"), "/")[0]
	want := []string{"HOST=" + host, "CPUS=" + strconv.Itoa(runtime.NumCPU()),
		"IDS=" + strconv.Itoa(os.Getuid()) + ":" + strconv.Itoa(os.Getgid()), "EXT=ini/ini", "TOP=" + top,
		"WD=" + wd, "DEEP=[]", "START=%t", "DATE=%Y"}
	if !slices.Equal(c.Env, want) {
		t.Errorf("env %q,\nwant %q", c.Env, want)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "magic variable %t is not supported") {
		t.Errorf("warnings %q, want one about %%t", warnings)
	}
}

// @(FILE) is the file's content without its trailing line end (%d makes
// it the ini's directory's); a file that cannot be read
// stops the config (a secret gone missing must not become a known value).
func TestIniAtFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "secret"), []byte("s3cr%(et)$(X)\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, warnings, err := parseLogicIni(t, dir, "[uwsgi]\nmodule = app\nhttp = :8000\n"+
		"env = SECRET=@(%dsecret)\nenv = ABS=@("+filepath.Join(dir, "secret")+")\n", []string{})
	if err != nil {
		t.Fatal(err)
	}
	// The content is taken as it is: what it holds is not expanded again.
	if want := []string{"SECRET=s3cr%(et)$(X)", "ABS=s3cr%(et)$(X)"}; !slices.Equal(c.Env, want) || len(warnings) != 0 {
		t.Errorf("env %q, want %q; warnings %q", c.Env, want, warnings)
	}
	for text, want := range map[string]string{
		"env = SECRET=@(missing)\n":             "no such file",
		"env = SECRET=@(exec://cat /etc/x)\n":   "only a file path",
		"if-env = X\nenv = S=@(missing)\nend\n": "", // not read: the block is skipped
	} {
		_, _, err := parseLogicIni(t, dir, "[uwsgi]\nmodule = app\nhttp = :8000\n"+text, []string{})
		if (err == nil) != (want == "") || (err != nil && !strings.Contains(err.Error(), want)) {
			t.Errorf("%q: error %v, want %q", text, err, want)
		}
	}
}

// A magic variable that reads like a percent-encoded byte (a password in
// a URL: p%2Fss, %2 the third directory on the ini's way) is expanded, as
// uWSGI expands it, but said: %%2F keeps it.
func TestIniMagicLooksEncoded(t *testing.T) {
	dir := t.TempDir()
	c, warnings, err := parseLogicIni(t, dir, "[uwsgi]\nmodule = app\nhttp = :8000\n"+
		"env = DB=postgres://u:p%2Fss@db/x\nenv = OK=p%%2Fss\n", []string{})
	if err != nil {
		t.Fatal(err)
	}
	third := strings.Split(strings.TrimPrefix(dir, "/"), "/")[2]
	if want := []string{"DB=postgres://u:p" + third + "Fss@db/x", "OK=p%2Fss"}; !slices.Equal(c.Env, want) {
		t.Errorf("env %q, want %q", c.Env, want)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "%2F looks like a percent-encoded byte") ||
		!strings.Contains(warnings[0], "write %%2F") {
		t.Errorf("warnings %q, want one about %%2F", warnings)
	}
}

// A FIFO named by for-readline or @(FILE) is refused, not waited on, and
// a for-times count past the limit is refused before it is counted out.
func TestIniLogicRefusesEndless(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for text, want := range map[string]string{
		"for-readline = " + fifo + "\nend\n": "not a regular file",
		"env = S=@(" + fifo + ")\n":          "not a regular file",
		"for-times = 2000000000\nend\n":      "at most 10000",
	} {
		done := make(chan error, 1)
		go func() {
			_, _, err := parseLogicIni(t, t.TempDir(), "[uwsgi]\nmodule = app\nhttp = :8000\n"+text, []string{})
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%q: error %v, want %q", text, err, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%q: still reading after 5 s", text)
		}
	}
}
