package store

import (
	"context"
	"time"
)

// ReadListsTogether reads the whole lists of persons in one shared read,
// as concurrent requests do, for tests.
func (s *Store) ReadListsTogether(ctx context.Context, persons []string, bornAfter time.Time) ([]CitizenList, error) {
	batch := make([]*listRead, len(persons))
	for i, p := range persons {
		batch[i] = &listRead{person: p, bornAfter: bornAfter}
	}
	if err := s.readLists(ctx, batch); err != nil {
		return nil, err
	}
	out := make([]CitizenList, len(batch))
	for i, r := range batch {
		out[i] = r.list
	}
	return out, nil
}
