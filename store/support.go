package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// ContactPoint is one way to reach help, in both languages.
type ContactPoint struct {
	Kind                string // chat, email, phone, web
	Purpose             string // technical, medical, emergency
	LabelSV, LabelEN    string
	Address             string
	DescriptionSV       string
	DescriptionEN       string
	FollowsSupportHours bool
}

// DayHours is a day kind's opening hours as offsets from local midnight.
type DayHours struct {
	Opens, Closes time.Duration
}

// SupportHours holds the opening hours per kind of day: "weekday", "weekend"
// and "holiday".
type SupportHours map[string]DayHours

// ContactPointList returns the contact points in display order.
func (s *Store) ContactPointList(ctx context.Context) ([]ContactPoint, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT kind, purpose, label_sv, label_en, address, description_sv, description_en, follows_support_hours
		  FROM support_contact_point ORDER BY position, id`)
	if err != nil {
		return nil, interpretError(err)
	}
	cps, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ContactPoint, error) {
		var c ContactPoint
		err := row.Scan(&c.Kind, &c.Purpose, &c.LabelSV, &c.LabelEN, &c.Address, &c.DescriptionSV, &c.DescriptionEN, &c.FollowsSupportHours)
		return c, err
	})
	return cps, interpretError(err)
}

// ContactPointReplace replaces all contact points, in the given order.
func (s *Store) ContactPointReplace(ctx context.Context, cps []ContactPoint) error {
	return interpretError(s.inTx(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM support_contact_point`); err != nil {
			return err
		}
		for i, c := range cps {
			if _, err := tx.Exec(ctx, `
				INSERT INTO support_contact_point (position, kind, purpose, label_sv, label_en, address,
					description_sv, description_en, follows_support_hours)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
				i, c.Kind, c.Purpose, c.LabelSV, c.LabelEN, c.Address, c.DescriptionSV, c.DescriptionEN, c.FollowsSupportHours); err != nil {
				return err
			}
		}
		return nil
	}))
}

// SupportHoursGet returns the opening hours per kind of day.
func (s *Store) SupportHoursGet(ctx context.Context) (SupportHours, error) {
	rows, err := s.pool.Query(ctx, `SELECT day_kind, opens, closes FROM support_hours`)
	if err != nil {
		return nil, interpretError(err)
	}
	defer rows.Close()
	hours := SupportHours{}
	for rows.Next() {
		var (
			kind          string
			opens, closes pgtype.Time
		)
		if err := rows.Scan(&kind, &opens, &closes); err != nil {
			return nil, interpretError(err)
		}
		hours[kind] = DayHours{
			Opens:  time.Duration(opens.Microseconds) * time.Microsecond,
			Closes: time.Duration(closes.Microseconds) * time.Microsecond,
		}
	}
	return hours, interpretError(rows.Err())
}
