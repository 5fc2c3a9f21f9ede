package listen

import (
	"net"
	"os"
	"path/filepath"
	"testing"
)

// The socket's mode is set on the socket, never through a link put in its
// place between the bind and the chmod (the --uid user may write the
// socket's directory): root made a root-only file 0666 so.
func TestChmodSocketFollowsNoLink(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "app.sock")
	if err := os.Symlink(secret, link); err != nil {
		t.Fatal(err)
	}
	if err := chmodSocket(link, 0o666); err == nil {
		t.Error("chmod through a link to a file succeeded")
	}
	if fi, _ := os.Stat(secret); fi.Mode().Perm() != 0o600 {
		t.Errorf("the file the link names is %v, want 0600 as it was", fi.Mode().Perm())
	}
	if err := os.WriteFile(link+".file", nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := chmodSocket(link+".file", 0o666); err == nil {
		t.Error("chmod of a regular file in the socket's place succeeded")
	}
	sock := filepath.Join(dir, "real.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := chmodSocket(sock, 0o660); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(sock); fi.Mode().Perm() != 0o660 {
		t.Errorf("the socket is %v, want 0660", fi.Mode().Perm())
	}
}
