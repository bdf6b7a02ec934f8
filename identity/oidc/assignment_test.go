package oidc

import (
	"errors"
	"strings"
	"testing"
	"time"
)

const (
	digital = "SE2321000016-1A04"
	solna   = "SE2321000016-1A02"
)

func assignment(unit, purpose string, from, to time.Time) Assignment {
	names := map[string]string{digital: "Digital vårdcentral Region Stockholm", solna: "Vårdcentral Solna"}
	return Assignment{
		ID: "SE2321000016-MU0001", Purpose: purpose,
		CareUnitHSAID: unit, CareUnitName: names[unit],
		CareProviderHSAID: "SE2321000016-1000", CareProviderName: "Region Stockholm",
		ValidFrom: from, ValidTo: to,
	}
}

func TestValidAssignment(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 6, 15, 9, 0, 0, 0, time.UTC)
	past, future := now.AddDate(-1, 0, 0), now.AddDate(1, 0, 0)
	tests := []struct {
		name string
		a    Assignment
		unit string
		want error
		// says are phrases the clinician must read in the message.
		says []string
	}{
		{"valid", assignment(digital, PurposeCareAndTreatment, past, future), digital, nil, nil},
		{"valid, open-ended", assignment(digital, PurposeCareAndTreatment, time.Time{}, time.Time{}), digital, nil, nil},
		{"valid, purpose in other case", assignment(digital, "vård och behandling", past, future), digital, nil, nil},
		{"valid on its last instant", assignment(digital, PurposeCareAndTreatment, past, now), digital, nil, nil},
		{"no assignment", Assignment{}, digital, ErrNoAssignment,
			[]string{"no care assignment", digital, `"Vård och behandling"`, "HSA administrator"}},
		{"other unit", assignment(solna, PurposeCareAndTreatment, past, future), digital, ErrOtherUnit,
			[]string{"Vårdcentral Solna (SE2321000016-1A02)", "not for care unit " + digital}},
		{"wrong purpose", assignment(digital, "Administration", past, future), digital, ErrWrongPurpose,
			[]string{"Digital vårdcentral Region Stockholm", `"Administration"`, `requires the purpose "Vård och behandling"`}},
		{"expired", assignment(digital, PurposeCareAndTreatment, past, now.Add(-24*time.Hour)), digital, ErrAssignmentExpired,
			[]string{"ended on 2025-06-14", "extend it"}},
		{"not yet valid", assignment(digital, PurposeCareAndTreatment, now.Add(48*time.Hour), future), digital, ErrAssignmentNotYetValid,
			[]string{"starts on 2025-06-17"}},
		// The unit is checked first: an assignment elsewhere is the thing
		// to fix even when it has also ended.
		{"other unit and expired", assignment(solna, PurposeCareAndTreatment, past, now.Add(-time.Hour)), digital, ErrOtherUnit, nil},
		{"wrong purpose and expired", assignment(digital, "Statistik", past, now.Add(-time.Hour)), digital, ErrWrongPurpose, nil},
	}
	for _, tt := range tests {
		err := ValidAssignment(tt.a, tt.unit, now)
		if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
			t.Errorf("%s: ValidAssignment got %v, want %v", tt.name, err, tt.want)
			continue
		}
		if err == nil {
			continue
		}
		var ae *AssignmentError
		if !errors.As(err, &ae) || ae.UnitHSAID != tt.unit {
			t.Errorf("%s: ValidAssignment got %#v, want an *AssignmentError for unit %s", tt.name, err, tt.unit)
		}
		for _, s := range tt.says {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("%s: message %q does not say %q", tt.name, err, s)
			}
		}
	}
}

func TestAssignmentAt(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 6, 15, 9, 0, 0, 0, time.UTC)
	past, future := now.AddDate(-1, 0, 0), now.AddDate(1, 0, 0)
	valid := assignment(digital, PurposeCareAndTreatment, past, future)
	valid.ID = "SE2321000016-MU0042"
	admin := assignment(digital, "Administration", past, future)
	ended := assignment(digital, PurposeCareAndTreatment, past, now.Add(-time.Hour))
	atSolna := assignment(solna, PurposeCareAndTreatment, past, future)
	tests := []struct {
		name string
		held []Assignment
		want error
		says string
	}{
		{"none", nil, ErrNoAssignment, "no care assignment"},
		{"valid among others", []Assignment{atSolna, admin, valid}, nil, ""},
		{"elsewhere only", []Assignment{atSolna, atSolna}, ErrOtherUnit, "Your care assignments are for Vårdcentral Solna"},
		{"wrong purpose beats elsewhere", []Assignment{atSolna, admin}, ErrWrongPurpose, `"Administration"`},
		{"ended beats wrong purpose", []Assignment{admin, ended}, ErrAssignmentExpired, "ended on"},
	}
	for _, tt := range tests {
		id := Identity{HSAID: "SE2321000016-D001", Assignments: tt.held}
		got, err := id.AssignmentAt(digital, now)
		if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
			t.Errorf("%s: AssignmentAt got %v, want %v", tt.name, err, tt.want)
			continue
		}
		if err == nil && got.ID != valid.ID {
			t.Errorf("%s: AssignmentAt got %s, want %s", tt.name, got.ID, valid.ID)
		}
		if err != nil && !strings.Contains(err.Error(), tt.says) {
			t.Errorf("%s: message %q does not say %q", tt.name, err, tt.says)
		}
	}
}
