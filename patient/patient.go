package patient

import (
	"context"
	"errors"
	"time"

	"connectrpc.com/connect"

	"github.com/nara-care/nara/access"
	patientv1 "github.com/nara-care/nara/gen/nara/patient/v1"
	"github.com/nara-care/nara/identity/pnr"
	"github.com/nara-care/nara/rpc"
	"github.com/nara-care/nara/store"
)

// patientService lets clinicians find patients, access-logged.
type patientService struct {
	store     *store.Store
	protector *pnr.Protector
	now       func() time.Time
}

func (s *patientService) FindPatient(ctx context.Context, req *patientv1.FindPatientRequest) (*patientv1.FindPatientResponse, error) {
	n, err := pnr.Parse(req.PersonalNumber, s.now())
	switch {
	case errors.Is(err, pnr.ErrChecksum):
		return nil, rpc.FailWith(err, connect.CodeInvalidArgument, "personal_number: the check digit is wrong")
	case errors.Is(err, pnr.ErrDate):
		return nil, rpc.FailWith(err, connect.CodeInvalidArgument, "personal_number: the date of birth does not exist")
	case err != nil:
		return nil, rpc.FailWith(err, connect.CodeInvalidArgument, "personal_number: not a personnummer or samordningsnummer")
	}
	sealed, err := s.protector.Seal(n, nil)
	if err != nil {
		return nil, err
	}
	// A patient who has never used the service is still a patient: the
	// record is created so the clinician can invite them.
	person, err := s.store.PersonUpsert(ctx, s.protector.Lookup(n), sealed, "", "", n.BirthDate())
	if err != nil {
		return nil, err
	}
	p, _ := access.FromContext(ctx)
	if err := rpc.LogAccess(ctx, s.store, p, person.ID, "find patient"); err != nil {
		return nil, err
	}
	return &patientv1.FindPatientResponse{Patient: &patientv1.Patient{
		Id: person.ID, GivenName: person.GivenName, Surname: person.Surname,
		BirthDate: person.BirthDate.Format(time.DateOnly), IsCoordinationNumber: n.IsCoordination(),
	}}, nil
}
