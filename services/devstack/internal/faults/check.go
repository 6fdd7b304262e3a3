package faults

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/leadstream/leadstream/pkg/rules"
	"github.com/leadstream/leadstream/pkg/workload"
	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
)

// Expected is what a run must end with.
type Expected struct {
	Oracle *workload.Oracle
	// Acked holds the id of every event the tracker acknowledged.
	Acked map[string]bool
	// Poison are the records produced straight to the events topic.
	Poison []workload.Poison
}

// Observed is what a run ended with.
type Observed struct {
	// Leads holds the stored state of every lead the oracle knows.
	Leads map[string]*rules.State
	// Pending is the number of transitions still recorded as unpublished.
	Pending int
	// Transitions is every record on the transitions topic.
	Transitions []*leadstreamv1.Transition
	// Deliveries is every webhook delivery the receiver answered with 2xx.
	Deliveries []Delivery
	// EventIDs counts the records per event id on the events topic.
	EventIDs map[string]int
	// DeadLetters is the value of every record on the dead-letter topic.
	DeadLetters [][]byte
}

// Report is the verdict on one run.
type Report struct {
	Scenario string
	Seed     int64
	// Events is the number of records sent: events (duplicates included)
	// and poison records.
	Events int
	// Faults is the number of faults injected.
	Faults int
	// Lost counts what should be there and is not: events, counts,
	// transitions, deliveries, dead letters.
	Lost int
	// Wrong counts what is there and should not be, or differs: counts
	// too high, stages, unexpected transitions or dead letters, pending
	// transitions left over.
	Wrong int
	// Duplicates counts repeated publications and deliveries of one
	// transition id, which the at-least-once contract allows.
	Duplicates int
	// Recover is the time from the end of the last fault to quiescence.
	Recover time.Duration
	// Problems describes each loss and each wrong item.
	Problems []string
}

// String returns the summary line.
func (r *Report) String() string {
	return fmt.Sprintf("scenario=%s seed=%d events=%d faults=%d lost=%d wrong=%d "+
		"duplicates=%d recover=%s", r.Scenario, r.Seed, r.Events, r.Faults, r.Lost, r.Wrong,
		r.Duplicates, r.Recover.Round(time.Millisecond))
}

// OK reports whether nothing was lost and nothing was wrong.
func (r *Report) OK() bool { return r.Lost == 0 && r.Wrong == 0 }

func (r *Report) lost(format string, args ...any) {
	r.Lost++
	r.Problems = append(r.Problems, "lost: "+fmt.Sprintf(format, args...))
}

func (r *Report) wrong(format string, args ...any) {
	r.Wrong++
	r.Problems = append(r.Problems, "wrong: "+fmt.Sprintf(format, args...))
}

// Check compares what a run ended with against what it must end with and
// fills the counts and problems of rep.
func Check(rep *Report, exp Expected, obs Observed) {
	checkEvents(rep, exp.Acked, obs.EventIDs)
	checkLeads(rep, exp.Oracle, obs.Leads)
	if obs.Pending > 0 {
		rep.wrong("%d transitions still pending in redis", obs.Pending)
	}
	published := make([]string, 0, len(obs.Transitions))
	for _, tr := range obs.Transitions {
		published = append(published, tr.GetId())
		checkTransition(rep, exp.Oracle, tr)
	}
	checkIDs(rep, "published", exp.Oracle, published)
	delivered := make([]string, 0, len(obs.Deliveries))
	for _, d := range obs.Deliveries {
		delivered = append(delivered, d.Key)
	}
	checkIDs(rep, "delivered", exp.Oracle, delivered)
	checkDeadLetters(rep, exp.Poison, obs.DeadLetters)
}

// checkEvents finds acknowledged events missing from the events topic.
func checkEvents(rep *Report, acked map[string]bool, inTopic map[string]int) {
	for _, id := range sortedKeys(acked) {
		if inTopic[id] == 0 {
			rep.lost("event %s acknowledged by the tracker but not on the events topic", id)
		}
	}
}

