package appointment

import (
	"context"
	"fmt"
	"math"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	appointmentv1 "github.com/nara-care/nara/gen/nara/appointment/v1"
	"github.com/nara-care/nara/openinghours"
	"github.com/nara-care/nara/store"
)

var dayKinds = map[string]appointmentv1.DayKind{
	string(openinghours.Weekday): appointmentv1.DayKind_DAY_KIND_WEEKDAY,
	string(openinghours.Weekend): appointmentv1.DayKind_DAY_KIND_WEEKEND,
	string(openinghours.Holiday): appointmentv1.DayKind_DAY_KIND_HOLIDAY,
}

// position is p for the store, to the centimetre: finer is meaningless,
// and a coordinate such as 1e-308 would underflow PostgreSQL's arithmetic.
func position(p *appointmentv1.Position) *store.Position {
	if p == nil {
		return nil
	}
	round := func(x float64) float64 { return math.Round(x*1e7) / 1e7 }
	return &store.Position{Latitude: round(p.Latitude), Longitude: round(p.Longitude)}
}

// clock formats an offset from midnight as "08:00".
func clock(d time.Duration) string {
	return fmt.Sprintf("%02d:%02d", int(d.Hours()), int(d.Minutes())%60)
}

func (s *appointmentService) ListCareUnits(ctx context.Context, req *appointmentv1.ListCareUnitsRequest) (*appointmentv1.ListCareUnitsResponse, error) {
	now := s.now()
	q := store.CareUnitQuery{
		Municipality: req.Municipality, Service: services[req.Service], MaxDistanceMeters: int(req.MaxDistanceMeters), Now: now,
	}
	q.Near = position(req.Near)
	units, err := s.store.CareUnitList(ctx, q)
	if err != nil {
		return nil, err
	}
	res := &appointmentv1.ListCareUnitsResponse{}
	for _, u := range units {
		info := &appointmentv1.CareUnitInfo{
			Unit: unitToProto(u.Unit), ProviderName: u.ProviderName, PublicProvider: u.PublicProvider,
			DistanceMeters: int32(u.DistanceMeters),
		}
		sched := openinghours.Schedule{Location: s.zone, Hours: map[openinghours.DayKind]openinghours.Hours{}}
		for _, h := range u.Hours {
			sched.Hours[openinghours.DayKind(h.DayKind)] = openinghours.Hours{Opens: h.Opens, Closes: h.Closes}
			info.OpeningHours = append(info.OpeningHours, &appointmentv1.OpeningHours{
				DayKind: dayKinds[h.DayKind], Opens: clock(h.Opens), Closes: clock(h.Closes),
			})
		}
		st := sched.StatusAt(now)
		info.OpenNow = st.OpenNow
		switch {
		case st.OpenNow:
			info.NextChangeTime = timestamppb.New(st.ClosesAt)
		case !st.NextOpensAt.IsZero():
			info.NextChangeTime = timestamppb.New(st.NextOpensAt)
		}
		for _, code := range u.Services {
			info.Services = append(info.Services, serviceOf(code))
		}
		res.Units = append(res.Units, info)
	}
	return res, nil
}
