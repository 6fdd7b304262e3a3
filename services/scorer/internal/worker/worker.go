// Package worker runs one scorer in the consumer group: it polls events,
// scores them through the lead store, publishes the transitions they
// cause, and only then commits their offsets.
//
// The order within a batch is what keeps the guarantees:
//
//  1. score every event (per partition in order, partitions in parallel);
//     stage changes and their pending transitions are written together;
//  2. produce dead letters and every pending transition of the touched
//     leads, and wait for Kafka's acknowledgement;
//  3. remove exactly those pending transitions from Redis;
//  4. commit the offsets of the batch;
//  5. only then let the group rebalance.
//
// A stop anywhere before 4 means the batch is delivered again; its events
// are duplicates then, but they are still evaluated and their leads'
// pending transitions published again with the same ids.
//
// Batches overlap: up to maxInflight of them are in hand at once, the
// later ones scored while earlier ones are still scored or go through
// steps 2 to 4. Records of one key keep their order across batches (see
// score). Steps 2 to 4 run for one batch at a time and in poll order, so
// offsets are committed in order; a transition a batch read as pending
// while an earlier one published it is not published twice.
package worker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap"

	"github.com/leadstream/leadstream/pkg/config"
	"github.com/leadstream/leadstream/pkg/leadstore"
	"github.com/leadstream/leadstream/pkg/rules"
	"github.com/leadstream/leadstream/pkg/topics"
	"github.com/leadstream/leadstream/services/scorer/internal/scoring"
)

// Config is what a worker needs beyond its collaborators.
type Config struct {
	// Kafka names the brokers and topics.
	Kafka config.Kafka
	// Group is the consumer group.
	Group string
	// MaxPoll bounds the records of one batch.
	MaxPoll int
	// DrainTimeout bounds how long a stopping worker keeps trying to
	// finish its batch.
	DrainTimeout time.Duration
	// SessionTimeout is how long the group waits for a silent member
	// (one that crashed) before giving its partitions to others; 0 keeps
	// the client's default of 45s.
	SessionTimeout time.Duration
	// RebalanceTimeout is how long a rebalance waits for every member to
	// rejoin; a member that died between joining and syncing holds the
	// group that long. A batch in hand delays a rebalance, so it must
	// finish sooner. 0 keeps the client's default of 60s.
	RebalanceTimeout time.Duration
	// ClientOpts are extra franz-go options, e.g. for tests.
	ClientOpts []kgo.Opt
}

// errCrash stops a worker as a crash would: nothing more is published or
// committed. Only tests set it off, through the crash hook.
var errCrash = errors.New("simulated crash")

// crashPoint names a step of finish where a test may stop the worker.
type crashPoint int

const (
	// crashBeforePublish: the batch is scored and its transitions are
	// pending in Redis; nothing is produced yet.
	crashBeforePublish crashPoint = iota
	// crashBeforeAck: Kafka acknowledged the batch's transitions, which
	// are still pending in Redis.
	crashBeforeAck
	// crashBeforeCommit: the pending records are removed; the batch's
	// offsets are not committed.
	crashBeforeCommit
)

// crashAt reports whether the crash hook stops the worker at p in the
// finish of b; without a hook it costs a nil check.
func (w *Worker) crashAt(p crashPoint, b *batch) bool {
	return w.crash != nil && w.crash(p, b)
}

// Worker is one member of the scorer group.
type Worker struct {
	cfg   Config
	rules func() *rules.Rules
	store *leadstore.Store
	proc  *scoring.Processor
	log   *zap.Logger
	m     *Metrics
	cl    *kgo.Client

	// crash, set only by tests, is asked at each crashPoint of a batch's
	// finish whether to stop as if the process died there.
	crash func(at crashPoint, b *batch) bool

	// rebalancing is set when a rebalance waits for the batches in hand.
	rebalancing atomic.Bool

	// lanes orders each key's records across the batches in hand.
	lanes laneQueue

	mu       sync.Mutex
	assigned int // guarded by mu
}

