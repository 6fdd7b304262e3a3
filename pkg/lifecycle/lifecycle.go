// Package lifecycle runs a service's parts until a signal arrives, then
// stops them in order so nothing accepted is lost.
package lifecycle

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"syscall"

	"go.uber.org/zap"
)

// Task is one long-running part of a service. It runs until ctx ends or
// it fails, and returns nil after a clean stop.
type Task func(ctx context.Context) error

// SignalContext returns a context cancelled on SIGINT or SIGTERM.
func SignalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// Run runs every task until ctx ends or one of them fails; a failure
// cancels the rest. It waits for all to return and reports the first
// error that is not a clean cancellation.
func Run(ctx context.Context, log *zap.Logger, tasks ...Task) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	errc := make(chan error, len(tasks))
	for _, task := range tasks {
		go func() { errc <- task(ctx) }()
	}

	var first error
	for range tasks {
		err := <-errc
		if err != nil && !errors.Is(err, context.Canceled) && first == nil {
			first = err
			log.Error("service part failed, stopping", zap.Error(err))
		}
		cancel()
	}
	return first
}
