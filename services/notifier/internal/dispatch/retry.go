package dispatch

import (
	"context"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/leadstream/leadstream/services/notifier/internal/retryq"
)

// retryLoop takes due deliveries of one sink from the queue, at most
// Concurrency at a time, until ctx ends; then it waits for the attempts
// in flight, whose outcomes are recorded on a context that outlives ctx.
// A delivery queued due now wakes it at once, and while claims come back
// full more may be due (a backlog handed over by a busy sink), so it
// claims again as soon as a slot frees instead of waiting for the next
// tick.
func (d *Dispatcher) retryLoop(ctx context.Context, r *route) {
	var wg sync.WaitGroup
	defer wg.Wait()
	tick := time.NewTicker(d.cfg.PollInterval)
	defer tick.Stop()
	log := d.log.With(zap.String("sink", r.Name))
	draining := false
	for {
		ticked, ok := r.await(ctx, tick.C, draining)
		if !ok {
			return
		}
		draining = false
		if ticked {
			// The gauge follows the queue on every tick, also while
			// every slot is taken by an attempt that hangs.
			d.updateBacklog(ctx, r)
		}
		free := cap(r.slots) - len(r.slots)
		if free == 0 {
			// Claim once a slot comes free: a wake taken now would be
			// lost otherwise until the next tick.
			draining = true
			continue
		}
		jobs, err := d.cfg.Queue.Claim(ctx, r.Name, time.Now(), free)
		if err != nil {
			if ctx.Err() == nil {
				log.Warn("claim retries", zap.Error(err))
			}
			continue
		}
		draining = len(jobs) == free
		for _, j := range jobs {
			r.slots <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-r.slots; r.signal(r.freed); wg.Done() }()
				d.retry(context.WithoutCancel(ctx), r, j, log)
			}()
		}
	}
}

// await waits for the retry loop's next claim and reports whether a tick
// ended the wait; false once ctx ended. While draining, a slot coming
// free is the signal (at once if one is free); otherwise a tick or a
// delivery queued due now.
func (r *route) await(ctx context.Context, tick <-chan time.Time,
	draining bool) (ticked, ok bool) {
	wake, freed := r.due, (<-chan struct{})(nil)
	if draining {
		wake, freed = nil, r.freed
		if len(r.slots) < cap(r.slots) {
			freed = closed
		}
	}
	select {
	case <-ctx.Done():
		return false, false
	case <-tick:
		return true, true
	case <-wake:
	case <-freed:
	}
	return false, true
}

// closed is a channel that is always ready.
var closed = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

func (d *Dispatcher) updateBacklog(ctx context.Context, r *route) {
	if n, err := d.cfg.Queue.Backlog(ctx, r.Name); err == nil {
		d.cfg.Metrics.backlog.WithLabelValues(r.Name).Set(float64(n))
	}
}

// retry makes the next attempt of a queued delivery and records the
// outcome. When Redis fails here the lease brings the job back later.
func (d *Dispatcher) retry(ctx context.Context, r *route, j *retryq.Job, log *zap.Logger) {
	log = log.With(zap.String("transition_id", j.TransitionID))
	if done, err := d.cfg.Queue.Delivered(ctx, r.Name, j.TransitionID); err != nil || done {
		if done {
			d.logErr(log, "drop delivered job", d.cfg.Queue.Complete(ctx, j, false))
		}
		return
	}
	n := j.Attempts + 1
	err := d.attempt(ctx, r, j, n, r.Timeout)
	d.settle(ctx, r, j, n, err, func(j *retryq.Job) error {
		return d.cfg.Queue.Complete(ctx, j, true)
	}, log)
}

// settle records how attempt n of j ended: delivered (recorded through
// complete), rescheduled after a backoff, or parked after the sink's
// last attempt. A write that fails is logged; the job's lease then
// brings it back to a retry loop, which finds a recorded delivery and
// does not repeat it.
func (d *Dispatcher) settle(ctx context.Context, r *route, j *retryq.Job, n int, err error,
	complete func(*retryq.Job) error, log *zap.Logger,
) {
	j.Attempts = n
	if err == nil {
		d.cfg.Metrics.deliveries.WithLabelValues(r.Name, outcomeDelivered).Inc()
		log.Debug("transition delivered", zap.Int("attempt", n))
		d.logErr(log, "record delivery", complete(j))
		return
	}
	j.LastError = err.Error()
	if n >= r.MaxAttempts {
		if perr := d.park(ctx, r, j, log); perr != nil {
			log.Error("park delivery, will try again", zap.Error(perr))
			d.logErr(log, "reschedule",
				d.cfg.Queue.Reschedule(ctx, j, time.Now().Add(d.cfg.RetryBase)))
		}
		return
	}
	if n == 1 {
		// Counted once per delivery, when it first goes to the queue.
		d.cfg.Metrics.deliveries.WithLabelValues(r.Name, outcomeScheduled).Inc()
	}
	log.Warn("delivery failed, will retry", zap.Int("attempt", n), zap.Error(err))
	d.logErr(log, "reschedule", d.cfg.Queue.Reschedule(ctx, j, time.Now().Add(d.nextDelay(n, err))))
}

func (d *Dispatcher) logErr(log *zap.Logger, what string, err error) {
	if err != nil {
		log.Warn(what, zap.Error(err))
	}
}
