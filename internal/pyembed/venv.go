package pyembed

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
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

// CheckVenv tells whether dir can be the embedded interpreter's
// --virtualenv: an error for what cannot work, a warning for what may
// not. A venv takes its standard library from the Python that made it
// (pyvenv.cfg's home): one made by another Python version failed at
// import with "No module named 'flask'" though flask was there, one made
// by another installation of the same version with "No module named
// 'math'", and a directory that is no venv at all was taken without a
// word, the base installation's packages serving in its place.
func CheckVenv(dir string) (warning string, err error) {
	return checkVenv(dir, embeddedVersion(), defaultExecutable)
}

// ActivatedVenvWarning says that an activated venv (active, the value
// of $VIRTUAL_ENV) is not used, when --virtualenv (virtualenv) is not
// given and carafe embeds no interpreter of that venv: Gunicorn runs in
// the venv as the python3 on the PATH, and an app moved from it would
// fail with "No module named 'django'" and no hint. "" when there is
// nothing to say.
func ActivatedVenvWarning(active, virtualenv string) string {
	return activatedVenvWarning(active, virtualenv, defaultExecutable)
}

func activatedVenvWarning(active, virtualenv, exe string) string {
	if active == "" || virtualenv != "" || strings.HasPrefix(exe, strings.TrimSuffix(active, "/")+"/") {
		return ""
	}
	built := "the Python it was built with"
	if exe != "" {
		built += " (" + exe + ")"
	}
	return fmt.Sprintf("carafe: VIRTUAL_ENV=%s (an activated venv) is not used: carafe embeds %s "+
		"and takes a venv from --virtualenv only; give --virtualenv %s", active, built, active)
}

func checkVenv(dir, version, exe string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, "pyvenv.cfg"))
	if errors.Is(err, fs.ErrNotExist) {
		// uWSGI's home may be a Python installation's prefix.
		if st, err := os.Stat(filepath.Join(dir, "lib", "python"+version)); err == nil && st.IsDir() {
			return "", nil
		}
		return "", fmt.Errorf("--virtualenv %s is not a venv (it has no pyvenv.cfg), nor a Python %s "+
			"installation (no lib/python%s)", dir, version, version)
	}
	if err != nil {
		return "", fmt.Errorf("--virtualenv %s: %w", dir, err)
	}
	cfg := map[string]string{}
	for sc := bufio.NewScanner(bytes.NewReader(b)); sc.Scan(); {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			cfg[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
		}
	}
	made := cfg["executable"]
	if made == "" && cfg["home"] != "" {
		made = filepath.Join(cfg["home"], "python"+version)
	}
	remake := fmt.Sprintf("make it again with that one (%s -m venv %s)", exe, dir)
	if v := cmp.Or(cfg["version"], cfg["version_info"]); v != "" && v != version && !strings.HasPrefix(v, version+".") {
		return "", fmt.Errorf("--virtualenv %s was made by Python %s (%s), and carafe embeds Python %s "+
			"(%s): %s", dir, v, made, version, exe, remake)
	}
	if made != "" && exe != "" && !sameFile(made, exe) {
		if _, err := os.Stat(made); err == nil {
			return fmt.Sprintf("carafe: --virtualenv %s was made by %s, and carafe embeds %s: the venv takes "+
				"its standard library from the Python that made it, which may not fit this one; if the app "+
				"fails to import, %s", dir, made, exe, remake), nil
		}
	}
	return "", nil
}

// sameFile reports whether a and b are one file, links followed.
func sameFile(a, b string) bool {
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(sa, sb)
}

