package server

import (
	"context"
	"errors"
	"slices"
	"time"

	"connectrpc.com/connect"

	healthv1 "github.com/nara-care/nara/gen/grpc/health/v1"
	"github.com/nara-care/nara/store"
)

// healthService implements the gRPC health protocol: SERVING once the
// database answers. Load balancers and orchestrators call it.
type healthService struct {
	store *store.Store
}

func (h *healthService) status(ctx context.Context, service string) (healthv1.HealthCheckResponse_ServingStatus, error) {
	if service != "" && !slices.Contains(serviceNames(), service) {
		return healthv1.HealthCheckResponse_SERVICE_UNKNOWN, connect.NewError(connect.CodeNotFound, errors.New("unknown service"))
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := h.store.Ping(ctx); err != nil {
		return healthv1.HealthCheckResponse_NOT_SERVING, nil
	}
	return healthv1.HealthCheckResponse_SERVING, nil
}

func (h *healthService) Check(ctx context.Context, req *healthv1.HealthCheckRequest) (*healthv1.HealthCheckResponse, error) {
	st, err := h.status(ctx, req.Service)
	if err != nil {
		return nil, err
	}
	return &healthv1.HealthCheckResponse{Status: st}, nil
}

// healthWatchInterval is how often Watch re-checks the database.
const healthWatchInterval = 5 * time.Second

func (h *healthService) Watch(ctx context.Context, req *healthv1.HealthCheckRequest, stream *connect.ServerStream[healthv1.HealthCheckResponse]) error {
	last := healthv1.HealthCheckResponse_UNKNOWN
	for {
		st, _ := h.status(ctx, req.Service)
		if st != last {
			if err := stream.Send(&healthv1.HealthCheckResponse{Status: st}); err != nil {
				return err
			}
			last = st
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(healthWatchInterval):
		}
	}
}
