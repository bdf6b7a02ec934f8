// Package report describes where and how a benchmark ran and summarises
// repeated runs, so that every results file carries the context its figures
// need: on a shared 2-core machine a number means little without the load,
// the core count and the tool versions next to it.
package report

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Host is the machine and toolchain a benchmark ran on.
type Host struct {
	Date      time.Time
	NProc     int
	CPU       string
	Kernel    string
	GoVersion string
	Commit    string
}

// Describe looks at the current machine. commit names the source the
// measured binary was built from; if it is empty, Describe reads the git
// checkout in the working directory, which may have moved on since the build.
func Describe(ctx context.Context, commit string) Host {
	h := Host{
		Date:      time.Now(),
		NProc:     runtime.NumCPU(),
		CPU:       "unknown",
		Kernel:    strings.TrimSpace(command(ctx, "uname", "-sr")),
		GoVersion: runtime.Version(),
		Commit:    commit,
	}
	if info, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(info)) {
			if name, ok := strings.CutPrefix(line, "model name"); ok {
				h.CPU = strings.TrimSpace(strings.TrimLeft(name, " \t:"))
				break
			}
		}
	}
	if h.Commit == "" {
		h.Commit = strings.TrimSpace(command(ctx, "git", "rev-parse", "--short", "HEAD"))
		if h.Commit != "" && strings.TrimSpace(command(ctx, "git", "status", "--porcelain")) != "" {
			h.Commit += " (with uncommitted changes)"
		}
	}
	return h
}

// Lines returns the description as "key: value" lines for a results file.
func (h Host) Lines() []string {
	return []string{
		"date:    " + h.Date.Format("2006-01-02 15:04:05 MST"),
		fmt.Sprintf("host:    nproc=%d, %s, %s", h.NProc, h.CPU, h.Kernel),
		"go:      " + h.GoVersion,
		"commit:  " + h.Commit,
	}
}

// Load returns the load averages (1, 5 and 15 minutes) as uptime shows them.
func Load() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], ", ")
}

// Busy reports whether any of the given load strings (as Load returns them)
// shows a 1-minute load average above the core count: other work was then
// competing for the CPU and absolute figures are depressed.
func Busy(nproc int, loads ...string) bool {
	for _, l := range loads {
		first, _, _ := strings.Cut(l, ",")
		if v, err := strconv.ParseFloat(first, 64); err == nil && v > float64(nproc) {
			return true
		}
	}
	return false
}

// MedianIndex returns the index of the median of xs: for an even count the
// lower of the two middle values, so that it is always a real run.
func MedianIndex(xs []float64) int {
	idx := make([]int, len(xs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case xs[a] < xs[b]:
			return -1
		case xs[a] > xs[b]:
			return 1
		}
		return 0
	})
	return idx[(len(xs)-1)/2]
}

// Spread returns the median, minimum and maximum of xs, which must not be
// empty.
func Spread(xs []float64) (median, lo, hi float64) {
	return xs[MedianIndex(xs)], slices.Min(xs), slices.Max(xs)
}

func command(ctx context.Context, name string, args ...string) string {
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		return ""
	}
	return out.String()
}
