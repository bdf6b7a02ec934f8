// Package pushtest gives tests a local FCM stand-in with the real sender
// pointed at it, and people with registered devices.
package pushtest

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"testing"
	"time"

	"github.com/nara-care/nara/push/fcm"
	"github.com/nara-care/nara/push/fcmfake"
	"github.com/nara-care/nara/store"
)

// FCM starts an fcmfake server for the test and returns it with a real
// fcm.Sender that sends to it.
func FCM(t testing.TB) (*fcmfake.Server, *fcm.Sender) {
	t.Helper()
	fake, err := fcmfake.Start(fcmfake.Config{})
	if err != nil {
		t.Fatalf("fcmfake.Start: %v", err)
	}
	t.Cleanup(func() { _ = fake.Close() })
	sa := filepath.Join(t.TempDir(), "service-account.json")
	if err := fake.WriteServiceAccount(sa); err != nil {
		t.Fatal(err)
	}
	sender, err := fcm.New(context.Background(), fcm.Config{CredentialsFile: sa, Endpoint: fake.Endpoint()})
	if err != nil {
		t.Fatalf("fcm.New: %v", err)
	}
	return fake, sender
}

// Person creates a person with a random identity and returns their id.
func Person(t testing.TB, st *store.Store) string {
	t.Helper()
	hash := make([]byte, 32)
	_, _ = rand.Read(hash)
	p, err := st.PersonUpsert(context.Background(), hash, []byte("sealed"), "Test", "Person", time.Date(1985, 7, 9, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	return p.ID
}

// Token returns a random FCM-looking registration token.
func Token() string { return "tok:" + rand.Text() + rand.Text() + rand.Text() }

// Device registers a device with a random token for personID and returns it.
func Device(t testing.TB, st *store.Store, personID, platform string) store.PushDevice {
	t.Helper()
	d, err := st.PushDeviceRegister(context.Background(), store.PushDevice{
		PersonID: personID, InstallationID: "inst-" + rand.Text(), Token: Token(), Platform: platform, TimeZone: "Europe/Stockholm",
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}
