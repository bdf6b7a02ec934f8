package oidc

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestClaimsIdentity(t *testing.T) {
	t.Parallel()
	cet := time.FixedZone("", 3600)
	vob := Assignment{
		ID: "SE2321000016-MU0001", Purpose: "Vård och behandling",
		CareUnitHSAID: "SE2321000016-1A04", CareUnitName: "Digital vårdcentral Region Stockholm",
		CareProviderHSAID: "SE2321000016-1000", CareProviderName: "Region Stockholm",
		ValidFrom: time.Date(2024, 1, 1, 0, 0, 0, 0, cet),
	}
	tests := []struct {
		name    string
		payload string
		want    Identity
		err     error
	}{
		{
			"Nära's assignment list",
			`{"employeeHsaId":"SE2321000016-N001","name":"Karin Sjöberg","given_name":"Karin","family_name":"Sjöberg",
			  "medarbetaruppdrag":[{"commissionHsaId":"SE2321000016-MU0001","commissionPurpose":"Vård och behandling",
			  "healthCareUnitHsaId":"SE2321000016-1A04","healthCareUnitName":"Digital vårdcentral Region Stockholm",
			  "healthCareProviderHsaId":"SE2321000016-1000","healthCareProviderName":"Region Stockholm",
			  "validFrom":"2024-01-01T00:00:00+01:00"}]}`,
			Identity{HSAID: "SE2321000016-N001", Name: "Karin Sjöberg", GivenName: "Karin", FamilyName: "Sjöberg", Assignments: []Assignment{vob}},
			nil,
		},
		{
			"the assignment chosen at Inera's IdP",
			`{"employeeHsaId":"SE2321000016-D005","given_name":"Ali","family_name":"Hassan",
			  "commissionHsaId":"SE2321000016-MU0008","commissionPurpose":"Vård och behandling",
			  "healthCareUnitHsaId":"SE2321000016-1A02","healthCareUnitName":"Vårdcentral Solna",
			  "healthCareProviderHsaId":"SE2321000016-1000","healthCareProviderName":"Region Stockholm"}`,
			Identity{HSAID: "SE2321000016-D005", Name: "Ali Hassan", GivenName: "Ali", FamilyName: "Hassan", Assignments: []Assignment{{
				ID: "SE2321000016-MU0008", Purpose: "Vård och behandling",
				CareUnitHSAID: "SE2321000016-1A02", CareUnitName: "Vårdcentral Solna",
				CareProviderHSAID: "SE2321000016-1000", CareProviderName: "Region Stockholm",
			}}},
			nil,
		},
		{
			"chosen assignment already in the list",
			`{"employeeHsaId":"SE2321000016-N001","name":"Karin Sjöberg","commissionHsaId":"SE2321000016-MU0001",
			  "medarbetaruppdrag":[{"commissionHsaId":"SE2321000016-MU0001","commissionPurpose":"Vård och behandling",
			  "healthCareUnitHsaId":"SE2321000016-1A04","healthCareUnitName":"Digital vårdcentral Region Stockholm",
			  "healthCareProviderHsaId":"SE2321000016-1000","healthCareProviderName":"Region Stockholm",
			  "validFrom":"2024-01-01T00:00:00+01:00"}]}`,
			Identity{HSAID: "SE2321000016-N001", Name: "Karin Sjöberg", Assignments: []Assignment{vob}},
			nil,
		},
		{
			"support staff",
			`{"employeeHsaId":"SE2321000016-S001","name":"Lena Ek","nara_roles":["support_first_line"]}`,
			Identity{HSAID: "SE2321000016-S001", Name: "Lena Ek", Roles: []string{"support_first_line"}},
			nil,
		},
		{"no HSA-id", `{"name":"Lena Ek","sub":"abc"}`, Identity{}, ErrMissingClaim},
	}
	for _, tt := range tests {
		var c Claims
		if err := json.Unmarshal([]byte(tt.payload), &c); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		got, err := c.Identity()
		if !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
			t.Errorf("%s: Identity() error %v, want %v", tt.name, err, tt.err)
			continue
		}
		if !identityEqual(got, tt.want) {
			t.Errorf("%s: Identity()\n got %+v\nwant %+v", tt.name, got, tt.want)
		}
	}
}

// identityEqual compares times as instants, since JSON keeps only offsets.
func identityEqual(a, b Identity) bool {
	if len(a.Assignments) != len(b.Assignments) {
		return false
	}
	for i := range a.Assignments {
		x, y := a.Assignments[i], b.Assignments[i]
		if !x.ValidFrom.Equal(y.ValidFrom) || !x.ValidTo.Equal(y.ValidTo) {
			return false
		}
	}
	a.Assignments, b.Assignments = nil, nil
	return reflect.DeepEqual(a, b)
}

// TestClaimsRoundTrip checks that the provider side (which marshals Claims)
// and the client side (which unmarshals them) agree, zero times included.
func TestClaimsRoundTrip(t *testing.T) {
	t.Parallel()
	in := Claims{HSAID: "SE2321000016-D003", Name: "Johan Berg", Assignments: []Assignment{{
		ID: "SE2321000016-MU0006", Purpose: "Vård och behandling", CareUnitHSAID: "SE2321000016-1A04",
		ValidTo: time.Date(2024, 12, 31, 22, 59, 59, 0, time.UTC),
	}}}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out Claims
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Errorf("round trip of %s\n got %+v\nwant %+v", b, out, in)
	}
	if strings.Contains(string(b), `"validFrom"`) {
		t.Errorf("%s carries a zero validFrom", b)
	}
}
