package pgcluster

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// instance is what Start has resolved from Config before running anything.
type instance struct {
	logger   *slog.Logger
	binDir   string
	owner    *owner // nil when the process is not root
	dataDir  string
	pgdata   string
	runDir   string
	pwFile   string
	settings []string
}

// prepare makes the directories, creates the cluster if needed and clears a
// lock left by a crashed server.
func (in *instance) prepare(ctx context.Context) error {
	// 0711 so that parents created here can be entered by the server's user.
	if err := os.MkdirAll(in.dataDir, 0o711); err != nil {
		return fmt.Errorf("pgcluster: create data directory: %w", err)
	}
	if err := os.Chmod(in.dataDir, 0o700); err != nil {
		return fmt.Errorf("pgcluster: data directory: %w", err)
	}
	if err := in.owner.checkReachable(in.dataDir); err != nil {
		return err
	}
	if err := in.owner.chownTree(in.dataDir); err != nil {
		return err
	}
	if err := os.MkdirAll(in.runDir, 0o700); err != nil {
		return fmt.Errorf("pgcluster: create socket directory: %w", err)
	}
	if err := in.owner.chown(in.runDir); err != nil {
		return err
	}

	if _, err := os.Stat(filepath.Join(in.pgdata, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		if err := in.initdb(ctx); err != nil {
			return err
		}
	} else if err != nil {
		return fmt.Errorf("pgcluster: data directory: %w", err)
	}
	return clearStaleLock(ctx, in.pgdata, in.runDir, in.logger)
}

// initdb creates the cluster in a scratch directory and renames it into
// place, so that an interrupted initdb never leaves a half-made cluster that
// a later Start would try to run.
//
// Local (socket) connections are trusted because the socket directory is
// private (0700, owned by the server's user); TCP connections need the
// generated superuser password.
func (in *instance) initdb(ctx context.Context) error {
	scratch := in.pgdata + ".init"
	if err := os.RemoveAll(scratch); err != nil {
		return fmt.Errorf("pgcluster: remove unfinished initdb: %w", err)
	}
	if err := os.Remove(in.pwFile); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("pgcluster: password file: %w", err)
	}
	if err := os.WriteFile(in.pwFile, []byte(rand.Text()+"\n"), 0o600); err != nil {
		return fmt.Errorf("pgcluster: password file: %w", err)
	}
	// initdb runs as the server's user and reads the file itself.
	if err := in.owner.chown(in.pwFile); err != nil {
		return err
	}

	in.logger.Info("creating PostgreSQL cluster", "data_dir", in.dataDir)
	for _, locale := range []string{"C.UTF-8", "C"} {
		out, err := in.command(ctx, "initdb",
			"--pgdata="+scratch,
			"--username="+superuser,
			"--pwfile="+in.pwFile,
			"--auth-local=trust",
			"--auth-host=scram-sha-256",
			"--encoding=UTF8",
			"--locale="+locale,
		).CombinedOutput()
		if err == nil {
			in.logger.Debug("initdb", "output", string(out))
			break
		}
		if locale != "C" && bytes.Contains(out, []byte("invalid locale")) {
			in.logger.Info("locale not available, trying the next", "locale", locale)
			if err := os.RemoveAll(scratch); err != nil {
				return fmt.Errorf("pgcluster: remove unfinished initdb: %w", err)
			}
			continue
		}
		return fmt.Errorf("pgcluster: initdb: %w; output:\n%s", err, lastLines(string(out), tailLines))
	}
	if err := os.Rename(scratch, in.pgdata); err != nil {
		return fmt.Errorf("pgcluster: move new cluster into place: %w", err)
	}
	return nil
}

// command prepares one of the PostgreSQL binaries to run as the server's
// user.
func (in *instance) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(in.binDir, name), args...)
	cmd.Dir = in.dataDir
	cmd.SysProcAttr = sysProcAttr(in.owner.credential())
	return cmd
}

