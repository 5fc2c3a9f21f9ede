package pyembed

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
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
