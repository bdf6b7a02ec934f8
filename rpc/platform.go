package rpc

import (
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// PlatformEnum is any of the API's Platform enums (login devices, push
// devices, app configuration), which name the same platforms alike:
// PLATFORM_IOS, PLATFORM_ANDROID, PLATFORM_WEB.
type PlatformEnum interface {
	~int32
	protoreflect.Enum
}

// PlatformName is how the data and the settings name p: "ios", "android"
// or "web"; "" when unspecified.
func PlatformName[P PlatformEnum](p P) string {
	v := p.Descriptor().Values().ByNumber(p.Number())
	if p == 0 || v == nil {
		return ""
	}
	return strings.ToLower(strings.TrimPrefix(string(v.Name()), "PLATFORM_"))
}

// PlatformFromName is the P that PlatformName calls name; unspecified for
// a name it does not know.
func PlatformFromName[P PlatformEnum](name string) P {
	var zero P
	v := zero.Descriptor().Values().ByName(protoreflect.Name("PLATFORM_" + strings.ToUpper(name)))
	if name == "" || v == nil {
		return 0
	}
	return P(v.Number())
}