// launch runs postgres on port and waits until it accepts connections.
// portTaken reports that it failed only because the port was in use.
func (in *instance) launch(ctx context.Context, port int) (c *Cluster, portTaken bool, err error) {
	password, err := os.ReadFile(in.pwFile)
	if err != nil {
		return nil, false, fmt.Errorf("pgcluster: superuser password: %w "+
			"(if it is lost, remove %s to start over with an empty cluster)", err, in.dataDir)
	}
	args := []string{
		"-D", in.pgdata,
		"-c", "listen_addresses=127.0.0.1",
		"-c", "port=" + strconv.Itoa(port),
		"-c", "unix_socket_directories=" + in.socketDir(port),
	}
	args = append(args, in.settings...)

	log := newServerLog(in.logger)
	// Not CommandContext: ctx bounds the startup, not the server.
	cmd := exec.Command(filepath.Join(in.binDir, "postgres"), args...) //nolint:noctx // the server outlives ctx
	cmd.Dir = in.dataDir
	cmd.Stdout = log
	cmd.Stderr = log
	cmd.SysProcAttr = sysProcAttr(in.owner.credential())
	// Backends orphaned by a killed postmaster may hold the log pipe open.
	cmd.WaitDelay = killGrace

	c = &Cluster{
		logger:   in.logger,
		port:     port,
		password: strings.TrimSpace(string(password)),
		log:      log,
		done:     make(chan struct{}),
	}
	if err := c.spawn(cmd); err != nil {
		return nil, false, fmt.Errorf("pgcluster: run postgres: %w", err)
	}
	if err := c.waitReady(ctx, filepath.Join(in.pgdata, "postmaster.pid")); err != nil {
		c.kill()
		tail := log.tail()
		portTaken = strings.Contains(tail, "could not bind") || strings.Contains(tail, "could not create any TCP/IP sockets")
		return nil, portTaken, fmt.Errorf("pgcluster: postgres did not start: %w; server log:\n%s", err, tail)
	}
	return c, false, nil
}

// socketDir returns the Unix socket directory, or "" (no socket) when the
// socket path would exceed the kernel's limit of 107 bytes; the cluster is
// then reachable over TCP only.
func (in *instance) socketDir(port int) string {
	const maxSocketPath = 107
	if len(filepath.Join(in.runDir, ".s.PGSQL."+strconv.Itoa(port))) > maxSocketPath {
		in.logger.Info("data directory path too long for a Unix socket; TCP only", "data_dir", in.dataDir)
		return ""
	}
	return in.runDir
}

// spawn starts cmd and records its exit in c.done.
func (c *Cluster) spawn(cmd *exec.Cmd) error {
	started := make(chan error, 1)
	go func() {
		// Linux sends the parent-death signal when the thread that started the
		// child exits, not the process, so hold this thread until the server
		// has exited.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		c.process = cmd.Process
		started <- nil
		c.exitErr = cmd.Wait()
		close(c.done)
	}()
	return <-started
}

// waitReady waits until the server reports itself ready in pidFile, so that
// polling does not fill the log with "the database system is starting up",
// then checks that it accepts a password connection.
func (c *Cluster) waitReady(ctx context.Context, pidFile string) error {
	cfg, err := pgx.ParseConfig(c.URL("postgres"))
	if err != nil {
		return err
	}
	cfg.ConnectTimeout = time.Second
	for {
		if b, err := os.ReadFile(pidFile); err == nil {
			if pid, status := parseLock(string(b)); pid == c.process.Pid && status == "ready" {
				conn, err := pgx.ConnectConfig(ctx, cfg)
				if err == nil {
					return conn.Close(ctx)
				}
				if pgErr := (*pgconn.PgError)(nil); errors.As(err, &pgErr) && strings.HasPrefix(pgErr.Code, "28") {
					// invalid_authorization_specification, invalid_password:
					// waiting will not help.
					return err
				}
			}
		}
		select {
		case <-c.done:
			return fmt.Errorf("server exited: %w", c.exitErr)
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// kill ends the server without a checkpoint: an immediate shutdown, then
// SIGKILL if that hangs. The next start runs crash recovery.
func (c *Cluster) kill() {
	_ = c.process.Signal(syscall.SIGQUIT)
	select {
	case <-c.done:
		return
	case <-time.After(killGrace):
	}
	_ = c.process.Kill()
	<-c.done
}
