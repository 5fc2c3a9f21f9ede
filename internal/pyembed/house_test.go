package pyembed

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestHouseRules checks two rules of shared/STYLE.md over the whole
// module: only this package imports "C", and every package has exactly one
// doc comment.
func TestHouseRules(t *testing.T) {
	root := filepath.Join("..", "..")
	docs := map[string]int{}
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", ".venv", "testdata", "node_modules":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly|parser.ParseComments)
		if err != nil {
			return err
		}
		dir := filepath.Dir(path)
		if !strings.HasSuffix(path, "_test.go") {
			if _, ok := docs[dir]; !ok {
				docs[dir] = 0
			}
			if f.Doc != nil {
				docs[dir]++
			}
		}
		for _, imp := range f.Imports {
			if imp.Path.Value == `"C"` && filepath.Base(dir) != "pyembed" {
				t.Errorf("%s imports \"C\": cgo belongs in internal/pyembed only", path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for dir, n := range docs {
		if n != 1 {
			t.Errorf("package in %s has %d doc comments, want exactly 1", dir, n)
		}
	}
}

// TestCallsIntoGoReleaseTheGIL checks a rule of the bridge: C calls into
// Go (the crfGo* callbacks) only with the GIL released, between
// Py_BEGIN_ALLOW_THREADS and Py_END_ALLOW_THREADS, or where the line
// says the GIL was released before. A Go call can wait (for a
// collection, or for a processor), and every Python thread waits with
// the one that holds the GIL: wsgi.input's seek() and seekable() once
// called Go holding it.
func TestCallsIntoGoReleaseTheGIL(t *testing.T) {
	files, err := filepath.Glob("*.c")
	if err != nil || len(files) == 0 {
		t.Fatalf("no C files: %v", err)
	}
	call := regexp.MustCompile(`\bcrfGo[A-Za-z]+\(`)
	calls := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		released := false
		for i, line := range strings.Split(string(b), "\n") {
			code := strings.TrimSpace(line)
			switch {
			case strings.HasPrefix(code, "/*"), strings.HasPrefix(code, "*"), strings.HasPrefix(code, "//"):
				continue
			case strings.HasPrefix(code, "Py_BEGIN_ALLOW_THREADS"):
				released = true
			case strings.HasPrefix(code, "Py_END_ALLOW_THREADS"):
				released = false
			case call.MatchString(code):
				calls++
				if !released && !strings.Contains(code, "GIL released") {
					t.Errorf("%s:%d calls into Go holding the GIL: %s", f, i+1, code)
				}
			}
		}
	}
	if calls < 4 {
		t.Errorf("found %d calls into Go, want the 4 callbacks' at least", calls)
	}
}
