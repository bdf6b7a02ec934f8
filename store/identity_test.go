package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nara-care/nara/store"
	"github.com/nara-care/nara/store/storetest"
)

func TestAccessLogIsAppendOnly(t *testing.T) {
	t.Parallel()
	pool := storetest.NewPool(t)
	st := store.New(pool, store.Options{})
	ctx := context.Background()
	p, err := st.PersonUpsert(ctx, []byte("hash-1"), []byte("sealed"), "Anna", "Provsson", time.Date(1985, 7, 9, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.AccessLogAppend(ctx, store.AccessLogEntry{
		StaffHSAID: "SE2321000016-D001", StaffName: "Erik", AssignmentID: "MU1", CareUnitHSAID: "SE2321000016-1A01",
		PatientID: p.ID, Action: "read appointments",
	}); err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{
		"UPDATE access_log SET action = 'nothing'",
		"DELETE FROM access_log",
		"TRUNCATE access_log",
	} {
		if _, err := pool.Exec(ctx, sql); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s got %v, want the append-only refusal", sql, err)
		}
	}
	entries, err := st.AccessLogList(ctx, p.ID, 0, 10)
	if err != nil || len(entries) != 1 || entries[0].Action != "read appointments" {
		t.Errorf("access log after the attempts got %v, %v", entries, err)
	}
}

func TestRateLimitTake(t *testing.T) {
	t.Parallel()
	st := storetest.NewStore(t)
	ctx := context.Background()
	for i := 1; i <= 4; i++ {
		err := st.RateLimitTake(ctx, "k", time.Minute, 3)
		if want := i > 3; (err != nil) != want || (err != nil && !errors.Is(err, store.ErrRateLimited)) {
			t.Errorf("take %d got %v, want limited=%v", i, err, want)
		}
	}
	if err := st.RateLimitTake(ctx, "other", time.Minute, 3); err != nil {
		t.Errorf("another key got %v", err)
	}
}

func TestSessionRefreshReuseRevokes(t *testing.T) {
	t.Parallel()
	st := storetest.NewStore(t)
	ctx := context.Background()
	sess, err := st.StaffSessionCreate(ctx, "SE-1", "Erik", nil, store.Session{
		DeviceID: "dev", Platform: "web", ExpiresAt: time.Now().Add(time.Hour),
	}, []byte("r1"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.SessionRefresh(ctx, []byte("r1"), []byte("r2"), "dev", store.Limit{}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SessionRefresh(ctx, []byte("r1"), []byte("r3"), "dev", store.Limit{}); !errors.Is(err, store.ErrTokenReused) {
		t.Fatalf("reuse got %v, want ErrTokenReused", err)
	}
	if _, err := st.SessionRefresh(ctx, []byte("r2"), []byte("r4"), "dev", store.Limit{}); !errors.Is(err, store.ErrSessionEnded) {
		t.Errorf("refresh after reuse got %v, want ErrSessionEnded", err)
	}
	if ok, err := st.SessionActive(ctx, sess.ID); ok || err != nil {
		t.Errorf("session active after reuse: %v, %v", ok, err)
	}
}

// TestStaffLoginCreateExpiresOldLogins removes started staff logins that
// are past their age when the next one starts, and keeps younger ones.
func TestStaffLoginCreateExpiresOldLogins(t *testing.T) {
	t.Parallel()
	pool := storetest.NewPool(t)
	st := store.New(pool, store.Options{})
	ctx := context.Background()
	login := func(state string) store.StaffLogin {
		return store.StaffLogin{State: state, Nonce: "n", Verifier: "v", DeviceID: "tablet", Platform: "web"}
	}
	for _, state := range []string{"old-1", "old-2", "young"} {
		if err := st.StaffLoginCreate(ctx, login(state), 10*time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pool.Exec(ctx, `UPDATE staff_login SET created_at = now() - interval '11 minutes' WHERE state LIKE 'old-%'`); err != nil {
		t.Fatal(err)
	}
	if err := st.StaffLoginCreate(ctx, login("new"), 10*time.Minute); err != nil {
		t.Fatal(err)
	}
	var states []string
	rows, err := pool.Query(ctx, `SELECT state FROM staff_login ORDER BY state`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		states = append(states, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if strings.Join(states, ",") != "new,young" {
		t.Errorf("staff logins after a new start got %v, want [new young]", states)
	}
}
