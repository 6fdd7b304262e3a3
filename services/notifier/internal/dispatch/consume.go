package dispatch

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
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
// ends or a fetch fails for good (see fatalFetch). It keeps reading while
// up to MaxInFlight records are being delivered, hands records of
// different leads to the sinks in parallel and those of one lead in
// order, and commits each partition in batches up to its watermark (see
// watermarks). On the way out it lets the records in flight finish and
// commits what is done.
func (d *Dispatcher) consume(ctx context.Context) error {
	r := d.newReader()
	defer func() { _ = r.Close() }()
	d.log.Info("notifier consuming", zap.String("topic", d.cfg.Topic),
		zap.String("group", d.cfg.Group), zap.Int("max_in_flight", d.cfg.MaxInFlight))

	c := &consumer{d: d, r: r, marks: newWatermarks(), lanes: newLanes(),
		window: make(chan struct{}, d.cfg.MaxInFlight), kick: make(chan struct{}, 1)}
	commitCtx, stopCommits := context.WithCancel(context.WithoutCancel(ctx))
	committed := make(chan struct{})
	go func() {
		defer close(committed)
		c.commitLoop(commitCtx)
	}()

	err := c.fetchLoop(ctx)
	c.lanes.wait()
	stopCommits()
	<-committed
	c.commit(context.WithoutCancel(ctx))
	return err
}

func (d *Dispatcher) newReader() *kafka.Reader {
	return kafka.NewReader(kafka.ReaderConfig{
		Brokers: d.cfg.Brokers, Topic: d.cfg.Topic, GroupID: d.cfg.Group, Dialer: d.cfg.Dialer,
		StartOffset: kafka.FirstOffset, MaxWait: 500 * time.Millisecond,
		QueueCapacity:     d.cfg.MaxInFlight,
		HeartbeatInterval: min(time.Second, d.cfg.SessionTimeout/3),
		SessionTimeout:    d.cfg.SessionTimeout, RebalanceTimeout: d.cfg.RebalanceTimeout,
		JoinGroupBackoff: time.Second,
		ErrorLogger: kafka.LoggerFunc(func(format string, args ...any) {
			d.log.Warn("kafka reader error", zap.String("detail", fmt.Sprintf(format, args...)))
		}),
	})
}

// consumer is one run of the consume loop.
type consumer struct {
	d     *Dispatcher
	r     *kafka.Reader
	marks *watermarks
	lanes *lanes
	// window holds one token per record read and not yet finished.
	window chan struct{}
	// kick asks the commit loop for a commit before its next tick.
	kick chan struct{}
	// sinceCommit counts records finished since the last kick or tick.
	sinceCommit atomic.Int64
}

// fetchLoop reads records while the window has room and hands each to
// its lead's lane, until ctx ends (nil) or a fetch fails in a way that
// waiting cannot mend. A fetch that fails because Kafka is unreachable
// is retried after a backoff, on the same reader, which reconnects and
// rejoins the group by itself; the records it then reads again from the
// committed offsets find their deliveries recorded and are not resent.
func (c *consumer) fetchLoop(ctx context.Context) error {
	failures := 0
	for {
		select {
		case c.window <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		msg, err := c.r.FetchMessage(ctx)
		if ctx.Err() != nil {
			<-c.window
			return nil
		}
		if err != nil {
			<-c.window
			if fatalFetch(err) {
				return fmt.Errorf("fetch transition: %w", err)
			}
			failures++
			if !c.backOff(ctx, failures, err) {
				return nil
			}
			continue
		}
		failures = 0
		c.d.cfg.Metrics.inFlight.Inc()
		t := c.marks.read(msg)
		c.lanes.run(string(msg.Key), func() { c.handle(ctx, msg, t) })
	}
}

// handle makes msg's outcome durable and marks it finished. Once ctx
// has ended, a record not yet started is left unfinished: it stays
// uncommitted and is read again, and delivery records prevent repeats.
func (c *consumer) handle(ctx context.Context, msg kafka.Message, t ticket) {
	defer func() {
		<-c.window
		c.d.cfg.Metrics.inFlight.Dec()
	}()
	if ctx.Err() != nil || c.d.processUntilDurable(ctx, msg) != nil {
		return
	}
	c.marks.finish(t)
	if c.sinceCommit.Add(1) >= int64(c.d.cfg.CommitEvery) {
		c.sinceCommit.Store(0)
		select {
		case c.kick <- struct{}{}:
		default:
		}
	}
}

// commitLoop commits every CommitInterval, or sooner when CommitEvery
// records finished, until ctx ends.
func (c *consumer) commitLoop(ctx context.Context) {
	tick := time.NewTicker(c.d.cfg.CommitInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-c.kick:
		}
		c.sinceCommit.Store(0)
		c.commit(ctx)
	}
}

