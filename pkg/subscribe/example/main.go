// Command example follows lead stage transitions and prints each one; it
// shows the few lines a downstream service needs.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"

	"github.com/leadstream/leadstream/pkg/subscribe"
	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	sub, err := subscribe.New(subscribe.Config{
		Brokers: []string{"127.0.0.1:9092"},
		GroupID: "crm-sync",
		Dedupe:  subscribe.NewMemoryDedupe(10000),
	}, func(_ context.Context, tr *leadstreamv1.Transition) error {
		fmt.Printf("%s: %s -> %s because %v\n", tr.GetLeadId(),
			subscribe.StageName(tr.GetFrom()), subscribe.StageName(tr.GetTo()), tr.GetReasons())
		return nil
	})
	if err == nil {
		err = sub.Run(ctx)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "example:", err)
		os.Exit(1)
	}
}
