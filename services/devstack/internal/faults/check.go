package faults

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
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
	// EventsTopic is where the poison records were produced; their dead
	// letters must name it as their source.
	EventsTopic string
	// RulesVersion is the version of the rules the scorers start with;
	// empty skips the version checks.
	RulesVersion string
	// Reloads are the rules reloads of the run, in order.
	Reloads []Reload
}

// Reload is one rules reload made during a run, with what tells the
// transitions decided before it from those decided after it.
type Reload struct {
	// Version is the version reloaded.
	Version string
	// Before holds the end offsets of the transitions topic, by partition,
	// just before the scorers were told to reload: every transition below
	// them was decided under an older version.
	Before map[int32]int64
	// After holds the end offsets of the events topic, by partition, once
	// every scorer had reloaded: a transition caused by an event at or
	// above them was decided under this version or a later one.
	After map[int32]int64
}

// Pos is where a record is in its topic.
type Pos struct {
	Partition int32
	Offset    int64
}

// Published is a record of the transitions topic.
type Published struct {
	*leadstreamv1.Transition
	Pos
}

// DeadLetter is a record of the dead-letter topic.
type DeadLetter struct {
	Key, Value []byte
	Headers    map[string]string
}

// Observed is what a run ended with.
type Observed struct {
	// Leads holds the stored state of every lead the oracle knows.
	Leads map[string]*rules.State
	// Pending is the number of transitions still recorded as unpublished.
	Pending int
	// Transitions is every record on the transitions topic.
	Transitions []Published
	// Deliveries is every webhook delivery the receiver answered with 2xx.
	Deliveries []Delivery
	// EventIDs counts the records per event id on the events topic.
	EventIDs map[string]int
	// EventAt is where each event id is first on the events topic.
	EventAt map[string]Pos
	// DeadLetters is every record on the dead-letter topic.
	DeadLetters []DeadLetter
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
	// Exits counts the services that exited without the scenario telling
	// them to; a crash is a failure even when a restart hides its effect.
	Exits int
	// Lost counts what should be there and is not: events, counts,
	// transitions, deliveries, dead letters.
	Lost int
	// Wrong counts what is there and should not be, or differs: counts
	// too high, stages, unexpected transitions or dead letters, pending
	// transitions left over.
	Wrong int
	// DupPublished counts repeated publications of one transition id, and
	// DupDelivered repeated deliveries of one to the webhook; the
	// at-least-once contract allows both.
	DupPublished, DupDelivered int
	// DupDeadLetters counts poison records dead-lettered more than once.
	DupDeadLetters int
	// OtherCauses counts the transitions that name another event of their
	// lead as their cause than the one the oracle knows causes them. The
	// scorer counts an event and decides on the lead's stage in two steps,
	// so an event of the lead scored at the same moment, or the next one
	// after a crash between the steps, can record the decision; it is
	// reported, not wrong.
	OtherCauses int
	// Recover is the time from the end of the last fault to quiescence.
	Recover time.Duration
	// Problems describes each loss, each wrong item and each exit.
	Problems []string
}

// String returns the summary line.
func (r *Report) String() string {
	return fmt.Sprintf("scenario=%s seed=%d events=%d faults=%d exits=%d lost=%d wrong=%d "+
		"dup_published=%d dup_delivered=%d dup_deadletter=%d other_cause=%d recover=%s",
		r.Scenario, r.Seed, r.Events, r.Faults, r.Exits, r.Lost, r.Wrong, r.DupPublished,
		r.DupDelivered, r.DupDeadLetters, r.OtherCauses, r.Recover.Round(time.Millisecond))
}

// OK reports whether nothing was lost, nothing was wrong and no service
// exited on its own.
func (r *Report) OK() bool { return r.Lost == 0 && r.Wrong == 0 && r.Exits == 0 }

func (r *Report) lost(format string, args ...any) {
	r.Lost++
	r.Problems = append(r.Problems, "lost: "+fmt.Sprintf(format, args...))
}

