// Command devstack runs the whole leadstream pipeline on one machine: a
// Kafka-protocol broker, a private Redis, the tracker, the scorers and the
// notifier, each a real process talking over loopback.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/leadstream/leadstream/pkg/config"
	"github.com/leadstream/leadstream/pkg/lifecycle"
	"github.com/leadstream/leadstream/pkg/logging"
	"github.com/leadstream/leadstream/services/devstack/internal/stack"
	"go.uber.org/zap"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	var cfg stack.Config
	fs := config.NewFlagSet("devstack")
	cfg.Register(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(os.Stderr, "devstack:", err)
		return 2
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintln(os.Stderr, "devstack:", err)
		return 2
	}
	log, err := logging.New("devstack", cfg.Log)
	if err != nil {
		fmt.Fprintln(os.Stderr, "devstack:", err)
		return 2
	}
	defer func() { _ = log.Sync() }()

	ctx, stop := lifecycle.SignalContext()
	defer stop()
	if err := stack.Run(ctx, cfg, log, os.Stdout); err != nil {
		log.Error("devstack stopped", zap.Error(err))
		return 1
	}
	log.Info("devstack stopped")
	return 0
}
