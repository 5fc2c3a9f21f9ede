package logfile

import (
	"testing"
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
