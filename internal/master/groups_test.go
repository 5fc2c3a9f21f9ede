package master

import (
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// groupMember finds a user with a supplementary group in /etc/group, and
// that group's id; it skips the test where there is none.
func groupMember(t *testing.T) (string, uint32) {
	t.Helper()
	b, err := os.ReadFile("/etc/group")
	if err != nil {
		t.Skip("no /etc/group")
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Split(line, ":")
		if len(f) == 4 && f[3] != "" {
			gid, err := strconv.ParseUint(f[2], 10, 32)
			if err == nil {
				return strings.Split(f[3], ",")[0], uint32(gid)
			}
		}
	}
	t.Skip("no user with a supplementary group in /etc/group")
	return "", 0
}

// --uid's user keeps its supplementary groups (initgroups(3), uWSGI's
// default): with --master-as-root they are the workers' credential's;
// --no-initgroups keeps none.
func TestMasterAsRootWorkerGroups(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	name, gid := groupMember(t)
	for _, no := range []bool{false, true} {
		m := &master{o: Options{UID: name, MasterAsRoot: true, NoInitgroups: no,
			Log: slog.New(slog.NewTextHandler(io.Discard, nil))}}
		if err := m.dropPrivileges(); err != nil {
			t.Fatal(err)
		}
		if has := slices.Contains(m.workerCred.Groups, gid); has == no {
			t.Errorf("--uid %s, --no-initgroups %v: the workers' groups %v, group %d in them: %v",
				name, no, m.workerCred.Groups, gid, has)
		}
	}
}

// A root master (--master-as-root) reopening the logs (SIGUSR1, a reload)
// recreates the request log a rotation moved away and gives it to the
// workers' user, who reopens it by name next; /dev/stdout is no file to
// hand over.
func TestMasterReopenHandsOverRequestLog(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	dir := t.TempDir()
	req := dir + "/requests.log"
	m := &master{o: Options{ReqLogFile: req, Log: slog.New(slog.NewTextHandler(io.Discard, nil))},
		workerCred: &syscall.Credential{Uid: 65534, Gid: 65534}}
	m.reopenOwnLog()
	st, err := os.Stat(req)
	if err != nil {
		t.Fatalf("the request log after the reopen: %v", err)
	}
	if sys := st.Sys().(*syscall.Stat_t); sys.Uid != 65534 || sys.Gid != 65534 {
		t.Errorf("the request log is owned by %d:%d, want 65534:65534", sys.Uid, sys.Gid)
	}
	m.o.ReqLogFile, m.o.LogFile.Path = "/dev/stdout", "/dev/stderr"
	if files := m.logFiles(); len(files) != 0 {
		t.Errorf("log files to hand over: %v, want none", files)
	}
}
