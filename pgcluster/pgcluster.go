// Package pgcluster runs a private PostgreSQL cluster from the server binaries
// installed on the machine, so that `nara serve` works without a database
// administrator and every `go test` run gets a real server without Docker.
//
// A cluster lives in one directory (Config.DataDir) and is reachable only from
// this machine: TCP on 127.0.0.1 with a generated superuser password, and a
// Unix socket in a private directory. The server is a child process of the
// caller; on Linux it also shuts down when the caller dies, even by SIGKILL.
package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// superuser is the role initdb creates; URL connects as it.
const superuser = "postgres"

// ErrBinariesNotFound is returned by Start when no initdb and postgres can be
// found, so that a caller can fall back to an external server or tell the
// operator what to install.
var ErrBinariesNotFound = errors.New("pgcluster: PostgreSQL server binaries (initdb, postgres) not found; " +
	"install them with `sudo apt-get install -y postgresql` (Debian/Ubuntu) " +
	"or set DATABASE_URL to an existing server")

// ErrAlreadyRunning is returned by Start when a live PostgreSQL server
// already uses the data directory, because two servers on one directory
// would corrupt it.
var ErrAlreadyRunning = errors.New("pgcluster: a PostgreSQL server is already running in the data directory")

// Config says where the cluster lives and how to run it. Only DataDir is
// required.
type Config struct {
	// DataDir holds the whole cluster and nothing else: the PostgreSQL data
	// directory (DataDir/pgdata), the Unix socket directory (DataDir/run) and
	// the superuser password (DataDir/password, mode 0600). It is created
	// (mode 0700) if missing and reused if it already holds a cluster. When
	// the process is root it is handed to RunAsUser, which must be able to
	// enter every parent directory. Required; there is no default.
	DataDir string

	// BinDir is the directory holding initdb and postgres. The default
	// (empty) uses, in order: /usr/lib/postgresql/N/bin when the existing
	// cluster was made by version N; `pg_config --bindir`; the newest
	// /usr/lib/postgresql/*/bin; the directory of initdb on PATH.
	BinDir string

	// Port is the TCP port on 127.0.0.1. The default (0) picks a free port
	// on every start, so read URL after each Start.
	Port int

	// Logger receives start and stop events and the server's own log lines
	// (warnings and errors at their level, everything else at debug). The
	// default (nil) discards them.
	Logger *slog.Logger

	// RunAsUser is the OS user that owns the cluster files and runs the
	// server when the process is root, because PostgreSQL refuses to run as
	// root. The default ("nara") is created as a system user if missing;
	// if that fails Start falls back to "postgres", then "nobody". It is
	// ignored when the process is not root: the server then runs as the
	// current user.
	RunAsUser string

	// Settings are extra server parameters, passed as `-c name=value`, for
	// example {"max_connections": "200"}. The default (nil) keeps
	// PostgreSQL's defaults, durability included. listen_addresses, port and
	// unix_socket_directories belong to Start and are rejected.
	Settings map[string]string
}

// Cluster is a running PostgreSQL server started by Start. Its methods are
// safe for concurrent use.
type Cluster struct {
	logger   *slog.Logger
	port     int
	password string
	process  *os.Process
	log      *serverLog

	// done is closed once the server process has exited; exitErr is set
	// before that.
	done    chan struct{}
	exitErr error

	stopOnce sync.Once
	stopErr  error
}

