package leadstore_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/leadstream/leadstream/pkg/leadstore"
	"github.com/leadstream/leadstream/pkg/rules"
	"github.com/leadstream/leadstream/pkg/testenv"
	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"))
}

// testRules counts in every way the store supports: lifetime, day and
// hour windows, a decaying and a flat score, and traits.
const testRules = `version: "store-test"
timezone: Europe/Berlin
signals:
  blog: {event: page_view, url_path: "/blog/*"}
  pricing: {event: page_view, url_path: "/pricing"}
  download: {event: download}
traits:
  dm: {field: title, matches: '(?i)\bceo\b'}
  rival: {field: email_domain, in: [rival.example]}
scores:
  eng: {half_life: 2d, points: {blog: 5, download: 15, pricing: 10}}
  flat: {points: {pricing: 1.5}}
stages:
  mql:
    all: ["blog >= 2", "count(download, 3d) >= 1"]
  sql:
    any: ["distinct_days(pricing, 5d) >= 2", "count(download, 6h) >= 3"]
exclude:
  any: ["trait rival"]
require_identified: false
`

const t0 = int64(1_790_000_000_000) // an event time in late 2026

func mustRules(t *testing.T) *rules.Rules {
	t.Helper()
	r, err := rules.Parse("store-test.yaml", []byte(testRules))
	if err != nil {
		t.Fatalf("parse rules: %v", err)
	}
	return r
}

// deployment is one Redis to run the suite against.
type deployment struct {
	name  string
	redis *testenv.Redis
}

// TestStore runs every store test on a single node and on a cluster,
// starting each once.
func TestStore(t *testing.T) {
	deps := []deployment{
		{"single", testenv.StartRedis(t)},
		{"cluster", testenv.StartRedisCluster(t)},
	}
	tests := []struct {
		name string
		fn   func(t *testing.T, s *leadstore.Store, r *rules.Rules)
	}{
		{"dedupe", testDedupe},
		{"matches rules engine", testMatchesEngine},
		{"buckets trimmed", testBucketsTrimmed},
		{"dedupe window bounded", testDedupeBounded},
		{"link and merge once", testLinkMerge},
		{"merge remembers the visitor's ids", testMergeRemembersIDs},
		{"merge of a visitor without history", testMergeEmptyVisitor},
		{"merge drops ids past the window", testMergeWindow},
		{"advance conflict", testAdvanceConflict},
		{"ack several leads at once", testAckAll},
		{"linked visitor counts nothing", testApplyLinked},
		{"a run of events in one call", testApplyRun},
		{"state versions", testVersions},
	}
	for _, d := range deps {
		rdb := d.redis.Client(t)
		for _, tc := range tests {
			t.Run(d.name+"/"+tc.name, func(t *testing.T) {
				s := newStore(t, rdb, leadstore.WithDedupe(7*24*time.Hour, 50))
				tc.fn(t, s, mustRules(t))
			})
		}
	}
}

func newStore(t *testing.T, rdb redis.UniversalClient,
	opts ...leadstore.Option) *leadstore.Store {
	t.Helper()
	s, err := leadstore.New(rdb, testenv.Prefix(t)+"ls", opts...)
	if err != nil {
		t.Fatalf("new store: %v", err)
	}
	if err := s.Load(context.Background()); err != nil {
		t.Fatalf("load scripts: %v", err)
	}
	return s
}

func ev(id, typ, url string, at int64) *leadstreamv1.Event {
	return &leadstreamv1.Event{Id: id, Type: typ, Url: url, OccurredAtUnixMs: at}
}

func apply(t *testing.T, s *leadstore.Store, e leadstore.Entity, r *rules.Rules,
	x *leadstreamv1.Event) *leadstore.Result {
	t.Helper()
	res, err := s.Apply(context.Background(), e, r, x)
	if err != nil {
		t.Fatalf("apply %s: %v", x.GetId(), err)
	}
	if res.LinkedTo != "" {
		return res
	}
	// Apply replays the event on the state before it; what the script
	// stored is what these tests check.
	stored, _, err := s.Read(context.Background(), e)
	if err != nil {
		t.Fatalf("read %s after %s: %v", e.LeadID(), x.GetId(), err)
	}
	assertState(t, r, "replayed state after "+x.GetId(), res.State, stored)
	res.State = stored
	return res
}

