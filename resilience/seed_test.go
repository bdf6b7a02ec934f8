package resilience

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/nara-care/nara/access"
	"github.com/nara-care/nara/identity/secret"
	"github.com/nara-care/nara/identity/token"
	"github.com/nara-care/nara/store"
)

// world is what a test seeded: one vaccination unit's slots and citizens
// who are logged in, with the tokens a completed BankID login would give.
type world struct {
	databaseURL string
	slots       []string // slot ids, in time order
	capacity    int
	citizens    []citizen
}

type citizen struct {
	personID, token string
}

// seed migrates the database at databaseURL and fills it with slots of
// capacity places each, the first starting at first and the rest five
// minutes apart, and n citizens with a session each.
func seed(t *testing.T, databaseURL string, slots, capacity, n int, first time.Time) world {
	t.Helper()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if err := store.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	st := store.New(pool, store.Options{})
	if err := st.CareProviderUpsert(ctx, store.CareProvider{HSAID: "SE2321000016-RESI", Name: "Region Prov", IsPublic: true}); err != nil {
		t.Fatal(err)
	}
	const unit = "SE2321000016-R001"
	if err := st.CareUnitUpsert(ctx, store.CareUnit{
		HSAID: unit, ProviderHSAID: "SE2321000016-RESI", Name: "Vaccinationsmottagningen",
		Street: "Vaccinvägen 1", PostalCode: "11122", City: "Stockholm", Municipality: "Stockholm",
		Latitude: 59.3, Longitude: 18.0, Phone: "08-123 456 00",
	}); err != nil {
		t.Fatal(err)
	}
	var want []store.Slot
	for i := range slots {
		start := first.Add(time.Duration(i) * 5 * time.Minute)
		want = append(want, store.Slot{
			CareUnitHSAID: unit, ServiceCode: "vaccination", StartsAt: start, EndsAt: start.Add(5 * time.Minute),
			Capacity: capacity, CreatedBy: "staff:test",
		})
	}
	published, err := st.SlotsPublish(ctx, want)
	if err != nil {
		t.Fatalf("publish slots: %v", err)
	}
	w := world{databaseURL: databaseURL, capacity: capacity}
	for _, s := range published {
		w.slots = append(w.slots, s.ID)
	}
	// People and sessions as completed BankID logins leave them.
	if _, err := pool.Exec(ctx, `
		WITH p AS (
			INSERT INTO person (pnr_hash, pnr_sealed, given_name, surname, birth_date, last_login_at)
			SELECT sha256(('resilience' || i)::bytea), '\x00'::bytea, 'Prov' || i, 'Testsson', DATE '1960-01-01' + i, now()
			  FROM generate_series(1, $1) i
			RETURNING id
		)
		INSERT INTO session (person_id, device_id, device_name, platform, expires_at)
		SELECT id, 'resilience-' || id, 'Telefon', 'ios', now() + interval '1 day' FROM p`, n); err != nil {
		t.Fatalf("citizens: %v", err)
	}
	keys, err := secret.Derive(masterKey, "env")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := token.NewSigner(keys.Token, nil)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := pool.Query(ctx, `SELECT id::text, person_id::text FROM session ORDER BY device_id`)
	if err != nil {
		t.Fatal(err)
	}
	type session struct{ id, person string }
	sessions, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (session, error) {
		var s session
		return s, row.Scan(&s.id, &s.person)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sessions {
		tok, _, err := signer.Issue(token.Claims{
			SessionID: s.id, Subject: s.person, Kind: token.KindCitizen,
			Roles: []string{string(access.RoleCitizen)},
		}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		w.citizens = append(w.citizens, citizen{personID: s.person, token: tok})
	}
	if len(w.citizens) != n {
		t.Fatalf("seeded %d citizens, want %d", len(w.citizens), n)
	}
	return w
}

// slotStart is a time far enough ahead that no reminder falls due during a
// test: three days from now, at 08:00 UTC.
func slotStart() time.Time {
	d := time.Now().UTC().AddDate(0, 0, 3)
	return time.Date(d.Year(), d.Month(), d.Day(), 8, 0, 0, 0, time.UTC)
}

const activeStatuses = `('proposed', 'pending', 'booked', 'arrived')`

// verify checks the database against what the citizens were told: no slot
// overbooked, nobody booked twice, no idempotency key used for two
// appointments, and every booking a citizen was told of, and only those,
// held as theirs.
func verify(t *testing.T, w world, told map[string]string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, w.databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	checks := []struct {
		what string
		sql  string
	}{
		{"slots whose counter exceeds capacity", `SELECT count(*) FROM slot WHERE booked > capacity`},
		{"slots with more active appointments than places", `SELECT count(*) FROM (SELECT s.id FROM slot s JOIN appointment a ON a.slot_id = s.id
			WHERE a.status IN ` + activeStatuses + ` GROUP BY s.id, s.capacity HAVING count(*) > s.capacity) x`},
		{"citizens with two active bookings", `SELECT count(*) FROM (SELECT patient_id FROM appointment
			WHERE status IN ` + activeStatuses + ` GROUP BY patient_id HAVING count(*) > 1) x`},
		{"idempotency keys booked twice", `SELECT count(*) FROM (SELECT patient_id, idempotency_key FROM appointment
			GROUP BY patient_id, idempotency_key HAVING count(*) > 1) x`},
		{"slots whose counter differs from their appointments", `SELECT count(*) FROM slot s WHERE s.booked <> (SELECT count(*) FROM appointment a
			WHERE a.slot_id = s.id AND a.status IN ` + activeStatuses + `)`},
	}
	for _, c := range checks {
		var n int
		if err := conn.QueryRow(ctx, c.sql).Scan(&n); err != nil {
			t.Fatalf("verify %s: %v", c.what, err)
		}
		if n != 0 {
			t.Errorf("%s: %d, want 0", c.what, n)
		}
	}
	rows, err := conn.Query(ctx, `SELECT patient_id::text, id::text FROM appointment WHERE status IN `+activeStatuses)
	if err != nil {
		t.Fatal(err)
	}
	held := map[string]string{}
	var person, id string
	if _, err := pgx.ForEachRow(rows, []any{&person, &id}, func() error { held[person] = id; return nil }); err != nil {
		t.Fatal(err)
	}
	var lost, unanswered int
	for p, id := range told {
		if held[p] != id {
			lost++
		}
	}
	for p, id := range held {
		if told[p] != id {
			unanswered++
		}
	}
	if lost != 0 {
		t.Errorf("%d bookings the citizens were told of are not in the database", lost)
	}
	if unanswered != 0 {
		t.Errorf("%d bookings in the database were never answered to their citizen", unanswered)
	}
	if len(held) == 0 {
		t.Error("no bookings at all")
	}
	t.Logf("%d bookings verified", len(held))
}

// pad names a citizen's n-th booking attempt.
func key(citizen, attempt int) string { return fmt.Sprintf("resilience-%d-%d", citizen, attempt) }
