package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// CareProvider is a public or private organisation that runs care units.
type CareProvider struct {
	HSAID    string
	Name     string
	IsPublic bool
}

// CareUnit is a place that gives care and publishes times.
type CareUnit struct {
	HSAID         string
	ProviderHSAID string
	Name          string
	Street        string
	PostalCode    string
	City          string
	Municipality  string
	Latitude      float64
	Longitude     float64
	Phone         string
}

// CareProviderUpsert creates or updates a care provider.
func (s *Store) CareProviderUpsert(ctx context.Context, p CareProvider) error {
	_, err := s.pool.Exec(ctx, `
		INSERT INTO care_provider (hsa_id, name, is_public) VALUES ($1, $2, $3)
		ON CONFLICT (hsa_id) DO UPDATE SET name = $2, is_public = $3`, p.HSAID, p.Name, p.IsPublic)
	return interpretError(err)
}

// CareUnitUpsert creates or updates a care unit.
func (s *Store) CareUnitUpsert(ctx context.Context, u CareUnit) error {
	_, err := s.pool.Exec(ctx, `
		INSERT INTO care_unit (hsa_id, provider_hsa_id, name, street, postal_code, city, municipality,
			latitude, longitude, phone)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (hsa_id) DO UPDATE SET provider_hsa_id = $2, name = $3, street = $4, postal_code = $5,
			city = $6, municipality = $7, latitude = $8, longitude = $9, phone = $10`,
		u.HSAID, u.ProviderHSAID, u.Name, u.Street, u.PostalCode, u.City, u.Municipality, u.Latitude, u.Longitude, u.Phone)
	return interpretError(err)
}

// OpeningHours is a unit's opening on one kind of day ("weekday",
// "weekend" or "holiday"), as offsets from local midnight.
type OpeningHours struct {
	DayKind       string
	Opens, Closes time.Duration
}

// CareUnitHoursSet replaces a unit's opening hours.
func (s *Store) CareUnitHoursSet(ctx context.Context, unitHSAID string, hours []OpeningHours) error {
	return interpretError(s.inTx(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM care_unit_hours WHERE care_unit_hsa_id = $1`, unitHSAID); err != nil {
			return err
		}
		for _, h := range hours {
			if _, err := tx.Exec(ctx, `
				INSERT INTO care_unit_hours (care_unit_hsa_id, day_kind, opens, closes)
				VALUES ($1, $2, time '00:00' + make_interval(secs => $3), time '00:00' + make_interval(secs => $4))`,
				unitHSAID, h.DayKind, h.Opens.Seconds(), h.Closes.Seconds()); err != nil {
				return err
			}
		}
		return nil
	}))
}

// CareUnitInfo is a unit with what a citizen looking for care wants to know.
type CareUnitInfo struct {
	Unit           CareUnit
	ProviderName   string
	PublicProvider bool
	Hours          []OpeningHours
	// Services are the codes of the services with free times ahead.
	Services       []string
	DistanceMeters int
}

// CareUnitQuery narrows ListCareUnits.
type CareUnitQuery struct {
	Municipality string
	// Service keeps units with free times of it after Now.
	Service           string
	Near              *Position
	MaxDistanceMeters int
	Now               time.Time
}

// CareUnitList returns the units q asks for, by name or, with q.Near, by
// distance.
func (s *Store) CareUnitList(ctx context.Context, q CareUnitQuery) ([]CareUnitInfo, error) {
	var lat, lon *float64
	order := "u.name, u.hsa_id"
	if q.Near != nil {
		lat, lon = &q.Near.Latitude, &q.Near.Longitude
		order = "distance NULLS LAST, " + order
	}
	rows, err := s.pool.Query(ctx, `
		SELECT u.hsa_id, u.provider_hsa_id, u.name, u.street, u.postal_code, u.city, u.municipality,
		       coalesce(u.latitude, 0), coalesce(u.longitude, 0), u.phone, p.name, p.is_public,
		       coalesce(round(d.distance)::int, 0),
		       coalesce(array(SELECT day_kind FROM care_unit_hours h WHERE h.care_unit_hsa_id = u.hsa_id ORDER BY array_position(ARRAY['weekday', 'weekend', 'holiday'], day_kind)), '{}'),
		       coalesce(array(SELECT extract(epoch FROM opens)::bigint FROM care_unit_hours h WHERE h.care_unit_hsa_id = u.hsa_id ORDER BY array_position(ARRAY['weekday', 'weekend', 'holiday'], day_kind)), '{}'),
		       coalesce(array(SELECT extract(epoch FROM closes)::bigint FROM care_unit_hours h WHERE h.care_unit_hsa_id = u.hsa_id ORDER BY array_position(ARRAY['weekday', 'weekend', 'holiday'], day_kind)), '{}'),
		       coalesce(array(SELECT DISTINCT s.service_code FROM slot s
		         WHERE s.care_unit_hsa_id = u.hsa_id AND s.starts_at > $5 AND s.booked < s.capacity
		           AND NOT s.blocked AND NOT s.invitation_only ORDER BY 1), '{}')
		  FROM care_unit u
		  JOIN care_provider p ON p.hsa_id = u.provider_hsa_id
		  CROSS JOIN LATERAL (SELECT distance_meters($3, $4, u.latitude, u.longitude) AS distance) d
		 WHERE ($1 = '' OR u.municipality = $1)
		   AND ($6 = 0 OR d.distance <= $6)
		   AND ($2 = '' OR EXISTS (SELECT 1 FROM slot s
		         WHERE s.care_unit_hsa_id = u.hsa_id AND s.service_code = $2 AND s.starts_at > $5
		           AND s.booked < s.capacity AND NOT s.blocked AND NOT s.invitation_only))
		 ORDER BY `+order, q.Municipality, q.Service, lat, lon, q.Now, q.MaxDistanceMeters)
	if err != nil {
		return nil, interpretError(err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (CareUnitInfo, error) {
		var (
			i             CareUnitInfo
			u             = &i.Unit
			kinds         []string
			opens, closes []int64
		)
		err := row.Scan(&u.HSAID, &u.ProviderHSAID, &u.Name, &u.Street, &u.PostalCode, &u.City, &u.Municipality,
			&u.Latitude, &u.Longitude, &u.Phone, &i.ProviderName, &i.PublicProvider, &i.DistanceMeters,
			&kinds, &opens, &closes, &i.Services)
		for k := range kinds {
			i.Hours = append(i.Hours, OpeningHours{DayKind: kinds[k], Opens: time.Duration(opens[k]) * time.Second, Closes: time.Duration(closes[k]) * time.Second})
		}
		return i, err
	})
	return out, interpretError(err)
}
