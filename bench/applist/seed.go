package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/nara-care/nara/pgcluster"
	"github.com/nara-care/nara/store"
)

// seedFormat changes whenever seed writes different data, so that a kept
// cluster seeded the old way is seeded again.
const seedFormat = 2

// shape is what the seed makes.
type shape struct {
	citizens, appointments, units, slots, sample int
}

func (s shape) key() string {
	return fmt.Sprintf("format=%d citizens=%d appointments=%d units=%d slots=%d sample=%d",
		seedFormat, s.citizens, s.appointments, s.units, s.slots, s.sample)
}

// lanes: each unit has one lane per service; the visit services' lanes are
// a clinician's.
var services = []string{"vaccination", "covid_test", "video_visit", "physical_visit", "phone"}

// seeded says how the database was made, for the results file.
type seeded struct {
	reused   bool
	took     time.Duration // seeding time, when seeded now
	previous string        // when reused: when it was seeded and how long it took
}

// prepare returns a migrated database holding sh, seeding it unless the
// cluster already holds the same shape (or fresh is set).
func prepare(ctx context.Context, cluster *pgcluster.Cluster, sh shape, fresh bool) (seeded, error) {
	var s seeded
	if err := cluster.CreateDatabase(ctx, "nara"); err != nil {
		return s, err
	}
	if !fresh {
		pool, err := pgxpool.New(ctx, cluster.URL("nara"))
		if err != nil {
			return s, err
		}
		var key, when string
		err = pool.QueryRow(ctx, `SELECT key, note FROM bench_seed`).Scan(&key, &when)
		if err == nil && key == sh.key() {
			// New migrations run over the kept data, as they would in
			// production.
			err = store.Migrate(ctx, pool)
			pool.Close()
			if err == nil {
				return seeded{reused: true, previous: when}, nil
			}
			// Migrations renumbered since the seed, say: seed anew.
			logf("the kept database does not migrate (%v); seeding it anew", err)
		} else {
			pool.Close()
		}
	}
	admin, err := pgx.Connect(ctx, cluster.URL("postgres"))
	if err != nil {
		return s, err
	}
	defer func() { _ = admin.Close(context.Background()) }()
	if _, err := admin.Exec(ctx, `DROP DATABASE IF EXISTS nara WITH (FORCE)`); err != nil {
		return s, err
	}
	if _, err := admin.Exec(ctx, `CREATE DATABASE nara`); err != nil {
		return s, err
	}
	begin := time.Now()
	if err := seed(ctx, cluster.URL("nara"), sh); err != nil {
		return s, fmt.Errorf("seed: %w", err)
	}
	s.took = time.Since(begin)
	pool, err := pgxpool.New(ctx, cluster.URL("nara"))
	if err != nil {
		return s, err
	}
	defer pool.Close()
	_, err = pool.Exec(ctx, `CREATE TABLE bench_seed (key text NOT NULL, note text NOT NULL);
		INSERT INTO bench_seed VALUES ('`+sh.key()+`', 'seeded `+time.Now().UTC().Format("2006-01-02 15:04 MST")+
		` in `+s.took.Round(time.Second).String()+`')`)
	return s, err
}

// Synthetic ids: person n, slot s and resource r get fixed UUIDs, so that
// appointments can name them by arithmetic instead of joins.
const (
	personID   = `('00000000-0000-4000-8000-' || lpad(to_hex(%s), 12, '0'))::uuid`
	slotID     = `('00000000-0000-4000-9000-' || lpad(to_hex(%s), 12, '0'))::uuid`
	resourceID = `('00000000-0000-4000-a000-' || lpad(to_hex(%s), 12, '0'))::uuid`
	apptID     = `('00000000-0000-4000-b000-' || lpad(to_hex(%s), 12, '0'))::uuid`
	unitID     = `('SE2321000016-L' || lpad((%s)::text, 4, '0'))`
)

func id(format, expr string) string { return fmt.Sprintf(format, expr) }

// span is how far a lane's slots reach: about three years of past visits
// and the two months ahead that are open for booking.
const (
	span  = (3*365 + 62) * 24 * time.Hour
	ahead = 62 * 24 * time.Hour
)

