package store

import "context"

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
