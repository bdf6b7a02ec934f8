// Package patient lets clinicians find the patient they are about to care
// for, by personal identity number, within a care assignment; every find
// is in the patient's access log.
package patient

import (
	"time"

	"github.com/nara-care/nara/gen/nara/patient/v1/patientv1connect"
	"github.com/nara-care/nara/identity/pnr"
	"github.com/nara-care/nara/rpc"
	"github.com/nara-care/nara/store"
)

// Deps are what finding patients needs. Store and Protector are required.
type Deps struct {
	Store *store.Store
	// Protector hashes personal identity numbers for the lookup.
	Protector *pnr.Protector
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Service serves PatientService. It is a rpc.Domain.
type Service struct{ svc *patientService }

// New returns the patient service over d.
func New(d Deps) *Service {
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Service{svc: &patientService{store: d.Store, protector: d.Protector, now: d.Now}}
}

// Mount serves PatientService to clinicians in a care assignment.
func (s *Service) Mount(m *rpc.Mount) error {
	path, h := patientv1connect.NewPatientServiceHandler(s.svc, m.Options())
	m.Service(patientv1connect.PatientServiceName, path, h)
	m.Clinical(patientv1connect.PatientServiceFindPatientProcedure)
	return nil
}