func testDedupe(t *testing.T, s *leadstore.Store, r *rules.Rules) {
	lead := leadstore.Lead("L1")
	x := ev("e1", "page_view", "https://x.example/blog/a", t0)
	if res := apply(t, s, lead, r, x); res.Duplicate || res.State.Counts["blog"] != 1 {
		t.Fatalf("first apply: dup=%v counts=%v", res.Duplicate, res.State.Counts)
	}
	res := apply(t, s, lead, r, x)
	if !res.Duplicate || res.State.Counts["blog"] != 1 {
		t.Fatalf("second apply: dup=%v counts=%v, want duplicate and 1", res.Duplicate,
			res.State.Counts)
	}
	x.Id = ""
	for i := range 2 {
		if res := apply(t, s, lead, r, x); res.Duplicate || res.State.Counts["blog"] != int64(2+i) {
			t.Fatalf("event without id %d: dup=%v counts=%v", i, res.Duplicate, res.State.Counts)
		}
	}
}

// testMatchesEngine applies a mixed, partly out-of-order sequence and
// compares every state with the rules engine's own Apply and Prune.
func testMatchesEngine(t *testing.T, s *leadstore.Store, r *rules.Rules) {
	lead := leadstore.Lead("L2")
	want := rules.NewState()
	urls := []string{"https://x.example/blog/a", "https://x.example/pricing", ""}
	offsets := []int64{0, 3, 1, 30, 29, 50, 49, 70, 120, 121, 100, 200, 260, 261}
	for i, h := range offsets {
		at := t0 + h*msPerHour()/2
		x := ev("m"+strconv.Itoa(i), "page_view", urls[i%3], at)
		if i%3 == 2 {
			x.Type = "download"
		}
		if i == 5 {
			x.LeadId = "L2"
			x.Traits = map[string]string{"title": "CEO", "email": "ceo@buyer.example"}
		}
		r.Apply(want, x)
		r.Prune(want, at)
		got := apply(t, s, lead, r, x).State
		assertState(t, r, "after event "+x.Id, got, want)
	}
}

func assertState(t *testing.T, r *rules.Rules, what string, got, want *rules.State) {
	t.Helper()
	if !sameCounts(got.Counts, want.Counts) || !sameBuckets(got.Days, want.Days) ||
		!sameBuckets(got.Hours, want.Hours) || got.Identified != want.Identified {
		t.Fatalf("%s: state\n got  %+v\n want %+v", what, got, want)
	}
	if len(got.Traits) != len(want.Traits) {
		t.Fatalf("%s: traits %v, want %v", what, got.Traits, want.Traits)
	}
	for k, v := range want.Traits {
		if got.Traits[k] != v {
			t.Fatalf("%s: traits %v, want %v", what, got.Traits, want.Traits)
		}
	}
	for name, w := range want.Scores {
		g := got.Scores[name]
		if g.AtMs != w.AtMs || math.Abs(g.Value-w.Value) > 1e-9*math.Max(1, math.Abs(w.Value)) {
			t.Fatalf("%s: score %s = %+v, want %+v", what, name, g, w)
		}
	}
	if len(got.Scores) != len(want.Scores) {
		t.Fatalf("%s: scores %v, want %v", what, got.Scores, want.Scores)
	}
}

func sameCounts(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return true
}

func sameBuckets(a, b map[string]map[int64]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range b {
		if !sameInts(a[k], v) {
			return false
		}
	}
	return true
}

func sameInts(a, b map[int64]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return true
}

func msPerHour() int64 { return int64(time.Hour / time.Millisecond) }

func testBucketsTrimmed(t *testing.T, s *leadstore.Store, r *rules.Rules) {
	lead := leadstore.Lead("L3")
	day := 24 * msPerHour()
	apply(t, s, lead, r, ev("b1", "page_view", "https://x.example/pricing", t0))
	apply(t, s, lead, r, ev("b2", "page_view", "https://x.example/pricing", t0+day))
	res := apply(t, s, lead, r, ev("b3", "page_view", "https://x.example/pricing", t0+10*day))
	if n := len(res.State.Days["pricing"]); n != 1 {
		t.Fatalf("pricing day buckets after 10 days = %v, want only the last day",
			res.State.Days["pricing"])
	}
	if res.State.Counts["pricing"] != 0 {
		t.Fatalf("pricing has a lifetime count %d the rules never asked for",
			res.State.Counts["pricing"])
	}
}

