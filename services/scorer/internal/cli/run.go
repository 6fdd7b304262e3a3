// Package cli implements the scorer's commands: run the worker, check and
// test rules files, and show what the lead store holds about a lead.
package cli

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/leadstream/leadstream/pkg/config"
	"github.com/leadstream/leadstream/pkg/leadstore"
	"github.com/leadstream/leadstream/pkg/lifecycle"
	"github.com/leadstream/leadstream/pkg/logging"
	"github.com/leadstream/leadstream/pkg/telemetry"
	"github.com/leadstream/leadstream/services/scorer/internal/ruleset"
	"github.com/leadstream/leadstream/services/scorer/internal/worker"
)

// RunConfig is the configuration of `scorer run`.
type RunConfig struct {
	Kafka        config.Kafka
	Redis        config.Redis
	Log          logging.Config
	HTTPAddr     string
	RulesPath    string
	Group        string
	CreateTopics bool
	MaxPoll      int
	DrainTimeout time.Duration
	Session      time.Duration
	Rebalance    time.Duration
	DedupeWindow time.Duration
	DedupeMax    int
	Profiling    bool
}

// Register defines the flags of `scorer run` on fs.
func (c *RunConfig) Register(fs *config.FlagSet) {
	c.Kafka.Register(fs)
	c.Redis.Register(fs)
	c.Log.Register(fs)
	fs.String(&c.HTTPAddr, "http-addr", "127.0.0.1:8081",
		"address of /healthz, /readyz and /metrics")
	fs.String(&c.RulesPath, "rules", "", "rules file (YAML); SIGHUP reloads it")
	fs.String(&c.Group, "group", "leadstream-scorer", "Kafka consumer group of the scorers")
	fs.Bool(&c.CreateTopics, "create-topics", true, "create missing topics at start")
	fs.Int(&c.MaxPoll, "max-poll-records", 500, "most events handled in one batch")
	fs.Duration(&c.DrainTimeout, "drain-timeout", 20*time.Second,
		"how long a stopping worker keeps finishing its batch")
	fs.Duration(&c.Session, "session-timeout", 45*time.Second,
		"how long the group waits for a silent worker before moving its partitions")
	fs.Duration(&c.Rebalance, "rebalance-timeout", time.Minute,
		"how long a rebalance waits for every worker to rejoin; a batch should take less")
	fs.Duration(&c.DedupeWindow, "dedupe-window", leadstore.DefaultDedupeWindow,
		"how long, in event time, a lead remembers event ids")
	fs.Int(&c.DedupeMax, "dedupe-max", leadstore.DefaultDedupeMax,
		"most event ids a lead remembers")
	fs.Bool(&c.Profiling, "pprof", false,
		"serve Go's profiles under /debug/pprof/ on the HTTP address")
}

// Validate reports the first setting that cannot work.
func (c *RunConfig) Validate() error {
	if err := c.Kafka.Validate(); err != nil {
		return err
	}
	if err := c.Redis.Validate(); err != nil {
		return err
	}
	if err := c.Log.Validate(); err != nil {
		return err
	}
	switch {
	case c.RulesPath == "":
		return &config.FieldError{Field: "rules", Fix: "name the rules file, e.g. " +
			"--rules deploy/rules/example.yaml"}
	case c.Group == "":
		return &config.FieldError{Field: "group", Fix: "name the consumer group"}
	case c.MaxPoll < 1:
		return &config.FieldError{Field: "max-poll-records", Value: fmt.Sprint(c.MaxPoll),
			Fix: "use a positive number such as 500"}
	case c.Session < time.Second:
		return &config.FieldError{Field: "session-timeout", Value: c.Session.String(),
			Fix: "use at least 1s; the brokers' group.min.session.timeout.ms also applies"}
	case c.Rebalance < time.Second:
		return &config.FieldError{Field: "rebalance-timeout", Value: c.Rebalance.String(),
			Fix: "use at least 1s, more than a batch takes"}
	case c.DedupeWindow <= 0 || c.DedupeMax < 1:
		return &config.FieldError{Field: "dedupe-window", Value: c.DedupeWindow.String(),
			Fix: "use a positive window such as 168h and a positive --dedupe-max"}
	}
	return nil
}

// Run runs a scorer worker until ctx ends.
func Run(ctx context.Context, c RunConfig, log *zap.Logger) error {
	tel := telemetry.New(log)
	tel.Profiling = c.Profiling
	m := worker.NewMetrics(tel.Registry)
	holder, err := ruleset.Load(c.RulesPath, log, m.RulesReloaded)
	if err != nil {
		return err
	}
	// A SIGHUP sent while the scorer connects reloads the rules rather
	// than ending the process.
	holder.Listen()
	rdb := c.Redis.Client()
	defer rdb.Close()
	store, err := leadstore.New(rdb, c.Redis.KeyPrefix, leadstore.WithLogger(log),
		leadstore.WithObserver(m.ObserveScript),
		leadstore.WithDedupe(c.DedupeWindow, c.DedupeMax))
	if err != nil {
		return err
	}
	if err := store.Load(ctx); err != nil {
		return err
	}
	w, err := worker.New(worker.Config{Kafka: c.Kafka, Group: c.Group, MaxPoll: c.MaxPoll,
		DrainTimeout: c.DrainTimeout, SessionTimeout: c.Session, RebalanceTimeout: c.Rebalance},
		holder.Current, store, log, m)
	if err != nil {
		return err
	}
	if c.CreateTopics {
		if err := w.EnsureTopics(ctx); err != nil {
			return err
		}
	}
	tel.AddCheck("kafka", w.Ping)
	tel.AddCheck("redis", store.Ping)
	log.Info("scorer starting", zap.String("rules_version", holder.Current().Version()),
		zap.String("group", c.Group))
	return lifecycle.Run(ctx, log,
		func(ctx context.Context) error {
			return telemetry.Serve(ctx, log, c.HTTPAddr, tel.Handler())
		},
		holder.Watch,
		func(ctx context.Context) error {
			context.AfterFunc(ctx, tel.Drain)
			return w.Run(ctx)
		})
}
