// Package dispatch routes transitions from Kafka to the sinks that want
// them. Reading a transition only queues one delivery per sink in Redis,
// under a lease; once every sink's delivery is durable there, the
// transition is finished and its offset may be committed. The first
// attempt of each delivery then runs per sink, bounded by a short
// timeout; a failure waits in the Redis delay queue, from which a retry
// loop per sink, with bounded concurrency, takes it again.
//
// Transitions of different leads are delivered in parallel and those of
// one lead, per sink, in the order read. A sink works through its own
// first attempts: a slow or dead sink fills its own bound and sends the
// rest straight to its queue, so it holds back neither the reading, nor
// other sinks, nor other leads. A partition's offset is committed, in
// batches, only up to its watermark: below it every transition has been
// delivered, queued or parked by every sink.
package dispatch

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"
	"go.uber.org/zap"

	"github.com/leadstream/leadstream/pkg/subscribe"
	"github.com/leadstream/leadstream/services/notifier/internal/retryq"
	"github.com/leadstream/leadstream/services/notifier/internal/sink"
	"github.com/leadstream/leadstream/services/notifier/internal/sinkfile"
)

// DefaultMaxInFlight is how many records are delivered at once unless
// configured otherwise.
const DefaultMaxInFlight = 256

// Route is one sink: its settings and its sender.
type Route struct {
	sinkfile.Sink
	Sender sink.Sender
}

// Config wires a Dispatcher. Zero durations get the defaults in
// withDefaults.
type Config struct {
	Brokers []string
	Topic   string
	Group   string
	Dialer  *kafka.Dialer // nil for plain TCP
	Routes  []Route
	Queue   *retryq.Queue
	Parker  Parker
	Metrics *Metrics
	Logger  *zap.Logger

	// InlineTimeout bounds the first attempt of a delivery; a slower
	// sink is retried from the queue, with the sink's own timeout.
	InlineTimeout time.Duration
	// RetryBase and RetryMax shape the full-jitter exponential backoff.
	RetryBase, RetryMax time.Duration
	// RetryAfterMax caps how long a receiver's Retry-After can defer.
	RetryAfterMax time.Duration
	// PollInterval is how often each sink's retry loop looks for due
	// deliveries.
	PollInterval time.Duration
	// Concurrency bounds the retries in flight per sink.
	Concurrency int
	// MaxInFlight bounds the records read and not yet finished; reading
	// pauses while that many are. It also bounds, per sink, the first
	// attempts running or waiting behind one of the same lead; beyond
	// that a sink's new deliveries go straight to its queue.
	MaxInFlight int
	// CommitInterval is how often finished offsets are committed;
	// CommitEvery finished records bring the next commit forward.
	CommitInterval time.Duration
	CommitEvery    int
	// SessionTimeout is how long the group waits for a silent notifier
	// before giving its partitions to the others; RebalanceTimeout is
	// how long a rebalance waits for every member to rejoin.
	SessionTimeout, RebalanceTimeout time.Duration
}

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.InlineTimeout, 2*time.Second)
	def(&c.RetryBase, time.Second)
	def(&c.RetryMax, 10*time.Minute)
	def(&c.RetryAfterMax, time.Hour)
	def(&c.PollInterval, 250*time.Millisecond)
	def(&c.CommitInterval, 100*time.Millisecond)
	def(&c.SessionTimeout, 30*time.Second)
	def(&c.RebalanceTimeout, 30*time.Second)
	defInt := func(n *int, v int) {
		if *n <= 0 {
			*n = v
		}
	}
	defInt(&c.Concurrency, 4)
	defInt(&c.MaxInFlight, DefaultMaxInFlight)
	defInt(&c.CommitEvery, 1000)
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	return c
}

// Dispatcher consumes transitions and delivers them.
type Dispatcher struct {
	cfg    Config
	log    *zap.Logger
	routes []*route
	// schedules and completions batch the queue writes of inline
	// attempts; Run sets them before it starts consuming.
	schedules   *batcher[retryq.Scheduling, int]
	completions *batcher[*retryq.Job, struct{}]
}

// route is a Route with its run-time state.
type route struct {
	Route
	slots chan struct{} // one token per retry in flight
	// first runs the sink's first attempts, those of one lead in the
	// order read; see firstAttempt.
	first *lanes
	// failing is set by a failed attempt and cleared by a successful
	// one; while set, new transitions skip the first attempt and go
	// straight to the queue, so a dead sink costs each transition one
	// Redis write, not a timeout.
	failing atomic.Bool
	// due wakes the retry loop when a delivery was queued due now, so a
	// busy sink's overflow does not wait for the next poll; freed wakes
	// it when a retry slot came free while it drains a backlog.
	due, freed chan struct{}
}

