package pyembed

import (
	"os"
	"path/filepath"
)

// venvPython returns the interpreter path inside a venv (or any Python
// prefix). Python's start-up finds pyvenv.cfg beside it, which is what
// makes sys.prefix the venv and its site-packages importable.
func venvPython(dir string) string {
	for _, name := range []string{"python3", "python"} {
		p := filepath.Join(dir, "bin", name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return filepath.Join(dir, "bin", "python3")
}
