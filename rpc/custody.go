package rpc

import (
	"context"
	"time"

	"github.com/nara-care/nara/store"
)

// GuardianAgeLimit is the age until which a guardian acts for a child;
// from it the child manages their own visits.
const GuardianAgeLimit = 13

// Custody says whose visits a citizen sees and manages: their own, and
// their children's under GuardianAgeLimit.
type Custody struct {
	store *store.Store
	now   func() time.Time
}

// NewCustody returns the Custody that st records, at now.
func NewCustody(st *store.Store, now func() time.Time) *Custody {
	return &Custody{store: st, now: now}
}

// ChildrenBornAfter is the birth date after which a child is under the
// guardian age limit today.
func (c *Custody) ChildrenBornAfter() time.Time {
	return c.now().AddDate(-GuardianAgeLimit, 0, 0)
}

// PatientsOf are whose visits personID sees and manages: their own and
// their children's under the guardian age limit.
func (c *Custody) PatientsOf(ctx context.Context, personID string) ([]string, error) {
	children, err := c.store.ChildrenUnder(ctx, personID, c.ChildrenBornAfter())
	if err != nil {
		return nil, err
	}
	ids := []string{personID}
	for _, ch := range children {
		ids = append(ids, ch.ID)
	}
	return ids, nil
}
