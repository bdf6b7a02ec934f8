package server_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	apptv1 "github.com/nara-care/nara/gen/nara/appointment/v1"
	pushv1 "github.com/nara-care/nara/gen/nara/push/v1"
	"github.com/nara-care/nara/gen/nara/push/v1/pushv1connect"
	"github.com/nara-care/nara/push/pushtest"
)

// TestDemoDelayPushesAtOnce is the push a newcomer can see without waiting
// for a reminder: Anna logs in, registers her phone and books a demo time;
// a clinician at the unit reports a delay, and the FCM stand-in receives
// the notice within seconds.
func TestDemoDelayPushesAtOnce(t *testing.T) {
	t.Parallel()
	fake, sender := pushtest.FCM(t)
	e := setupWith(t, options{push: sender})
	ctx := context.Background()
	anna := e.citizen(t, "198507099805")

	phone := pushtest.Token()
	if _, err := pushv1connect.NewDeviceServiceClient(e.client, e.url, anna).RegisterDevice(ctx, &pushv1.RegisterDeviceRequest{
		InstallationId: "walkthrough-phone", Token: phone, Platform: pushv1.Platform_PLATFORM_IOS,
	}); err != nil {
		t.Fatal(err)
	}
	const unit = "SE2321000016-1A01" // Vårdcentral Södermalm, with demo visit times
	found, err := e.booking(anna).SearchSlots(ctx, &apptv1.SearchSlotsRequest{
		Service: apptv1.Service_SERVICE_PHYSICAL_VISIT, UnitHsaId: unit,
		StartTime: timestamppb.Now(), EndTime: timestamppb.New(time.Now().AddDate(0, 0, 7)),
	})
	if err != nil || len(found.Slots) == 0 {
		t.Fatalf("SearchSlots got %v, %v; want the demo's times", found, err)
	}
	booked, err := e.booking(anna).BookSlot(ctx, &apptv1.BookSlotRequest{SlotId: found.Slots[0].Id, IdempotencyKey: "walkthrough-booking"})
	if err != nil {
		t.Fatal(err)
	}

	doctor := e.schedule(e.clinicianAt(t, "SE2321000016-D001", unit))
	if _, err := doctor.ReportDelay(ctx, &apptv1.ReportDelayRequest{
		UnitHsaId: unit, AppointmentIds: []string{booked.Appointment.Id}, Minutes: 15,
	}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		for _, m := range fake.Messages() {
			if m.Message.Token == phone {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no push reached the phone within 20 s of ReportDelay; the stand-in has %d messages", len(fake.Messages()))
		}
	}
}
