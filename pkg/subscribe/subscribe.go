// Package subscribe lets a downstream service follow lead stage
// transitions: it joins a Kafka consumer group on the transitions topic,
// decodes each record, calls a handler, and commits the record only after
// the handler succeeded, so a crash or a restart redelivers instead of
// losing. It is built on segmentio/kafka-go.
//
// It also holds what webhook receivers need: the JSON payload the
// notifier sends and Verify for its signature header.
package subscribe

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"

	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
)

// DefaultTopic is the transitions topic when Config.Topic is empty.
const DefaultTopic = "leadstream.transitions.v1"

// Handler handles one transition. A nil error means done; an error makes
// the subscriber retry it according to the retry policy. A handler may
// see the same transition more than once (at-least-once delivery) unless
// Config.Dedupe is set; the transition id is stable for that purpose.
type Handler func(ctx context.Context, tr *leadstreamv1.Transition) error

// FailureFunc decides what happens to a transition whose handler failed
// on every attempt. Returning nil commits it and moves on; returning an
// error stops Run with that error, leaving the record uncommitted so it
// is redelivered on the next start.
type FailureFunc func(ctx context.Context, tr *leadstreamv1.Transition, err error) error

// PoisonFunc sees a record that is not a decodable transition. The
// record is committed and skipped after it returns, so it never blocks
// the partition.
type PoisonFunc func(ctx context.Context, msg kafka.Message, err error)

// Config configures a Subscriber. Brokers and GroupID are required.
type Config struct {
	// Brokers are the Kafka seed addresses, host:port.
	Brokers []string
	// Topic is the transitions topic; DefaultTopic when empty.
	Topic string
	// GroupID is the consumer group; replicas sharing it split the
	// partitions between them.
	GroupID string
	// Dialer carries TLS and SASL settings; nil means plain TCP.
	Dialer *kafka.Dialer
	// Dedupe, when set, drops transitions whose id was handled before.
	Dedupe Dedupe
	// Retry says how handler errors are retried.
	Retry RetryPolicy
	// OnFailure decides about a transition that exhausted its retries;
	// nil stops Run with the error.
	OnFailure FailureFunc
	// OnPoison sees undecodable records; nil logs them at error level.
	OnPoison PoisonFunc
	// StartFromLatest makes a group with no committed offset start at
	// the end of the topic instead of the beginning.
	StartFromLatest bool
	// Logger receives the subscriber's logs; nil means none.
	Logger *zap.Logger
}

// Subscriber consumes transitions and hands them to a Handler.
type Subscriber struct {
	cfg     Config
	handler Handler
	log     *zap.Logger
}

// New checks cfg and returns a Subscriber; call Run to start consuming.
func New(cfg Config, handler Handler) (*Subscriber, error) {
	switch {
	case handler == nil:
		return nil, ErrNoHandler
	case len(cfg.Brokers) == 0:
		return nil, ErrNoBrokers
	case cfg.GroupID == "":
		return nil, ErrNoGroup
	}
	if cfg.Topic == "" {
		cfg.Topic = DefaultTopic
	}
	cfg.Retry = cfg.Retry.withDefaults()
	log := cfg.Logger
	if log == nil {
		log = zap.NewNop()
	}
	log = log.With(zap.String("topic", cfg.Topic), zap.String("group", cfg.GroupID))
	return &Subscriber{cfg: cfg, handler: handler, log: log}, nil
}

// Run consumes until ctx ends, then leaves the group and returns nil. It
// handles one record at a time and commits each after it is done. It
// returns an error when a transition fails for good and OnFailure (or
// its absence) says to stop, or when committing fails.
func (s *Subscriber) Run(ctx context.Context) error {
	r := kafka.NewReader(s.readerConfig())
	defer func() {
		if err := r.Close(); err != nil {
			s.log.Warn("close kafka reader", zap.Error(err))
		}
	}()
	s.log.Info("subscriber started")
	for {
		msg, err := r.FetchMessage(ctx)
		if ctx.Err() != nil {
			s.log.Info("subscriber stopped")
			return nil
		}
		if err != nil {
			return fmt.Errorf("fetch transition: %w", err)
		}
		if err := s.process(ctx, msg); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if err := commit(ctx, r, msg); err != nil {
			return err
		}
	}
}