// wake tells r's retry loop that a delivery is due now.
func (r *route) wake() { r.signal(r.due) }

// signal readies c, a channel of one, unless it is ready already.
func (r *route) signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// New returns a Dispatcher; Run starts it.
func New(cfg Config) *Dispatcher {
	cfg = cfg.withDefaults()
	d := &Dispatcher{cfg: cfg, log: cfg.Logger}
	for _, r := range cfg.Routes {
		d.routes = append(d.routes, &route{Route: r, first: newLanes(),
			slots: make(chan struct{}, cfg.Concurrency), due: make(chan struct{}, 1),
			freed: make(chan struct{}, 1)})
	}
	return d
}

// Run consumes and delivers until ctx ends, riding out Kafka outages.
// On the way out it stops reading, lets attempts in flight finish and
// records their outcome, commits what is done, and returns nil; it
// returns an error only when Kafka refuses the notifier for good (bad
// credentials, permissions or group settings).
func (d *Dispatcher) Run(ctx context.Context) error {
	// The retry loops stop with the consume loop, not only with ctx:
	// otherwise a consume failure would wait forever for loops that wait
	// for a cancellation only its return can bring.
	loopCtx, stopLoops := context.WithCancel(ctx)
	defer stopLoops()

	var wg sync.WaitGroup
	for _, r := range d.routes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.retryLoop(loopCtx, r)
		}()
	}
	d.startBatchers(context.WithoutCancel(ctx))
	err := d.consume(ctx)
	// No first attempt can start once consume has returned; those
	// running finish and those waiting are handed to the queue.
	for _, r := range d.routes {
		r.first.wait()
	}
	d.schedules.close()
	d.completions.close()
	stopLoops()
	wg.Wait()
	return err
}

// startBatchers sets up the batched queue writes of the consume path.
func (d *Dispatcher) startBatchers(ctx context.Context) {
	const workers, most = 2, 128
	d.schedules = newBatcher(workers, most,
		func(reqs []retryq.Scheduling) ([]int, []error) {
			return d.cfg.Queue.ScheduleMany(ctx, reqs)
		})
	d.completions = newBatcher(workers, most,
		func(jobs []*retryq.Job) ([]struct{}, []error) {
			return make([]struct{}, len(jobs)), d.cfg.Queue.CompleteMany(ctx, jobs, true)
		})
}

// attempt makes one delivery attempt and records its metrics.
func (d *Dispatcher) attempt(
	ctx context.Context, r *route, j *retryq.Job, n int, timeout time.Duration,
) error {
	tr, err := decode(j.Transition)
	if err != nil {
		return err
	}
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	start := time.Now()
	err = r.Sender.Send(actx, sink.Delivery{Transition: tr, Attempt: n, ID: rand.Text()})
	d.cfg.Metrics.latency.WithLabelValues(r.Name).Observe(time.Since(start).Seconds())
	result := "ok"
	if err != nil {
		result = "error"
	}
	d.cfg.Metrics.attempts.WithLabelValues(r.Name, result).Inc()
	r.failing.Store(err != nil)
	return err
}

// nextDelay is the wait before attempt n+1: the receiver's Retry-After
// when it gave one (capped), else full-jitter backoff.
func (d *Dispatcher) nextDelay(n int, err error) time.Duration {
	var se *sink.StatusError
	if errors.As(err, &se) && se.RetryAfter > 0 {
		return min(se.RetryAfter, d.cfg.RetryAfterMax)
	}
	return subscribe.Backoff(d.cfg.RetryBase, d.cfg.RetryMax, n)
}

// park writes j to the parked topic and removes it from the queue.
func (d *Dispatcher) park(ctx context.Context, r *route, j *retryq.Job, log *zap.Logger) error {
	if err := d.cfg.Parker.Park(ctx, j, j.LastError); err != nil {
		return fmt.Errorf("park delivery to %s: %w", r.Name, err)
	}
	if err := d.cfg.Queue.Complete(ctx, j, false); err != nil {
		return err
	}
	d.cfg.Metrics.parked.WithLabelValues(r.Name).Inc()
	d.cfg.Metrics.deliveries.WithLabelValues(r.Name, outcomeParked).Inc()
	log.Error("delivery parked after last attempt", zap.Int("attempt", j.Attempts),
		zap.String("error", j.LastError))
	return nil
}
