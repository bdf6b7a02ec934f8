package demo

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/nara-care/nara/identity/pnr"
	"github.com/nara-care/nara/pgcluster"
	"github.com/nara-care/nara/store"
)

// serverLog keeps the lines PostgreSQL logs at warning level or above.
type serverLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *serverLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *serverLog) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *serverLog) WithGroup(string) slog.Handler            { return l }
func (l *serverLog) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, r.Message)
	return nil
}

// since returns the lines logged after the first n.
func (l *serverLog) since(n int) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines[n:]...)
}

func (l *serverLog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.lines)
}

// TestSeedTwiceIsSilent loads the demo as two starts of `nara serve --demo`
// would, on a cluster of its own whose log the test reads: the second load
// must change nothing and make PostgreSQL log no error.
func TestSeedTwiceIsSilent(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// A root test run hands the cluster to an unprivileged user, who must
	// be able to enter the folder: t.TempDir's parent is private.
	dir, err := os.MkdirTemp("", "nara-demo-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	log := &serverLog{}
	cluster, err := pgcluster.Start(ctx, pgcluster.Config{DataDir: dir, Logger: slog.New(log)})
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Stop(context.Background())
	if err := cluster.CreateDatabase(ctx, "nara"); err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.New(ctx, cluster.URL("nara"))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if err := store.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	st := store.New(pool, store.Options{})
	protector, err := pnr.NewProtector(pnr.Key{ID: "test", Secret: []byte(strings.Repeat("p", 32))})
	if err != nil {
		t.Fatal(err)
	}

	if err := Seed(ctx, st, protector); err != nil {
		t.Fatalf("first Seed: %v", err)
	}
	count := func() (n int) {
		if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM slot) + (SELECT count(*) FROM help_article_version)`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before, mark := count(), log.len()
	if err := Seed(ctx, st, protector); err != nil {
		t.Fatalf("second Seed: %v", err)
	}
	if after := count(); after != before {
		t.Errorf("second Seed changed the slots and article versions from %d to %d rows", before, after)
	}

	// An error raised on purpose marks the end: PostgreSQL has logged
	// everything the second load caused once the marker is in the log.
	const marker = "demo test: end of the second load"
	if _, err := pool.Exec(ctx, `DO $$ BEGIN RAISE EXCEPTION '`+marker+`'; END $$`); err == nil {
		t.Fatal("the marker statement did not fail")
	}
	var lines []string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		lines = log.since(mark)
		if strings.Contains(strings.Join(lines, "\n"), marker) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the marker never reached the server log; logged:\n%s", strings.Join(lines, "\n"))
		}
	}
	for _, line := range lines {
		if strings.Contains(line, "ERROR:") && !strings.Contains(line, marker) {
			t.Errorf("second Seed made PostgreSQL log %q", line)
		}
	}
}
