package demo

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	"github.com/leadstream/leadstream/pkg/rules"
)

// Config says what to play and where.
type Config struct {
	Events      string        // example events file
	Rules       string        // the rules the scorers run, for the expectation
	Tracker     string        // tracker base URL
	Brokers     []string      // where the topics are
	Topic       string        // the transitions topic
	EventsTopic string        // the events topic the tracker writes
	Group       string        // the scorers' consumer group
	Wait        time.Duration // how long the pipeline may take over the traffic
	Quiet       time.Duration // how long to read on after the topic's end
}

// Play sends the traffic, prints each transition as it arrives and a
// summary of what arrived, and fails when the pipeline did not produce
// exactly the transitions the rules expect within cfg.Wait: none missing
// and none more. The transitions topic must hold nothing but what this
// traffic caused, as on a devstack started with an empty data directory.
func Play(ctx context.Context, cfg Config, sender *Sender, w io.Writer) error {
	sits, exp, err := prepare(cfg, sender.now())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	seen, errc, watched := make(chan Seen), make(chan error), make(chan struct{})
	go func() {
		defer close(watched)
		if err := Watch(ctx, cfg.Brokers, cfg.Topic, seen, errc); err != nil {
			send(ctx, errc, err)
		}
	}()
	defer func() {
		cancel()
		<-watched
	}()

	fmt.Fprintf(w, "playing %d situations spread over %s of event time\n",
		len(sits), Span(sits).Round(time.Hour))
	for _, s := range sits {
		if err := playSituation(ctx, sender, s, w); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "\ntransitions (lead, from → to, reasons):\n")
	obs := NewObserved(exp)
	r := &reader{obs: obs, seen: seen, errc: errc, w: w}
	if err := r.observe(ctx, cfg, eventIDs(sits)); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nsummary: %s\n", Summary(obs.Final(sortedKeys(exp.Final))))
	return nil
}

func prepare(cfg Config, now time.Time) ([]Situation, Expectation, error) {
	f, err := os.Open(cfg.Events)
	if err != nil {
		return nil, Expectation{}, fmt.Errorf("open events: %w", err)
	}
	defer f.Close()
	sits, err := Parse(f)
	if err != nil {
		return nil, Expectation{}, fmt.Errorf("parse %s: %w", cfg.Events, err)
	}
	r, err := rules.Load(cfg.Rules)
	if err != nil {
		return nil, Expectation{}, fmt.Errorf("load rules: %w", err)
	}
	for _, s := range sits {
		for _, ev := range s.Events {
			if ev.ID == "" {
				// The player finds its events in the log by their ids.
				return nil, Expectation{}, fmt.Errorf("%s: an event of %q has no id",
					cfg.Events, s.Title)
			}
		}
	}
	sits = Shift(sits, now, time.Minute)
	return sits, Expect(r, sits), nil
}

func playSituation(ctx context.Context, sender *Sender, s Situation, w io.Writer) error {
	fmt.Fprintf(w, "\n# %s\n", s.Title)
	for _, ev := range s.Events {
		if err := sender.Send(ctx, ev); err != nil {
			return err
		}
		who := ev.LeadID
		if who == "" {
			who = ev.AnonymousID
		}
		ago := sender.now().Sub(ev.Timestamp).Round(time.Minute)
		fmt.Fprintf(w, "  sent %-12s %-10s %-12s %s ago via %s\n",
			ev.ID, ev.Type, who, ago, sender.Via(ev))
	}
	return nil
}

func eventIDs(sits []Situation) []string {
	var out []string
	for _, s := range sits {
		for _, ev := range s.Events {
			out = append(out, ev.ID)
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
