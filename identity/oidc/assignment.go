package oidc

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// PurposeCareAndTreatment is the assignment purpose (commissionPurpose)
// that lets a clinician take part in the care of a unit's patients.
// Other purposes, such as "Administration" or "Statistik", do not.
const PurposeCareAndTreatment = "Vård och behandling"

// Why a care assignment does not let a clinician meet a unit's patients.
// In the 2017 pilot a missing or wrong assignment was the most common reason
// clinicians could not start a video meeting, so every one of these reaches
// the clinician wrapped in an *AssignmentError that says what to fix.
var (
	ErrNoAssignment          = errors.New("you have no care assignment (medarbetaruppdrag) in HSA")
	ErrWrongPurpose          = errors.New(`your care assignment's purpose is not "Vård och behandling"`)
	ErrAssignmentNotYetValid = errors.New("your care assignment has not started yet")
	ErrAssignmentExpired     = errors.New("your care assignment has ended")
	ErrOtherUnit             = errors.New("your care assignment is for another care unit")
)

// AssignmentError explains, in words for the clinician, why they may not
// meet patients at a unit. It matches its Reason with errors.Is, and names
// only the clinician's own assignments, so it is safe to show them.
type AssignmentError struct {
	// Reason is one of ErrNoAssignment, ErrOtherUnit, ErrWrongPurpose,
	// ErrAssignmentNotYetValid and ErrAssignmentExpired.
	Reason error
	// UnitHSAID is the care unit the clinician tried to work at.
	UnitHSAID string
	// Assignments are the ones judged: with ErrOtherUnit all the
	// clinician has, otherwise the one closest to being valid.
	Assignments []Assignment
}

// Error says what is wrong and what the clinician can do about it.
func (e *AssignmentError) Error() string {
	var a Assignment
	if len(e.Assignments) > 0 {
		a = e.Assignments[0]
	}
	switch {
	case errors.Is(e.Reason, ErrNoAssignment):
		return fmt.Sprintf("You have no care assignment (medarbetaruppdrag) in HSA, so you cannot meet patients at care unit %s. "+
			"Ask your HSA administrator to register a care assignment with the purpose %q for that unit, then log in again.",
			e.UnitHSAID, PurposeCareAndTreatment)
	case errors.Is(e.Reason, ErrOtherUnit):
		units := make([]string, 0, len(e.Assignments))
		for _, a := range e.Assignments {
			units = append(units, unitLabel(a))
		}
		noun := "assignment is"
		if len(units) > 1 {
			noun = "assignments are"
		}
		return fmt.Sprintf("Your care %s for %s, not for care unit %s. "+
			"Log in again and choose an assignment for %s, or ask your HSA administrator for one.",
			noun, strings.Join(units, ", "), e.UnitHSAID, e.UnitHSAID)
	case errors.Is(e.Reason, ErrWrongPurpose):
		return fmt.Sprintf("Your care assignment at %s has the purpose %q, but meeting patients requires the purpose %q. "+
			"Ask your HSA administrator for a care assignment with that purpose, then log in again.",
			unitLabel(a), a.Purpose, PurposeCareAndTreatment)
	case errors.Is(e.Reason, ErrAssignmentNotYetValid):
		return fmt.Sprintf("Your care assignment at %s starts on %s; until then you cannot meet patients there.",
			unitLabel(a), a.ValidFrom.Format(time.DateOnly))
	case errors.Is(e.Reason, ErrAssignmentExpired):
		return fmt.Sprintf("Your care assignment at %s ended on %s. "+
			"Ask your HSA administrator to extend it, then log in again.",
			unitLabel(a), a.ValidTo.Format(time.DateOnly))
	}
	return fmt.Sprintf("oidc: care assignment for unit %s: %v", e.UnitHSAID, e.Reason)
}

// Unwrap returns Reason, so that errors.Is(err, ErrWrongPurpose) works.
func (e *AssignmentError) Unwrap() error { return e.Reason }

func unitLabel(a Assignment) string {
	if a.CareUnitName == "" {
		return a.CareUnitHSAID
	}
	return a.CareUnitName + " (" + a.CareUnitHSAID + ")"
}

// ValidAssignment reports whether a lets its holder meet patients at the
// care unit unitHSAID at time now: it must be for that unit, have the
// purpose "Vård och behandling", and be within its validity period (a zero
// ValidFrom or ValidTo is no limit). A zero Assignment is ErrNoAssignment.
// The error is an *AssignmentError.
func ValidAssignment(a Assignment, unitHSAID string, now time.Time) error {
	fail := func(reason error) error {
		e := &AssignmentError{Reason: reason, UnitHSAID: unitHSAID}
		if !errors.Is(reason, ErrNoAssignment) {
			e.Assignments = []Assignment{a}
		}
		return e
	}
	switch {
	case a.ID == "" && a.CareUnitHSAID == "":
		return fail(ErrNoAssignment)
	case !strings.EqualFold(strings.TrimSpace(a.CareUnitHSAID), strings.TrimSpace(unitHSAID)):
		return fail(ErrOtherUnit)
	case !strings.EqualFold(strings.TrimSpace(a.Purpose), PurposeCareAndTreatment):
		return fail(ErrWrongPurpose)
	case !a.ValidFrom.IsZero() && now.Before(a.ValidFrom):
		return fail(ErrAssignmentNotYetValid)
	case !a.ValidTo.IsZero() && now.After(a.ValidTo):
		return fail(ErrAssignmentExpired)
	}
	return nil
}

// AssignmentAt returns the clinician's assignment that lets them meet
// patients at unitHSAID at time now. When there is none, the error
// describes the assignment closest to being valid (one at the right unit
// before one elsewhere, the right purpose before another), since that is
// the one the clinician can most easily get fixed.
func (id Identity) AssignmentAt(unitHSAID string, now time.Time) (Assignment, error) {
	if len(id.Assignments) == 0 {
		return Assignment{}, ValidAssignment(Assignment{}, unitHSAID, now)
	}
	rank := map[error]int{ErrOtherUnit: 0, ErrWrongPurpose: 1, ErrAssignmentNotYetValid: 2, ErrAssignmentExpired: 2}
	var best *AssignmentError
	for _, a := range id.Assignments {
		err := ValidAssignment(a, unitHSAID, now)
		if err == nil {
			return a, nil
		}
		var ae *AssignmentError
		if errors.As(err, &ae) && (best == nil || rank[ae.Reason] > rank[best.Reason]) {
			best = ae
		}
	}
	if errors.Is(best.Reason, ErrOtherUnit) {
		best.Assignments = slices.Clone(id.Assignments)
	}
	return Assignment{}, best
}
