package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"carafe/bench/report"
)

// machine reads the CPU model, cores, memory and kernel from /proc.
func machine() report.Machine {
	m := report.Machine{Cores: runtime.NumCPU()}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
				kb, _ := strconv.ParseFloat(f[1], 64)
				m.MemoryGB = kb / (1 << 20)
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	return m
}

// loadAvg is the first three fields of /proc/loadavg.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}

// uwsgiProbe is run by uWSGI's python3 plugin (--pyrun) to show which
// Python it embeds and that it imports the bench venv's Flask and Django.
const uwsgiProbe = `import sys, importlib.metadata as m, flask, django
print("BENCHPROBE Python %s; Flask %s from %s; Django %s from %s" % (sys.version.split()[0],
    m.version("flask"), flask.__file__, m.version("django"), django.__file__))
`

// versions asks every component for its version. A component that cannot
// say is an error: the docs must not guess.
func (h *harness) versions(ctx context.Context) ([]report.Version, error) {
	py := h.venvBin("python")
	pkgs, err := output(ctx, py, "-c", `import sys, importlib.metadata as m
print(sys.version.split()[0], *(m.version(p) for p in ("gunicorn", "granian", "waitress", "flask", "django")))`)
	if err != nil {
		return nil, err
	}
	f := strings.Fields(pkgs)
	probe := filepath.Join(h.tmp, "probe.py")
	if err := os.WriteFile(probe, []byte(uwsgiProbe), 0o644); err != nil {
		return nil, err
	}
	probed, err := output(ctx, "uwsgi", "--plugin", "python3", "--pythonpath", h.sitePackages, "--pyrun", probe)
	if err != nil {
		return nil, err
	}
	_, uwsgiPy, ok := strings.Cut(probed, "BENCHPROBE ")
	if !ok {
		return nil, fmt.Errorf("uWSGI's python3 plugin did not run the probe:\n%s", probed)
	}
	uwsgiPy, _, _ = strings.Cut(uwsgiPy, "\n")
	carafeV, err := output(ctx, h.cfg.carafe, "--version")
	if err != nil {
		return nil, err
	}
	uwsgiV, err := output(ctx, "uwsgi", "--version")
	if err != nil {
		return nil, err
	}
	wrkV, _ := output(ctx, "sh", "-c", "wrk -v 2>&1 | head -1")
	nginxV, err := output(ctx, "nginx", "-v")
	if err != nil {
		return nil, err
	}
	goV, err := output(ctx, "go", "version")
	if err != nil {
		return nil, err
	}
	return []report.Version{
		{Name: "carafe", Version: carafeV + " (embeds Python " + f[0] + ", the bench venv's interpreter)"},
		{Name: "uWSGI", Version: uwsgiV + " (Debian); its python3 plugin embeds Debian's Python, here: " + uwsgiPy},
		{Name: "Gunicorn", Version: f[1] + " (gthread worker)"},
		{Name: "Granian", Version: f[2]},
		{Name: "waitress", Version: f[3]},
		{Name: "Python (carafe, Gunicorn, Granian, waitress)", Version: f[0] + " (" + h.cfg.venv + ")"},
		{Name: "Flask / Django", Version: f[4] + " / " + f[5]},
		{Name: "Go (carafe, the ceiling)", Version: goV},
		{Name: "wrk", Version: wrkV},
		{Name: "nginx", Version: strings.TrimPrefix(nginxV, "nginx version: ")},
	}, nil
}

// cpuTimes is the machine-wide line of /proc/stat: the steal column and
// the sum of all columns, in clock ticks.
type cpuTimes struct{ steal, total uint64 }

// readCPUTimes reads /proc/stat; on a machine without it, zeros (the
// steal share is then reported as 0).
func readCPUTimes() cpuTimes {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuTimes{}
	}
	line, _, _ := strings.Cut(string(b), "\n")
	t, _ := parseCPUTimes(line)
	return t
}

// parseCPUTimes parses the "cpu" line of /proc/stat: user nice system idle
// iowait irq softirq steal [guest guest_nice], of which guest time is
// already counted in user (so it is not added again).
func parseCPUTimes(line string) (cpuTimes, bool) {
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return cpuTimes{}, false
	}
	var t cpuTimes
	for i, s := range f[1:9] {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return cpuTimes{}, false
		}
		t.total += v
		if i == 7 {
			t.steal = v
		}
	}
	return t, true
}

// stealPct is the share of the CPU time between a and b that was stolen.
func stealPct(a, b cpuTimes) float64 {
	if b.total <= a.total || b.steal < a.steal {
		return 0
	}
	return float64(b.steal-a.steal) / float64(b.total-a.total) * 100
}
