package server

import (
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// platformEnum is any of the API's Platform enums (login devices, push
// devices, app configuration), which name the same platforms alike:
// PLATFORM_IOS, PLATFORM_ANDROID, PLATFORM_WEB.
type platformEnum interface {
	~int32
	protoreflect.Enum
}

// platformName is how the data and the settings name p: "ios", "android"
// or "web"; "" when unspecified.
func platformName[P platformEnum](p P) string {
	v := p.Descriptor().Values().ByNumber(p.Number())
	if p == 0 || v == nil {
		return ""
	}
	return strings.ToLower(strings.TrimPrefix(string(v.Name()), "PLATFORM_"))
}

// platformFromName is the P that platformName calls name; unspecified for
// a name it does not know.
func platformFromName[P platformEnum](name string) P {
	var zero P
	v := zero.Descriptor().Values().ByName(protoreflect.Name("PLATFORM_" + strings.ToUpper(name)))
	if name == "" || v == nil {
		return 0
	}
	return P(v.Number())
}
