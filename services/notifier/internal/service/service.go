// Package service holds the notifier's configuration and wires its
// parts: the sinks file, Kafka, Redis, the dispatcher and the
// operational HTTP endpoints.
package service

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/segmentio/kafka-go"
	"go.uber.org/zap"

	"github.com/leadstream/leadstream/pkg/config"
	"github.com/leadstream/leadstream/pkg/lifecycle"
	"github.com/leadstream/leadstream/pkg/logging"
	"github.com/leadstream/leadstream/pkg/subscribe"
	"github.com/leadstream/leadstream/pkg/telemetry"
	"github.com/leadstream/leadstream/pkg/topics"
	"github.com/leadstream/leadstream/services/notifier/internal/dispatch"
	"github.com/leadstream/leadstream/services/notifier/internal/retryq"
	"github.com/leadstream/leadstream/services/notifier/internal/sink"
	"github.com/leadstream/leadstream/services/notifier/internal/sinkfile"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Config is everything the notifier reads from flags and environment.
type Config struct {
	HTTPAddr       string
	SinksFile      string
	Group          string
	ParkedTopic    string
	CreateTopics   bool
	InlineTimeout  time.Duration
	RetryBase      time.Duration
	RetryMax       time.Duration
	Concurrency    int
	MaxInFlight    int
	CommitInterval time.Duration
	Session        time.Duration
	Rebalance      time.Duration
	Kafka          config.Kafka
	Redis          config.Redis
	Log            logging.Config
}

// Register defines the notifier's flags on fs.
func (c *Config) Register(fs *config.FlagSet) {
	fs.String(&c.HTTPAddr, "http-addr", "127.0.0.1:8082",
		"address of /healthz, /readyz and /metrics")
	fs.String(&c.SinksFile, "sinks", "", "sinks file (YAML)")
	fs.String(&c.Group, "group", "leadstream-notifier", "Kafka consumer group")
	fs.String(&c.ParkedTopic, "parked-topic", "",
		"topic of deliveries that exhausted their attempts (default: the dead-letter topic)")
	fs.Bool(&c.CreateTopics, "create-topics", true,
		"create the transitions and parked topics if missing")
	fs.Duration(&c.InlineTimeout, "inline-timeout", 2*time.Second,
		"timeout of a delivery's first attempt; retries use the sink's timeout")
	fs.Duration(&c.RetryBase, "retry-base", time.Second, "first retry backoff ceiling")
	fs.Duration(&c.RetryMax, "retry-max", 10*time.Minute, "largest retry backoff")
	fs.Int(&c.Concurrency, "sink-concurrency", 4, "retries in flight per sink")
	fs.Int(&c.MaxInFlight, "max-in-flight", dispatch.DefaultMaxInFlight,
		"transitions read and not yet queued for every sink (reading pauses beyond), "+
			"and first attempts per sink (beyond, deliveries go to the sink's queue)")
	fs.Duration(&c.CommitInterval, "commit-interval", 100*time.Millisecond,
		"how often the offsets of finished transitions are committed")
	fs.Duration(&c.Session, "session-timeout", 30*time.Second,
		"how long the group waits for a silent notifier before moving its partitions")
	fs.Duration(&c.Rebalance, "rebalance-timeout", 30*time.Second,
		"how long a rebalance waits for every notifier to rejoin")
	c.Kafka.Register(fs)
	c.Redis.Register(fs)
	c.Log.Register(fs)
}

// Validate names the first setting that cannot work.
func (c *Config) Validate() error {
	switch {
	case c.SinksFile == "":
		return &config.FieldError{Field: "sinks", Fix: "name the sinks file"}
	case c.Group == "":
		return &config.FieldError{Field: "group", Fix: "name the consumer group"}
	case c.InlineTimeout <= 0 || c.RetryBase <= 0 || c.RetryMax < c.RetryBase:
		return &config.FieldError{Field: "retry-max",
			Fix: "use positive durations with retry-max >= retry-base"}
	case c.Concurrency < 1:
		return &config.FieldError{Field: "sink-concurrency", Fix: "use at least 1"}
	case c.MaxInFlight < 1:
		return &config.FieldError{Field: "max-in-flight", Fix: "use at least 1"}
	case c.CommitInterval <= 0:
		return &config.FieldError{Field: "commit-interval", Fix: "use a positive duration"}
	case c.Session < time.Second:
		return &config.FieldError{Field: "session-timeout", Value: c.Session.String(),
			Fix: "use at least 1s; the brokers' group.min.session.timeout.ms also applies"}
	case c.Rebalance < time.Second:
		return &config.FieldError{Field: "rebalance-timeout", Value: c.Rebalance.String(),
			Fix: "use at least 1s"}
	}
	return errors.Join(c.Kafka.Validate(), c.Redis.Validate(), c.Log.Validate())
}

func (c *Config) parkedTopic() string {
	if c.ParkedTopic != "" {
		return c.ParkedTopic
	}
	return c.Kafka.DeadLetterTopic
}

// Service is a notifier with its sinks file loaded and its clients
// built. Run starts it.
type Service struct {
	cfg    Config
	log    *zap.Logger
	rdb    redis.UniversalClient
	parker *dispatch.KafkaParker
	tel    *telemetry.Server
	disp   *dispatch.Dispatcher
}