// importHint is a line to add to a traceback that ends in "No module
// named 'X'", saying where carafe looked (a Django project run from the
// wrong directory, or its packages left in a venv carafe was not given,
// says no more than that); "" for any other failure. exe is the
// interpreter carafe embeds, cwd the directory the app is imported from.
func importHint(traceback string, o Options, exe, cwd string) string {
	last := traceback[strings.LastIndexByte(strings.TrimRight(traceback, "\n"), '\n')+1:]
	name, ok := strings.CutPrefix(strings.TrimSpace(last), "ModuleNotFoundError: No module named '")
	if !ok || !strings.HasSuffix(name, "'") {
		return ""
	}
	name = strings.TrimSuffix(name, "'")
	top, _, _ := strings.Cut(name, ".")
	appModule, _, _ := strings.Cut(o.Module, ":")
	appTop, _, _ := strings.Cut(appModule, ".")
	if o.Module != "" && o.WSGIFile == "" && o.Paste == "" && (name == appModule || strings.HasPrefix(appModule, name+".")) {
		return fmt.Sprintf("carafe: the app's module %q is not under %s (the working directory) nor on the "+
			"Python path: give --chdir the directory that holds it (for Django, the one with manage.py), "+
			"or add its directory with --pythonpath.", appModule, cwd)
	}
	if o.Module != "" && top == appTop {
		return "" // a module of the app's own package, which was found: Python's word says it
	}
	if top == "uwsgi" || top == "uwsgidecorators" {
		return fmt.Sprintf("carafe: %q is uWSGI's in-process API, which exists only inside uWSGI (the uwsgi "+
			"package from PyPI builds the uWSGI server, not this module): carafe does not provide it. Guard "+
			"its use (try: import uwsgi / except ImportError); a @postfork hook is not needed, as each carafe "+
			"worker imports the app itself, nothing being forked after the import.", top)
	}
	if o.Virtualenv != "" && exe != "" && inStdlib(exe, embeddedVersion(), top) {
		return fmt.Sprintf("carafe: %q is in the standard library of the Python carafe embeds (%s), but not "+
			"in the one --virtualenv %s leads to: the venv was made by another Python (its pyvenv.cfg's home); "+
			"make it again with %s -m venv.", top, exe, o.Virtualenv, exe)
	}
	if o.Virtualenv == "" {
		built := "the Python carafe embeds"
		if exe != "" {
			built += " (" + exe + ")"
		}
		return fmt.Sprintf("carafe: %q is not installed for %s, and no --virtualenv was given: if the "+
			"app's packages are in a venv, give --virtualenv DIR.", top, built)
	}
	return fmt.Sprintf("carafe: %q is in neither --virtualenv %s nor %s (the working directory): install "+
		"it with %s -m pip install, or give --chdir the app's own directory.", top, o.Virtualenv, cwd,
		venvPython(o.Virtualenv))
}

// inStdlib reports whether the standard library beside the interpreter
// exe (a Python version's lib/pythonX.Y, its lib-dynload included) has
// the module top.
func inStdlib(exe, version, top string) bool {
	if real, err := filepath.EvalSymlinks(exe); err == nil {
		exe = real
	}
	lib := filepath.Join(filepath.Dir(filepath.Dir(exe)), "lib", "python"+version)
	for _, p := range []string{top + ".py", filepath.Join(top, "__init__.py")} {
		if _, err := os.Stat(filepath.Join(lib, p)); err == nil {
			return true
		}
	}
	so, _ := filepath.Glob(filepath.Join(lib, "lib-dynload", top+".cpython-*.so"))
	return len(so) > 0
}

// readableBy checks that this process may reach exe, and the standard
// library beside the interpreter it leads to (a venv's python3 is a link
// to it), naming the first directory on the way that is closed to it:
// /root, for a Python installed by pyenv under root's home and a worker
// run as www-data.
func readableBy(exe string) error {
	paths := []string{exe}
	if target, err := filepath.EvalSymlinks(exe); err == nil {
		paths = append(paths, filepath.Join(filepath.Dir(filepath.Dir(target)), "lib"))
	}
	for _, p := range paths {
		if err := Unreadable(p); err != nil {
			return err
		}
	}
	return nil
}

// ReadAccess says what a process running as another user than the one
// who installed Python needs, after an Unreadable error.
const ReadAccess = "carafe running as another user (--uid, or started as one) needs read access to " +
	"the Python installation and the virtualenv"

// Unreadable is an error when this process may not reach path for want of
// permission, naming the directory on the way that is closed to it; nil
// when it may, or when path is missing (the caller says so its own way).
func Unreadable(path string) error {
	_, err := os.Stat(path)
	if !errors.Is(err, fs.ErrPermission) {
		return nil
	}
	if dir := closedDir(path, 0); dir != "" {
		return fmt.Errorf("uid %d may not read %s: %s is closed to it", os.Getuid(), path, dir)
	}
	return fmt.Errorf("uid %d may not read %s: %w", os.Getuid(), path, err)
}

// closedDir is the directory on the absolute path p's way, links
// followed, that this process may not search; "" when it finds none.
func closedDir(p string, depth int) string {
	if !filepath.IsAbs(p) || depth > 8 {
		return ""
	}
	dir := "/"
	for _, name := range strings.Split(strings.Trim(filepath.Clean(p), "/"), "/") {
		next := filepath.Join(dir, name)
		if _, err := os.Lstat(next); errors.Is(err, fs.ErrPermission) {
			return dir
		}
		dir = next
	}
	target, err := os.Readlink(p)
	if err != nil {
		return ""
	}
	if !filepath.IsAbs(target) {
		target = filepath.Join(filepath.Dir(p), target)
	}
	return closedDir(target, depth+1)
}