func (s *Subscriber) readerConfig() kafka.ReaderConfig {
	start := kafka.FirstOffset
	if s.cfg.StartFromLatest {
		start = kafka.LastOffset
	}
	return kafka.ReaderConfig{
		Brokers: s.cfg.Brokers, Topic: s.cfg.Topic, GroupID: s.cfg.GroupID,
		Dialer: s.cfg.Dialer, StartOffset: start, MaxWait: 500 * time.Millisecond,
		HeartbeatInterval: time.Second, SessionTimeout: 10 * time.Second,
		RebalanceTimeout: 10 * time.Second, JoinGroupBackoff: time.Second,
		ErrorLogger: kafka.LoggerFunc(func(format string, args ...any) {
			s.log.Warn("kafka reader error", zap.String("detail", fmt.Sprintf(format, args...)))
		}),
	}
}

// commit records msg as done. It outlives ctx briefly: once the handler
// succeeded, committing is what spares the next consumer a duplicate.
func commit(ctx context.Context, r *kafka.Reader, msg kafka.Message) error {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := r.CommitMessages(cctx, msg); err != nil {
		return fmt.Errorf("commit offset %d of partition %d: %w", msg.Offset, msg.Partition, err)
	}
	return nil
}

// process handles one record; a nil result means it may be committed.
func (s *Subscriber) process(ctx context.Context, msg kafka.Message) error {
	log := s.log.With(zap.Int("partition", msg.Partition), zap.Int64("offset", msg.Offset))
	tr := &leadstreamv1.Transition{}
	if err := proto.Unmarshal(msg.Value, tr); err != nil || tr.GetId() == "" {
		s.poison(ctx, log, msg, decodeError(err))
		return nil
	}
	log = log.With(zap.String("lead_id", tr.GetLeadId()), zap.String("transition_id", tr.GetId()))

	if s.cfg.Dedupe != nil {
		seen, err := s.cfg.Dedupe.Seen(ctx, tr.GetId())
		if err != nil {
			return fmt.Errorf("check dedupe for transition %s: %w", tr.GetId(), err)
		}
		if seen {
			log.Debug("duplicate transition skipped")
			return nil
		}
	}

	if err := s.handleWithRetry(ctx, log, tr); err != nil {
		return err
	}
	if s.cfg.Dedupe != nil {
		if err := s.cfg.Dedupe.Mark(ctx, tr.GetId()); err != nil {
			// Handled but unmarked: the worst outcome is one duplicate
			// after a redelivery, which is better than stopping.
			log.Warn("mark transition handled", zap.Error(err))
		}
	}
	return nil
}

func decodeError(err error) error {
	if err == nil {
		return errors.New("transition has no id")
	}
	return fmt.Errorf("decode transition: %w", err)
}

func (s *Subscriber) poison(ctx context.Context, log *zap.Logger, msg kafka.Message, err error) {
	if s.cfg.OnPoison != nil {
		s.cfg.OnPoison(ctx, msg, err)
		return
	}
	log.Error("undecodable record skipped", zap.Error(err))
}

// handleWithRetry calls the handler until it succeeds, the policy is
// exhausted or ctx ends.
func (s *Subscriber) handleWithRetry(
	ctx context.Context, log *zap.Logger, tr *leadstreamv1.Transition,
) error {
	p := s.cfg.Retry
	var err error
	for attempt := 1; attempt <= p.MaxAttempts; attempt++ {
		if err = s.handler(ctx, tr); err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if attempt == p.MaxAttempts {
			break
		}
		log.Warn("handler failed, retrying", zap.Int("attempt", attempt), zap.Error(err))
		if werr := sleep(ctx, Backoff(p.Base, p.Max, attempt)); werr != nil {
			return werr
		}
	}
	if s.cfg.OnFailure == nil {
		return fmt.Errorf("handle transition %s after %d attempts: %w",
			tr.GetId(), p.MaxAttempts, err)
	}
	if ferr := s.cfg.OnFailure(ctx, tr, err); ferr != nil {
		return fmt.Errorf("handle failed transition %s: %w", tr.GetId(), ferr)
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
