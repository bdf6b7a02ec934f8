package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clearStaleLock removes the postmaster.pid (and socket lock files) left by a
// server that no longer runs, for instance after kill -9. PostgreSQL would
// refuse to start if the recorded PID now belongs to another process, which
// is common in containers where PIDs restart from 1. A live server in
// pgdata gives ErrAlreadyRunning, except one that is shutting down: Start
// waits for it, as after a quick restart of the caller.
func clearStaleLock(ctx context.Context, pgdata, runDir string, logger *slog.Logger) error {
	pidFile := filepath.Join(pgdata, "postmaster.pid")
	for {
		b, err := os.ReadFile(pidFile)
		if errors.Is(err, os.ErrNotExist) {
			break
		}
		if err != nil {
			return fmt.Errorf("pgcluster: read lock file: %w", err)
		}
		pid, status := parseLock(string(b))
		if pid == 0 || !serverAlive(pid, pgdata) {
			if err := os.Remove(pidFile); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("pgcluster: remove stale lock file: %w", err)
			}
			logger.Warn("removed stale postmaster.pid left by a server that no longer runs", "pid", pid)
			break
		}
		if status != "stopping" {
			return fmt.Errorf("%w (PID %d, %s)", ErrAlreadyRunning, pid, pgdata)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("pgcluster: waiting for the previous server (PID %d) to stop: %w", pid, context.Cause(ctx))
		case <-time.After(100 * time.Millisecond):
		}
	}
	// The socket directory is private to this cluster and no server runs in
	// it, so any socket or socket lock file there is stale.
	sockets, err := filepath.Glob(filepath.Join(runDir, ".s.PGSQL.*"))
	if err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	for _, s := range sockets {
		if err := os.Remove(s); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("pgcluster: remove stale socket: %w", err)
		}
	}
	return nil
}

// parseLock reads the PID (line 1; negative for a single-user backend) and
// status (line 8: starting, stopping, ready, standby) of a postmaster.pid.
// A torn file gives PID 0.
func parseLock(content string) (pid int, status string) {
	lines := strings.Split(content, "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(lines[0]))
	if err != nil {
		return 0, ""
	}
	if len(lines) > 7 {
		status = strings.TrimSpace(lines[7])
	}
	return max(pid, -pid), status
}

// serverAlive reports whether pid is a PostgreSQL server working in pgdata.
// With /proc it checks the process name and working directory (a postmaster
// runs in its data directory); when it cannot tell, it assumes yes.
func serverAlive(pid int, pgdata string) bool {
	proc := "/proc/" + strconv.Itoa(pid)
	comm, err := os.ReadFile(proc + "/comm")
	if errors.Is(err, os.ErrNotExist) {
		if _, err := os.Stat("/proc/self/comm"); err == nil {
			return false // procfs works and the process is gone
		}
	}
	if err != nil {
		// No procfs: ask the kernel whether the PID exists at all.
		return !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
	}
	if name := strings.TrimSpace(string(comm)); name != "postgres" && name != "postmaster" {
		return false
	}
	cwd, err := os.Readlink(proc + "/cwd")
	if err != nil {
		return true
	}
	if resolved, err := filepath.EvalSymlinks(pgdata); err == nil {
		pgdata = resolved
	}
	return cwd == pgdata
}
