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
package worker

import (
	"context"
	"errors"
	"fmt"
	"sync"
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

// Worker is one member of the scorer group.
type Worker struct {
	cfg   Config
	rules func() *rules.Rules
	store *leadstore.Store
	proc  *scoring.Processor
	log   *zap.Logger
	m     *Metrics
	cl    *kgo.Client

	// crash, when set, is asked before publishing a batch whether to
	// stop as if the process died there.
	crash func() bool

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

// Run polls and processes batches until ctx ends, then finishes the batch
// in hand, leaves the group and returns nil.
func (w *Worker) Run(ctx context.Context) error {
	defer w.close()
	w.log.Info("scorer worker started", zap.String("group", w.cfg.Group),
		zap.String("topic", w.cfg.Kafka.EventsTopic))
	for {
		fetches := w.cl.PollRecords(ctx, w.cfg.MaxPoll)
		if fetches.IsClientClosed() {
			return nil
		}
		fetches.EachError(func(topic string, p int32, err error) {
			if !errors.Is(err, context.Canceled) {
				w.log.Warn("fetch failed", zap.String("topic", topic),
					zap.Int32("partition", p), zap.Error(err))
			}
		})
		if recs := fetches.Records(); len(recs) > 0 {
			if err := w.handleDraining(ctx, recs); err != nil {
				return err
			}
		}
		w.cl.AllowRebalance()
		if ctx.Err() != nil {
			w.log.Info("scorer worker stopping", zap.String("group", w.cfg.Group))
			return nil
		}
	}
}

// handleDraining handles a batch on a context that outlives ctx by the
// drain timeout, so a stop finishes the batch in hand.
func (w *Worker) handleDraining(ctx context.Context, recs []*kgo.Record) error {
	work, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(w.cfg.DrainTimeout, cancel) })
	defer stop()
	return w.handle(work, recs)
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
