package main

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/nara-care/nara/bench/internal/benchtoken"
	"github.com/nara-care/nara/store"
)

// world is what every run starts from: a copy of the template database.
type world struct {
	units    []string
	slots    int
	capacity int
	from, to time.Time // the slots lie in [from, to)
	citizens []benchtoken.Citizen
	seedTime time.Duration
}

// unitID is the HSA-id of bench unit i.
func unitID(i int) string { return fmt.Sprintf("SE2321000016-R%03d", i+1) }

// seed migrates the template database and fills it: o.units vaccination
// units, o.slots slots of capacity o.capacity spread evenly over them
// (5-minute lane times from 08:00 on days starting three days ahead, so no
// reminder falls due during the run), and o.citizens people with one
// session each. The ceiling's table lives there too.
func seed(ctx context.Context, databaseURL string, o options) (world, error) {
	w := world{capacity: o.capacity}
	begin := time.Now()
	pool, err := pgxpool.New(ctx, databaseURL)
	if err != nil {
		return w, err
	}
	defer pool.Close()
	if err := store.Migrate(ctx, pool); err != nil {
		return w, err
	}
	st := store.New(pool, store.Options{})
	if err := st.CareProviderUpsert(ctx, store.CareProvider{HSAID: "SE2321000016-RUSH", Name: "Region Rusning", IsPublic: true}); err != nil {
		return w, err
	}
	municipalities := []string{"Stockholm", "Solna", "Sundbyberg", "Huddinge", "Nacka"}
	for i := range o.units {
		u := store.CareUnit{
			HSAID: unitID(i), ProviderHSAID: "SE2321000016-RUSH", Name: fmt.Sprintf("Vaccinationsmottagning %02d", i+1),
			Street: fmt.Sprintf("Vaccinvägen %d", i+1), PostalCode: "11122", City: "Stockholm",
			Municipality: municipalities[i%len(municipalities)], Latitude: 59.3 + float64(i)/100, Longitude: 18.0 + float64(i)/100,
			Phone: "08-123 456 00",
		}
		if err := st.CareUnitUpsert(ctx, u); err != nil {
			return w, err
		}
		w.units = append(w.units, u.HSAID)
	}

	// 5-minute lane times, 08:00–18:00 (120 a day), on consecutive days.
	stockholm, err := time.LoadLocation("Europe/Stockholm")
	if err != nil {
		return w, err
	}
	now := time.Now().In(stockholm)
	day0 := time.Date(now.Year(), now.Month(), now.Day()+3, 8, 0, 0, 0, stockholm)
	const perDay = 120
	perUnit := o.slots / o.units
	w.from = day0
	var slots []store.Slot
	for u := range o.units {
		for k := range perUnit {
			day := k / perDay
			start := time.Date(day0.Year(), day0.Month(), day0.Day()+day, 8, 0, 0, 0, stockholm).Add(time.Duration(k%perDay) * 5 * time.Minute)
			slots = append(slots, store.Slot{
				CareUnitHSAID: unitID(u), ServiceCode: "vaccination", StartsAt: start, EndsAt: start.Add(5 * time.Minute),
				Capacity: o.capacity, CreatedBy: "staff:bench",
			})
			if end := start.Add(5 * time.Minute); end.After(w.to) {
				w.to = end
			}
		}
	}
	published, err := st.SlotsPublish(ctx, slots)
	if err != nil {
		return w, fmt.Errorf("publish slots: %w", err)
	}
	w.slots = len(published)

	// People and sessions as completed BankID logins leave them (the
	// refresh tokens are left out: no request here refreshes).
	if _, err := pool.Exec(ctx, `
		WITH p AS (
			INSERT INTO person (pnr_hash, pnr_sealed, given_name, surname, birth_date, last_login_at)
			SELECT sha256(('rush' || i)::bytea), '\x00'::bytea, 'Rusning' || i, 'Testsson', DATE '1960-01-01' + (i % 15000), now()
			  FROM generate_series(1, $1) i
			RETURNING id
		)
		INSERT INTO session (person_id, device_id, device_name, platform, expires_at)
		SELECT id, 'rush-' || id, 'Telefon', 'ios', now() + interval '30 days' FROM p`, o.citizens); err != nil {
		return w, fmt.Errorf("citizens: %w", err)
	}
	if _, err := pool.Exec(ctx, `
		CREATE TABLE bench_ceiling (id integer PRIMARY KEY, n integer NOT NULL DEFAULT 0);
		INSERT INTO bench_ceiling (id) SELECT generate_series(1, 2000)`); err != nil {
		return w, err
	}
	if _, err := pool.Exec(ctx, `VACUUM ANALYZE`); err != nil {
		return w, err
	}
	m, err := benchtoken.New()
	if err != nil {
		return w, err
	}
	// The tokens must outlive the whole benchmark, warm-up included.
	w.citizens, err = m.Sessions(ctx, pool, 2*time.Hour, `SELECT id::text, person_id::text FROM session ORDER BY device_id`)
	if err != nil {
		return w, err
	}
	w.seedTime = time.Since(begin)
	return w, nil
}
