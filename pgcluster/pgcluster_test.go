package pgcluster_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/nara-care/nara/pgcluster"
)

// setup returns a Config for a new cluster in a temporary directory.
func setup(t *testing.T) pgcluster.Config {
	t.Helper()
	dir := t.TempDir()
	if os.Geteuid() == 0 {
		// As root the server runs as an unprivileged user, who must be able to
		// enter the directories the testing package creates with mode 0700.
		for _, d := range []string{filepath.Dir(dir), dir} {
			if err := os.Chmod(d, 0o711); err != nil {
				t.Fatal(err)
			}
		}
	}
	return pgcluster.Config{
		DataDir: filepath.Join(dir, "cluster"),
		Logger:  slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
}

// start starts a cluster and stops it when the test ends.
func start(t *testing.T, cfg pgcluster.Config) *pgcluster.Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	c, err := pgcluster.Start(ctx, cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := c.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return c
}

// stop stops a cluster before the test ends.
func stop(t *testing.T, c *pgcluster.Cluster) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := c.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
}

// query returns the single text value of sql run in database dbname.
func query(t *testing.T, c *pgcluster.Cluster, dbname, sql string) string {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), c.URL(dbname))
	if err != nil {
		t.Fatalf("connect to %s: %v", dbname, err)
	}
	defer conn.Close(context.Background())
	var got string
	if err := conn.QueryRow(t.Context(), sql).Scan(&got); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return got
}

func TestCluster(t *testing.T) {
	t.Parallel()
	cfg := setup(t)
	cfg.Settings = map[string]string{"max_connections": "42"}
	c := start(t, cfg)

	if got := query(t, c, "postgres", "select 1::text"); got != "1" {
		t.Errorf("select 1 got %q, want %q", got, "1")
	}
	if got := query(t, c, "postgres", "show max_connections"); got != "42" {
		t.Errorf("max_connections got %q, want %q", got, "42")
	}
	if got := query(t, c, "postgres", "show listen_addresses"); got != "127.0.0.1" {
		t.Errorf("listen_addresses got %q, want %q", got, "127.0.0.1")
	}
	if got := query(t, c, "postgres", "select pg_encoding_to_char(encoding) from pg_database where datname = 'postgres'"); got != "UTF8" {
		t.Errorf("encoding got %q, want %q", got, "UTF8")
	}
	if fi, err := os.Stat(filepath.Join(cfg.DataDir, "password")); err != nil {
		t.Error(err)
	} else if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("password file mode got %v, want %v", got, os.FileMode(0o600))
	}
	for range 2 {
		if err := c.CreateDatabase(t.Context(), "Nära app"); err != nil {
			t.Fatalf("CreateDatabase: %v", err)
		}
	}
	conn, err := pgx.Connect(t.Context(), c.URL("Nära app"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(t.Context(), "create table note (body text); insert into note values ('kept')"); err != nil {
		t.Fatal(err)
	}
	conn.Close(t.Context())

	_, err = pgcluster.Start(t.Context(), cfg)
	if !errors.Is(err, pgcluster.ErrAlreadyRunning) {
		t.Errorf("second Start on a running cluster got %v, want ErrAlreadyRunning", err)
	}

	stop(t, c)
	stop(t, c) // a second Stop is harmless
	select {
	case <-c.Done():
	default:
		t.Error("Done is open after Stop")
	}

	c = start(t, cfg)
	if got := query(t, c, "Nära app", "select body from note"); got != "kept" {
		t.Errorf("after restart got %q, want %q", got, "kept")
	}
}

func TestStartAfterCrash(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		crash func(t *testing.T, c *pgcluster.Cluster, pidFile string)
	}{
		{
			name: "stale lock with a dead pid",
			crash: func(t *testing.T, c *pgcluster.Cluster, pidFile string) {
				stop(t, c)
				dead := exec.Command("true")
				if err := dead.Run(); err != nil {
					t.Fatal(err)
				}
				lock := strconv.Itoa(dead.ProcessState.Pid()) + "\n" + filepath.Dir(pidFile) + "\n"
				if err := os.WriteFile(pidFile, []byte(lock), 0o600); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "server killed",
			crash: func(t *testing.T, c *pgcluster.Cluster, pidFile string) {
				b, err := os.ReadFile(pidFile)
				if err != nil {
					t.Fatal(err)
				}
				pid, err := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
				if err != nil {
					t.Fatal(err)
				}
				if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
				<-c.Done()
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := setup(t)
			c, err := pgcluster.Start(t.Context(), cfg)
			if err != nil {
				t.Fatalf("Start: %v", err)
			}
			// The crash is deliberate: whatever Stop says about it is expected.
			t.Cleanup(func() { _ = c.Stop(context.Background()) })
			tt.crash(t, c, filepath.Join(cfg.DataDir, "pgdata", "postmaster.pid"))

			c2 := start(t, cfg)
			if got := query(t, c2, "postgres", "select 1::text"); got != "1" {
				t.Errorf("select 1 got %q, want %q", got, "1")
			}
		})
	}
}

func TestStartErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		modify func(cfg *pgcluster.Config, emptyDir string)
		want   error // nil: any error
		text   string
	}{
		{
			name:   "binaries missing",
			modify: func(cfg *pgcluster.Config, emptyDir string) { cfg.BinDir = emptyDir },
			want:   pgcluster.ErrBinariesNotFound,
			text:   "apt-get install -y postgresql",
		},
		{
			name:   "no data directory",
			modify: func(cfg *pgcluster.Config, _ string) { cfg.DataDir = "" },
			text:   "DataDir",
		},
		{
			name:   "managed setting",
			modify: func(cfg *pgcluster.Config, _ string) { cfg.Settings = map[string]string{"Port": "1"} },
			text:   "managed",
		},
		{
			name:   "bad setting name",
			modify: func(cfg *pgcluster.Config, _ string) { cfg.Settings = map[string]string{"work_mem=1;x": "1"} },
			text:   "invalid setting",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := setup(t)
			tt.modify(&cfg, t.TempDir())
			c, err := pgcluster.Start(t.Context(), cfg)
			if err == nil {
				_ = c.Stop(t.Context())
				t.Fatal("Start succeeded, want an error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("Start got %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.text) {
				t.Errorf("Start error %q does not mention %q", err, tt.text)
			}
		})
	}
}

