package demo

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/leadstream/leadstream/pkg/rules"
	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
)

// Config says what to play and where.
type Config struct {
	Events  string        // example events file
	Rules   string        // the rules the scorers run, for the expectation
	Tracker string        // tracker base URL
	Brokers []string      // where the transitions topic is
	Topic   string        // the transitions topic
	Wait    time.Duration // how long to wait for the expected transitions
}

// Play sends the traffic, prints each transition as it arrives and a
// summary, and fails when the pipeline did not produce what the rules
// expect within cfg.Wait.
func Play(ctx context.Context, cfg Config, sender *Sender, w io.Writer) error {
	sits, exp, err := prepare(cfg, sender.now())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	trc, errc := make(chan *leadstreamv1.Transition), make(chan error)
	go func() { _ = Watch(ctx, cfg.Brokers, cfg.Topic, trc, errc) }()

	fmt.Fprintf(w, "playing %d situations spread over %s of event time\n",
		len(sits), Span(sits).Round(time.Hour))
	for _, s := range sits {
		if err := playSituation(ctx, sender, s, w); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "\ntransitions (lead, from → to, reasons):\n")
	if err := await(ctx, cfg.Wait, exp, trc, errc, w); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nsummary: %s\n", Summary(exp.Final))
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

// await prints transitions until every expected one has arrived.
func await(ctx context.Context, wait time.Duration, exp Expectation,
	trc <-chan *leadstreamv1.Transition, errc <-chan error, w io.Writer) error {
	missing := map[string]bool{}
	for _, k := range exp.Transitions {
		missing[k] = true
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for len(missing) > 0 {
		select {
		case tr := <-trc:
			fmt.Fprintf(w, "  %s\n", Format(tr))
			delete(missing, transitionKey(tr.GetLeadId(), StageWord(tr.GetTo())))
		case err := <-errc:
			fmt.Fprintf(w, "  (%v)\n", err)
		case <-timer.C:
			return fmt.Errorf("wait for transitions: %d of %d missing after %s: %v",
				len(missing), len(exp.Transitions), wait, keys(missing))
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	fmt.Fprintf(w, "all %d transitions the rules expect arrived\n", len(exp.Transitions))
	return nil
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
