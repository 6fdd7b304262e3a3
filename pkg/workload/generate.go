package workload

import (
	"fmt"
	"math/rand"
	"time"
)

// Workload is a generated stream: the batches to send to the tracker, in
// order, and the poison records to produce straight to the events topic.
type Workload struct {
	Config  Config
	Batches []Batch
	Poison  []Poison
	// Owners names, by event id, the lead that each lead's event counts
	// for. Visitors' events and poison records are not in it.
	Owners map[string]string
}

// Events returns every event of every batch, in order, duplicates
// included.
func (w *Workload) Events() []Event {
	var out []Event
	for _, b := range w.Batches {
		out = append(out, b.Events...)
	}
	return out
}

// Count returns the number of events in all batches, duplicates included.
func (w *Workload) Count() int {
	n := 0
	for _, b := range w.Batches {
		n += len(b.Events)
	}
	return n
}

// Generate builds the workload that cfg describes.
func Generate(cfg Config) (*Workload, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	g := &gen{cfg: cfg, rnd: rand.New(rand.NewSource(cfg.Seed)), owners: map[string]string{}}
	var events []Event
	for i := 0; i < cfg.Leads; i++ {
		events = append(events, g.lead(i)...)
	}
	for i := 0; i < cfg.Visitors; i++ {
		events = append(events, g.visitor(i)...)
	}

	// A global shuffle puts every lead's events out of time order and
	// spreads them over batches; duplicates go in after it, later than
	// the original.
	g.rnd.Shuffle(len(events), func(i, j int) { events[i], events[j] = events[j], events[i] })
	events = g.duplicate(events)
	return &Workload{Config: cfg, Batches: g.batches(events), Poison: g.poison(),
		Owners: g.owners}, nil
}

// gen holds the state of one generation.
type gen struct {
	cfg    Config
	rnd    *rand.Rand
	seq    int
	owners map[string]string
}

// id returns a fresh event id.
func (g *gen) id() string {
	g.seq++
	return fmt.Sprintf("%sev-%06d", g.cfg.Prefix, g.seq)
}

// between returns a uniform integer in [lo, hi].
func (g *gen) between(lo, hi int) int { return lo + g.rnd.Intn(hi-lo+1) }

// at returns an event time within two days after start.
func (g *gen) at(start time.Time) string {
	return start.Add(time.Duration(g.rnd.Int63n(int64(48 * time.Hour)))).
		Truncate(time.Second).Format(time.RFC3339)
}

// start returns when a lead's activity begins: up to 18 days before
// Newest, leaving two days for the activity itself.
func (g *gen) start() time.Time {
	back := 2*24*time.Hour + time.Duration(g.rnd.Int63n(int64(16*24*time.Hour)))
	return g.cfg.Newest.Add(-back)
}

// duplicate re-sends a share of events, each at a random position after
// the original.
func (g *gen) duplicate(events []Event) []Event {
	before := map[int][]Event{} // copies to insert before events[pos]
	for i, ev := range events {
		if g.rnd.Float64() < g.cfg.DuplicateRate {
			pos := g.between(i+1, len(events))
			before[pos] = append(before[pos], ev)
		}
	}
	out := make([]Event, 0, len(events)+len(before))
	for i := 0; i <= len(events); i++ {
		out = append(out, before[i]...)
		if i < len(events) {
			out = append(out, events[i])
		}
	}
	return out
}

// batches cuts events into batches of 1 to MaxBatch events.
func (g *gen) batches(events []Event) []Batch {
	var out []Batch
	for len(events) > 0 {
		n := min(g.between(1, g.cfg.MaxBatch), len(events))
		out = append(out, Batch{WriteKey: g.cfg.WriteKey, Events: events[:n:n]})
		events = events[n:]
	}
	return out
}
