package server_test

import (
	"context"
	"testing"

	"connectrpc.com/connect"

	authv1 "github.com/nara-care/nara/gen/nara/auth/v1"
	"github.com/nara-care/nara/gen/nara/auth/v1/authv1connect"
	pushv1 "github.com/nara-care/nara/gen/nara/push/v1"
	"github.com/nara-care/nara/gen/nara/push/v1/pushv1connect"
)

// TestDeviceTakeoverNeedsProof tries to take Anna's device by what another
// citizen can learn of it, its installation id and its FCM token, and checks
// that her registration (and so her reminders) stays hers until Tolvan shows
// he holds the device: a login on that installation after her registration,
// or her own sign-out there.
func TestDeviceTakeoverNeedsProof(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	// Tolvan's first session is on his own phone, device(tolvan); his phone's
	// installation id is that device id.
	tolvanSession := e.login(t, tolvan)
	tolvanOld := pushv1connect.NewDeviceServiceClient(e.client, e.url, bearer(tolvanSession.AccessToken))
	annaSession := e.login(t, anna)
	annaC := pushv1connect.NewDeviceServiceClient(e.client, e.url, bearer(annaSession.AccessToken))
	annaID, tolvanID := annaSession.Me.Subject, tolvanSession.Me.Subject
	tokens := func(personID string) map[string]string {
		t.Helper()
		ds, err := e.store.PushDeviceList(ctx, personID)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, d := range ds {
			m[d.InstallationID] = d.Token
		}
		return m
	}
	annaInst, annaTok := "anna-phone-0001", fcmToken+"-anna"
	if _, err := annaC.RegisterDevice(ctx, registerReq(annaInst, annaTok)); err != nil {
		t.Fatal(err)
	}
	keeps := func(what string) {
		t.Helper()
		if got := tokens(annaID)[annaInst]; got != annaTok {
			t.Errorf("after %s Anna's installation has token %q, want %q", what, got, annaTok)
		}
	}

	// By installation id: Tolvan's registration is his own, Anna's stays.
	if _, err := tolvanOld.RegisterDevice(ctx, registerReq(annaInst, fcmToken+"-tolvan")); err != nil {
		t.Fatalf("RegisterDevice under another's installation id: %v", err)
	}
	keeps("Tolvan named her installation id")
	if list, err := annaC.ListDevices(ctx, &pushv1.ListDevicesRequest{}); err != nil || len(list.Devices) != 1 {
		t.Errorf("Anna's ListDevices got %v, %v; want her one device", list, err)
	}
	// By token, under his installation or hers: refused, nothing changes.
	for _, inst := range []string{"tolvan-phone-0001", annaInst, "device-" + tolvan} {
		if _, err := tolvanOld.RegisterDevice(ctx, registerReq(inst, annaTok)); connect.CodeOf(err) != connect.CodeFailedPrecondition {
			t.Errorf("RegisterDevice(%s, Anna's token) got %v, want FailedPrecondition", inst, err)
		}
		keeps("Tolvan named her token under " + inst)
	}
	// Nor do unregistering or removing under her installation id touch hers.
	if _, err := tolvanOld.UnregisterDevice(ctx, &pushv1.UnregisterDeviceRequest{InstallationId: annaInst}); err != nil {
		t.Fatal(err)
	}
	keeps("Tolvan unregistered her installation id")

	// The shared phone: Anna's app registered device(tolvan)'s installation.
	shared, sharedTok := "device-"+tolvan, fcmToken+"-shared"
	if _, err := annaC.RegisterDevice(ctx, registerReq(shared, sharedTok)); err != nil {
		t.Fatal(err)
	}
	// Tolvan's session on that installation began before her registration:
	// no proof.
	if _, err := tolvanOld.RegisterDevice(ctx, registerReq(shared, sharedTok)); connect.CodeOf(err) != connect.CodeFailedPrecondition {
		t.Errorf("RegisterDevice from a session older than the registration got %v, want FailedPrecondition", err)
	}
	// A fresh login on the installation is: the token moves to Tolvan.
	tolvanNew := pushv1connect.NewDeviceServiceClient(e.client, e.url, e.citizen(t, tolvan))
	if _, err := tolvanNew.RegisterDevice(ctx, registerReq(shared, sharedTok)); err != nil {
		t.Fatalf("RegisterDevice after a fresh login on the installation: %v", err)
	}
	if _, ok := tokens(annaID)[shared]; ok {
		t.Errorf("Anna still holds the shared phone's token after Tolvan's login on it")
	}
	if got := tokens(tolvanID)[shared]; got != sharedTok {
		t.Errorf("Tolvan's registration of the shared phone has token %q, want %q", got, sharedTok)
	}
	keeps("the shared phone moved")

	// Once Anna signs out of the session she registered under, her token is
	// free for whoever registers it next.
	sessions := authv1connect.NewSessionServiceClient(e.client, e.url, bearer(annaSession.AccessToken))
	if _, err := sessions.SignOut(ctx, &authv1.SignOutRequest{}); err != nil {
		t.Fatal(err)
	}
	if _, err := tolvanOld.RegisterDevice(ctx, registerReq("tolvan-phone-0001", annaTok)); err != nil {
		t.Fatalf("RegisterDevice of a signed-out registration's token: %v", err)
	}
	if _, ok := tokens(annaID)[annaInst]; ok {
		t.Errorf("Anna's signed-out registration still holds its token")
	}
}