// New connects a worker; it joins the group when Run starts polling.
func New(cfg Config, current func() *rules.Rules, store *leadstore.Store, log *zap.Logger,
	m *Metrics) (*Worker, error) {
	w := &Worker{cfg: cfg, rules: current, store: store, proc: scoring.New(store), log: log,
		m: m}
	opts, err := cfg.Kafka.ClientOpts()
	if err != nil {
		return nil, fmt.Errorf("configure kafka: %w", err)
	}
	opts = append(opts,
		kgo.ConsumerGroup(cfg.Group),
		kgo.ConsumeTopics(cfg.Kafka.EventsTopic),
		kgo.Balancers(kgo.CooperativeStickyBalancer()),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerLinger(0),
		kgo.OnPartitionsAssigned(w.onAssigned),
		kgo.OnPartitionsRevoked(w.onRevoked),
		kgo.OnPartitionsLost(w.onLost),
		kgo.OnPartitionsCallbackBlocked(func(context.Context, *kgo.Client) {
			w.rebalancing.Store(true)
		}),
	)
	if cfg.SessionTimeout > 0 {
		// Heartbeats must come well within the session timeout.
		opts = append(opts, kgo.SessionTimeout(cfg.SessionTimeout),
			kgo.HeartbeatInterval(cfg.SessionTimeout/3))
	}
	if cfg.RebalanceTimeout > 0 {
		opts = append(opts, kgo.RebalanceTimeout(cfg.RebalanceTimeout))
	}
	w.cl, err = kgo.NewClient(append(opts, cfg.ClientOpts...)...)
	if err != nil {
		return nil, fmt.Errorf("new kafka client: %w", err)
	}
	return w, nil
}

// Ping checks that a Kafka broker answers.
func (w *Worker) Ping(ctx context.Context) error {
	if err := w.cl.Ping(ctx); err != nil {
		return fmt.Errorf("ping kafka: %w", err)
	}
	return nil
}

// allowEvery bounds how long a busy worker keeps overlapping batches
// before it finishes everything in hand and lets a waiting rebalance
// proceed.
const allowEvery = 500 * time.Millisecond

// maxInflight bounds the batches in hand at once. One batch waits for its
// slowest lane, a device with several events in a row, say; scoring the
// next ones meanwhile keeps Redis busy. In the scorer benchmark, four
// batches of 500 records went about as fast as one batch of 5,000, and
// eight some 5% faster than four, with two scorers more.
const maxInflight = 8

// pollWait is how long a worker with batches in hand waits for more
// records. Under load a fetch is in flight and answers sooner; when none
// come, the batches in hand are finished and a waiting rebalance is let
// through rather than held up by a poll that may wait long.
const pollWait = 100 * time.Millisecond

// Run polls and processes batches until ctx ends, then finishes the
// batches in hand, leaves the group and returns nil.
//
// Batches are scored while the ones before them are still scored,
// published and committed, so the Redis round trips of some overlap the
// Kafka round trips of others. Rebalances wait until no batch is in hand:
// the worker lets them proceed as soon as one is waiting, whenever a
// poll finds no records, and at least every allowEvery.
func (w *Worker) Run(ctx context.Context) error {
	defer w.close()
	w.log.Info("scorer worker started", zap.String("group", w.cfg.Group),
		zap.String("topic", w.cfg.Kafka.EventsTopic))
	var hand inHand
	var allowed time.Time
	idle := true
	for {
		if w.rebalancing.Swap(false) || idle || ctx.Err() != nil ||
			time.Since(allowed) >= allowEvery {
			if err := hand.waitAll(); err != nil {
				return err
			}
			hand, allowed = nil, time.Now()
			w.cl.AllowRebalance()
		}
		if ctx.Err() != nil {
			w.log.Info("scorer worker stopping", zap.String("group", w.cfg.Group))
			return nil
		}
		// A worker that has caught up (its last poll was not a full one)
		// scores a batch before it polls the next, as records keep
		// coming: every batch is published and committed after the one
		// before it, so many small batches would queue behind each
		// other's Kafka round trips, where fewer, larger ones keep the
		// time from an event to its transition short.
		if n := len(hand); n > 0 && !hand[n-1].full {
			<-hand[n-1].scored
		}
		if err := hand.waitBelow(maxInflight); err != nil {
			return err
		}
		fetches := w.poll(ctx, len(hand) > 0)
		if fetches.IsClientClosed() {
			return hand.waitAll()
		}
		w.m.observeLag(fetches)
		recs := fetches.Records()
		if idle = len(recs) == 0; !idle {
			f := w.start(ctx, recs, hand)
			f.full = len(recs) >= w.cfg.MaxPoll/2
			hand = append(hand, f)
		}
	}
}

// poll polls for a batch, for at most pollWait when batches are in hand.
func (w *Worker) poll(ctx context.Context, busy bool) kgo.Fetches {
	if busy {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, pollWait)
		defer cancel()
	}
	fetches := w.cl.PollRecords(ctx, w.cfg.MaxPoll)
	fetches.EachError(func(topic string, p int32, err error) {
		if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			w.log.Warn("fetch failed", zap.String("topic", topic),
				zap.Int32("partition", p), zap.Error(err))
		}
	})
	return fetches
}

