package dispatch

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"

	"github.com/leadstream/leadstream/pkg/subscribe"
	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
	"github.com/leadstream/leadstream/services/notifier/internal/retryq"
)

func decode(b []byte) (*leadstreamv1.Transition, error) {
	tr := &leadstreamv1.Transition{}
	if err := proto.Unmarshal(b, tr); err != nil {
		return nil, fmt.Errorf("decode transition: %w", err)
	}
	if tr.GetId() == "" {
		return nil, errors.New("decode transition: no id")
	}
	return tr, nil
}

// consume reads the transitions topic in the consumer group until ctx
// ends.
func (d *Dispatcher) consume(ctx context.Context) error {
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: d.cfg.Brokers, Topic: d.cfg.Topic, GroupID: d.cfg.Group, Dialer: d.cfg.Dialer,
		StartOffset: kafka.FirstOffset, MaxWait: 500 * time.Millisecond,
		HeartbeatInterval: time.Second, SessionTimeout: 10 * time.Second,
		RebalanceTimeout: 10 * time.Second, JoinGroupBackoff: time.Second,
		ErrorLogger: kafka.LoggerFunc(func(format string, args ...any) {
			d.log.Warn("kafka reader error", zap.String("detail", fmt.Sprintf(format, args...)))
		}),
	})
	defer func() { _ = r.Close() }()
	d.log.Info("notifier consuming", zap.String("topic", d.cfg.Topic),
		zap.String("group", d.cfg.Group))
	for {
		msg, err := r.FetchMessage(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return fmt.Errorf("fetch transition: %w", err)
		}
		if err := d.processUntilDurable(ctx, msg); err != nil {
			// Stopping with the record unfinished: it stays uncommitted
			// and is read again, and delivery records prevent repeats.
			return nil
		}
		d.commit(ctx, r, msg)
	}
}

// commit records msg as done. A failed commit is not fatal: the next
// commit on the partition covers this offset too, and if none comes
// before a restart or rebalance, the records read again find their
// deliveries recorded in Redis and are not sent twice.
func (d *Dispatcher) commit(ctx context.Context, r *kafka.Reader, msg kafka.Message) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := r.CommitMessages(cctx, msg); err != nil {
		d.log.Warn("offset commit failed, a later commit will cover it",
			zap.String("topic", msg.Topic), zap.Int("partition", msg.Partition),
			zap.Int64("offset", msg.Offset), zap.Error(err))
	}
}

// processUntilDurable repeats process until every sink's outcome is
// durable, waiting between tries; it gives up only when ctx ends.
func (d *Dispatcher) processUntilDurable(ctx context.Context, msg kafka.Message) error {
	for try := 1; ; try++ {
		err := d.process(ctx, msg)
		if err == nil {
			return nil
		}
		d.log.Warn("transition not yet durable, retrying", zap.Int("partition", msg.Partition),
			zap.Int64("offset", msg.Offset), zap.Int("attempt", try), zap.Error(err))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(subscribe.Backoff(100*time.Millisecond, 5*time.Second, try)):
		}
	}
}

// process gives one record to every sink that wants it, in parallel.
// Deliveries run on a context that outlives ctx, so a shutdown lets them
// finish and records their outcome.
func (d *Dispatcher) process(ctx context.Context, msg kafka.Message) error {
	dctx := context.WithoutCancel(ctx)
	job := retryq.Job{Key: msg.Key, Transition: msg.Value, Topic: msg.Topic,
		Partition: msg.Partition, Offset: msg.Offset}
	tr, err := decode(msg.Value)
	if err != nil {
		job.LastError = err.Error()
		d.log.Error("undecodable transition parked", zap.String("topic", msg.Topic),
			zap.Int("partition", msg.Partition), zap.Int64("offset", msg.Offset), zap.Error(err))
		return d.cfg.Parker.Park(dctx, &job, job.LastError)
	}
	job.TransitionID = tr.GetId()

	var wg sync.WaitGroup
	errs := make([]error, len(d.routes))
	for i, r := range d.routes {
		if !r.Wants(tr.GetTo()) {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			j := job
			j.Sink = r.Name
			errs[i] = d.deliverFirst(dctx, r, &j, tr.GetLeadId())
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// deliverFirst queues the delivery and then, unless the sink is known
// to be failing, makes the first attempt inline. The job is queued under
// a lease first, so the attempt is durable from the start: a crash
// leaves it to the retry loop, and a copy of the record read again (a
// redelivery, a rebalance) finds it queued and leaves it alone. A nil
// result means the outcome is durable.
func (d *Dispatcher) deliverFirst(ctx context.Context, r *route, j *retryq.Job, lead string) error {
	log := d.log.With(zap.String("sink", r.Name), zap.String("lead_id", lead),
		zap.String("transition_id", j.TransitionID))
	failing := r.failing.Load()
	due := time.Now().Add(d.cfg.Queue.Lease())
	if failing {
		due = time.Now()
	}
	res, err := d.cfg.Queue.Schedule(ctx, j, due)
	if err != nil {
		return err
	}
	switch {
	case res == retryq.AlreadyDelivered:
		d.cfg.Metrics.deliveries.WithLabelValues(r.Name, outcomeDuplicate).Inc()
		log.Debug("transition already delivered")
		return nil
	case res == retryq.AlreadyQueued:
		log.Debug("transition already queued")
		return nil
	case failing:
		d.cfg.Metrics.deliveries.WithLabelValues(r.Name, outcomeScheduled).Inc()
		log.Debug("sink failing, delivery queued")
		return nil
	}

	err = d.attempt(ctx, r, j, 1, min(d.cfg.InlineTimeout, r.Timeout))
	j.Attempts = 1
	if err == nil {
		d.cfg.Metrics.deliveries.WithLabelValues(r.Name, outcomeDelivered).Inc()
		log.Debug("transition delivered", zap.Int("attempt", 1))
		return d.cfg.Queue.Complete(ctx, j, true)
	}
	j.LastError = err.Error()
	log.Warn("delivery failed, will retry", zap.Int("attempt", 1), zap.Error(err))
	if j.Attempts >= r.MaxAttempts {
		return d.park(ctx, r, j, log)
	}
	d.cfg.Metrics.deliveries.WithLabelValues(r.Name, outcomeScheduled).Inc()
	return d.cfg.Queue.Reschedule(ctx, j, time.Now().Add(d.nextDelay(1, err)))
}
