// Package wrkrun loads a Connect JSON endpoint with wrk and the Lua script
// that cycles pre-built request bodies, and reads the one machine-readable
// RESULT line the script prints. The FAQ and login benchmarks share it.
package wrkrun

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

//go:embed rotate.lua
var rotateLua []byte

// Load says how to load one endpoint.
type Load struct {
	Wrk         string // the wrk binary; default "wrk"
	Script      string // path of the Lua script, see WriteScript
	Bodies      string // file with one JSON request body per line
	URL         string
	Threads     int
	Connections int
	Duration    time.Duration
	Timeout     time.Duration
}

// Result is one wrk run.
type Result struct {
	RPS                float64
	P50, P90, P99, Max time.Duration
	Requests, Errors   int
	ErrorKinds         string
	Duration           time.Duration
}

// WriteScript writes the Lua script into dir and returns its path.
func WriteScript(dir string) (string, error) {
	path := filepath.Join(dir, "rotate.lua")
	return path, os.WriteFile(path, rotateLua, 0o644)
}

// Args returns wrk's arguments.
func (l Load) Args() []string {
	return []string{
		"-t" + strconv.Itoa(l.Threads), "-c" + strconv.Itoa(l.Connections),
		"-d" + l.Duration.String(), "--latency", "--timeout", l.Timeout.String(),
		"-s", l.Script, l.URL, "--", l.Bodies, strconv.Itoa(l.Threads),
	}
}

// Run runs wrk once.
func (l Load) Run(ctx context.Context) (Result, error) {
	wrk := l.Wrk
	if wrk == "" {
		wrk = "wrk"
	}
	args := l.Args()
	out, err := exec.CommandContext(ctx, wrk, args...).CombinedOutput()
	if err != nil {
		return Result{}, fmt.Errorf("wrk %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	r, err := parse(string(out))
	if err != nil {
		return Result{}, fmt.Errorf("wrk %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return r, nil
}

func parse(out string) (Result, error) {
	var r Result
	for line := range strings.Lines(out) {
		fields, ok := strings.CutPrefix(strings.TrimSpace(line), "RESULT ")
		if !ok {
			continue
		}
		v := map[string]int64{}
		for _, f := range strings.Fields(fields) {
			name, value, _ := strings.Cut(f, "=")
			n, err := strconv.ParseInt(value, 10, 64)
			if err != nil {
				return r, fmt.Errorf("RESULT field %q: %w", f, err)
			}
			v[name] = n
		}
		if v["duration_us"] <= 0 {
			return r, errors.New("RESULT without a duration")
		}
		us := func(name string) time.Duration { return time.Duration(v[name]) * time.Microsecond }
		r.Requests = int(v["requests"])
		r.Duration = us("duration_us")
		r.RPS = float64(v["requests"]) / r.Duration.Seconds()
		r.P50, r.P90, r.P99, r.Max = us("p50_us"), us("p90_us"), us("p99_us"), us("max_us")
		var kinds []string
		for _, k := range []string{"connect", "read", "write", "status", "timeout"} {
			if v[k] > 0 {
				r.Errors += int(v[k])
				kinds = append(kinds, fmt.Sprintf("%s %d", k, v[k]))
			}
		}
		r.ErrorKinds = strings.Join(kinds, ", ")
		return r, nil
	}
	return r, errors.New("no RESULT line in wrk's output")
}

// Version returns wrk's version line, or an error saying how to install it.
func Version(ctx context.Context, wrk string) (string, error) {
	// wrk -v prints its version and usage, and exits with status 1.
	out, _ := exec.CommandContext(ctx, wrk, "-v").CombinedOutput()
	first, _, _ := strings.Cut(string(out), "\n")
	if !strings.HasPrefix(first, "wrk ") {
		return "", fmt.Errorf("%s is not wrk (install it with apt-get install wrk): %s", wrk, strings.TrimSpace(string(out)))
	}
	version, _, _ := strings.Cut(first, " Copyright")
	return version, nil
}