func TestNewestVersion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		dirs []string
		want string
	}{
		{nil, ""},
		{[]string{"/usr/lib/postgresql/15/bin"}, "/usr/lib/postgresql/15/bin"},
		{[]string{"/usr/lib/postgresql/9.6/bin", "/usr/lib/postgresql/10/bin"}, "/usr/lib/postgresql/10/bin"},
		{[]string{"/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/9.6/bin", "/usr/lib/postgresql/15/bin"}, "/usr/lib/postgresql/16/bin"},
		{[]string{"/usr/lib/postgresql/dev/bin", "/usr/lib/postgresql/14/bin"}, "/usr/lib/postgresql/14/bin"},
		{[]string{"/usr/lib/postgresql/dev/bin"}, ""},
	}
	for _, tt := range tests {
		if got := pgcluster.NewestVersion(tt.dirs); got != tt.want {
			t.Errorf("NewestVersion(%q) got %q, want %q", tt.dirs, got, tt.want)
		}
	}
}

// helperDataDir names the environment variable that turns
// TestHelperStartAndWait into a child process for TestStopsWhenCallerDies.
const helperDataDir = "PGCLUSTER_HELPER_DATA_DIR"

func TestStopsWhenCallerDies(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("the parent-death signal is Linux only")
	}
	cfg := setup(t)
	helper := exec.Command(os.Args[0], "-test.run=^TestHelperStartAndWait$")
	helper.Env = append(os.Environ(), helperDataDir+"="+cfg.DataDir)
	out, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = helper.Process.Kill(); _ = helper.Wait() })
	buf := make([]byte, len("ready\n"))
	if _, err := io.ReadFull(out, buf); err != nil || string(buf) != "ready\n" {
		t.Fatalf("helper said %q, %v; want ready", buf, err)
	}

	if err := helper.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = helper.Wait()
	// A fast shutdown removes postmaster.pid as its last step.
	pidFile := filepath.Join(cfg.DataDir, "pgdata", "postmaster.pid")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(pidFile); errors.Is(err, os.ErrNotExist) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("server still running 10s after its parent was killed")
		}
	}
}

// TestHelperStartAndWait is the child process of TestStopsWhenCallerDies: it
// starts a cluster, says "ready" and waits to be killed.
func TestHelperStartAndWait(t *testing.T) {
	dataDir := os.Getenv(helperDataDir)
	if dataDir == "" {
		t.Skip("helper process for TestStopsWhenCallerDies")
	}
	if _, err := pgcluster.Start(t.Context(), pgcluster.Config{DataDir: dataDir}); err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("ready\n")
	time.Sleep(time.Minute)
}
