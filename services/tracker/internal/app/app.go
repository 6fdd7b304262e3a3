package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap"

	"github.com/leadstream/leadstream/pkg/telemetry"
	"github.com/leadstream/leadstream/pkg/topics"

	"github.com/leadstream/leadstream/services/tracker/internal/collector"
	"github.com/leadstream/leadstream/services/tracker/internal/publish"
	"github.com/leadstream/leadstream/services/tracker/internal/ratelimit"
	"github.com/leadstream/leadstream/services/tracker/internal/tracking"
)

var _ collector.Publisher = (*publish.Producer)(nil)

// Readiness is checked against Kafka at most this often, with this
// timeout.
const (
	pingTTL     = time.Second
	pingTimeout = time.Second
)

// Tracker is the wired service: one Kafka client, the producer and the
// HTTP handler with the API and telemetry.
type Tracker struct {
	cfg       Config
	log       *zap.Logger
	client    *kgo.Client
	producer  *publish.Producer
	telemetry *telemetry.Server
	handler   http.Handler
}

// Run builds the tracker, listens on cfg.HTTPAddr and serves until ctx
// ends.
func Run(ctx context.Context, log *zap.Logger, cfg Config) error {
	t, err := New(ctx, log, cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		t.closeClient()
		return fmt.Errorf("listen on %s: %w", cfg.HTTPAddr, err)
	}
	return t.Serve(ctx, ln)
}

// New connects to Kafka, creates the events topic unless told not to,
// and builds the handler. Serve must follow, to release the client.
func New(ctx context.Context, log *zap.Logger, cfg Config) (*Tracker, error) {
	registry, err := cfg.Sites()
	if err != nil {
		return nil, err
	}
	cl, err := newClient(cfg)
	if err != nil {
		return nil, err
	}
	if err := ensureTopics(ctx, cl, cfg); err != nil {
		cl.Close()
		return nil, err
	}

	tel := telemetry.New(log)
	tel.AddCheck("kafka", publish.NewPinger(cl, pingTTL, pingTimeout).Check)
	producer := publish.New(cl, publish.Options{
		Topic: cfg.Kafka.EventsTopic, BufferSize: cfg.PixelBuffer, Timeout: cfg.ProduceTimeout,
		Registerer: tel.Registry, Log: log,
	})
	policy := tracking.Policy{Limits: cfg.Limits, Skew: cfg.ClockSkew, MaxAge: cfg.MaxEventAge}
	api := collector.New(collector.Options{
		Sites: registry, Publisher: producer, MaxBodyBytes: int64(cfg.MaxBodyBytes),
		Policy:            policy,
		Limiter:           ratelimit.New(float64(cfg.RateLimit), cfg.RateBurst, nil),
		TrustForwardedFor: cfg.TrustForwardedFor,
		Registerer:        tel.Registry, Log: log,
	})
	mux := http.NewServeMux()
	tel.Mount(mux)
	api.Mount(mux)
	log.Info("tracker configured", zap.Int("write_keys", registry.Len()),
		zap.String("topic", cfg.Kafka.EventsTopic))
	return &Tracker{cfg: cfg, log: log, client: cl, producer: producer, telemetry: tel,
		handler: mux}, nil
}

func newClient(cfg Config) (*kgo.Client, error) {
	opts, err := cfg.Kafka.ClientOpts()
	if err != nil {
		return nil, fmt.Errorf("configure kafka: %w", err)
	}
	codec, err := publish.ParseCompression(cfg.Compression)
	if err != nil {
		return nil, fmt.Errorf("configure kafka: %w", err)
	}
	cl, err := kgo.NewClient(append(opts, publish.ClientOptions(cfg.Linger, codec)...)...)
	if err != nil {
		return nil, fmt.Errorf("create kafka client: %w", err)
	}
	return cl, nil
}

func ensureTopics(ctx context.Context, cl *kgo.Client, cfg Config) error {
	if !cfg.CreateTopics {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	spec := topics.Spec{Name: cfg.Kafka.EventsTopic, Partitions: int32(cfg.EventsPartitions)}
	if err := topics.Ensure(ctx, cl, spec); err != nil {
		return fmt.Errorf("ensure topics: %w", err)
	}
	return nil
}

// Handler serves the API and the telemetry endpoints.
func (t *Tracker) Handler() http.Handler { return t.handler }

// Serve serves on ln until ctx ends. Then it fails readiness, waits the
// shutdown delay so load balancers notice, stops accepting requests,
// lets those in flight finish, and waits until Kafka acknowledged every
// accepted event before closing the client.
func (t *Tracker) Serve(ctx context.Context, ln net.Listener) error {
	serveCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	defer stop()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t.drainAfter(ctx, serveCtx, stop)
	}()

	serveErr := telemetry.ServeListener(serveCtx, t.log, ln, t.handler)
	stop()
	wg.Wait()
	return errors.Join(serveErr, t.flush())
}

// drainAfter fails readiness once ctx ends and, after the shutdown
// delay, calls stop to stop the HTTP server.
func (t *Tracker) drainAfter(ctx, serveCtx context.Context, stop context.CancelFunc) {
	select {
	case <-ctx.Done():
	case <-serveCtx.Done():
		return
	}
	t.telemetry.Drain()
	t.log.Info("draining", zap.Duration("delay", t.cfg.ShutdownDelay))
	timer := time.NewTimer(t.cfg.ShutdownDelay)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-serveCtx.Done():
	}
	stop()
}

// settleTimeout bounds how long a stopping tracker waits for the closed
// client to fail the events Kafka never took.
const settleTimeout = 2 * time.Second

// flush waits for Kafka to take every accepted event, then closes the
// client.
func (t *Tracker) flush() error {
	ctx, cancel := context.WithTimeout(context.Background(), t.cfg.ShutdownTimeout)
	defer cancel()
	err := t.producer.Close(ctx)
	pending := t.producer.Pending()
	t.closeClient()
	if !t.producer.Settle(settleTimeout) {
		t.log.Warn("pixel events still unanswered after the client closed",
			zap.Int("pending", t.producer.Pending()))
	}
	if err != nil {
		return fmt.Errorf("flush %d pending events: %w", pending, err)
	}
	t.log.Info("all accepted events flushed")
	return nil
}

func (t *Tracker) closeClient() {
	t.client.Close()
}
