package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/leadstream/leadstream/services/devstack/internal/supervise"
	"github.com/twmb/franz-go/pkg/kfake"
	"go.uber.org/zap"
)

// ReadyTimeout bounds how long the parts may take to become ready.
const ReadyTimeout = 90 * time.Second

// Stack is a running pipeline.
type Stack struct {
	cfg    Config
	log    *zap.Logger
	out    *supervise.Output
	ep     endpoints
	broker *kfake.Cluster
	redis  *supervise.Process   // nil with --redis
	parts  []*supervise.Process // in stop order: tracker, scorers, notifier
}

// Run starts the pipeline, writes one line containing "ready" to stdout
// once every part is ready, and runs until ctx ends (a clean stop, nil)
// or a part dies more often than allowed (an error). Either way it stops
// every part it started before it returns.
func Run(ctx context.Context, cfg Config, log *zap.Logger, stdout io.Writer) error {
	s := &Stack{cfg: cfg, log: log, out: supervise.NewOutput(stdout)}
	err := s.start(ctx)
	if err == nil {
		s.out.Println(fmt.Sprintf(
			"devstack ready: tracker=http://%s kafka=%s redis=%s write_key=%s",
			s.ep.http, s.ep.kafka, s.ep.redis, cfg.WriteKey))
		err = s.watch(ctx)
	}
	s.stop()
	return err
}

func (s *Stack) start(ctx context.Context) error {
	if err := os.MkdirAll(s.cfg.DataDir, 0o755); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	if err := s.startStores(ctx); err != nil {
		return err
	}
	if err := s.startServices(); err != nil {
		return err
	}
	return s.waitReady(ctx)
}

// startStores starts the broker and Redis, which every service needs.
func (s *Stack) startStores(ctx context.Context) error {
	var err error
	if s.ep.http, err = resolveAddr(s.cfg.HTTP); err != nil {
		return err
	}
	if s.ep.rules, err = filepath.Abs(s.cfg.Rules); err != nil {
		return fmt.Errorf("resolve rules path: %w", err)
	}
	if s.ep.sinks, err = sinksFile(&s.cfg); err != nil {
		return err
	}
	if s.broker, err = startBroker(ctx, s.cfg.Kafka, s.cfg.DataDir); err != nil {
		return err
	}
	s.ep.kafka = s.broker.ListenAddrs()[0]
	s.log.Info("broker started", zap.String("addr", s.ep.kafka))

	s.ep.redis = s.cfg.Redis
	if s.ep.redis != "" {
		return nil
	}
	spec, addr, err := redisSpec(&s.cfg)
	if err != nil {
		return err
	}
	s.ep.redis = addr
	if s.redis, err = supervise.Start(spec, s.out, s.log, s.cfg.MaxRestarts); err != nil {
		return err
	}
	readyCtx, cancel := context.WithTimeout(ctx, ReadyTimeout)
	defer cancel()
	return s.redis.WaitReady(readyCtx)
}

// startServices starts the tracker, the scorers and the notifier.
func (s *Stack) startServices() error {
	specs := []supervise.Spec{trackerSpec(&s.cfg, s.ep)}
	for n := 1; n <= s.cfg.Scorers; n++ {
		spec, err := scorerSpec(&s.cfg, s.ep, n)
		if err != nil {
			return err
		}
		specs = append(specs, spec)
	}
	spec, err := notifierSpec(&s.cfg, s.ep)
	if err != nil {
		return err
	}
	for _, spec := range append(specs, spec) {
		p, err := supervise.Start(spec, s.out, s.log, s.cfg.MaxRestarts)
		if err != nil {
			return err
		}
		s.parts = append(s.parts, p)
	}
	return nil
}

// waitReady waits for every service in parallel.
func (s *Stack) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, ReadyTimeout)
	defer cancel()
	errc := make(chan error, len(s.parts))
	for _, p := range s.parts {
		go func() { errc <- p.WaitReady(ctx) }()
	}
	var errs []error
	for range s.parts {
		errs = append(errs, <-errc)
	}
	return errors.Join(errs...)
}

// watch returns nil when ctx ends, or the error of the first part that
// died more often than allowed.
func (s *Stack) watch(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	failc := make(chan error, 1)
	for _, p := range s.all() {
		go func() {
			select {
			case err := <-p.Failed():
				select {
				case failc <- err:
				default:
				}
			case <-ctx.Done():
			}
		}()
	}
	select {
	case <-ctx.Done():
		return nil
	case err := <-failc:
		return fmt.Errorf("give up: %w", err)
	}
}

func (s *Stack) all() []*supervise.Process {
	if s.redis == nil {
		return s.parts
	}
	return append([]*supervise.Process{s.redis}, s.parts...)
}
