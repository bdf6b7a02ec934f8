package main

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// verdict is what the database holds after a race.
type verdict struct {
	// Must be 0.
	counterOver   int // slots with booked > capacity
	placesOver    int // slots with more active appointments than capacity
	doubleActive  int // citizens with two or more active vaccination bookings
	keyTwice      int // (citizen, idempotency key) pairs booked more than once
	counterDrift  int // slots whose booked counter differs from their active appointments
	notAnswered   int // active bookings whose citizen never got a success answer for them
	answeredWrong int // citizens told of an appointment the database does not hold as their active one

	active, places, fullSlots, slots int
}

func (v verdict) ok() bool {
	return v.counterOver == 0 && v.placesOver == 0 && v.doubleActive == 0 && v.keyTwice == 0 &&
		v.counterDrift == 0 && v.notAnswered == 0 && v.answeredWrong == 0
}

func (v verdict) summary() string {
	return fmt.Sprintf("overbooked slots %d (counter) / %d (appointments), double bookings %d (citizen) / %d (idempotency key), "+
		"counter drift %d, bookings never answered %d, answers not in the database %d",
		v.counterOver, v.placesOver, v.doubleActive, v.keyTwice, v.counterDrift, v.notAnswered, v.answeredWrong)
}

const activeStatuses = `('proposed', 'pending', 'booked', 'arrived')`

// verify counts overbookings and double bookings in the database, and
// compares its bookings with the answers the citizens got.
func verify(ctx context.Context, conn *pgx.Conn, out outcome) (verdict, error) {
	var v verdict
	queries := []struct {
		dst *int
		sql string
	}{
		{&v.counterOver, `SELECT count(*) FROM slot WHERE booked > capacity`},
		{&v.placesOver, `SELECT count(*) FROM (SELECT s.id FROM slot s JOIN appointment a ON a.slot_id = s.id
			WHERE a.status IN ` + activeStatuses + ` GROUP BY s.id, s.capacity HAVING count(*) > s.capacity) x`},
		{&v.doubleActive, `SELECT count(*) FROM (SELECT patient_id FROM appointment
			WHERE service_code = 'vaccination' AND status IN ` + activeStatuses + ` GROUP BY patient_id HAVING count(*) > 1) x`},
		{&v.keyTwice, `SELECT count(*) FROM (SELECT patient_id, idempotency_key FROM appointment
			GROUP BY patient_id, idempotency_key HAVING count(*) > 1) x`},
		{&v.counterDrift, `SELECT count(*) FROM slot s WHERE s.booked <> (SELECT count(*) FROM appointment a
			WHERE a.slot_id = s.id AND a.status IN ` + activeStatuses + `)`},
		{&v.active, `SELECT count(*) FROM appointment WHERE status IN ` + activeStatuses},
		{&v.places, `SELECT coalesce(sum(capacity), 0) FROM slot`},
		{&v.fullSlots, `SELECT count(*) FROM slot WHERE booked = capacity`},
		{&v.slots, `SELECT count(*) FROM slot`},
	}
	for _, q := range queries {
		if err := conn.QueryRow(ctx, q.sql).Scan(q.dst); err != nil {
			return v, fmt.Errorf("verify: %w", err)
		}
	}
	rows, err := conn.Query(ctx, `SELECT patient_id::text, id::text FROM appointment WHERE status IN `+activeStatuses)
	if err != nil {
		return v, fmt.Errorf("verify: %w", err)
	}
	held := map[string]string{}
	var person, id string
	_, err = pgx.ForEachRow(rows, []any{&person, &id}, func() error {
		held[person] = id
		return nil
	})
	if err != nil {
		return v, fmt.Errorf("verify: %w", err)
	}
	for p, id := range held {
		if out.appointments[p] != id {
			v.notAnswered++
		}
	}
	for p, id := range out.appointments {
		if held[p] != id {
			v.answeredWrong++
		}
	}
	return v, nil
}
