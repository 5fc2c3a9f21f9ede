package logfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestRedirectEmptyIsNoop(t *testing.T) {
	if err := Redirect(""); err != nil {
		t.Fatal(err)
	}
}

func TestRedirectBadPath(t *testing.T) {
	if err := Redirect(t.TempDir() + "/no/such/dir/log"); err == nil {
		t.Fatal("no error for a path in a missing directory")
	}
}

func TestRotationRename(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	write := func(n int) {
		if err := os.WriteFile(path, make([]byte, n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Unix(1764800000, 0)
	r := Rotation{Path: path, Max: 100}

	write(99)
	if to, err := r.Rename(now); to != "" || err != nil {
		t.Fatalf("99 bytes of 100: renamed to %q (%v), want no rename", to, err)
	}
	write(100)
	to, err := r.Rename(now)
	if want := path + ".1764800000"; to != want || err != nil {
		t.Fatalf("100 bytes of 100: renamed to %q (%v), want %q", to, err, want)
	}
	if fi, err := os.Stat(to); err != nil || fi.Size() != 100 {
		t.Fatalf("the renamed file: %v %v", fi, err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("%s still exists after the rename (%v)", path, err)
	}
	if to, err := r.Rename(now); to != "" || err != nil {
		t.Fatalf("no file: renamed to %q (%v), want no rename", to, err)
	}
	write(100) // again within the same second: a name of its own
	if to, err := r.Rename(now); to != path+".1764800000.1" || err != nil {
		t.Fatalf("second rotation in one second: renamed to %q (%v), want %q", to, err, path+".1764800000.1")
	}

	r.Backup = filepath.Join(dir, "app.log.old")
	for _, n := range []int{150, 120} { // the fixed name is replaced each time
		write(n)
		if to, err := r.Rename(now); to != r.Backup || err != nil {
			t.Fatalf("with a backup name: renamed to %q (%v), want %q", to, err, r.Backup)
		}
		if fi, err := os.Stat(r.Backup); err != nil || fi.Size() != int64(n) {
			t.Fatalf("the backup after a %d-byte log: %v %v", n, fi, err)
		}
	}

	write(1000)
	for _, off := range []Rotation{{Path: path}, {Max: 10}} {
		if to, err := off.Rename(now); to != "" || err != nil {
			t.Fatalf("%+v: renamed to %q (%v), want nothing", off, to, err)
		}
	}
}

func TestFileReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.log")
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.Write([]byte("one\n"))
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("two\n")) // still the renamed file, as logrotate expects until the signal
	if err := f.Reopen(); err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("three\n"))
	for name, want := range map[string]string{path + ".1": "one\ntwo\n", path: "three\n"} {
		if b, err := os.ReadFile(name); err != nil || string(b) != want {
			t.Errorf("%s: %q %v, want %q", name, b, err, want)
		}
	}
	if _, err := Open(filepath.Join(t.TempDir(), "no", "dir", "x.log")); err == nil {
		t.Error("Open in a missing directory: no error")
	}
}

// Claim hands over a regular file of one name, created if need be, and
// leaves alone a symbolic link or a hard link planted where the log goes:
// root would otherwise hand the linked file over.
func TestClaim(t *testing.T) {
	dir := t.TempDir()
	uid, gid := os.Getuid(), os.Getgid() // chown to oneself is allowed to anyone
	log := filepath.Join(dir, "app.log")
	if ok, err := Claim(log, uid, gid); !ok || err != nil {
		t.Fatalf("Claim of a new log: %v %v", ok, err)
	}
	if _, err := os.Stat(log); err != nil {
		t.Errorf("Claim did not create the log: %v", err)
	}
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("secret"), 0o600)
	sym, hard := filepath.Join(dir, "sym.log"), filepath.Join(dir, "hard.log")
	os.Symlink(victim, sym)
	os.Link(victim, hard)
	for _, p := range []string{sym, hard} {
		if ok, err := Claim(p, uid, gid); ok || err != nil {
			t.Errorf("Claim(%s): %v %v, want it left alone", filepath.Base(p), ok, err)
		}
	}
}

