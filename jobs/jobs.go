// Package jobs runs Nära's background jobs on River, in the same
// PostgreSQL as the data they act on. Each replica has one River client;
// every part of the product adds its workers, queues and periodic jobs to
// a Registry while cmd/nara wires it, and the client is built from the
// Registry once everything has.
package jobs

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
)

// Registry collects the workers, queues and periodic jobs of every part of
// the product.
type Registry struct {
	workers  *river.Workers
	queues   map[string]river.QueueConfig
	periodic []*river.PeriodicJob
}

// NewRegistry returns an empty Registry with River's default queue.
func NewRegistry() *Registry {
	return &Registry{
		workers: river.NewWorkers(),
		queues:  map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 2}},
	}
}

// Queue adds a queue worked by up to maxWorkers jobs at once per replica.
func (r *Registry) Queue(name string, maxWorkers int) {
	r.queues[name] = river.QueueConfig{MaxWorkers: maxWorkers}
}

// Worker adds the worker of one kind of job.
func Worker[T river.JobArgs](r *Registry, w river.Worker[T]) error {
	return river.AddWorkerSafely(r.workers, w)
}

// Periodic adds a job that River's leader inserts every interval (and once
// at start).
func Periodic(r *Registry, interval time.Duration, args func() river.JobArgs) {
	r.periodic = append(r.periodic, river.NewPeriodicJob(
		river.PeriodicInterval(interval),
		func() (river.JobArgs, *river.InsertOpts) { return args(), nil },
		&river.PeriodicJobOpts{RunOnStart: true},
	))
}

// Config sets the client's timing; the zero value is the defaults.
type Config struct {
	// RescueAfter is how long a job may stay running before River takes it
	// for a crashed worker's and runs it again; a job times out at half of
	// it. Default 2 min.
	RescueAfter time.Duration
	// PollInterval is how often idle workers look for jobs. Default 100 ms.
	PollInterval time.Duration
	// MaxAttempts is how often a failing job is tried. Default 12.
	MaxAttempts int
}

func (c *Config) setDefaults() {
	if c.RescueAfter <= 0 {
		c.RescueAfter = 2 * time.Minute
	}
	if c.PollInterval <= 0 {
		c.PollInterval = 100 * time.Millisecond
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 12
	}
}

// NewClient builds the replica's River client over pool with everything r
// holds. Start it once the server is ready to work, Stop it at shutdown.
func NewClient(pool *pgxpool.Pool, logger *slog.Logger, cfg Config, r *Registry) (*river.Client[pgx.Tx], error) {
	cfg.setDefaults()
	c, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Logger:               logger.With(slog.String("component", "river")),
		Queues:               r.queues,
		Workers:              r.workers,
		PeriodicJobs:         r.periodic,
		JobTimeout:           cfg.RescueAfter / 2,
		RescueStuckJobsAfter: cfg.RescueAfter,
		FetchPollInterval:    cfg.PollInterval,
		FetchCooldown:        min(cfg.PollInterval, 50*time.Millisecond),
		MaxAttempts:          cfg.MaxAttempts,
	})
	if err != nil {
		return nil, fmt.Errorf("jobs: river client: %w", err)
	}
	return c, nil
}
