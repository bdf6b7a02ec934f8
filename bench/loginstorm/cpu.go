package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTicks is the unit of the times in /proc/<pid>/stat (USER_HZ).
var clockTicks = func() float64 {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(out))); err == nil && n > 0 {
			return float64(n)
		}
	}
	return 100
}()

// cpuSample is the CPU time used so far by each process that takes part,
// and by the whole machine.
type cpuSample struct {
	at       time.Time
	nara     float64 // seconds of CPU (user + system)
	sim      float64 // the separate simulator process, if any
	postgres float64 // the postmaster, its live children and its reaped ones
	loadgen  float64 // this process
	machine  float64 // all CPUs busy, everyone's
}

// procTimes returns utime+stime and cutime+cstime of pid in seconds, and
// its parent's pid.
func procTimes(pid int) (own, children float64, ppid int, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, 0, false
	}
	s := string(b)
	// The command name is in parentheses and may contain spaces.
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, 0, false
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state): field n is f[n-3].
	if len(f) < 15 {
		return 0, 0, 0, false
	}
	num := func(n int) float64 {
		v, _ := strconv.ParseFloat(f[n-3], 64)
		return v
	}
	ppid = int(num(4))
	return (num(14) + num(15)) / clockTicks, (num(16) + num(17)) / clockTicks, ppid, true
}

// procTree follows the CPU time of a process and its children (one level,
// as PostgreSQL's backends are all children of the postmaster). It keeps
// the last time seen of every child, so that a child that exits between two
// samples still counts with what it had used, and never counts twice: the
// parent's cutime (reaped children) is left out.
type procTree struct {
	pid      int
	children map[[2]int]float64 // (pid, start time) → own + reaped CPU seconds, last seen
}

func newProcTree(pid int) *procTree { return &procTree{pid: pid, children: map[[2]int]float64{}} }

func (t *procTree) times() float64 {
	if t == nil || t.pid <= 0 {
		return 0
	}
	own, _, _, ok := procTimes(t.pid)
	if !ok {
		return 0
	}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil || child == t.pid {
			continue
		}
		cOwn, cReaped, ppid, ok := procTimes(child)
		if ok && ppid == t.pid {
			key := [2]int{child, startTime(child)}
			t.children[key] = max(t.children[key], cOwn+cReaped)
		}
	}
	total := own
	for _, v := range t.children {
		total += v
	}
	return total
}

// startTime returns field 22 of /proc/<pid>/stat, which tells a reused pid
// from the process that had it before.
func startTime(pid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 20 {
		return 0
	}
	n, _ := strconv.Atoi(f[22-3])
	return n
}

func ownTimes(pid int) float64 {
	if pid <= 0 {
		return 0
	}
	own, _, _, _ := procTimes(pid)
	return own
}

// machineBusy returns the busy CPU seconds of all CPUs from /proc/stat.
func machineBusy() float64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0
	}
	var total, idle float64
	for i, v := range f[1:] {
		n, _ := strconv.ParseFloat(v, 64)
		if i >= 8 { // guest time is already counted in user
			break
		}
		total += n
		if i == 3 || i == 4 { // idle, iowait
			idle += n
		}
	}
	return (total - idle) / clockTicks
}

// postmasterPID reads the PostgreSQL server's pid from its lock file.
func postmasterPID(pgdata string) int {
	b, err := os.ReadFile(filepath.Join(pgdata, "postmaster.pid"))
	if err != nil {
		return 0
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, _ := strconv.Atoi(strings.TrimSpace(first))
	return pid
}

// pids names the processes a sample reads.
type pids struct {
	nara, sim int
	postgres  *procTree
}

func (p pids) sample() cpuSample {
	return cpuSample{
		at:       time.Now(),
		nara:     ownTimes(p.nara),
		sim:      ownTimes(p.sim),
		postgres: p.postgres.times(),
		loadgen:  ownTimes(os.Getpid()),
		machine:  machineBusy(),
	}
}

// cores is the CPU used between two samples, in cores (CPU seconds per
// second).
type cores struct{ nara, sim, postgres, loadgen, machine float64 }

func between(a, b cpuSample) cores {
	wall := b.at.Sub(a.at).Seconds()
	if wall <= 0 {
		return cores{}
	}
	return cores{
		nara:     (b.nara - a.nara) / wall,
		sim:      (b.sim - a.sim) / wall,
		postgres: (b.postgres - a.postgres) / wall,
		loadgen:  (b.loadgen - a.loadgen) / wall,
		machine:  (b.machine - a.machine) / wall,
	}
}
