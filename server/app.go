package server

import (
	"context"
	"strconv"
	"strings"

	appv1 "github.com/nara-care/nara/gen/nara/app/v1"
	"github.com/nara-care/nara/rpc"
)

// appService answers an app's start-up question from memory.
type appService struct {
	cfg Config
}

func (s *appService) GetConfig(_ context.Context, req *appv1.GetConfigRequest) (*appv1.GetConfigResponse, error) {
	minimum := s.cfg.MinimumAppVersions[rpc.PlatformName(req.Platform)]
	return &appv1.GetConfigResponse{
		ServerVersion:     s.cfg.Version,
		MinimumAppVersion: minimum,
		UpdateRequired:    minimum != "" && req.AppVersion != "" && compareVersions(req.AppVersion, minimum) < 0,
	}, nil
}

// compareVersions compares dotted numeric versions ("4.12.0" < "4.13").
func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < max(len(as), len(bs)); i++ {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}
