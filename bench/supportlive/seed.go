package main

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/nara-care/nara/access"
	"github.com/nara-care/nara/bench/internal/benchtoken"
	"github.com/nara-care/nara/store"
)

// world is what every part starts from: a copy of the template database.
type world struct {
	// cases[i] is citizen i's one open case.
	cases    []string
	citizens []benchtoken.Citizen
	// agentTokens are the first-line agents' access tokens.
	agentTokens []string
	seedTime    time.Duration
}

// tokenLife must outlive the whole benchmark.
const tokenLife = 3 * time.Hour

// seed migrates the template database and fills it: streams/2 citizens,
// each with a session and one open support case with its first message
// (already answered, held by an agent, so that neither a message nor a
// reply changes its state, and the queue's order stays put), and the
// agents with first-line staff sessions.
func seed(ctx context.Context, databaseURL string, o options) (world, error) {
	var w world
	begin := time.Now()
	pool, err := pgxpool.New(ctx, databaseURL)
	if err != nil {
		return w, err
	}
	defer pool.Close()
	if err := store.Migrate(ctx, pool); err != nil {
		return w, err
	}
	citizens := o.streams / 2
	batch := &pgx.Batch{}
	batch.Queue(`
		INSERT INTO staff (hsa_id, name, roles)
		SELECT 'SE2321000016-S' || lpad(i::text, 5, '0'), 'Agent' || i || ' Supportsson', ARRAY[$2]
		  FROM generate_series(1, $1) i`, o.agents, string(access.RoleSupportFirstLine))
	batch.Queue(`
		INSERT INTO session (staff_hsa_id, device_id, device_name, platform, expires_at)
		SELECT hsa_id, 'desk-' || hsa_id, 'Webbläsare', 'web', now() + interval '30 days' FROM staff`)
	// People and sessions as completed BankID logins leave them (the
	// refresh tokens are left out: no request here refreshes).
	batch.Queue(`
		WITH p AS (
			INSERT INTO person (pnr_hash, pnr_sealed, given_name, surname, birth_date, last_login_at)
			SELECT sha256(('support' || i)::bytea), '\x00'::bytea, 'Medborgare' || i, 'Testsson', DATE '1950-01-01' + (i % 20000), now()
			  FROM generate_series(1, $1) i
			RETURNING id
		)
		INSERT INTO session (person_id, device_id, device_name, platform, expires_at)
		SELECT id, 'support-' || id, 'Telefon', 'ios', now() + interval '30 days' FROM p`, citizens)
	batch.Queue(`
		WITH agent AS (
			SELECT row_number() OVER (ORDER BY hsa_id) - 1 AS n, hsa_id, name FROM staff
		), c AS (
			INSERT INTO support_case (person_id, open_key, owner_scope, category, state, line, assignee_hsa_id, assignee_name,
			                          subject, first_answer_due, first_answer_at, last_seq, created_at, updated_at)
			SELECT p.id, 'bench-case-' || lpad(p.n::text, 7, '0'), 'person:' || p.id, 'technical', 'open', 'first',
			       a.hsa_id, split_part(a.name, ' ', 1), 'Appen loggar ut mig',
			       now() - interval '2 hours' + p.n * interval '1 ms', now() - interval '90 minutes', 1,
			       now() - interval '3 hours' + p.n * interval '1 ms', now() - interval '3 hours'
			  FROM (SELECT id, row_number() OVER (ORDER BY pnr_hash) - 1 AS n FROM person) p
			  JOIN agent a ON a.n = p.n % $1
			RETURNING id, created_at
		)
		INSERT INTO support_case_event (case_id, seq, kind, party, body, channel, idempotency_key, created_at)
		SELECT id, 1, 'message', 'citizen', 'Appen loggar ut mig hela tiden. Vad gör jag?', 'app', 'bench-open-' || id, created_at FROM c`,
		o.agents)
	if err := pool.SendBatch(ctx, batch).Close(); err != nil {
		return w, fmt.Errorf("seed: %w", err)
	}
	if _, err := pool.Exec(ctx, `VACUUM ANALYZE`); err != nil {
		return w, err
	}

	if err := pgxCollect(ctx, pool, &w.cases, `SELECT id::text FROM support_case ORDER BY open_key`); err != nil {
		return w, err
	}
	m, err := benchtoken.New()
	if err != nil {
		return w, err
	}
	w.citizens, err = m.Sessions(ctx, pool, tokenLife, `
		SELECT s.id::text, s.person_id::text FROM session s JOIN support_case c ON c.person_id = s.person_id ORDER BY c.open_key`)
	if err != nil {
		return w, err
	}
	rows, err := pool.Query(ctx, `
		SELECT s.id::text, s.staff_hsa_id, st.name FROM session s JOIN staff st ON st.hsa_id = s.staff_hsa_id ORDER BY st.hsa_id`)
	if err != nil {
		return w, err
	}
	type agent struct{ Session, HSAID, Name string }
	agents, err := pgx.CollectRows(rows, pgx.RowToStructByPos[agent])
	if err != nil {
		return w, err
	}
	for _, a := range agents {
		tok, err := m.Staff(a.Session, a.HSAID, a.Name, []access.Role{access.RoleSupportFirstLine}, tokenLife)
		if err != nil {
			return w, err
		}
		w.agentTokens = append(w.agentTokens, tok)
	}
	if len(w.cases) != citizens || len(w.citizens) != citizens || len(w.agentTokens) != o.agents {
		return w, fmt.Errorf("seed: %d cases, %d citizens, %d agents; want %d, %d, %d",
			len(w.cases), len(w.citizens), len(w.agentTokens), citizens, citizens, o.agents)
	}
	w.seedTime = time.Since(begin)
	return w, nil
}

// pgxCollect reads one text column.
func pgxCollect(ctx context.Context, pool *pgxpool.Pool, into *[]string, query string) error {
	rows, err := pool.Query(ctx, query)
	if err != nil {
		return err
	}
	*into, err = pgx.CollectRows(rows, pgx.RowTo[string])
	return err
}
