package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// ceilingScript is one transaction of the database's own ceiling: the
// single-row UPDATE a booking's slot counter needs, on a hot 2 000-row
// table like the 2 000 slots, committed on its own.
const ceilingScript = `\set id random(1, 2000)
UPDATE bench_ceiling SET n = n + 1 WHERE id = :id RETURNING n;
`

// ceiling is one measurement of that loop.
type ceiling struct {
	tps     float64
	latency time.Duration // mean
	tool    string
}

// findPgbench returns the newest pgbench of the installed PostgreSQL
// server packages, or "" when there is none.
func findPgbench() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pgbench")
	slices.SortFunc(dirs, func(a, b string) int {
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(a))))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(b))))
		return va - vb
	})
	if len(dirs) > 0 {
		return dirs[len(dirs)-1]
	}
	if p, err := exec.LookPath("pgbench"); err == nil {
		return p
	}
	return ""
}

var tpsLine = regexp.MustCompile(`(?m)^tps = ([0-9.]+) \(without initial connection time\)`)
var latencyLine = regexp.MustCompile(`(?m)^latency average = ([0-9.]+) ms`)

// measureCeiling runs the UPDATE loop against databaseURL with clients
// connections for d, with pgbench when there is one, else with pgx.
func measureCeiling(ctx context.Context, pgbench, databaseURL, dir string, clients int, d time.Duration) (ceiling, error) {
	if pgbench == "" {
		return pgxCeiling(ctx, databaseURL, clients, d)
	}
	script := filepath.Join(dir, "ceiling.sql")
	if err := os.WriteFile(script, []byte(ceilingScript), 0o644); err != nil {
		return ceiling{}, err
	}
	u, err := url.Parse(databaseURL)
	if err != nil {
		return ceiling{}, err
	}
	password, _ := u.User.Password()
	cmd := exec.CommandContext(ctx, pgbench, pgbenchArgs(script, clients, d)...)
	// The password goes in the environment, not on the command line.
	cmd.Env = append(os.Environ(), "PGHOST="+u.Hostname(), "PGPORT="+u.Port(), "PGUSER="+u.User.Username(),
		"PGPASSWORD="+password, "PGDATABASE="+strings.TrimPrefix(u.Path, "/"), "PGSSLMODE=disable")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return ceiling{}, fmt.Errorf("pgbench: %w\n%s", err, out)
	}
	m := tpsLine.FindSubmatch(out)
	if m == nil {
		return ceiling{}, fmt.Errorf("pgbench printed no tps:\n%s", out)
	}
	c := ceiling{tool: "pgbench"}
	c.tps, _ = strconv.ParseFloat(string(m[1]), 64)
	if m := latencyLine.FindSubmatch(out); m != nil {
		ms, _ := strconv.ParseFloat(string(m[1]), 64)
		c.latency = time.Duration(ms * float64(time.Millisecond))
	}
	return c, nil
}

func pgbenchArgs(script string, clients int, d time.Duration) []string {
	return []string{"-n", "-M", "prepared", "-c", strconv.Itoa(clients), "-j", "2",
		"-T", strconv.Itoa(int(d.Seconds())), "-f", script}
}

// pgxCeiling is the same loop in Go, for machines without pgbench.
func pgxCeiling(ctx context.Context, databaseURL string, clients int, d time.Duration) (ceiling, error) {
	pool, err := pgxpool.New(ctx, databaseURL+"&pool_max_conns="+strconv.Itoa(clients))
	if err != nil {
		return ceiling{}, err
	}
	defer pool.Close()
	var (
		n       atomic.Int64
		wg      sync.WaitGroup
		errOnce sync.Once
		loopErr error
	)
	deadline := time.Now().Add(d)
	start := time.Now()
	for w := range clients {
		rng := rand.New(rand.NewPCG(uint64(w), 7))
		wg.Go(func() {
			for time.Now().Before(deadline) {
				var v int
				if err := pool.QueryRow(ctx, `UPDATE bench_ceiling SET n = n + 1 WHERE id = $1 RETURNING n`, rng.IntN(2000)+1).Scan(&v); err != nil {
					errOnce.Do(func() { loopErr = err })
					return
				}
				n.Add(1)
			}
		})
	}
	wg.Wait()
	if loopErr != nil {
		return ceiling{}, loopErr
	}
	wall := time.Since(start)
	tps := float64(n.Load()) / wall.Seconds()
	return ceiling{tps: tps, latency: time.Duration(float64(clients) / tps * float64(time.Second)), tool: "pgx loop"}, nil
}
