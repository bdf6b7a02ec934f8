package resilience

import (
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/nara-care/nara/pgcluster"
)

// harness is what every test of the package shares: the nara binary built
// from this source, and one PostgreSQL cluster on a fixed port, so that a
// restarted cluster is reached at the same URL.
type harness struct {
	binary  string
	dataDir string
	port    int
	cluster *pgcluster.Cluster
}

// h is set by TestMain before any test runs.
var h *harness

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		fmt.Println("resilience: skipped in -short mode")
		os.Exit(0)
	}
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "nara-resilience-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "resilience:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	// The cluster runs as an unprivileged user when tests run as root; it
	// must be able to enter the folder.
	if err := os.Chmod(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "resilience:", err)
		return 1
	}
	h = &harness{binary: filepath.Join(dir, "nara"), dataDir: filepath.Join(dir, "pg")}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, "go", "build", "-o", h.binary, "github.com/nara-care/nara/cmd/nara")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "resilience: build nara:", err)
		return 1
	}
	if h.port, err = freePort(); err != nil {
		fmt.Fprintln(os.Stderr, "resilience:", err)
		return 1
	}
	if err := h.startCluster(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "resilience:", err)
		return 1
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if h.cluster != nil {
			_ = h.cluster.Stop(stopCtx)
		}
	}()
	return m.Run()
}

// startCluster starts (or starts again) the shared cluster.
func (h *harness) startCluster(ctx context.Context) error {
	c, err := pgcluster.Start(ctx, pgcluster.Config{
		DataDir: h.dataDir, Port: h.port,
		// Fast restarts and no fsync wait: the data is thrown away.
		Settings: map[string]string{"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"},
	})
	if err != nil {
		return err
	}
	h.cluster = c
	return nil
}

// stopCluster stops the shared cluster the way an operator's restart does:
// a fast shutdown that ends every connection.
func (h *harness) stopCluster(ctx context.Context) error {
	err := h.cluster.Stop(ctx)
	h.cluster = nil
	return err
}

// database creates an empty database for t and returns its URL; it is
// dropped when t ends.
func database(t *testing.T) string {
	t.Helper()
	name := fmt.Sprintf("resilience_%d", time.Now().UnixNano())
	ctx := context.Background()
	admin := h.cluster.URL("postgres")
	exec := func(ctx context.Context, sql string) error {
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			return err
		}
		defer conn.Close(context.Background())
		_, err = conn.Exec(ctx, sql)
		return err
	}
	if err := exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database: %v", err)
		}
	})
	return h.cluster.URL(name)
}

// masterKey is the replicas' NARA_SECRET_KEY, shared so that a token one
// replica signs is good at the other, and so that the tests can sign
// citizens' tokens themselves.
var masterKey = []byte("nara-resilience-secret-key-for-tests-only")

func secretKeyEnv() string {
	return "NARA_SECRET_KEY=" + base64.StdEncoding.EncodeToString(masterKey)
}
