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
)

func main() {
	var cfg service.Config
	fs := config.NewFlagSet("notifier")
	cfg.Register(fs)
	if err := fs.Parse(os.Args[1:]); err != nil {
		exitConfig(err)
	}
	if err := cfg.Validate(); err != nil {
		exitConfig(err)
	}
	log, err := logging.New("notifier", cfg.Log)
	if err != nil {
		exitConfig(err)
	}
	svc, err := service.New(cfg, log)
	if err != nil {
		_ = log.Sync()
		exitConfig(err)
	}

	ctx, stop := lifecycle.SignalContext()
	err = svc.Run(ctx)
	stop()
	_ = log.Sync()
	if err != nil {
		// lifecycle.Run has logged the failure; only the status is left.
		os.Exit(1)
	}
}

// exitConfig reports a configuration problem, such as a bad sinks file
// or a missing secret, and exits before anything was started.
func exitConfig(err error) {
	fmt.Fprintln(os.Stderr, "notifier:", err)
	os.Exit(2)
}