func testDedupeBounded(t *testing.T, s *leadstore.Store, r *rules.Rules) {
	lead := leadstore.Lead("L4")
	day := 24 * msPerHour()
	apply(t, s, lead, r, ev("old", "download", "", t0))
	apply(t, s, lead, r, ev("new", "download", "", t0+8*day))
	if res := apply(t, s, lead, r, ev("old", "download", "", t0)); res.Duplicate {
		t.Fatal("an id older than the dedupe window is still remembered")
	}
	for i := range 60 {
		apply(t, s, lead, r, ev("n"+strconv.Itoa(i), "download", "", t0+9*day))
	}
	v, err := s.Show(context.Background(), lead)
	if err != nil {
		t.Fatalf("show: %v", err)
	}
	if v.Seen < 50 || v.Seen > 55 {
		t.Fatalf("remembered ids = %d, want the bound 50 (up to 55: slots of 5)", v.Seen)
	}
	if res := apply(t, s, lead, r, ev("n59", "download", "", t0+9*day)); !res.Duplicate {
		t.Fatal("the newest id was trimmed")
	}
}

func testLinkMerge(t *testing.T, s *leadstore.Store, r *rules.Rules) {
	ctx := context.Background()
	anon, lead := leadstore.Anon("a1"), leadstore.Lead("L5")
	pre := ev("p1", "page_view", "https://x.example/blog/a", t0)
	apply(t, s, anon, r, pre)
	apply(t, s, anon, r, ev("p2", "download", "", t0+1))
	apply(t, s, lead, r, ev("l1", "page_view", "https://x.example/blog/b", t0+2))

	for i := range 2 {
		v, err := s.Link(ctx, "a1", "L5")
		if err != nil || v.LeadID != "L5" {
			t.Fatalf("link %d: %v, %v", i, v, err)
		}
		merged, err := s.Merge(ctx, r, v)
		if err != nil || merged != (i == 0) {
			t.Fatalf("merge %d: merged=%v err=%v, want merged only the first time", i, merged, err)
		}
	}
	other, err := s.Link(ctx, "a1", "L6")
	if err != nil || other.LeadID != "L5" {
		t.Fatalf("second link moved the alias: %v, %v", other, err)
	}
	if got, ok, err := s.Resolve(ctx, "a1"); err != nil || !ok || got != "L5" {
		t.Fatalf("resolve a1 = %q %v %v", got, ok, err)
	}
	res := apply(t, s, lead, r, pre)
	if !res.Duplicate {
		t.Fatal("a pre-identify event redelivered after the merge counted again")
	}
	if res.State.Counts["blog"] != 2 || res.State.Days["download"] == nil {
		t.Fatalf("merged state %+v, want blog=2 and the download bucket", res.State)
	}
	assertForgotten(t, s, "a1", lead)
}

// linkAndMerge links anon to lead and merges it, failing t unless this
// call merged it.
func linkAndMerge(t *testing.T, s *leadstore.Store, r *rules.Rules, anon, lead string) {
	t.Helper()
	ctx := context.Background()
	v, err := s.Link(ctx, anon, lead)
	if err != nil {
		t.Fatalf("link %s: %v", anon, err)
	}
	if merged, err := s.Merge(ctx, r, v); err != nil || !merged {
		t.Fatalf("merge %s: merged=%v err=%v", anon, merged, err)
	}
}

// blogViews applies n blog views with ids prefix0.. to e, a millisecond
// apart from at, and returns them.
func blogViews(t *testing.T, s *leadstore.Store, r *rules.Rules, e leadstore.Entity,
	prefix string, n int, at int64) []*leadstreamv1.Event {
	t.Helper()
	out := make([]*leadstreamv1.Event, n)
	for i := range out {
		out[i] = ev(fmt.Sprintf("%s%d", prefix, i), "page_view", "https://x.example/blog/m",
			at+int64(i))
		apply(t, s, e, r, out[i])
	}
	return out
}

