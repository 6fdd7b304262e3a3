package rules

import (
	"io"
	"os"
	"testing"
)

// FuzzParse checks that no input crashes Parse and that every accepted
// file can be described, specified and evaluated.
func FuzzParse(f *testing.F) {
	if example, err := os.ReadFile("../../deploy/rules/example.yaml"); err == nil {
		f.Add(example)
	}
	f.Add([]byte(withStages(evalRules)))
	f.Add([]byte(withStages(simRules)))
	f.Add([]byte("version: 1\nsignals: {a: {event: x}}\nstages: {mql: \"a >= 1\"}\n"))
	f.Add([]byte("version: &v 1\nx: *v\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("version: \"1\"\n---\nversion: \"2\"\n"))
	f.Add([]byte("stages: {mql: {not: {not: {all: [\"trait x\"]}}}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Parse("fuzz.yaml", data)
		if err != nil {
			return
		}
		if err := Describe(io.Discard, r); err != nil {
			t.Fatalf("describe an accepted file: %v", err)
		}
		_ = r.Spec()
		sim := NewSimulator(r)
		at := int64(1_800_000_000_000)
		sim.Process(event("1", "page_view", "a", "", at, "/blog/x"))
		sim.Process(identify("2", "a", "L", at+1, map[string]string{"title": "CEO"}))
		s, _ := sim.Lead("L")
		r.Evaluate(s, at+2)
	})
}

// FuzzTerm checks that no text crashes the term parser and that an
// accepted term reads back to itself from its canonical form.
func FuzzTerm(f *testing.F) {
	for _, seed := range []string{"blog_view >= 2", "count(download, 14d) > 1",
		"distinct_days(pricing_view, 30d) == 2", "score(eng) < 40.5", "trait dm",
		"page<=0", "count(page,12h)>=3", "download = 1", "score(eng) >= 1e3",
		"count(download, 30m) >= 1", "trait  rival", "x >= -1"} {
		f.Add(seed)
	}
	ns, r := testNames(f)
	s := NewState()
	s.Counts["download"] = 2
	f.Fuzz(func(t *testing.T, text string) {
		tm, err := parseTerm(text, ns)
		if err != nil {
			return
		}
		again, err := parseTerm(tm.String(), ns)
		if err != nil {
			t.Fatalf("canonical form %q of %q does not parse: %v", tm.String(), text, err)
		}
		if again.String() != tm.String() {
			t.Fatalf("canonical form changed: %q then %q", tm.String(), again.String())
		}
		e := r.newEvalCtx(s, 1_800_000_000_000)
		if got := appendReasons(nil, tm, &e); tm.holds(&e) && got[0] != tm.explain(&e) {
			t.Fatalf("reason %q of %q is not its explanation", got[0], text)
		}
		_ = tm.describe()
	})
}
