// Command demotraffic plays the example traffic through a running
// tracker and prints the stage transitions the pipeline publishes, with a
// closing summary of what arrived. It exits 1 when a transition the rules
// expect is missing or one they do not expect arrives, so it wants a
// pipeline whose transitions topic held nothing before, such as a fresh
// devstack. scripts/demo.sh runs it so.
package main

import (
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/leadstream/leadstream/pkg/config"
	"github.com/leadstream/leadstream/pkg/lifecycle"
	"github.com/leadstream/leadstream/services/devstack/internal/demo"
	"github.com/leadstream/leadstream/services/devstack/internal/stack"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	var cfg demo.Config
	var writeKey string
	fs := config.NewFlagSet("demotraffic")
	fs.String(&cfg.Events, "events", "deploy/rules/example-events.jsonl", "example events file")
	fs.String(&cfg.Rules, "rules", "deploy/rules/example.yaml", "rules the scorers run")
	fs.String(&cfg.Tracker, "tracker", "http://127.0.0.1:8080", "tracker base URL")
	fs.String(&writeKey, "write-key", "wk_dev", "tracker write key")
	fs.List(&cfg.Brokers, "kafka-brokers", []string{"127.0.0.1:9092"}, "Kafka seed brokers")
	fs.String(&cfg.Topic, "transitions-topic", config.DefaultTransitionsTopic, "transitions topic")
	fs.String(&cfg.EventsTopic, "events-topic", config.DefaultEventsTopic, "events topic")
	fs.String(&cfg.Group, "group", stack.ScorerGroup, "consumer group of the scorers")
	fs.Duration(&cfg.Wait, "wait", time.Minute,
		"how long the pipeline may take to finish the traffic")
	fs.Duration(&cfg.Quiet, "quiet", 2*time.Second,
		"how long to read on for stray transitions once the scorers finished")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(os.Stderr, "demotraffic:", err)
		return 2
	}

	ctx, stop := lifecycle.SignalContext()
	defer stop()
	sender := &demo.Sender{BaseURL: cfg.Tracker, WriteKey: writeKey,
		Client: &http.Client{Timeout: 15 * time.Second}}
	if err := demo.Play(ctx, cfg, sender, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "demotraffic:", err)
		return 1
	}
	return 0
}
