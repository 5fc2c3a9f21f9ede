package listen

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBindUnixModeStaleAndInUse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.sock")
	l, err := Bind(path, "660")
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o660 {
		t.Fatalf("mode %v, %v; want 0660", st.Mode().Perm(), err)
	}
	if _, err := Bind(path, ""); err == nil || !strings.Contains(err.Error(), "another server") {
		t.Fatalf("second bind on a live socket: %v, want a refusal", err)
	}
	l.Close() // the file stays, as after a crash
	l2, err := Bind(path, "")
	if err != nil {
		t.Fatalf("stale socket not replaced: %v", err)
	}
	l2.Close()
	Vacuum([]string{path, "127.0.0.1:1"})
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("Vacuum left %s", path)
	}
}

func TestBindRefusesNonSocketFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "not-a-socket")
	os.WriteFile(path, []byte("x"), 0o644)
	if _, err := Bind(path, ""); err == nil {
		t.Fatal("replaced a regular file")
	}
}

func TestBindTCPInUse(t *testing.T) {
	l, err := Bind("127.0.0.1:0", "")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := Bind(l.Addr().(*net.TCPAddr).String(), ""); err == nil {
		t.Fatal("bound a port already in use")
	}
}
