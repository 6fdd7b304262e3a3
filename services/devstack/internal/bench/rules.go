package bench

import (
	"context"
	"fmt"
	"testing"

	"github.com/leadstream/leadstream/pkg/rules"
)

// rulesSuite measures the rules engine in this process: evaluating a
// lead, and mapping an event to signals and counting it.
func (b *Bench) rulesSuite(context.Context) error {
	r, err := rules.Load(b.cfg.Rules)
	if err != nil {
		return fmt.Errorf("load rules: %w", err)
	}
	events := NewMix(b.name("rules"), 1_800_000_000_000).Lead(0)
	st := rules.NewState()
	for _, ev := range events {
		r.Apply(st, ev)
	}
	at := events[len(events)-1].GetOccurredAtUnixMs()

	eval := testing.Benchmark(func(tb *testing.B) {
		tb.ReportAllocs()
		for tb.Loop() {
			r.Evaluate(st, at)
		}
	})
	// Most events change no stage: the same lead, already an MQL, that
	// its next event does not make an SQL.
	quiet := rules.NewState()
	for _, ev := range events {
		r.Apply(quiet, ev)
	}
	quiet.Stage, quiet.Epoch = rules.MQL, 1
	calm := testing.Benchmark(func(tb *testing.B) {
		tb.ReportAllocs()
		sigs := make([]string, 0, 8)
		i := 0
		for tb.Loop() {
			ev := events[i%len(events)]
			sigs = r.AppendSignals(sigs[:0], ev)
			r.Evaluate(quiet, ev.GetOccurredAtUnixMs())
			i++
		}
	})
	if trs := r.Evaluate(quiet, at); len(trs) != 0 {
		return fmt.Errorf("rules bench: the quiet lead changes stage: %v", trs)
	}
	apply := testing.Benchmark(func(tb *testing.B) {
		tb.ReportAllocs()
		s := rules.NewState()
		i := 0
		for tb.Loop() {
			r.Apply(s, events[i%len(events)])
			i++
		}
	})
	note := "example rules, a lead of the mix (MQL, 6 signals)"
	b.report.Add(
		Figure{Group: "rules", Name: "rules event, no stage change",
			Value: float64(calm.NsPerOp()), Unit: "ns/op",
			Target: &Target{AtMost: true, Bound: 2000},
			Note:   "signals of each event of the mix, then evaluate an MQL lead that stays one"},
		Figure{Group: "rules", Name: "rules event, no stage change, allocs",
			Value: float64(calm.AllocsPerOp()), Unit: "allocs/op",
			Target: &Target{AtMost: true, Bound: 0},
			Note:   fmt.Sprintf("%d B/op", calm.AllocedBytesPerOp())},
		Figure{Group: "rules", Name: "rules evaluate, stage change", Value: float64(eval.NsPerOp()),
			Unit: "ns/op", Note: note},
		Figure{Group: "rules", Name: "rules evaluate, stage change, allocs",
			Value: float64(eval.AllocsPerOp()),
			Unit:  "allocs/op", Note: fmt.Sprintf("%d B/op", eval.AllocedBytesPerOp())},
		Figure{Group: "rules", Name: "rules signals+apply", Value: float64(apply.NsPerOp()),
			Unit: "ns/op", Note: fmt.Sprintf("%d allocs/op, %d B/op", apply.AllocsPerOp(),
				apply.AllocedBytesPerOp())},
	)
	return nil
}
