// Package device is the app's side of push: a citizen's devices (this
// installation's FCM token, platform, app version, locale and time zone),
// their push preferences and their inbox of recent notices. Sending is
// push/notify's; this package only keeps what the app registers and reads.
package device

import (
	"time"

	"github.com/nara-care/nara/access"
	"github.com/nara-care/nara/gen/nara/push/v1/pushv1connect"
	"github.com/nara-care/nara/rpc"
	"github.com/nara-care/nara/store"
)

// Deps are what the push services need. Store is required.
type Deps struct {
	Store *store.Store
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Services serves DeviceService and NotificationService. It is a
// rpc.Domain.
type Services struct {
	devices       *deviceService
	notifications *notificationService
}

// New returns the push services over d.
func New(d Deps) *Services {
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Services{devices: &deviceService{store: d.Store}, notifications: &notificationService{store: d.Store, now: d.Now}}
}

// Mount serves both services. Devices, preferences and the inbox are the
// citizen's own.
func (s *Services) Mount(m *rpc.Mount) error {
	citizens := []access.Role{access.RoleCitizen}
	path, h := pushv1connect.NewDeviceServiceHandler(s.devices, m.Options())
	m.Service(pushv1connect.DeviceServiceName, path, h)
	m.Roles(citizens,
		pushv1connect.DeviceServiceRegisterDeviceProcedure,
		pushv1connect.DeviceServiceUnregisterDeviceProcedure,
		pushv1connect.DeviceServiceListDevicesProcedure,
		pushv1connect.DeviceServiceRemoveDeviceProcedure,
	)
	path, h = pushv1connect.NewNotificationServiceHandler(s.notifications, m.Options())
	m.Service(pushv1connect.NotificationServiceName, path, h)
	m.Roles(citizens,
		pushv1connect.NotificationServiceGetPreferencesProcedure,
		pushv1connect.NotificationServiceUpdatePreferencesProcedure,
		pushv1connect.NotificationServiceListNotificationsProcedure,
		pushv1connect.NotificationServiceMarkNotificationsReadProcedure,
	)
	return nil
}
