package server

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"connectrpc.com/connect"
	healthv1 "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/nara-care/nara/store"
)

// healthService implements the standard gRPC health protocol
// (grpc.health.v1.Health) over Connect, gRPC and gRPC-Web: SERVING once the
// database answers. Load balancers and orchestrators call it. The message
// types are grpc-go's, which the process links anyway; a second copy of the
// same proto file would collide in the protobuf registry.
type healthService struct {
	store *store.Store
	// services are the names a client may ask about.
	services []string
}

func (h *healthService) status(ctx context.Context, service string) (healthv1.HealthCheckResponse_ServingStatus, error) {
	if service != "" && !slices.Contains(h.services, service) {
		return healthv1.HealthCheckResponse_SERVICE_UNKNOWN, connect.NewError(connect.CodeNotFound, errors.New("unknown service"))
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := h.store.Ping(ctx); err != nil {
		return healthv1.HealthCheckResponse_NOT_SERVING, nil
	}
	return healthv1.HealthCheckResponse_SERVING, nil
}

// The procedure names of the health protocol.
const (
	healthServiceName    = "grpc.health.v1.Health"
	healthCheckProcedure = "/grpc.health.v1.Health/Check"
	healthWatchProcedure = "/grpc.health.v1.Health/Watch"
)

// handler serves both health RPCs on one path prefix.
func (h *healthService) handler(opts ...connect.HandlerOption) (string, http.Handler) {
	mux := http.NewServeMux()
	mux.Handle(healthCheckProcedure, connect.NewUnaryHandler(healthCheckProcedure,
		func(ctx context.Context, req *connect.Request[healthv1.HealthCheckRequest]) (*connect.Response[healthv1.HealthCheckResponse], error) {
			res, err := h.Check(ctx, req.Msg)
			if err != nil {
				return nil, err
			}
			return connect.NewResponse(res), nil
		}, append(opts, connect.WithIdempotency(connect.IdempotencyNoSideEffects))...))
	mux.Handle(healthWatchProcedure, connect.NewServerStreamHandler(healthWatchProcedure,
		func(ctx context.Context, req *connect.Request[healthv1.HealthCheckRequest], stream *connect.ServerStream[healthv1.HealthCheckResponse]) error {
			return h.Watch(ctx, req.Msg, stream)
		}, opts...))
	return "/" + healthServiceName + "/", mux
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