// commit commits every partition whose watermark moved. A failed commit
// is not fatal: the watermark stays due and the next commit covers it,
// and if none comes before a restart or rebalance, the records read
// again find their deliveries recorded in Redis and are not sent twice.
func (c *consumer) commit(ctx context.Context) {
	msgs := c.marks.due()
	if len(msgs) == 0 {
		return
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := c.r.CommitMessages(cctx, msgs...); err != nil {
		if ctx.Err() == nil {
			c.d.log.Warn("offset commit failed, a later commit will cover it",
				zap.String("topic", c.d.cfg.Topic), zap.Int("partitions", len(msgs)),
				zap.Error(err))
		}
		return
	}
	c.marks.committed(msgs)
	for _, m := range msgs {
		c.d.log.Debug("offsets committed", zap.String("topic", m.Topic),
			zap.Int("partition", m.Partition), zap.Int64("offset", m.Offset+1))
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

// process queues one record's delivery for every sink that wants it, in
// parallel, and hands each queued delivery to its sink's first attempts.
// A nil result means every sink's outcome is durable. The queue writes
// run on a context that outlives ctx, so a shutdown lets them finish.
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
			errs[i] = d.enqueue(ctx, r, &j, string(msg.Key), tr.GetLeadId())
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// enqueue queues the delivery of j and, when the sink can take it, hands
// it to the sink's first attempts. A sink takes a delivery while it is
// not failing and has fewer than MaxInFlight first attempts running or
// waiting, and always when it has one of the same key (lead) running
// or waiting, so that a lead's SQL is not sent before its MQL was
// answered or queued. A delivery it takes is queued under a lease,
// durable from the start: a crash leaves it to a retry loop once the
// lease ends, and a copy of the record read again (a redelivery, a
// rebalance) finds it queued and leaves it alone. Any other delivery is
// queued due now, for the sink's retry loop. A nil result means the
// outcome is durable.
//
// NOTE: the bound is checked before the queue write and not held
// through it, so a sink can briefly have up to MaxInFlight more first
// attempts than the bound, one per record being processed.
func (d *Dispatcher) enqueue(ctx context.Context, r *route, j *retryq.Job, key, lead string) error {
	take := r.first.busy(key) ||
		(!r.failing.Load() && r.first.size() < d.cfg.MaxInFlight)
	queued := time.Now()
	due := queued
	if take {
		due = queued.Add(d.firstLease())
	}
	res, err := d.schedules.call(retryq.Scheduling{Job: j, Due: due})
	if err != nil {
		return err
	}
	log := d.log.With(zap.String("sink", r.Name), zap.String("lead_id", lead),
		zap.String("transition_id", j.TransitionID))
	switch {
	case res == retryq.AlreadyDelivered:
		d.cfg.Metrics.deliveries.WithLabelValues(r.Name, outcomeDuplicate).Inc()
		log.Debug("transition already delivered")
	case res == retryq.AlreadyQueued:
		log.Debug("transition already queued")
	case !take:
		d.cfg.Metrics.deliveries.WithLabelValues(r.Name, outcomeScheduled).Inc()
		log.Debug("sink failing or busy, delivery queued")
		r.wake()
	default:
		r.first.run(key, func() { d.firstAttempt(ctx, r, j, queued, log) })
	}
	return nil
}
