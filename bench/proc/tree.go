package proc

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTick is USER_HZ, the unit of utime and stime in /proc/PID/stat; it
// is 100 on every Linux architecture Go supports.
const clockTick = 100

// Usage is a snapshot of a process tree.
type Usage struct {
	Procs int // processes in the tree, the root included
	// CPU is user plus system time of every live process in the tree, with
	// that of their exited, reaped children.
	CPU time.Duration
	// Workers are the tree's leaves: the processes that serve requests
	// (a master, an arbiter or a supervisor has children; its workers
	// have none). A single-process server is its own worker.
	Workers    int
	WorkerPids []int
	WorkerRSS  []int64 // bytes, one per worker
	TotalRSS   int64   // bytes, the whole tree
	// Switches is the context switches, voluntary and not, of every live
	// thread of the tree (those of exited threads are lost).
	Switches int64
}

// MaxWorkerRSS is the RSS of the largest worker, in bytes.
func (u Usage) MaxWorkerRSS() int64 {
	var m int64
	for _, r := range u.WorkerRSS {
		m = max(m, r)
	}
	return m
}

// Tree reads the usage of the process tree rooted at pid.
func Tree(pid int) (Usage, error) {
	procs, err := readAll()
	if err != nil {
		return Usage{}, err
	}
	children := map[int][]int{}
	byPid := map[int]procStat{}
	for _, p := range procs {
		children[p.ppid] = append(children[p.ppid], p.pid)
		byPid[p.pid] = p
	}
	if _, ok := byPid[pid]; !ok {
		return Usage{}, fmt.Errorf("proc: no process %d", pid)
	}
	var u Usage
	var ticks int64
	queue := []int{pid}
	for len(queue) > 0 {
		p := byPid[queue[0]]
		queue = append(queue[1:], children[p.pid]...)
		if p.state == 'Z' {
			continue
		}
		u.Procs++
		ticks += p.utime + p.stime + p.cutime + p.cstime
		u.Switches += switches(p.pid)
		u.TotalRSS += p.rss
		if len(children[p.pid]) == 0 {
			u.Workers++
			u.WorkerPids = append(u.WorkerPids, p.pid)
			u.WorkerRSS = append(u.WorkerRSS, p.rss)
		}
	}
	u.CPU = time.Duration(ticks) * time.Second / clockTick
	return u, nil
}

type procStat struct {
	pid, ppid, pgrp              int
	state                        byte
	utime, stime, cutime, cstime int64
	rss                          int64 // bytes
}

// RSS is the resident memory of one process, in bytes: one read, where
// Tree reads every process of the machine.
func RSS(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	p, err := parseStat(b, int64(os.Getpagesize()))
	return p.rss, err
}

// switches sums the context switches of pid's threads, read from
// /proc/PID/task/*/status (a process's own status counts only its main
// thread's). A thread that exits while it reads is skipped.
func switches(pid int) int64 {
	paths, _ := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/[0-9]*/status")
	var n int64
	for _, path := range paths {
		if b, err := os.ReadFile(path); err == nil {
			n += parseSwitches(b)
		}
	}
	return n
}

// parseSwitches adds the voluntary and non-voluntary context switches of a
// /proc status file.
func parseSwitches(b []byte) int64 {
	var n int64
	for line := range strings.Lines(string(b)) {
		name, val, ok := strings.Cut(line, ":")
		if ok && (name == "voluntary_ctxt_switches" || name == "nonvoluntary_ctxt_switches") {
			v, _ := strconv.ParseInt(strings.TrimSpace(val), 10, 64)
			n += v
		}
	}
	return n
}

// readAll reads /proc/*/stat. Processes that exit while it reads are
// skipped.
func readAll() ([]procStat, error) {
	paths, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil || len(paths) == 0 {
		return nil, fmt.Errorf("proc: cannot list /proc: %v", err)
	}
	page := int64(os.Getpagesize())
	var out []procStat
	for _, path := range paths {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		p, err := parseStat(b, page)
		if err != nil {
			return nil, fmt.Errorf("proc: %s: %w", path, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// parseStat reads the fields of /proc/PID/stat that Tree needs. The command
// name, in parentheses, may hold spaces and parentheses itself, so the
// fields are counted from the last ')'.
func parseStat(b []byte, page int64) (procStat, error) {
	var p procStat
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return p, fmt.Errorf("malformed stat %q", b)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b[:open])))
	if err != nil {
		return p, err
	}
	// f[0] is field 3 (state) of proc(5).
	f := strings.Fields(string(b[end+1:]))
	if len(f) < 22 {
		return p, fmt.Errorf("short stat %q", b)
	}
	p.pid, p.state = pid, f[0][0]
	ints := []*int64{&p.utime, &p.stime, &p.cutime, &p.cstime}
	for i, idx := range []int{11, 12, 13, 14} {
		if *ints[i], err = strconv.ParseInt(f[idx], 10, 64); err != nil {
			return p, err
		}
	}
	if p.ppid, err = strconv.Atoi(f[1]); err != nil {
		return p, err
	}
	if p.pgrp, err = strconv.Atoi(f[2]); err != nil {
		return p, err
	}
	pages, err := strconv.ParseInt(f[21], 10, 64)
	if err != nil {
		return p, err
	}
	p.rss = pages * page
	return p, nil
}
