package master

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// The FIFO the master reads is the one it made: its own, for it alone. A
// FIFO of another user's, writable by all, renamed into place between the
// mkfifo and the open, was read, and whoever could write it could stop
// the master.
func TestFifoMadeHere(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !madeHere(fi) {
		t.Errorf("the FIFO made here (0600, ours) is not taken for it")
	}
	if err := os.Chmod(path, 0o666); err != nil {
		t.Fatal(err)
	}
	if fi, _ = os.Stat(path); madeHere(fi) {
		t.Errorf("a FIFO open to all is taken for the one made here")
	}
	if os.Geteuid() == 0 {
		os.Chmod(path, 0o600)
		if err := os.Chown(path, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		if fi, _ = os.Stat(path); madeHere(fi) {
			t.Errorf("another user's FIFO is taken for the one made here")
		}
	}
	regular := filepath.Join(dir, "file")
	os.WriteFile(regular, nil, 0o600)
	if fi, _ = os.Stat(regular); madeHere(fi) {
		t.Errorf("a regular file is taken for the FIFO")
	}
}