// testMergeRemembersIDs merges a visitor whose ids fill several slots
// into a lead whose ids fill several more: every id of both stays a
// duplicate on the lead, and the counts add up.
func testMergeRemembersIDs(t *testing.T, s *leadstore.Store, r *rules.Rules) {
	lead := leadstore.Lead("L-many")
	evs := blogViews(t, s, r, lead, "lm", 12, t0)
	evs = append(evs, blogViews(t, s, r, leadstore.Anon("a-many"), "vm", 9, t0+100)...)
	linkAndMerge(t, s, r, "a-many", "L-many")
	view, err := s.Show(context.Background(), lead)
	if err != nil {
		t.Fatalf("show lead: %v", err)
	}
	if view.Seen != 21 || view.State.Counts["blog"] != 21 {
		t.Fatalf("merged lead remembers %d ids and counts %d blog views, want 21 and 21",
			view.Seen, view.State.Counts["blog"])
	}
	for _, x := range evs {
		if res := apply(t, s, lead, r, x); !res.Duplicate {
			t.Fatalf("event %s counted again after the merge", x.GetId())
		}
	}
}

// testMergeEmptyVisitor merges a device that never sent an event before
// its identify: nothing to add, but the lead lists the device.
func testMergeEmptyVisitor(t *testing.T, s *leadstore.Store, r *rules.Rules) {
	lead := leadstore.Lead("L-empty")
	apply(t, s, lead, r, ev("le", "download", "", t0))
	linkAndMerge(t, s, r, "a-empty", "L-empty")
	view, err := s.Show(context.Background(), lead)
	if err != nil {
		t.Fatalf("show lead: %v", err)
	}
	if len(view.Anons) != 1 || view.Anons[0] != "a-empty" || view.Seen != 1 {
		t.Fatalf("lead after merging an empty visitor: devices %v, %d ids; want [a-empty], 1",
			view.Anons, view.Seen)
	}
}

// testMergeWindow merges a visitor whose only event is older than the
// dedupe window at the lead's clock: its id is not kept.
func testMergeWindow(t *testing.T, s *leadstore.Store, r *rules.Rules) {
	lead := leadstore.Lead("L-late")
	apply(t, s, lead, r, ev("ll", "download", "", t0+8*24*3600*1000))
	apply(t, s, leadstore.Anon("a-old"), r, ev("vo", "page_view", "https://x.example/", t0))
	linkAndMerge(t, s, r, "a-old", "L-late")
	view, err := s.Show(context.Background(), lead)
	if err != nil {
		t.Fatalf("show lead: %v", err)
	}
	if view.Seen != 1 {
		t.Fatalf("lead remembers %d ids, want only its own: the visitor's is past the window",
			view.Seen)
	}
}

// assertForgotten checks that a merged visitor keeps only its link and
// that the lead lists it among its devices.
func assertForgotten(t *testing.T, s *leadstore.Store, anon string, lead leadstore.Entity) {
	t.Helper()
	ctx := context.Background()
	view, err := s.Show(ctx, leadstore.Anon(anon))
	if err != nil {
		t.Fatalf("show visitor: %v", err)
	}
	if len(view.State.Counts) != 0 || view.Seen != 0 {
		t.Fatalf("merged visitor kept counts %v and %d ids", view.State.Counts, view.Seen)
	}
	view, err = s.Show(ctx, lead)
	if err != nil {
		t.Fatalf("show lead: %v", err)
	}
	if len(view.Anons) != 1 || view.Anons[0] != anon {
		t.Fatalf("lead lists devices %v, want [%s]", view.Anons, anon)
	}
}