// inflight is a batch being scored, published and committed.
type inflight struct {
	// scored is closed once every record is scored, done once the batch
	// is committed or failed.
	scored chan struct{}
	done   chan struct{}
	err    error
	// full is set when the batch had at least half of MaxPoll records:
	// the worker was behind when it polled it.
	full bool
	// published holds the ids of the transitions it publishes, known
	// once done: later batches, scored meanwhile, may have read them as
	// pending still and must not publish them again.
	published map[string]bool
}

// inHand lists the batches in hand, oldest first. Each one finishes after
// the one before it, so the last one done means all are.
type inHand []*inflight

// waitAll waits for every batch in hand and returns the first error.
func (h inHand) waitAll() error {
	if len(h) == 0 {
		return nil
	}
	<-h[len(h)-1].done
	for _, f := range h {
		if f.err != nil {
			return f.err
		}
	}
	return nil
}

// waitBelow waits until fewer than n batches are in hand, dropping the
// finished ones from h, and returns the error of any that failed.
func (h *inHand) waitBelow(n int) error {
	for len(*h) > 0 {
		oldest := (*h)[0]
		if len(*h) >= n {
			<-oldest.done
		}
		select {
		case <-oldest.done:
			if oldest.err != nil {
				return oldest.err
			}
			*h = (*h)[1:]
		default:
			return nil
		}
	}
	return nil
}

// start starts scoring recs and, in the background, finishing them once
// they are scored and the batches before them, before, are finished.
// Both run on a context that outlives ctx by the drain timeout, so a stop
// finishes the batches in hand.
func (w *Worker) start(ctx context.Context, recs []*kgo.Record, before inHand) *inflight {
	work, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(w.cfg.DrainTimeout, cancel) })
	begin := time.Now()
	b := &batch{leads: map[string]*leadPending{}}
	scored := w.score(work, b, recs)
	before = append(inHand(nil), before...)
	next := &inflight{scored: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(next.done)
		defer cancel()
		defer stop()
		err := <-scored
		close(next.scored)
		if berr := before.waitAll(); berr != nil {
			err = berr
		}
		if err != nil {
			next.err = err
			return
		}
		for _, f := range before {
			b.drop(f.published)
		}
		next.published = b.ids()
		next.err = w.finish(work, b, recs, begin)
	}()
	return next
}

// close leaves the group without committing anything more.
func (w *Worker) close() {
	w.cl.AllowRebalance()
	w.cl.Close()
	w.log.Info("scorer worker left the group", zap.String("group", w.cfg.Group))
}

func (w *Worker) onAssigned(_ context.Context, _ *kgo.Client, parts map[string][]int32) {
	w.countPartitions(parts, 1, "assigned")
}

func (w *Worker) onRevoked(_ context.Context, _ *kgo.Client, parts map[string][]int32) {
	// Nothing to commit here: a batch is committed before the rebalance
	// that revokes its partitions may proceed.
	w.countPartitions(parts, -1, "revoked")
}

func (w *Worker) onLost(_ context.Context, _ *kgo.Client, parts map[string][]int32) {
	w.countPartitions(parts, -1, "lost")
}

func (w *Worker) countPartitions(parts map[string][]int32, sign int, change string) {
	n := 0
	for topic, ps := range parts {
		n += len(ps)
		w.log.Info("partitions "+change, zap.String("topic", topic),
			zap.Int32s("partitions", ps), zap.String("group", w.cfg.Group))
	}
	w.m.moves.WithLabelValues(change).Add(float64(n))
	if sign < 0 {
		w.m.forgetLag(parts)
	}
	w.mu.Lock()
	w.assigned = max(0, w.assigned+sign*n)
	w.m.partitions.Set(float64(w.assigned))
	w.mu.Unlock()
}

// TopicSpecs are the topics a scorer needs, with the partitions they get
// when it creates them.
func TopicSpecs(k config.Kafka) []topics.Spec {
	return []topics.Spec{{Name: k.EventsTopic, Partitions: 8},
		{Name: k.TransitionsTopic, Partitions: 4}, {Name: k.DeadLetterTopic, Partitions: 1}}
}

// EnsureTopics creates the scorer's topics that are missing.
func (w *Worker) EnsureTopics(ctx context.Context) error {
	return topics.Ensure(ctx, w.cl, TopicSpecs(w.cfg.Kafka)...)
}
