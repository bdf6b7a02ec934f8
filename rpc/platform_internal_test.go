package rpc

import (
	"testing"

	appv1 "github.com/nara-care/nara/gen/nara/app/v1"
	authv1 "github.com/nara-care/nara/gen/nara/auth/v1"
	pushv1 "github.com/nara-care/nara/gen/nara/push/v1"
)

// TestPlatformNames names the platforms of all three enums alike, both
// ways.
func TestPlatformNames(t *testing.T) {
	for _, name := range []string{"ios", "android", "web"} {
		if got := PlatformName(PlatformFromName[authv1.Platform](name)); got != name {
			t.Errorf("auth %q came back as %q", name, got)
		}
		if got := PlatformName(PlatformFromName[pushv1.Platform](name)); got != name {
			t.Errorf("push %q came back as %q", name, got)
		}
		if got := PlatformName(PlatformFromName[appv1.Platform](name)); got != name {
			t.Errorf("app %q came back as %q", name, got)
		}
	}
	if got := PlatformFromName[pushv1.Platform]("symbian"); got != pushv1.Platform_PLATFORM_UNSPECIFIED {
		t.Errorf("an unknown name got %v", got)
	}
	if got := PlatformName(authv1.Platform_PLATFORM_UNSPECIFIED); got != "" {
		t.Errorf("unspecified got %q", got)
	}
	if PlatformFromName[appv1.Platform]("ios") != appv1.Platform_PLATFORM_IOS {
		t.Error("ios is not PLATFORM_IOS")
	}
}
