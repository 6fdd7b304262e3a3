// Command notifier delivers lead stage transitions to webhooks, Slack
// and the log, as the sinks file says.
package main

import (
	"fmt"
	"os"

	"github.com/leadstream/leadstream/pkg/config"
	"github.com/leadstream/leadstream/pkg/lifecycle"
	"github.com/leadstream/leadstream/pkg/logging"
	"github.com/leadstream/leadstream/services/notifier/internal/service"

	"go.uber.org/zap"
)

func main() {
	var cfg service.Config
	fs := config.NewFlagSet("notifier")
	cfg.Register(fs)
	if err := fs.Parse(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "notifier:", err)
		os.Exit(2)
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintln(os.Stderr, "notifier:", err)
		os.Exit(2)
	}
	log, err := logging.New("notifier", cfg.Log)
	if err != nil {
		fmt.Fprintln(os.Stderr, "notifier:", err)
		os.Exit(2)
	}
	defer func() { _ = log.Sync() }()

	ctx, stop := lifecycle.SignalContext()
	defer stop()
	if err := service.Run(ctx, cfg, log); err != nil {
		log.Error("notifier stopped", zap.Error(err))
		os.Exit(1)
	}
}
