package uwsgi

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func parsed(t *testing.T, pairs ...string) *Request {
	t.Helper()
	var req Request
	if err := ReadRequest(bufio.NewReader(strings.NewReader(pkt(0, pairs...))), 0, &req); err != nil {
		t.Fatal(err)
	}
	return &req
}

func TestGet(t *testing.T) {
	req := parsed(t, "PATH_INFO", "/a", "EMPTY", "", "DUP", "first", "DUP", "second")
	tests := []struct {
		key    string
		want   string
		wantOK bool
	}{
		{"PATH_INFO", "/a", true},
		{"EMPTY", "", true},
		{"DUP", "second", true}, // the last copy, as the environ dict keeps
		{"MISSING", "", false},
		{"path_info", "", false}, // names are case-sensitive, as in CGI
		{"PATH_INF", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			got, ok := req.Get(tt.key)
			if ok != tt.wantOK || string(got) != tt.want {
				t.Fatalf("Get(%q) = %q, %v; want %q, %v", tt.key, got, ok, tt.want, tt.wantOK)
			}
			if !ok && got != nil {
				t.Fatalf("Get(%q) = %q for an absent name, want nil", tt.key, got)
			}
		})
	}
	var zero Request
	if v, ok := zero.Get("X"); ok || v != nil {
		t.Fatal("zero Request has vars")
	}
}

// TestVarCapacityClipped: appending to a Var's slices must not overwrite the
// variables that follow it in the buffer.
func TestVarCapacityClipped(t *testing.T) {
	req := parsed(t, "A", "1", "B", "2")
	_ = append(req.Vars[0].Key, 'X', 'X', 'X', 'X')
	_ = append(req.Vars[0].Value, 'X', 'X', 'X', 'X')
	if v, _ := req.Get("B"); string(v) != "2" {
		t.Fatalf("B = %q after appending to A, want 2", v)
	}
}

func TestStripScriptName(t *testing.T) {
	tests := []struct {
		name, script, path, want string
	}{
		{"prefix", "/app", "/app/x", "/x"},
		{"deeper", "/app", "/app/users/42/", "/users/42/"},
		{"exact mount point", "/app", "/app", ""},
		{"mount point with slash", "/app", "/app/", "/"},
		{"not a prefix", "/app", "/other/x", "/other/x"},
		{"segment boundary", "/app", "/application", "/application"},
		{"segment boundary deeper", "/app", "/apple/x", "/apple/x"},
		{"trailing slash in SCRIPT_NAME", "/app/", "/app/x", "/x"},
		{"trailing slash, exact", "/app/", "/app", ""},
		{"nested mount", "/a/b", "/a/b/c", "/c"},
		{"nested mount, partial", "/a/b", "/a/bc", "/a/bc"},
		{"root SCRIPT_NAME", "/", "/x", "/x"},
		{"empty SCRIPT_NAME", "", "/x", "/x"},
		{"empty PATH_INFO", "/app", "", ""},
		{"shorter PATH_INFO", "/app", "/ap", "/ap"},
		{"case-sensitive", "/App", "/app/x", "/app/x"},
		{"encoded bytes compared raw", "/a%20b", "/a%20b/c", "/c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := []byte(tt.path)
			got := StripScriptName([]byte(tt.script), path)
			if string(got) != tt.want {
				t.Fatalf("StripScriptName(%q, %q) = %q, want %q", tt.script, tt.path, got, tt.want)
			}
			if len(got) > 0 && &got[len(got)-1] != &path[len(path)-1] {
				t.Fatal("result does not alias pathInfo")
			}
		})
	}
}