// Start runs the cluster in cfg.DataDir, creating it with initdb on first
// use, and returns once the server accepts connections. A postmaster.pid left
// by a crashed server is removed; a live server in the same directory gives
// ErrAlreadyRunning. ctx bounds the startup only, never the server's life:
// call Stop for that.
func Start(ctx context.Context, cfg Config) (*Cluster, error) {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.DataDir == "" {
		return nil, errors.New("pgcluster: Config.DataDir is required")
	}
	if cfg.Port < 0 || cfg.Port > 65535 {
		return nil, fmt.Errorf("pgcluster: Config.Port %d is out of range", cfg.Port)
	}
	settings, err := settingArgs(cfg.Settings)
	if err != nil {
		return nil, err
	}
	dataDir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: data directory: %w", err)
	}
	in := &instance{
		logger:   logger,
		dataDir:  dataDir,
		pgdata:   filepath.Join(dataDir, "pgdata"),
		runDir:   filepath.Join(dataDir, "run"),
		pwFile:   filepath.Join(dataDir, "password"),
		settings: settings,
	}
	if in.binDir, err = findBinDir(ctx, cfg.BinDir, in.pgdata); err != nil {
		return nil, err
	}
	if in.owner, err = resolveOwner(ctx, cfg.RunAsUser, logger); err != nil {
		return nil, err
	}
	if err := in.prepare(ctx); err != nil {
		return nil, err
	}

	const attempts = 3
	for attempt := 1; ; attempt++ {
		port := cfg.Port
		if port == 0 {
			if port, err = freePort(); err != nil {
				return nil, err
			}
		}
		c, portTaken, err := in.launch(ctx, port)
		if err == nil {
			logger.Info("postgres started", "data_dir", dataDir, "port", port, "bin_dir", in.binDir, "user", in.owner.name())
			return c, nil
		}
		// A port picked by freePort can be taken by someone else before the
		// server binds it; try another.
		if !portTaken || cfg.Port != 0 || attempt == attempts {
			return nil, err
		}
		logger.Info("port taken, retrying", "port", port)
	}
}

// URL returns a connection URL for database dbname, usable by pgx and libpq.
// It carries the superuser password, so keep it out of logs.
func (c *Cluster) URL(dbname string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(superuser, c.password),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(c.port)),
		Path:     "/" + dbname,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// Done is closed when the server process exits, so that a long-running
// caller can notice that its database went away.
func (c *Cluster) Done() <-chan struct{} {
	return c.done
}

// Stop shuts the server down (fast shutdown: open sessions are ended, data
// is checkpointed) and waits for it to exit. If ctx ends first the server is
// killed, to be recovered on the next Start. Calling Stop again returns the
// first result.
func (c *Cluster) Stop(ctx context.Context) error {
	c.stopOnce.Do(func() { c.stopErr = c.stop(ctx) })
	return c.stopErr
}

func (c *Cluster) stop(ctx context.Context) error {
	select {
	case <-c.done:
		if c.exitErr != nil {
			return fmt.Errorf("pgcluster: server had already exited: %w", c.exitErr)
		}
		return nil
	default:
	}
	// SIGINT asks the postmaster for a fast shutdown.
	if err := c.process.Signal(os.Interrupt); err != nil {
		c.logger.Warn("signal postgres", "err", err)
	}
	select {
	case <-c.done:
		if c.exitErr != nil {
			return fmt.Errorf("pgcluster: server exited: %w", c.exitErr)
		}
		c.logger.Info("postgres stopped")
		return nil
	case <-ctx.Done():
		c.kill()
		return fmt.Errorf("pgcluster: fast shutdown did not finish, server killed: %w", context.Cause(ctx))
	}
}

// settingArgs turns Config.Settings into postgres arguments in a stable
// order, after the defaults that make the log readable through slog.
func settingArgs(settings map[string]string) ([]string, error) {
	merged := map[string]string{"log_line_prefix": ""}
	for name, value := range settings {
		if !validSettingName(name) {
			return nil, fmt.Errorf("pgcluster: invalid setting name %q", name)
		}
		switch strings.ToLower(name) {
		case "listen_addresses", "port", "unix_socket_directories":
			return nil, fmt.Errorf("pgcluster: setting %q is managed by pgcluster", name)
		}
		merged[strings.ToLower(name)] = value
	}
	names := make([]string, 0, len(merged))
	for name := range merged {
		names = append(names, name)
	}
	slices.Sort(names)
	args := make([]string, 0, 2*len(names))
	for _, name := range names {
		args = append(args, "-c", name+"="+merged[name])
	}
	return args, nil
}

// validSettingName accepts the characters of PostgreSQL parameter names,
// including custom ones such as auto_explain.log_min_duration.
func validSettingName(name string) bool {
	if name == "" {
		return false
	}
	for i, r := range name {
		switch {
		case r == '_', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case i > 0 && (r == '.' || r >= '0' && r <= '9'):
		default:
			return false
		}
	}
	return true
}

// freePort asks the kernel for an unused loopback port.
func freePort() (int, error) {
	l, err := new(net.ListenConfig).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgcluster: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// killGrace is how long an immediate shutdown may take before SIGKILL.
const killGrace = 5 * time.Second
