package rules

import (
	"testing"
)

func BenchmarkSignals(b *testing.B) {
	r, err := Load("../../deploy/rules/example.yaml")
	if err != nil {
		b.Fatalf("load example rules: %v", err)
	}
	ev := event("1", "page_view", "a", "", 1_800_000_000_000,
		"https://example.com/blog/2026/lead-scoring?utm_source=x")
	b.ReportAllocs()
	for b.Loop() {
		r.Signals(ev)
	}
}

func BenchmarkEvaluate(b *testing.B) {
	r, err := Load("../../deploy/rules/example.yaml")
	if err != nil {
		b.Fatalf("load example rules: %v", err)
	}
	at := int64(1_800_000_000_000)
	s := NewState()
	for i := int64(0); i < 30; i++ {
		r.Apply(s, event("p", "page_view", "", "L", at-i*day/2, "/pricing"))
		r.Apply(s, event("d", "download", "", "L", at-i*day, ""))
	}
	s.Traits["title"] = "Analyst"
	s.Identified = true
	b.ReportAllocs()
	for b.Loop() {
		r.Evaluate(s, at)
	}
}