// New loads the sinks file and builds the clients without touching the
// network, so a bad sinks file or a missing secret stops the notifier
// before it connects to anything.
func New(c Config, log *zap.Logger) (*Service, error) {
	file, err := sinkfile.Load(c.SinksFile, os.LookupEnv)
	if err != nil {
		return nil, err
	}
	dialer, err := c.Kafka.Dialer()
	if err != nil {
		return nil, fmt.Errorf("configure kafka: %w", err)
	}
	transport, err := c.Kafka.Transport()
	if err != nil {
		return nil, fmt.Errorf("configure kafka: %w", err)
	}
	rts, err := routes(file, log)
	if err != nil {
		return nil, err
	}

	s := &Service{cfg: c, log: log, rdb: c.Redis.Client(), tel: telemetry.New(log),
		parker: dispatch.NewKafkaParker(c.Kafka.Brokers, c.parkedTopic(), transport)}
	s.tel.AddCheck("redis", func(ctx context.Context) error { return s.rdb.Ping(ctx).Err() })
	s.tel.AddCheck("kafka", kafkaCheck(dialer, c.Kafka.Brokers))
	s.disp = dispatch.New(dispatch.Config{
		Brokers: c.Kafka.Brokers, Topic: c.Kafka.TransitionsTopic, Group: c.Group,
		Dialer: dialer, Routes: rts, Parker: s.parker,
		Metrics: dispatch.NewMetrics(s.tel.Registry),
		Queue: retryq.New(s.rdb, c.Redis.KeyPrefix, leaseFor(file),
			retryq.DefaultDeliveredTTL),
		InlineTimeout: c.InlineTimeout, RetryBase: c.RetryBase, RetryMax: c.RetryMax,
		Concurrency: c.Concurrency, MaxInFlight: c.MaxInFlight, CommitInterval: c.CommitInterval,
		SessionTimeout: c.Session, RebalanceTimeout: c.Rebalance,
		Logger: log,
	})
	log.Info("notifier configured", zap.Int("sinks", len(file.Sinks)),
		zap.String("group", c.Group))
	return s, nil
}

// Run creates the topics when asked, then consumes, delivers and serves
// the operational endpoints until ctx ends or a part fails. It closes
// the clients on the way out. A failure is logged here, by
// lifecycle.Run, and returned for the exit status.
func (s *Service) Run(ctx context.Context) error {
	defer func() { _ = s.rdb.Close() }()
	defer func() { _ = s.parker.Close() }()

	return lifecycle.Run(ctx, s.log, s.consume, func(ctx context.Context) error {
		return telemetry.Serve(ctx, s.log, s.cfg.HTTPAddr, s.tel.Handler())
	})
}

// consume is the dispatcher's task; creating the topics is part of it
// so that the endpoints already answer, not ready, while it waits.
func (s *Service) consume(ctx context.Context) error {
	if s.cfg.CreateTopics {
		if err := s.cfg.ensureTopics(ctx, s.log); err != nil {
			return err
		}
	}
	return s.disp.Run(ctx)
}

func routes(file *sinkfile.File, log *zap.Logger) ([]dispatch.Route, error) {
	client := sink.NewHTTPClient(file.AllowPrivateNetworks)
	var out []dispatch.Route
	for _, s := range file.Sinks {
		sender, err := sink.New(s, client, log)
		if err != nil {
			return nil, fmt.Errorf("build sink %s: %w", s.Name, err)
		}
		out = append(out, dispatch.Route{Sink: s, Sender: sender})
	}
	return out, nil
}

// leaseFor outlasts the slowest sink's attempt, so a claimed job is not
// claimed again while its attempt still runs.
func leaseFor(file *sinkfile.File) time.Duration {
	longest := time.Duration(0)
	for _, s := range file.Sinks {
		longest = max(longest, s.Timeout)
	}
	return longest + 30*time.Second
}

// ensureTopics creates the topics, trying again while Kafka cannot be
// reached, so a notifier started during an outage waits for it instead
// of exiting. A refusal that waiting cannot change is returned.
func (c *Config) ensureTopics(ctx context.Context, log *zap.Logger) error {
	opts, err := c.Kafka.ClientOpts()
	if err != nil {
		return fmt.Errorf("configure kafka: %w", err)
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("connect to kafka: %w", err)
	}
	defer cl.Close()
	for try := 1; ; try++ {
		err := c.ensureOnce(ctx, cl)
		if err == nil || ctx.Err() != nil || !retriable(err) {
			return err
		}
		wait := subscribe.Backoff(100*time.Millisecond, 5*time.Second, try)
		log.Warn("topics not created yet, waiting for kafka", zap.Int("attempt", try),
			zap.Duration("backoff", wait), zap.Error(err))
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

func (c *Config) ensureOnce(ctx context.Context, cl *kgo.Client) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return topics.Ensure(ctx, cl,
		topics.Spec{Name: c.Kafka.TransitionsTopic, Partitions: 4},
		topics.Spec{Name: c.parkedTopic(), Partitions: 1})
}

// retriable reports whether creating topics may work later: the broker
// answered with a retriable code, or did not answer at all.
func retriable(err error) bool {
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Retriable
	}
	return true
}

// kafkaCheck is ready when a broker answers a request. A dial alone is
// not enough: a broker cut off behind its listener may accept the
// connection and close it at once.
func kafkaCheck(dialer *kafka.Dialer, brokers []string) telemetry.Check {
	return func(ctx context.Context) error {
		var errs []error
		for _, b := range brokers {
			err := askBroker(ctx, dialer, b)
			if err == nil {
				return nil
			}
			errs = append(errs, err)
		}
		return fmt.Errorf("reach a kafka broker: %w", errors.Join(errs...))
	}
}

// askBroker dials addr and asks for its API versions, a request every
// broker answers.
func askBroker(ctx context.Context, dialer *kafka.Dialer, addr string) error {
	conn, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close() }()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	_, err = conn.ApiVersions()
	return err
}