// checkLeads compares every lead's stored state with the oracle. A lead
// with any count too low is lost; one that differs otherwise is wrong.
func checkLeads(rep *Report, o *workload.Oracle, got map[string]*rules.State) {
	for _, id := range sortedKeys(o.Leads) {
		want, st := o.Leads[id], got[id]
		if st == nil {
			rep.lost("lead %s has no state", id)
			continue
		}
		if low, high := compareCounts(want.Counts, st.Counts); low != "" {
			rep.lost("lead %s: %s", id, low)
			continue
		} else if high != "" {
			rep.wrong("lead %s: %s", id, high)
			continue
		}
		if diff := compareRest(want, st); diff != "" {
			rep.wrong("lead %s: %s", id, diff)
		}
	}
}

// compareCounts returns the first count below and the first above the
// expected value.
func compareCounts(want, got map[string]int64) (low, high string) {
	for _, sig := range sortedKeys(union(want, got)) {
		w, g := want[sig], got[sig]
		switch {
		case g < w && low == "":
			low = fmt.Sprintf("%s = %d, want %d", sig, g, w)
		case g > w && high == "":
			high = fmt.Sprintf("%s = %d, want %d", sig, g, w)
		}
	}
	return low, high
}

// compareRest compares stage, epoch, scores and traits.
func compareRest(want workload.Outcome, st *rules.State) string {
	if st.Stage != want.Stage || st.Epoch != want.Epoch {
		return fmt.Sprintf("stage %s epoch %d, want %s epoch %d", st.Stage, st.Epoch,
			want.Stage, want.Epoch)
	}
	for _, name := range sortedKeys(want.Scores) {
		if g := st.Scores[name].Value; math.Abs(g-want.Scores[name]) > 1e-6 {
			return fmt.Sprintf("score %s = %g, want %g", name, g, want.Scores[name])
		}
	}
	for _, k := range sortedKeys(want.Traits) {
		if st.Traits[k] != want.Traits[k] {
			return fmt.Sprintf("trait %s = %q, want %q", k, st.Traits[k], want.Traits[k])
		}
	}
	return ""
}

// checkTransition checks that a published transition is the one the
// oracle has under its id.
func checkTransition(rep *Report, o *workload.Oracle, tr *leadstreamv1.Transition) {
	want, ok := o.Transitions[tr.GetId()]
	if !ok {
		return // checkIDs reports it
	}
	if tr.GetLeadId() != want.LeadID || int(tr.GetTo()) != int(want.To) ||
		tr.GetEpoch() != want.Epoch {
		rep.wrong("transition %s is lead %s to %s epoch %d, want lead %s to %s epoch %d",
			tr.GetId(), tr.GetLeadId(), tr.GetTo(), tr.GetEpoch(), want.LeadID, want.To,
			want.Epoch)
	}
}

// checkIDs compares the ids seen on one path (published, delivered) with
// the oracle's: each missing id is lost, each unknown id wrong, and each
// repeat a duplicate.
func checkIDs(rep *Report, path string, o *workload.Oracle, ids []string) {
	seen := map[string]int{}
	for _, id := range ids {
		seen[id]++
	}
	for _, id := range o.TransitionIDs() {
		if seen[id] == 0 {
			tr := o.Transitions[id]
			rep.lost("transition %s (lead %s to %s) not %s", id, tr.LeadID, tr.To, path)
		}
	}
	for _, id := range sortedKeys(seen) {
		if _, ok := o.Transitions[id]; !ok {
			rep.wrong("transition %s %s but not expected", id, path)
		}
		rep.Duplicates += seen[id] - 1
	}
}

// checkDeadLetters compares the dead-letter topic with the poison records
// as multisets of values. A poison record dead-lettered more than once is
// a duplicate (a worker may die between the dead letter and its offset
// commit); anything else there is wrong.
func checkDeadLetters(rep *Report, poison []workload.Poison, got [][]byte) {
	left, isPoison := map[string]int{}, map[string]bool{}
	for _, v := range got {
		left[string(v)]++
	}
	for _, p := range poison {
		isPoison[string(p.Value)] = true
		if left[string(p.Value)] == 0 {
			rep.lost("poison record %s (%s) not dead-lettered", p.Key, p.Reason)
			continue
		}
		left[string(p.Value)]--
	}
	for _, v := range sortedKeys(left) {
		if isPoison[v] {
			rep.Duplicates += left[v]
			continue
		}
		for n := left[v]; n > 0; n-- {
			rep.wrong("dead letter %q is no poison record", truncate(v, 40))
		}
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func union[V any](a, b map[string]V) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
