package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// debPackages are the Debian packages the benchmark needs, each with a
// file that shows it is installed.
var debPackages = []struct{ name, file string }{
	{"wrk", "/usr/bin/wrk"},
	{"nginx", "/usr/sbin/nginx"},
	{"uwsgi", "/usr/bin/uwsgi"},
	{"uwsgi-plugin-python3", "/usr/lib/uwsgi/plugins/python3_plugin.so"},
}

// setup installs missing Debian packages (only as root), makes or updates
// the bench venv, and builds the ceiling server and bench/pyfloor.
func setup(ctx context.Context, c *config, log *slog.Logger) error {
	if err := ensureDebs(ctx, log); err != nil {
		return err
	}
	if _, err := os.Stat(c.carafe); err != nil {
		return fmt.Errorf("%s is missing: run make build (make bench does)", c.carafe)
	}
	if err := ensureVenv(ctx, c, log); err != nil {
		return err
	}
	log.Info("bench: building the ceiling server")
	if err := command(ctx, c.root, "go", "build", "-o", filepath.Join(c.root, "bin", "bench-ceiling"), "./bench/ceiling"); err != nil {
		return err
	}
	log.Info("bench: building bench/pyfloor")
	return buildFloor(ctx, c.root, c.python, floorBin(c.root))
}

// floorBin is where setup puts bench/pyfloor's binary.
func floorBin(root string) string { return filepath.Join(root, "bin", "bench-pyfloor") }

// buildFloor compiles bench/pyfloor against python's libpython with the
// flags carafe's build takes (scripts/pyflags.py: the include dir, then
// the link words), into out; cc runs in root. libpython.a is not
// position-independent, so neither is the program (nor is carafe: Go
// links cgo binaries without PIE).
func buildFloor(ctx context.Context, root, python, out string) error {
	flags, err := output(ctx, python, filepath.Join(root, "scripts", "pyflags.py"))
	if err != nil {
		return err
	}
	words := strings.Fields(flags)
	if len(words) < 2 {
		return fmt.Errorf("scripts/pyflags.py printed %q, not an include dir and link flags", flags)
	}
	out, err = filepath.Abs(out)
	if err != nil {
		return err
	}
	args := []string{"-O2", words[0], filepath.Join("bench", "pyfloor", "main.c"), "-o", out, "-no-pie"}
	args = append(append(args, words[1:]...), "-lpthread")
	return command(ctx, root, "cc", args...)
}

func ensureDebs(ctx context.Context, log *slog.Logger) error {
	var missing []string
	for _, p := range debPackages {
		if _, err := os.Stat(p.file); err != nil {
			missing = append(missing, p.name)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("missing Debian packages: %s (run as root, or apt-get install them)", strings.Join(missing, " "))
	}
	log.Info("bench: installing Debian packages", "packages", missing)
	if err := command(ctx, "", "apt-get", "update", "-qq"); err != nil {
		return err
	}
	return command(ctx, "", "apt-get", append([]string{"install", "-y", "-qq"}, missing...)...)
}

// ensureVenv makes the venv from the interpreter carafe links against and
// installs both requirement files into it; a stamp holding their hash
// skips the install when neither changed.
func ensureVenv(ctx context.Context, c *config, log *slog.Logger) error {
	exe, err := output(ctx, c.python, "-c", "import sys; print(sys.executable)")
	if err != nil {
		return err
	}
	reqs := []string{filepath.Join(c.root, "requirements.txt"), filepath.Join(c.root, "bench", "requirements.txt")}
	h := sha256.New()
	fmt.Fprintln(h, exe)
	for _, r := range reqs {
		b, err := os.ReadFile(r)
		if err != nil {
			return err
		}
		h.Write(b)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	stamp := filepath.Join(c.venv, ".bench-stamp")
	if b, err := os.ReadFile(stamp); err == nil && string(bytes.TrimSpace(b)) == sum {
		return nil
	}
	log.Info("bench: making the bench venv", "venv", c.venv, "python", exe)
	if err := command(ctx, "", exe, "-m", "venv", "--clear", c.venv); err != nil {
		return err
	}
	if err := command(ctx, "", filepath.Join(c.venv, "bin", "pip"), "install", "--quiet",
		"--requirement", reqs[0], "--requirement", reqs[1]); err != nil {
		return err
	}
	return os.WriteFile(stamp, []byte(sum+"\n"), 0o644)
}

// command runs a set-up step, its output going to ours.
func command(ctx context.Context, dir, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
	}
	return nil
}

// output runs a command and returns its trimmed stdout and stderr.
func output(ctx context.Context, name string, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return string(bytes.TrimSpace(out)), nil
}

// stdout runs a command and returns its standard output, trimmed; its
// standard error goes only into the error, where it fails.
func stdout(ctx context.Context, name string, args ...string) (string, error) {
	var errText bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stderr = &errText
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, bytes.TrimSpace(append(out, errText.Bytes()...)))
	}
	return string(bytes.TrimSpace(out)), nil
}