func testAdvanceConflict(t *testing.T, s *leadstore.Store, r *rules.Rules) {
	ctx := context.Background()
	lead := leadstore.Lead("L7")
	rec := []leadstore.Pending{{ID: "t1", Record: []byte("one\x00binary")}}
	if _, err := s.Advance(ctx, lead, 0, rules.MQL, 1, rec, ""); err != nil {
		t.Fatalf("advance from epoch 0: %v", err)
	}
	_, err := s.Advance(ctx, lead, 0, rules.MQL, 1,
		[]leadstore.Pending{{ID: "t2", Record: nil}}, "")
	if !errors.Is(err, leadstore.ErrConflict) {
		t.Fatalf("stale advance: %v, want ErrConflict", err)
	}
	st, pending, err := s.Read(ctx, lead)
	if err != nil || st.Stage != rules.MQL || st.Epoch != 1 || len(pending) != 1 ||
		string(pending[0].Record) != "one\x00binary" {
		t.Fatalf("after advance: %+v %v %v", st, pending, err)
	}
	if err := s.Ack(ctx, lead, "t1"); err != nil {
		t.Fatalf("ack: %v", err)
	}
	if _, pending, _ := s.Read(ctx, lead); len(pending) != 0 {
		t.Fatalf("pending after ack: %v", pending)
	}
}

func testAckAll(t *testing.T, s *leadstore.Store, _ *rules.Rules) {
	ctx := context.Background()
	acks := map[leadstore.Entity][]string{}
	for i := range 12 {
		e := leadstore.Lead(fmt.Sprintf("ack-%d", i))
		if i%3 == 0 {
			e = leadstore.Anon(fmt.Sprintf("ack-anon-%d", i))
		}
		recs := []leadstore.Pending{{ID: "a", Record: []byte("1")}, {ID: "b", Record: []byte("2")}}
		if _, err := s.Advance(ctx, e, 0, rules.MQL, 1, recs, ""); err != nil {
			t.Fatalf("advance %s: %v", e.LeadID(), err)
		}
		acks[e] = []string{"a"}
	}
	if err := s.AckAll(ctx, acks); err != nil {
		t.Fatalf("ack all: %v", err)
	}
	for e := range acks {
		_, pending, err := s.Read(ctx, e)
		if err != nil || len(pending) != 1 || pending[0].ID != "b" {
			t.Fatalf("%s pending after ack: %v %v; want only b", e.LeadID(), pending, err)
		}
	}
}

func testApplyLinked(t *testing.T, s *leadstore.Store, r *rules.Rules) {
	ctx := context.Background()
	visitor := leadstore.Anon("dev-linked")
	if res := apply(t, s, visitor, r, ev("e1", "download", "", 1000)); res.LinkedTo != "" {
		t.Fatalf("unlinked visitor answered linked to %q", res.LinkedTo)
	}
	if _, err := s.Link(ctx, "dev-linked", "L-linked"); err != nil {
		t.Fatalf("link: %v", err)
	}
	res := apply(t, s, visitor, r, ev("e2", "download", "", 2000))
	if res.LinkedTo != "L-linked" || len(res.State.Scores) != 0 {
		t.Fatalf("apply to a linked visitor: %+v, want only LinkedTo L-linked", res)
	}
	st, _, err := s.Read(ctx, visitor)
	if err != nil || st.Scores["eng"].Value != 15 {
		t.Fatalf("visitor after its link: %+v %v; want the one download before it", st, err)
	}
}

