package changefeed

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/nara-care/nara/jobs"
)

// PruneArgs is the periodic job that deletes the feed's old rows.
type PruneArgs struct{}

// Kind is the River job kind.
func (PruneArgs) Kind() string { return "change_feed_prune" }

// pruneEvery is how often the feed is pruned.
const pruneEvery = 10 * time.Minute

type pruneWorker struct {
	river.WorkerDefaults[PruneArgs]
	h   *Hub
	src Source
}

func (w *pruneWorker) Work(ctx context.Context, _ *river.Job[PruneArgs]) error {
	_, err := w.h.Prune(ctx, w.src)
	return err
}

// AddJobs adds the feed's pruning to r: every ten minutes one replica
// deletes the rows older than Config.Keep.
func (h *Hub) AddJobs(r *jobs.Registry, src Source) error {
	if err := jobs.Worker(r, &pruneWorker{h: h, src: src}); err != nil {
		return err
	}
	jobs.Periodic(r, pruneEvery, func() river.JobArgs { return PruneArgs{} })
	return nil
}
