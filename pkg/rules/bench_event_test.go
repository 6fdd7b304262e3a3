package rules

import (
	"testing"

	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
)

// benchLead is a realistic lead under the example rules: 24 events
// over six days, identified on the first day, with traits that do not make
// it a decision maker or a competitor.
func benchLead(tb testing.TB) (*Rules, []*leadstreamv1.Event) {
	tb.Helper()
	r, err := Load("../../deploy/rules/example.yaml")
	if err != nil {
		tb.Fatalf("load example rules: %v", err)
	}
	const site = "https://example.com"
	at := int64(1_800_000_000_000)
	var evs []*leadstreamv1.Event
	add := func(typ, url string, dt int64) *leadstreamv1.Event {
		ev := event("e", typ, "a1", "L1", at+dt, url)
		evs = append(evs, ev)
		return ev
	}
	add("page_view", site+"/blog/2026/lead-scoring?utm_source=news", 0)
	add("page_view", site+"/blog/2026/intent-data", 60_000)
	add("page_view", site+"/pricing", 120_000)
	add("identify", site+"/signup", 180_000).Traits = map[string]string{
		"title": "Marketing Analyst", "email_domain": "buyer.example"}
	add("download", site+"/guides/mql", 240_000)
	for d := int64(1); d <= 5; d++ {
		add("email_open", "", d*day)
		add("page_view", site+"/blog/2026/post?utm_campaign=q4%20launch", d*day+1000)
		add("page_view", site+"/about/", d*day+2000)
	}
	add("page_view", site+"/pricing/", 2*day+3000)
	add("download", site+"/guides/sql", 3*day+3000)
	add("download", site+"/guides/abm", 4*day+3000)
	add("form_submit", site+"/contact", 5*day+3000).Properties = map[string]string{
		"contact_me": "no"}
	return r, evs
}

// leadState applies evs to a new state.
func leadState(r *Rules, evs []*leadstreamv1.Event) *State {
	s := NewState()
	for _, ev := range evs {
		r.Apply(s, ev)
	}
	return s
}

// BenchmarkEvent is the rules' share of the scorer's work per event:
// the event's signals, then an evaluation of the lead's updated state at
// the event's time. "quiet" is the common case of no stage change (an
// mql that is not an sql yet); "transition" moves a visitor to sql.
func BenchmarkEvent(b *testing.B) {
	r, evs := benchLead(b)
	quiet := leadState(r, evs)
	quiet.Stage, quiet.Epoch = MQL, 1
	moving := leadState(r, evs)
	moving.Traits["title"] = "VP Sales"
	last := evs[len(evs)-1].GetOccurredAtUnixMs()
	if n := len(r.Evaluate(quiet, last)); n != 0 {
		b.Fatalf("quiet lead changes stage %d times", n)
	}
	if n := len(r.Evaluate(moving, last)); n != 2 {
		b.Fatalf("moving lead changes stage %d times, want 2", n)
	}

	run := func(b *testing.B, s *State) {
		b.ReportAllocs()
		var sigs []string
		i := 0
		for b.Loop() {
			ev := evs[i%len(evs)]
			i++
			sigs = r.AppendSignals(sigs[:0], ev)
			r.Evaluate(s, ev.GetOccurredAtUnixMs())
		}
	}
	b.Run("quiet", func(b *testing.B) { run(b, quiet) })
	b.Run("transition", func(b *testing.B) { run(b, moving) })
	b.Run("quiet-unseen-titles", func(b *testing.B) {
		// The worst case of the trait cache: every evaluation meets a
		// title the cache does not hold, as when more leads than it has
		// slots are interleaved.
		titles := make([]map[string]string, 4*matchSlots)
		for i := range titles {
			titles[i] = map[string]string{"title": "Analyst " + itoa(i)}
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			quiet.Traits = titles[i%len(titles)]
			i++
			r.Evaluate(quiet, last)
		}
	})
}

// TestQuietEventAllocations holds the hot path to its promise: for every
// event of a realistic lead, reading its signals into a reused slice and
// evaluating a state that does not change stage allocates nothing.
func TestQuietEventAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	r, evs := benchLead(t)
	s := leadState(r, evs)
	s.Stage, s.Epoch = MQL, 1
	sigs := make([]string, 0, 8)
	for i, ev := range evs {
		at := ev.GetOccurredAtUnixMs()
		if trs := r.Evaluate(s, at); len(trs) != 0 {
			t.Fatalf("event %d: the lead changes stage: %v", i, trs)
		}
		n := testing.AllocsPerRun(50, func() {
			sigs = r.AppendSignals(sigs[:0], ev)
			r.Evaluate(s, at)
		})
		if n != 0 {
			t.Errorf("event %d (%s %s): %v allocations", i, ev.GetType(), ev.GetUrl(), n)
		}
	}
}
