package store

import "fmt"

// A Refusal is an ErrPrecondition that explains itself: Msg is written for
// the person refused (the patient, the clinician, the editor) and is shown
// to them as it is, so the server never cuts it out of an error string. It
// names no patient beyond what the caller already sent.
type Refusal struct {
	Msg string
}

func (r *Refusal) Error() string { return ErrPrecondition.Error() + ": " + r.Msg }

// Unwrap makes every Refusal an ErrPrecondition for errors.Is.
func (r *Refusal) Unwrap() error { return ErrPrecondition }

// refuse is a Refusal with a formatted message.
func refuse(format string, args ...any) error {
	return &Refusal{Msg: fmt.Sprintf(format, args...)}
}
