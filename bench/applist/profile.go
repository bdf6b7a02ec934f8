package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5"
)

// profileSettings make PostgreSQL count time per statement
// (pg_stat_statements) when the benchmark runs with -profile. They cost a
// little, so a profiled run's figures are not the benchmark's.
var profileSettings = map[string]string{
	"shared_preload_libraries":          "pg_stat_statements",
	"pg_stat_statements.track":          "all",
	"track_io_timing":                   "on",
	"pg_stat_statements.max":            "1000",
	"pg_stat_statements.save":           "off",
	"pg_stat_statements.track_planning": "on",
}

// profile loads ListAppointments once more with the statement counters
// reset and, when perf is installed, samples nara's stacks meanwhile; it
// returns what each statement cost per call and where nara's CPU went.
func profile(ctx context.Context, databaseURL string, naraPID int, tmp string, load func() (result, error)) (string, error) {
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		return "", err
	}
	defer func() { _ = conn.Close(context.Background()) }()
	if _, err := conn.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS pg_stat_statements; SELECT pg_stat_statements_reset()`); err != nil {
		return "", err
	}
	var perf *exec.Cmd
	perfData := filepath.Join(tmp, "perf.data")
	if path, err := exec.LookPath("perf"); err == nil {
		perf = exec.CommandContext(ctx, path, "record", "-F", "499", "-g", "-o", perfData, "-p", fmt.Sprint(naraPID))
		if err := perf.Start(); err != nil {
			perf = nil
		}
	}
	r, err := load()
	if perf != nil {
		_ = perf.Process.Signal(os.Interrupt)
		_ = perf.Wait()
	}
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Profile: one more ListAppointments run (%.0f req/s, %d requests) with pg_stat_statements on:\n", r.RPS, r.Requests)
	rows, err := conn.Query(ctx, `
		SELECT calls, plans, total_exec_time / calls, total_plan_time / calls, rows::float8 / calls,
		       (shared_blks_hit + shared_blks_read)::float8 / calls, shared_blks_read::float8 / calls,
		       regexp_replace(left(query, 110), '\s+', ' ', 'g')
		  FROM pg_stat_statements WHERE calls > 100 AND query NOT LIKE '%pg_stat_statements%'
		 ORDER BY total_exec_time + total_plan_time DESC LIMIT 12`)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(&b, "  (per call: execution and planning time, rows, shared blocks touched and read from outside shared_buffers)\n")
	fmt.Fprintf(&b, "  %9s %9s %9s %9s %6s %7s %6s  %s\n", "calls", "plans", "exec ms", "plan ms", "rows", "blocks", "read", "statement")
	var (
		calls, plans                           int64
		execMS, plan, rowsPer, blocks, readPer float64
		query                                  string
	)
	_, err = pgx.ForEachRow(rows, []any{&calls, &plans, &execMS, &plan, &rowsPer, &blocks, &readPer, &query}, func() error {
		fmt.Fprintf(&b, "  %9d %9d %9.3f %9.3f %6.1f %7.1f %6.1f  %s\n", calls, plans, execMS, plan, rowsPer, blocks, readPer, query)
		return nil
	})
	if err != nil {
		return "", err
	}
	if perf != nil {
		out, err := exec.CommandContext(ctx, "perf", "report", "-i", perfData, "--stdio", "--no-children",
			"--sort", "dso,symbol", "--percent-limit", "1.5", "-g", "none").Output()
		if err == nil {
			fmt.Fprintf(&b, "nara's CPU by function (perf, self time, ≥ 1.5 %%):\n")
			for l := range strings.Lines(string(out)) {
				if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "#") {
					fmt.Fprintf(&b, "  %s\n", t)
				}
			}
		}
	}
	return b.String(), nil
}
