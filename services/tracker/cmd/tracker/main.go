// Command tracker is leadstream's HTTP collector: it serves the tracking
// pixel, the JavaScript snippet and the batch API, and produces every
// accepted event to Kafka. Run it with --help for its flags.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"go.uber.org/zap"

	"github.com/leadstream/leadstream/pkg/config"
	"github.com/leadstream/leadstream/pkg/lifecycle"
	"github.com/leadstream/leadstream/pkg/logging"

	"github.com/leadstream/leadstream/services/tracker/internal/app"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	var cfg app.Config
	fs := config.NewFlagSet("tracker")
	cfg.Register(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(os.Stderr, "tracker:", err)
		return 2
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintln(os.Stderr, "tracker: invalid configuration:", err)
		return 2
	}
	log, err := logging.New("tracker", cfg.Log)
	if err != nil {
		fmt.Fprintln(os.Stderr, "tracker:", err)
		return 2
	}
	defer func() { _ = log.Sync() }()

	ctx, stop := lifecycle.SignalContext()
	defer stop()
	log.Info("tracker starting", zap.String("addr", cfg.HTTPAddr))
	if err := app.Run(ctx, log, cfg); err != nil {
		log.Error("tracker stopped", zap.Error(err))
		return 1
	}
	log.Info("tracker stopped")
	return 0
}
