package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// CalendarFeedCreate makes tokenHash (the SHA-256 of the feed URL's secret)
// personID's calendar feed, replacing any earlier one so that its URL stops
// working. It returns when the feed was created.
func (s *Store) CalendarFeedCreate(ctx context.Context, personID string, tokenHash []byte) (time.Time, error) {
	var created time.Time
	err := s.pool.QueryRow(ctx, `
		INSERT INTO calendar_feed (person_id, token_hash) VALUES ($1, $2)
		ON CONFLICT (person_id) DO UPDATE SET token_hash = excluded.token_hash, created_at = now()
		RETURNING created_at`, personID, tokenHash).Scan(&created)
	return created, interpretError(err)
}

// CalendarFeedRevoke ends personID's calendar feed. Without one it does
// nothing.
func (s *Store) CalendarFeedRevoke(ctx context.Context, personID string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM calendar_feed WHERE person_id = $1`, personID)
	return interpretError(err)
}

// CalendarFeedOwner returns whose feed tokenHash opens, or ErrNotFound. It
// is one lookup in a unique index, cheap enough to answer guesses.
func (s *Store) CalendarFeedOwner(ctx context.Context, tokenHash []byte) (string, error) {
	var personID string
	err := s.pool.QueryRow(ctx, `SELECT person_id FROM calendar_feed WHERE token_hash = $1`, tokenHash).Scan(&personID)
	return personID, interpretError(err)
}

// AppointmentListForCalendar returns the appointments of patientIDs that
// start at or after from, by start time, cancelled ones included so that a
// subscribed calendar removes them.
func (s *Store) AppointmentListForCalendar(ctx context.Context, patientIDs []string, from time.Time) ([]Appointment, error) {
	rows, err := s.pool.Query(ctx, appointmentSelect+`
		 WHERE a.patient_id = ANY($1) AND s.starts_at >= $2
		 ORDER BY s.starts_at, a.id`, patientIDs, from)
	if err != nil {
		return nil, interpretError(err)
	}
	as, err := pgx.CollectRows(rows, scanAppointment)
	return as, interpretError(err)
}