// testApplyRun counts several events of one lead in one call, one of them
// twice and one out of order, and checks the duplicates it reports and
// that replaying the run on the state before gives what the script
// stored; then a run that is too long, and a run of a linked visitor.
func testApplyRun(t *testing.T, s *leadstore.Store, r *rules.Rules) {
	ctx := context.Background()
	lead := leadstore.Lead("L-run")
	apply(t, s, lead, r, ev("r0", "download", "", t0))
	a := ev("r1", "page_view", "https://x.example/blog/a", t0+msPerHour())
	evs := []*leadstreamv1.Event{a,
		ev("r2", "page_view", "https://x.example/pricing", t0+3*msPerHour()), a,
		ev("r3", "download", "", t0+2*msPerHour()),
		ev("r0", "download", "", t0)}
	res, err := s.ApplyRun(ctx, lead, r, evs, "")
	if err != nil {
		t.Fatalf("apply run: %v", err)
	}
	want := []bool{false, false, true, false, true}
	if fmt.Sprint(res.Duplicates) != fmt.Sprint(want) {
		t.Fatalf("duplicates %v, want %v", res.Duplicates, want)
	}
	replayed := res.Before
	if replayed.Counts["blog"] != 0 {
		t.Fatalf("state before the run already counts blog views: %v", replayed.Counts)
	}
	for i, x := range evs {
		if !res.Duplicates[i] {
			r.Apply(replayed, x)
			r.Prune(replayed, x.GetOccurredAtUnixMs())
		}
	}
	stored, _, err := s.Read(ctx, lead)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	assertState(t, r, "after the run", replayed, stored)
	if stored.Counts["blog"] != 1 {
		t.Fatalf("blog views %d after a run with one, twice", stored.Counts["blog"])
	}

	long := make([]*leadstreamv1.Event, leadstore.MaxRun+1)
	for i := range long {
		long[i] = ev(fmt.Sprintf("long%d", i), "download", "", t0)
	}
	if _, err := s.ApplyRun(ctx, lead, r, long, ""); !errors.Is(err, leadstore.ErrBadRun) {
		t.Fatalf("a run of %d events: %v, want ErrBadRun", len(long), err)
	}

	if _, err := s.Link(ctx, "dev-run", "L-run"); err != nil {
		t.Fatalf("link: %v", err)
	}
	res, err = s.ApplyRun(ctx, leadstore.Anon("dev-run"), r, evs[:2], "")
	if err != nil || res.LinkedTo != "L-run" || len(res.Duplicates) != 2 {
		t.Fatalf("run of a linked visitor: %+v, %v; want LinkedTo L-run", res, err)
	}
}

// testVersions checks the state versions a caller may keep a state by:
// the apply answers without the state while the caller's version is
// current, and every change by someone else (another apply, a merge)
// makes it answer with the state again; an advance returns a new version
// only when nothing else changed the state since the caller's version.
func testVersions(t *testing.T, s *leadstore.Store, r *rules.Rules) {
	ctx := context.Background()
	lead := leadstore.Lead("L-ver")
	run := func(known string, evs ...*leadstreamv1.Event) *leadstore.RunResult {
		t.Helper()
		res, err := s.ApplyRun(ctx, lead, r, evs, known)
		if err != nil {
			t.Fatalf("apply run: %v", err)
		}
		return res
	}
	first := run("", ev("v1", "download", "", t0))
	if first.Before == nil || first.Version == "" {
		t.Fatalf("first apply: before %v, version %q; want a state and a version",
			first.Before, first.Version)
	}
	second := run(first.Version, ev("v2", "download", "", t0+1))
	if second.Before != nil || second.Version == first.Version {
		t.Fatalf("apply at the known version: before %+v, version %q after %q; want no "+
			"state and a new version", second.Before, second.Version, first.Version)
	}
	dup := run(second.Version, ev("v2", "download", "", t0+1))
	if dup.Before != nil || dup.Version != second.Version {
		t.Fatalf("a duplicate changed the version: %q after %q", dup.Version, second.Version)
	}
	if stale := run(first.Version, ev("v3", "download", "", t0+2)); stale.Before == nil ||
		sumBuckets(stale.Before.Days["download"]) != 2 {
		t.Fatalf("apply at an old version: before %+v, want the stored state", stale.Before)
	}
	third := run("", ev("v4", "download", "", t0+3))
	v, err := s.Advance(ctx, lead, 0, rules.MQL, 1, nil, third.Version)
	if err != nil || v == "" {
		t.Fatalf("advance at the current version: %q, %v; want a new version", v, err)
	}
	if res := run(v, ev("v5", "download", "", t0+4)); res.Before != nil {
		t.Fatal("apply after the caller's own advance sent the state again")
	}
	v, err = s.Advance(ctx, lead, 1, rules.SQL, 2, nil, third.Version)
	if err != nil || v != "" {
		t.Fatalf("advance past other changes: %q, %v; want no version", v, err)
	}

	apply(t, s, leadstore.Anon("a-ver"), r, ev("v6", "download", "", t0))
	cur := run("", ev("v5", "download", "", t0+4)).Version // a duplicate
	linkAndMerge(t, s, r, "a-ver", "L-ver")
	if res := run(cur, ev("v7", "download", "", t0+5)); res.Before == nil {
		t.Fatal("apply after a merge answered as if the caller's state were current")
	}
}

func sumBuckets(b map[int64]int64) int64 {
	var n int64
	for _, v := range b {
		n += v
	}
	return n
}