// seed fills an empty database. Everything is set-based SQL
// (INSERT … SELECT generate_series), the appointments in two halves at
// once into the bare table (its indexes built afterwards, its foreign-key
// triggers off during the load: the ids are consistent by construction),
// with synchronous_commit off for the seeding sessions only.
func seed(ctx context.Context, databaseURL string, sh shape) error {
	pool, err := pgxpool.New(ctx, databaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := store.Migrate(ctx, pool); err != nil {
		return err
	}
	lanes := sh.units * len(services)
	perLane := sh.slots / lanes
	capacity := (sh.appointments + sh.slots - 1) / sh.slots
	// A lane's slots are evenly spaced; the last starts about 62 days from now.
	step := (span / time.Duration(perLane)).Truncate(time.Minute)
	t0 := time.Now().UTC().Truncate(24 * time.Hour).Add(8 * time.Hour).Add(ahead - time.Duration(perLane-1)*step)
	exec := func(label, sql string, args ...any) error {
		begin := time.Now()
		conn, err := pool.Acquire(ctx)
		if err != nil {
			return err
		}
		defer conn.Release()
		if _, err := conn.Exec(ctx, `SET synchronous_commit = off; SET maintenance_work_mem = '256MB'`); err != nil {
			return err
		}
		if _, err := conn.Exec(ctx, sql, args...); err != nil {
			return fmt.Errorf("%s: %w", label, err)
		}
		logf("seed: %s in %s", label, time.Since(begin).Round(time.Millisecond))
		return nil
	}
	svc := `(ARRAY['vaccination','covid_test','video_visit','physical_visit','phone'])`
	steps := []struct{ label, sql string }{
		{"care units", `
			INSERT INTO care_provider (hsa_id, name, is_public) VALUES ('SE2321000016-LIST', 'Region Lista', true);
			INSERT INTO care_unit (hsa_id, provider_hsa_id, name, street, postal_code, city, municipality, latitude, longitude, phone)
			SELECT ` + id(unitID, "u") + `, 'SE2321000016-LIST', 'Vårdcentralen ' || u, 'Storgatan ' || u, '11122', 'Stockholm',
			       (ARRAY['Stockholm','Solna','Sundbyberg','Huddinge','Nacka'])[1 + u % 5], 59.3 + u / 1000.0, 18.0 + u / 1000.0,
			       '08-123 45 ' || lpad(u::text, 3, '0')
			  FROM generate_series(0, ` + fmt.Sprint(sh.units-1) + `) u;
			INSERT INTO resource (id, care_unit_hsa_id, kind, name, staff_hsa_id, profession)
			SELECT ` + id(resourceID, "u * 3 + k") + `, ` + id(unitID, "u") + `, 'clinician',
			       (ARRAY['Anna','Erik','Maria','Johan','Sara'])[1 + (u + k) % 5] || ' ' || (ARRAY['Lindqvist','Berg','Holm'])[1 + k],
			       'SE2321000016-L' || lpad(u::text, 4, '0') || '-D' || k, (ARRAY['Läkare','Sjuksköterska','Läkare'])[1 + k]
			  FROM generate_series(0, ` + fmt.Sprint(sh.units-1) + `) u, generate_series(0, 2) k`},
		{"slots", `
			INSERT INTO slot (id, care_unit_hsa_id, service_code, resource_id, starts_at, ends_at, capacity, created_by)
			SELECT ` + id(slotID, "s") + `, ` + id(unitID, "lane / 5") + `, ` + svc + `[1 + lane % 5],
			       CASE WHEN lane % 5 >= 2 THEN ` + id(resourceID, "(lane / 5) * 3 + lane % 5 - 2") + ` END,
			       $1::timestamptz + k * $4::interval, $1::timestamptz + k * $4::interval + interval '15 minutes',
			       $5, 'staff:seed'
			  FROM (SELECT s, s % $2 AS lane, s / $2 AS k FROM generate_series(0, $3 - 1) s) x`},
		{"people", `
			INSERT INTO person (id, pnr_hash, pnr_sealed, given_name, surname, birth_date, last_login_at)
			SELECT ` + id(personID, "n") + `, sha256(('list' || n)::bytea), '\x00'::bytea,
			       (ARRAY['Anna','Lars','Karin','Mohammed','Elin','Per','Fatima','Nils'])[1 + n % 8], 'Testsson' || n % 1000,
			       DATE '1935-01-01' + n % 30000, now()
			  FROM generate_series(1, $1) n`},
		{"sessions", `
			INSERT INTO session (person_id, device_id, device_name, platform, expires_at)
			SELECT ` + id(personID, "n") + `, 'list-' || n, 'Telefon', 'ios', now() + interval '10 years'
			  FROM generate_series(1, $1) n WHERE n % ($1 / $2) = 3`},
	}
	args := [][]any{nil, {t0, lanes, sh.slots, step, capacity}, {sh.citizens}, {sh.citizens, sh.sample}}
	for i, st := range steps {
		if err := exec(st.label, st.sql, args[i]...); err != nil {
			return err
		}
	}

	// Loading into a bare table and building its indexes after is several
	// times faster than keeping five B-trees up to date row by row. Every
	// index but the primary key is dropped and made again from its own
	// definition, as the migrations left it.
	rebuild, err := dropIndexes(ctx, pool, "appointment")
	if err != nil {
		return err
	}
	if _, err := pool.Exec(ctx, `ALTER TABLE appointment DISABLE TRIGGER ALL`); err != nil {
		return err
	}
	// Appointment a takes place a / slots in slot a mod slots, so every slot
	// is full. A patient is random (so their appointments lie far apart in
	// the table, as years of bookings do), except for upcoming bookings of
	// the one-at-a-time services, whose patients are distinct by
	// construction: slot × capacity + place is unique, and the upcoming
	// places (about 5 % of all) are fewer than the citizens.
	// Past ones are fulfilled (85 %), cancelled (10 %) or no-shows.
	appointments := `
		INSERT INTO appointment (id, patient_id, slot_id, service_code, exclusive, status, idempotency_key, idempotency_scope,
		                         created_by, instructions, created_at, updated_at)
		SELECT ` + id(apptID, "a") + `, CASE WHEN fut AND cs.exclusive THEN ` + id(personID, "(s * $7 + q) % $4 + 1") + `
		            ELSE ` + id(personID, "floor(r2 * $4)::int + 1") + ` END,
		       ` + id(slotID, "s") + `, cs.code, cs.exclusive,
		       CASE WHEN fut THEN 'booked' WHEN r < 0.85 THEN 'fulfilled' WHEN r < 0.95 THEN 'cancelled' ELSE 'noshow' END,
		       'seed-' || a, 'person:seed', 'person:seed', cs.instructions_sv, starts - interval '12 days',
		       CASE WHEN fut THEN starts - interval '12 days' ELSE starts + interval '1 hour' END
		  FROM (SELECT a, s, q, r, r2, starts, starts > now() AS fut, ` + svc + `[1 + (s % $3) % 5] AS code
		          FROM (SELECT a, a % $5 AS s, a / $5 AS q, random() AS r, random() AS r2,
		                       $6::timestamptz + (a % $5 / $3) * $8::interval AS starts
		                  FROM generate_series($1::bigint, $2::bigint - 1) a) y) x
		  JOIN care_service cs ON cs.code = x.code`
	half := int64(sh.appointments / 2)
	var (
		wg      sync.WaitGroup
		errs    [2]error
		seedErr error
	)
	for i, r := range [][2]int64{{0, half}, {half, int64(sh.appointments)}} {
		wg.Go(func() {
			errs[i] = exec(fmt.Sprintf("appointments %d–%d", r[0], r[1]), appointments, r[0], r[1], lanes, sh.citizens, sh.slots, t0, capacity, step)
		})
	}
	wg.Wait()
	seedErr = errors.Join(errs[:]...)
	if _, err := pool.Exec(ctx, `ALTER TABLE appointment ENABLE TRIGGER ALL`); err != nil && seedErr == nil {
		seedErr = err
	}
	if seedErr != nil {
		return seedErr
	}
	for _, st := range rebuild {
		if err := exec("index: "+st, st); err != nil {
			return err
		}
	}
	if err := exec("slot counters", `
		UPDATE slot SET booked = c FROM (SELECT slot_id, count(*) AS c FROM appointment
		 WHERE status IN ('proposed', 'pending', 'booked', 'arrived') GROUP BY slot_id) x WHERE slot.id = x.slot_id`); err != nil {
		return err
	}
	// A database that has served for a while has been vacuumed and analysed
	// by autovacuum (and its visibility map set); do it now rather than
	// measure autovacuum's first pass.
	if err := exec("vacuum analyze", `VACUUM ANALYZE`); err != nil {
		return err
	}
	return exec("checkpoint", `CHECKPOINT`)
}

// dropIndexes drops every index of table except its primary key and
// returns the statements that make them again: ALTER TABLE … ADD CONSTRAINT
// for those that back a constraint, CREATE INDEX for the others.
func dropIndexes(ctx context.Context, pool *pgxpool.Pool, table string) ([]string, error) {
	rows, err := pool.Query(ctx, `
		SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid), c.conname, pg_get_constraintdef(c.oid)
		  FROM pg_index i LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid
		 WHERE i.indrelid = $1::regclass AND NOT i.indisprimary`, table)
	if err != nil {
		return nil, err
	}
	var drop, create []string
	var name, def string
	var conName, conDef *string
	_, err = pgx.ForEachRow(rows, []any{&name, &def, &conName, &conDef}, func() error {
		if conName != nil {
			drop = append(drop, fmt.Sprintf("ALTER TABLE %s DROP CONSTRAINT %s", table, *conName))
			create = append(create, fmt.Sprintf("ALTER TABLE %s ADD CONSTRAINT %s %s", table, *conName, *conDef))
		} else {
			drop = append(drop, "DROP INDEX "+name)
			create = append(create, def)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, st := range drop {
		if _, err := pool.Exec(ctx, st); err != nil {
			return nil, err
		}
	}
	return create, nil
}