// Without --logfile-chmod a new log is 0640 less the umask, as uWSGI
// makes it: it was 0644, and a request log's query strings (reset tokens,
// search terms) were for every user of the machine to read.
func TestNewLogMode(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := t.TempDir()
	f, err := Open(filepath.Join(dir, "access.log"))
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := Claim(filepath.Join(dir, "claimed.log"), os.Getuid(), os.Getgid()); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"access.log", "claimed.log"} {
		if st, err := os.Stat(filepath.Join(dir, name)); err != nil || st.Mode().Perm() != 0o640 {
			t.Errorf("new %s: %v %v, want mode 0640", name, st.Mode().Perm(), err)
		}
	}
}

// With SetMode (--logfile-chmod), a log file opened, new or not, gets the
// mode; a reopen after a rotation too.
func TestSetMode(t *testing.T) {
	SetMode(0o640)
	defer SetMode(0)
	path := filepath.Join(t.TempDir(), "access.log")
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o640 {
		t.Errorf("new log: mode %v, want 0640", st.Mode().Perm())
	}
	os.Rename(path, path+".1")
	if err := f.Reopen(); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o640 {
		t.Errorf("log made by the reopen: mode %v, want 0640", st.Mode().Perm())
	}
}

// --log-maxsize renames only a regular file: not /dev/stdout (a link to
// the process's fd 1, which carafe renamed in /dev), a link, or a pipe.
func TestRotationNotRegular(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "real.log")
	if err := os.WriteFile(target, make([]byte, 500), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "stdout")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	to, err := Rotation{Path: link, Max: 100}.Rename(time.Unix(1764800000, 0))
	if to != "" || err == nil {
		t.Fatalf("a link: renamed to %q (%v), want an error and no rename", to, err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the link after: %v %v", fi, err)
	}
}

// Guarded (root, workers as another user), a log path that is a symbolic
// or hard link in a directory others may write is refused: the file it
// names is not touched, its mode neither; a plain file opens as before,
// and so do links only root could have made (/dev/fd/1, /proc/self/fd/1,
// a container's /proc/1/fd/1).
func TestGuardRefusesLinks(t *testing.T) {
	Guard()
	SetMode(0o644)
	t.Cleanup(func() { guarded = false; SetMode(0) })
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o777); err != nil { // as a log directory the workers' user may write
		t.Fatal(err)
	}
	victim := filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sym, hard := filepath.Join(dir, "sym.log"), filepath.Join(dir, "hard.log")
	if err := os.Symlink(victim, sym); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(victim, hard); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{sym, hard} {
		if f, err := Open(p); err == nil {
			f.Write([]byte("appended\n"))
			f.Close()
			t.Errorf("%s: opened", p)
		}
	}
	if b, _ := os.ReadFile(victim); string(b) != "secret\n" {
		t.Errorf("the victim now holds %q", b)
	}
	if fi, _ := os.Stat(victim); fi.Mode().Perm() != 0o600 {
		t.Errorf("the victim's mode is now %v", fi.Mode().Perm())
	}
	f, err := Open(filepath.Join(dir, "plain.log"))
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if os.Geteuid() != 0 {
		return // /dev and /proc are root's, but a link there is only trusted from root
	}
	for _, p := range []string{"/dev/fd/1", "/proc/self/fd/1"} {
		f, err := Open(p)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		f.Close()
	}
}