func (r *Report) wrong(format string, args ...any) {
	r.Wrong++
	r.Problems = append(r.Problems, "wrong: "+fmt.Sprintf(format, args...))
}

// exited records n exits of one service that nobody asked for.
func (r *Report) exited(n int, format string, args ...any) {
	r.Exits += n
	r.Problems = append(r.Problems, "exit: "+fmt.Sprintf(format, args...))
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
	late := map[string]bool{}
	for _, tr := range obs.Transitions {
		published = append(published, tr.GetId())
		if checkTransition(rep, exp.Oracle, tr.Transition) {
			late[tr.GetId()] = true
		}
	}
	rep.OtherCauses = len(late)
	rep.DupPublished += checkIDs(rep, "published", exp.Oracle, published)
	checkVersions(rep, exp, obs)
	delivered := make([]string, 0, len(obs.Deliveries))
	for _, d := range obs.Deliveries {
		delivered = append(delivered, d.Key)
		checkDelivery(rep, exp.Oracle, d)
	}
	rep.DupDelivered += checkIDs(rep, "delivered", exp.Oracle, delivered)
	checkDeadLetters(rep, exp, obs.DeadLetters)
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
// oracle has under its id, caused by an event of its lead at that event's
// time. It reports whether the cause is another than the one the oracle
// names.
func checkTransition(rep *Report, o *workload.Oracle, tr *leadstreamv1.Transition) bool {
	want, ok := o.Transitions[tr.GetId()]
	if !ok {
		return false // checkIDs reports it
	}
	if tr.GetLeadId() != want.LeadID || int(tr.GetFrom()) != int(want.From) ||
		int(tr.GetTo()) != int(want.To) || tr.GetEpoch() != want.Epoch {
		rep.wrong("transition %s is lead %s %s to %s epoch %d, want lead %s %s to %s epoch %d",
			tr.GetId(), tr.GetLeadId(), rules.Stage(tr.GetFrom()), rules.Stage(tr.GetTo()),
			tr.GetEpoch(), want.LeadID, want.From, want.To, want.Epoch)
		return false
	}
	if !checkCause(rep, o, "published", tr.GetId(), tr.GetEventId()) {
		return false
	}
	if at, ok := o.EventTimes[tr.GetEventId()]; ok && tr.GetOccurredAtUnixMs() != at {
		rep.wrong("transition %s occurred at %d, but its event %s at %d", tr.GetId(),
			tr.GetOccurredAtUnixMs(), tr.GetEventId(), at)
	}
	cause, known := o.Cause[tr.GetId()]
	return known && cause != tr.GetEventId()
}

// checkDelivery checks that a delivered webhook body is the oracle's
// transition under its Idempotency-Key.
func checkDelivery(rep *Report, o *workload.Oracle, d Delivery) {
	want, ok := o.Transitions[d.Key]
	if !ok {
		return // checkIDs reports it
	}
	if d.LeadID != want.LeadID || d.From != want.From.String() || d.To != want.To.String() {
		rep.wrong("delivery %s is lead %s %s to %s, want lead %s %s to %s", d.Key, d.LeadID,
			d.From, d.To, want.LeadID, want.From, want.To)
		return
	}
	checkCause(rep, o, "delivered", d.Key, d.EventID)
}

// checkCause checks that event is one of the lead's, as the cause of
// transition id must be, and reports whether it is.
func checkCause(rep *Report, o *workload.Oracle, path, id, event string) bool {
	causes, ok := o.Causes[id]
	if !ok || slices.Contains(causes, event) {
		return true
	}
	rep.wrong("transition %s %s as caused by event %q, which is none of its lead's", id,
		path, event)
	return false
}

// checkIDs compares the ids seen on one path (published, delivered) with
// the oracle's: each missing id is lost, each unknown id wrong. It
// returns the number of repeats.
func checkIDs(rep *Report, path string, o *workload.Oracle, ids []string) int {
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
	repeats := 0
	for _, id := range sortedKeys(seen) {
		if _, ok := o.Transitions[id]; !ok {
			rep.wrong("transition %s %s but not expected", id, path)
		}
		repeats += seen[id] - 1
	}
	return repeats
}

// checkVersions checks that every transition carries a rules version in
// force during the run, that each reload took effect (transitions decided
// after it carry its version, those decided before it an older one), and
// that every version decided something.
func checkVersions(rep *Report, exp Expected, obs Observed) {
	if exp.RulesVersion == "" {
		return
	}
	rank := map[string]int{exp.RulesVersion: 0}
	versions := []string{exp.RulesVersion}
	for i, r := range exp.Reloads {
		rank[r.Version] = i + 1
		versions = append(versions, r.Version)
	}
	used := map[string]bool{}
	for _, p := range obs.Transitions {
		v := p.GetRulesVersion()
		k, ok := rank[v]
		if !ok {
			rep.wrong("transition %s carries rules version %q, want one of %v", p.GetId(), v,
				versions)
			continue
		}
		used[v] = true
		for i, r := range exp.Reloads {
			if p.Offset < r.Before[p.Partition] && k > i {
				rep.wrong("transition %s, published at %d/%d before the reload to %s, "+
					"carries %s", p.GetId(), p.Partition, p.Offset, r.Version, v)
			}
			at, ok := obs.EventAt[p.GetEventId()]
			if ok && at.Offset >= r.After[at.Partition] && k <= i {
				rep.wrong("transition %s, caused by event %s at %d/%d after the reload to "+
					"%s, carries %s", p.GetId(), p.GetEventId(), at.Partition, at.Offset,
					r.Version, v)
			}
		}
	}
	for _, v := range versions {
		if !used[v] && len(obs.Transitions) > 0 {
			rep.wrong("no transition carries rules version %s", v)
		}
	}
}

// checkDeadLetters compares the dead-letter topic with the poison records
// as multisets of values, and checks each dead letter's key and headers.
// A poison record dead-lettered more than once is a duplicate (a worker
// may die between the dead letter and its offset commit); anything else
// there is wrong.
func checkDeadLetters(rep *Report, exp Expected, got []DeadLetter) {
	byValue := map[string]workload.Poison{}
	for _, p := range exp.Poison {
		byValue[string(p.Value)] = p
	}
	seen := map[string]int{}
	for _, dl := range got {
		p, ok := byValue[string(dl.Value)]
		if !ok {
			rep.wrong("dead letter %q is no poison record", truncate(string(dl.Value), 40))
			continue
		}
		if seen[string(dl.Value)]++; seen[string(dl.Value)] > 1 {
			rep.DupDeadLetters++
		}
		if diff := deadLetterDiff(exp, p, dl); diff != "" {
			rep.wrong("dead letter of poison record %s (%s): %s", p.Key, p.Reason, diff)
		}
	}
	for _, p := range exp.Poison {
		if seen[string(p.Value)] == 0 {
			rep.lost("poison record %s (%s) not dead-lettered", p.Key, p.Reason)
		}
	}
}

// deadLetterDiff says how a dead letter of p differs from what
// docs/scorer.md promises: the original key, an error header naming the
// reason, and the source topic, partition and offset.
func deadLetterDiff(exp Expected, p workload.Poison, dl DeadLetter) string {
	h := dl.Headers
	_, perr := strconv.ParseInt(h["source_partition"], 10, 32)
	_, oerr := strconv.ParseInt(h["source_offset"], 10, 64)
	switch {
	case !bytes.Equal(dl.Key, p.Key):
		return fmt.Sprintf("key %q, want %q", dl.Key, p.Key)
	case !strings.Contains(strings.ToLower(h["error"]), p.Hint):
		return fmt.Sprintf("error header %q does not name %q", h["error"], p.Hint)
	case exp.EventsTopic != "" && h["source_topic"] != exp.EventsTopic:
		return fmt.Sprintf("source_topic header %q, want %q", h["source_topic"],
			exp.EventsTopic)
	case perr != nil || oerr != nil:
		return fmt.Sprintf("source_partition %q or source_offset %q is no number",
			h["source_partition"], h["source_offset"])
	}
	return ""
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
