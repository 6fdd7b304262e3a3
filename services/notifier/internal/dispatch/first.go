package dispatch

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/leadstream/leadstream/services/notifier/internal/retryq"
)

// firstAttempt makes the first attempt of a delivery that enqueue queued
// under a lease at queued, and records the outcome. It runs in the
// sink's lanes, after the record is finished, so however long it takes
// it holds back only this sink's later transitions of the same lead.
//
// It hands the delivery to the queue, due now, instead of attempting it
// when the dispatcher is stopping, when the sink has failed since (its
// retry loop will try it without tying up first attempts), or when it
// waited behind its lead so long that the attempt could outlast the
// lease taken when it was queued (less a tenth, for the writes after
// the attempt): a retry loop could then claim it while it runs.
func (d *Dispatcher) firstAttempt(
	ctx context.Context, r *route, j *retryq.Job, queued time.Time, log *zap.Logger,
) {
	dctx := context.WithoutCancel(ctx)
	timeout := min(d.cfg.InlineTimeout, r.Timeout)
	lease := d.firstLease()
	late := time.Since(queued)+timeout > lease-lease/10
	if ctx.Err() != nil || r.failing.Load() || late {
		d.cfg.Metrics.deliveries.WithLabelValues(r.Name, outcomeScheduled).Inc()
		log.Debug("delivery handed to the queue")
		d.logErr(log, "hand delivery to the queue", d.cfg.Queue.Reschedule(dctx, j, time.Now()))
		r.wake()
		return
	}
	err := d.attempt(dctx, r, j, 1, timeout)
	d.settle(dctx, r, j, 1, err, d.completeBatched, log)
}

// firstLeaseMargin is how much longer than the inline timeout a first
// attempt's lease lasts: room for waiting behind the lead's attempt
// before it and for recording the outcome.
const firstLeaseMargin = 10 * time.Second

// firstLease is the lease a delivery is queued under for its first
// attempt. It is much shorter than the queue's lease for retries, which
// covers the sink's whole timeout: if this process dies, a first attempt
// comes back to a retry loop seconds later, not after the longest sink
// timeout and more.
func (d *Dispatcher) firstLease() time.Duration {
	return min(d.cfg.InlineTimeout+firstLeaseMargin, d.cfg.Queue.Lease())
}

// completeBatched records a delivery through the batched queue writes.
func (d *Dispatcher) completeBatched(j *retryq.Job) error {
	_, err := d.completions.call(j)
	return err
}