// Guarded, a directory on the way to a log that the workers' user has
// replaced with a link (their app's tree holds the logs directory) is
// refused too: O_NOFOLLOW guards the last component only, and root
// appended to, chmodded and chowned the file of that name wherever the
// link led. Links made where only root may write are still followed.
func TestGuardRefusesLinkedDirectory(t *testing.T) {
	Guard()
	SetMode(0o666)
	t.Cleanup(func() { guarded = false; SetMode(0) })
	base := t.TempDir()
	app, elsewhere := filepath.Join(base, "app"), filepath.Join(base, "etcish")
	for _, d := range []string{app, elsewhere} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.Chmod(app, 0o777) // the workers' user's
	victim := filepath.Join(elsewhere, "main.log")
	if err := os.WriteFile(victim, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../etcish", filepath.Join(app, "logs")); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(app, "logs", "main.log")
	if f, err := Open(path); err == nil || !errors.Is(err, errLinked) {
		if f != nil {
			f.Close()
		}
		t.Errorf("Open through a planted directory link: %v, want it refused as a link", err)
	}
	if ok, err := Claim(path, 65534, 65534); ok || err == nil {
		t.Errorf("Claim through a planted directory link: %v %v, want it refused", ok, err)
	}
	d, err := OpenDir(filepath.Dir(path))
	if err == nil {
		d.Close()
		t.Errorf("OpenDir through a planted directory link: opened")
	}
	rot := Rotation{Path: path, Max: 1}
	if to, err := rot.Rename(time.Now()); to != "" || err == nil {
		t.Errorf("rotation through a planted directory link: %q %v, want it refused", to, err)
	}
	fi, err := os.Stat(victim)
	if b, _ := os.ReadFile(victim); err != nil || string(b) != "secret\n" || fi.Mode().Perm() != 0o600 {
		t.Errorf("the file behind the link: %q, %v (%v)", b, fi.Mode().Perm(), err)
	}
	if sys := fi.Sys().(*syscall.Stat_t); sys.Uid != uint32(os.Geteuid()) {
		t.Errorf("the file behind the link was given to uid %d", sys.Uid)
	}
	// The same directory reached without the link opens.
	if f, err := Open(filepath.Join(app, "plain.log")); err != nil {
		t.Errorf("a plain log in the app's directory: %v", err)
	} else {
		f.Close()
	}
}

// resolveDir follows links that only root could have made and says
// whether the whole way is root's.
func TestResolveDir(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("root's directories are only trusted from root")
	}
	got, rootOnly, err := resolveDir("/dev/fd")
	if err != nil || !strings.HasPrefix(got, "/proc/") || !strings.HasSuffix(got, "/fd") || !rootOnly {
		t.Errorf("resolveDir(/dev/fd) = %q %v %v, want /proc/PID/fd, root's", got, rootOnly, err)
	}
	tmp := t.TempDir() // under the sticky, world-writable /tmp
	if got, rootOnly, err := resolveDir(tmp + "/missing"); err == nil || rootOnly {
		t.Errorf("resolveDir of a missing directory: %q %v %v", got, rootOnly, err)
	}
	if got, rootOnly, err := resolveDir(tmp); err != nil || got != tmp || rootOnly {
		t.Errorf("resolveDir(%s) = %q %v %v, want it as it is, not root's alone", tmp, got, rootOnly, err)
	}
}

// A file whose directory is missing is named whole in the error, as the
// user gave it (a pidfile's error named only its directory).
func TestOpenDirOfNamesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "app.pid")
	if _, err := OpenDirOf(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("OpenDirOf(%s): %v, want an error naming it", path, err)
	}
}

// A rotation that keeps failing for one cause is said once: the cause
// leaves out the file names, new at every try (the time in the backup's).
func TestCauseLeavesOutNames(t *testing.T) {
	try := func(sec int) error {
		return fmt.Errorf("rotating: %w", &os.LinkError{Op: "rename", Old: "/srv/app.log",
			New: fmt.Sprintf("/srv/app.log.%d", sec), Err: syscall.EACCES})
	}
	if a, b := Cause(try(1796653810)), Cause(try(1796653811)); a != b || a != "rename: permission denied" {
		t.Errorf("causes %q and %q, want both %q", a, b, "rename: permission denied")
	}
	if Cause(try(1)) == Cause(&os.LinkError{Op: "rename", Old: "a", New: "b", Err: syscall.ENOSPC}) {
		t.Error("two causes told apart by their errno said the same")
	}
	if c := Cause(errors.New("not a regular file")); c != "not a regular file" {
		t.Errorf("Cause of a plain error %q", c)
	}
}
