// Package proccpu tells where a benchmark's CPU went: the nara server, the
// PostgreSQL server (the postmaster and its backends), the load generator
// and the whole machine, read from /proc. On 2 shared cores that split
// explains a throughput figure better than the figure alone.
package proccpu

import (
	"fmt"
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

// Sample is the CPU time used so far, in seconds.
type Sample struct {
	at                                       time.Time
	nara, helper, postgres, loadgen, machine float64
}

// At is when the sample was read; zero for no sample.
func (s Sample) At() time.Time { return s.at }

// Watch follows one nara process, one PostgreSQL server and the load
// generator: this process and the children it has waited for (a wrk that
// ran to its end between two samples counts; nara and PostgreSQL, children
// still running, do not).
type Watch struct {
	nara, helper int
	postgres     *tree
}

// New watches nara (a pid; 0 for none) and the PostgreSQL server whose data
// directory is pgdata ("" for none).
func New(nara int, pgdata string) *Watch {
	w := &Watch{nara: nara}
	if pgdata != "" {
		w.postgres = &tree{pid: postmasterPID(pgdata), children: map[[2]int]float64{}}
	}
	return w
}

// WithHelper also follows a helper process the benchmark runs beside nara
// (such as a stand-in for an outside service); 0 for none.
func (w *Watch) WithHelper(pid int) *Watch {
	w.helper = pid
	return w
}

// Sample reads the counters now.
func (w *Watch) Sample() Sample {
	self, reaped, _, _ := times(os.Getpid())
	s := Sample{at: time.Now(), loadgen: self + reaped, machine: machineBusy()}
	if w.nara > 0 {
		s.nara = own(w.nara)
	}
	if w.helper > 0 {
		s.helper = own(w.helper)
	}
	if w.postgres != nil {
		s.postgres = w.postgres.times()
	}
	return s
}

// Cores is the CPU used between two samples, in cores (CPU seconds per
// second of wall time).
type Cores struct {
	Nara, Helper, Postgres, Loadgen, Machine float64
}

// Between returns the cores used from a to b.
func Between(a, b Sample) Cores {
	wall := b.at.Sub(a.at).Seconds()
	if wall <= 0 {
		return Cores{}
	}
	return Cores{
		Nara:     (b.nara - a.nara) / wall,
		Helper:   (b.helper - a.helper) / wall,
		Postgres: (b.postgres - a.postgres) / wall,
		Loadgen:  (b.loadgen - a.loadgen) / wall,
		Machine:  (b.machine - a.machine) / wall,
	}
}

// String reads like "nara 0.92, postgres 0.71, load generator 0.20, machine 1.95 cores".
func (c Cores) String() string {
	return fmt.Sprintf("nara %.2f, postgres %.2f, load generator %.2f, whole machine %.2f cores",
		c.Nara, c.Postgres, c.Loadgen, c.Machine)
}

// Seconds returns the CPU seconds each part used from a to b.
func Seconds(a, b Sample) (nara, postgres, loadgen float64) {
	return b.nara - a.nara, b.postgres - a.postgres, b.loadgen - a.loadgen
}

// times returns utime+stime and cutime+cstime of pid in seconds, and its
// parent's pid.
func times(pid int) (self, reaped float64, ppid int, ok bool) {
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
	if len(f) < 20 {
		return 0, 0, 0, false
	}
	num := func(n int) float64 {
		v, _ := strconv.ParseFloat(f[n-3], 64)
		return v
	}
	return (num(14) + num(15)) / clockTicks, (num(16) + num(17)) / clockTicks, int(num(4)), true
}

func own(pid int) float64 {
	v, _, _, _ := times(pid)
	return v
}

// tree follows the CPU time of a process and its children (one level, as
// PostgreSQL's backends are all children of the postmaster). It keeps the
// last time seen of every child, so that a child that exits between two
// samples still counts with what it had used, and never counts twice: the
// parent's reaped-children time is left out.
type tree struct {
	pid      int
	children map[[2]int]float64 // (pid, start time) → CPU seconds, last seen
}

func (t *tree) times() float64 {
	if t.pid <= 0 {
		return 0
	}
	total := own(t.pid)
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil || child == t.pid {
			continue
		}
		self, reaped, ppid, ok := times(child)
		if ok && ppid == t.pid {
			key := [2]int{child, startTime(child)}
			t.children[key] = max(t.children[key], self+reaped)
		}
	}
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
		if i >= 8 { // guest time is already counted in user
			break
		}
		n, _ := strconv.ParseFloat(v, 64)
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
