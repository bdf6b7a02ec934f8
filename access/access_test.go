package access_test

import (
	"errors"
	"testing"
	"time"

	"github.com/nara-care/nara/access"
)

func TestAllowsCare(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	valid := access.Assignment{ID: "a", Purpose: access.PurposeCare, ValidFrom: now.AddDate(-1, 0, 0), ValidTo: now.AddDate(1, 0, 0)}
	admin := valid
	admin.Purpose = "Administration"
	expired := valid
	expired.ValidTo = now.Add(-time.Hour)
	future := valid
	future.ValidFrom = now.Add(time.Hour)
	open := valid
	open.ValidFrom, open.ValidTo = time.Time{}, time.Time{}
	tests := []struct {
		name string
		a    *access.Assignment
		want error
	}{
		{"valid", &valid, nil},
		{"no end date", &open, nil},
		{"none", nil, access.ErrNoAssignment},
		{"other purpose", &admin, access.ErrWrongPurpose},
		{"expired", &expired, access.ErrAssignmentExpired},
		{"not yet valid", &future, access.ErrAssignmentExpired},
	}
	for _, tt := range tests {
		if got := tt.a.AllowsCare(now); !errors.Is(got, tt.want) {
			t.Errorf("AllowsCare(%s) got %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestHas(t *testing.T) {
	t.Parallel()
	p := access.Principal{Roles: []access.Role{access.RoleCitizen, access.RoleGuardian}}
	if !p.Has(access.RoleGuardian) || p.Has(access.RoleClinician) || p.Has() {
		t.Errorf("Has got the wrong answer for %v", p.Roles)
	}
}
