// Package storetest gives tests a real, migrated PostgreSQL database of their
// own. One cluster serves a whole test binary (or TEST_DATABASE_URL names an
// existing server); each test gets a fresh database cloned from a migrated
// template and dropped when the test ends.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/nara-care/nara/pgcluster"
	"github.com/nara-care/nara/store"
)

// harness is the per-process test database server.
type harness struct {
	adminURL string // the maintenance database, for CREATE/DROP DATABASE
	template string // a migrated database to clone
	stop     func()
}

var (
	mu      sync.Mutex
	current *harness
)

// Run starts the test database server, runs the tests and stops it. Use it
// from TestMain: os.Exit(storetest.Run(m)).
func Run(m *testing.M) int {
	h, err := start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "storetest:", err)
		return 1
	}
	mu.Lock()
	current = h
	mu.Unlock()
	defer h.stop()
	return m.Run()
}

func start() (*harness, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	h := &harness{stop: func() {}}
	if url := os.Getenv("TEST_DATABASE_URL"); url != "" {
		h.adminURL = url
	} else {
		dir, err := os.MkdirTemp("", "nara-test-pg-")
		if err != nil {
			return nil, err
		}
		// When tests run as root the cluster runs as an unprivileged user,
		// which must be able to enter the folder.
		if err := os.Chmod(dir, 0o755); err != nil {
			return nil, err
		}
		cluster, err := pgcluster.Start(ctx, pgcluster.Config{
			DataDir: dir,
			Logger:  testLogger(),
		})
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		h.adminURL = cluster.URL("postgres")
		h.stop = func() {
			stopCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cluster.Stop(stopCtx)
			os.RemoveAll(dir)
		}
	}
	h.template = "nara_tmpl_" + randomSuffix()
	if err := h.exec(ctx, "CREATE DATABASE "+h.template); err != nil {
		h.stop()
		return nil, err
	}
	pool, err := pgxpool.New(ctx, withDatabase(h.adminURL, h.template))
	if err != nil {
		h.stop()
		return nil, err
	}
	err = store.Migrate(ctx, pool)
	pool.Close()
	if err != nil {
		h.stop()
		return nil, fmt.Errorf("migrate template: %w", err)
	}
	stop := h.stop
	h.stop = func() {
		dropCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		h.exec(dropCtx, "DROP DATABASE IF EXISTS "+h.template+" WITH (FORCE)")
		stop()
	}
	return h, nil
}

// testLogger shows the test cluster's own log only when NARA_TEST_PGLOG is
// set: tests provoke errors on purpose, and PostgreSQL logs each one.
func testLogger() *slog.Logger {
	if os.Getenv("NARA_TEST_PGLOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func (h *harness) exec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, h.adminURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}

func randomSuffix() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// withDatabase replaces the database name in a postgres:// URL.
func withDatabase(url, db string) string {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		panic(err)
	}
	prefix, query, _ := strings.Cut(url, "?")
	i := strings.LastIndex(prefix, "/")
	if i < len("postgres://") || cfg.Database == "" {
		prefix += "/" + db
	} else {
		prefix = prefix[:i+1] + db
	}
	if query != "" {
		return prefix + "?" + query
	}
	return prefix
}

// URL returns the connection URL of a fresh, migrated database that is
// dropped when t ends.
func URL(t testing.TB) string {
	t.Helper()
	mu.Lock()
	h := current
	mu.Unlock()
	if h == nil {
		t.Fatal("storetest: call storetest.Run from TestMain")
	}
	name := "nara_test_" + randomSuffix()
	ctx := context.Background()
	if err := h.exec(ctx, "CREATE DATABASE "+name+" TEMPLATE "+h.template); err != nil {
		t.Fatalf("storetest: create database: %v", err)
	}
	t.Cleanup(func() {
		if err := h.exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("storetest: drop database: %v", err)
		}
	})
	return withDatabase(h.adminURL, name)
}

// NewPool returns a pool on a fresh, migrated database; both are closed and
// dropped when t ends.
func NewPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), URL(t))
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// NewStore returns a Store on a fresh, migrated database.
func NewStore(t testing.TB) *store.Store {
	t.Helper()
	return store.New(NewPool(t), store.Options{})
}
