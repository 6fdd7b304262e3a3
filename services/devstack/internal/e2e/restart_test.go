package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/leadstream/leadstream/pkg/leadstore"
	"github.com/leadstream/leadstream/pkg/rules"
	"github.com/leadstream/leadstream/pkg/testenv"
	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
	"github.com/leadstream/leadstream/services/devstack/internal/demo"
	"github.com/redis/go-redis/v9"
)

// beforeRestart is the history of a decision maker who read two blog
// posts, saw pricing once and took three downloads: MQL under the
// example rules, one pricing day short of SQL.
func beforeRestart(prefix string, now time.Time) []demo.Event {
	aid, lead := prefix+"a", prefix+"lead"
	at := func(h int) time.Time { return now.Add(-time.Duration(h) * time.Hour).UTC() }
	view := func(id string, h int, path string) demo.Event {
		return demo.Event{ID: prefix + id, Type: "page_view", AnonymousID: aid, Timestamp: at(h),
			URL: "https://example.com" + path}
	}
	download := func(id string, h int) demo.Event {
		return demo.Event{ID: prefix + id, Type: "download", AnonymousID: aid, Timestamp: at(h),
			URL: "https://example.com/guides/" + id}
	}
	return []demo.Event{
		view("1", 34, "/blog/one"), view("2", 33, "/blog/two"), view("3", 32, "/pricing"),
		{ID: prefix + "4", Type: "identify", AnonymousID: aid, LeadID: lead, Timestamp: at(31),
			Traits: map[string]string{"email": "x@buyer.example",
				"email_domain": "buyer.example", "title": "Head of Marketing"}},
		download("5", 30), download("6", 29), download("7", 28),
	}
}

// afterRestart is a second pricing day: SQL, but only together with the
// three downloads, the earlier pricing day and the title counted before.
func afterRestart(prefix string, now time.Time) demo.Event {
	return demo.Event{ID: prefix + "8", Type: "page_view", AnonymousID: prefix + "a",
		Timestamp: now.Add(-time.Hour).UTC(), URL: "https://example.com/pricing"}
}

func TestDevstackRunsStopsAndResumes(t *testing.T) {
	bin := buildAll(t)
	hook := &webhook{}
	srv := httptest.NewServer(hook)
	t.Cleanup(srv.Close)
	dataDir := t.TempDir()
	prefix := testenv.Prefix(t)
	lead := prefix + "lead"
	now := time.Now()

	d := startDevstack(t, bin, dataDir, srv.URL)
	d.send(t, beforeRestart(prefix, now)...)
	mql := waitTransition(t, d, lead, leadstreamv1.Stage_STAGE_MQL)
	waitWebhook(t, hook, mql.GetId())
	offsets := waitCaughtUp(t, d.admin(t))
	state := leadState(t, d, lead)
	wantState(t, "before the restart", state)
	d.stop(t)

	again := startDevstack(t, bin, dataDir, srv.URL)
	// Read before any new event, so that nothing the second run does can
	// have rebuilt them.
	if got := committed(t, again.admin(t)); !maps.Equal(got, offsets) {
		t.Errorf("after the restart the scorers' offsets are %v, want %v", got, offsets)
	}
	resumed := leadState(t, again, lead)
	wantState(t, "after the restart", resumed)
	if resumed.Epoch != state.Epoch {
		t.Errorf("after the restart the epoch is %d, want %d", resumed.Epoch, state.Epoch)
	}

	again.send(t, afterRestart(prefix, now))
	sql := waitTransition(t, again, lead, leadstreamv1.Stage_STAGE_SQL)
	wantReasons(t, sql, "content_download = 3 >= 3", "distinct_days(pricing_view, 30d) = 2 >= 2",
		"trait decision_maker")
	waitWebhook(t, hook, sql.GetId())
	after := waitCaughtUp(t, again.admin(t))
	if got, want := sum(after), sum(offsets)+1; got != want {
		t.Errorf("the scorers committed %d events in all, want %d: %v", got, want, after)
	}
	wantOnlyNewWork(t, again, len(beforeRestart(prefix, now)))
	wantLeadTransitions(t, again, lead, map[string]leadstreamv1.Stage{
		mql.GetId(): leadstreamv1.Stage_STAGE_MQL, sql.GetId(): leadstreamv1.Stage_STAGE_SQL})
	again.stop(t)
}

func waitWebhook(t *testing.T, hook *webhook, id string) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for !hook.has(id) && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if !hook.has(id) {
		t.Errorf("webhook did not receive transition %s within %s", id, patience)
	}
}

// leadState reads the lead's state from devstack's Redis, as the
// scorers do.
func leadState(t *testing.T, d *devstack, lead string) *rules.State {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: d.redis})
	defer rdb.Close()
	store, err := leadstore.New(rdb, "ls")
	if err != nil {
		t.Fatalf("lead store: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	st, pending, err := store.Read(ctx, leadstore.Lead(lead))
	if err != nil {
		t.Fatalf("read %s: %v", lead, err)
	}
	if len(pending) != 0 {
		t.Errorf("%s has %d transitions still to publish, want none", lead, len(pending))
	}
	return st
}

// wantState holds st to what beforeRestart counts.
func wantState(t *testing.T, when string, st *rules.State) {
	t.Helper()
	if st.Stage != rules.MQL || !st.Identified {
		t.Errorf("%s the lead is %s (identified %v), want an identified mql",
			when, st.Stage, st.Identified)
	}
	for signal, n := range map[string]int64{"blog_view": 2, "content_download": 3} {
		if st.Counts[signal] != n {
			t.Errorf("%s the lead counts %s = %d, want %d", when, signal, st.Counts[signal], n)
		}
	}
	if days := len(st.Days["pricing_view"]); days != 1 {
		t.Errorf("%s the lead saw pricing on %d days, want 1", when, days)
	}
	if st.Traits["title"] != "Head of Marketing" {
		t.Errorf("%s the lead's title is %q", when, st.Traits["title"])
	}
}

func wantReasons(t *testing.T, tr *leadstreamv1.Transition, want ...string) {
	t.Helper()
	got := strings.Join(tr.GetReasons(), "; ")
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%s to %s: reasons %q lack %q", tr.GetLeadId(), demo.StageWord(tr.GetTo()),
				got, w)
		}
	}
}

// wantLeadTransitions wants the topic to hold exactly the transitions of
// want for lead, by id. Copies of one id are what at-least-once allows.
func wantLeadTransitions(t *testing.T, d *devstack, lead string,
	want map[string]leadstreamv1.Stage) {
	t.Helper()
	got := map[string]leadstreamv1.Stage{}
	copies := 0
	for _, tr := range transitions(t, d) {
		if tr.GetLeadId() != lead {
			continue
		}
		if _, seen := got[tr.GetId()]; seen {
			copies++
		}
		got[tr.GetId()] = tr.GetTo()
	}
	if !maps.Equal(got, want) {
		t.Errorf("transitions of %s by id: %v, want %v", lead, got, want)
	}
	if copies > 0 {
		t.Logf("%d transitions of %s were published again, with the same id", copies, lead)
	}
}

// wantOnlyNewWork wants the second run's scorers to have scored the one
// new event and not the history again: a run that lost its offsets and
// started from the beginning would count the old events as duplicates.
func wantOnlyNewWork(t *testing.T, d *devstack, history int) {
	t.Helper()
	events := map[string]float64{}
	for _, addr := range scorerAddrs(t, d) {
		for outcome, n := range scorerEvents(t, addr) {
			events[outcome] += n
		}
	}
	if events["applied"] != 1 {
		t.Errorf("second run's scorers applied %v events, want 1", events["applied"])
	}
	if total := events["applied"] + events["duplicate"] + events["poison"]; total >= float64(history) {
		t.Errorf("second run's scorers processed %v events, want fewer than the %d from before",
			total, history)
	}
}

// scorerAddrs finds the HTTP addresses of the two scorers.
func scorerAddrs(t *testing.T, d *devstack) []string {
	t.Helper()
	out := childAddrs(t, d, "scorer")
	if len(out) != 2 {
		t.Fatalf("found %d scorer addresses, want 2: %v", len(out), out)
	}
	return out
}

// childAddrs finds the HTTP address of each child running the binary
// name, on its command line.
func childAddrs(t *testing.T, d *devstack, name string) []string {
	t.Helper()
	var out []string
	for _, pid := range children(t, d.cmd.Process.Pid) {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimRight(string(data), "\x00"), "\x00")
		if filepath.Base(args[0]) != name {
			continue
		}
		for i, a := range args[:len(args)-1] {
			if a == "--http-addr" {
				out = append(out, args[i+1])
			}
		}
	}
	return out
}

// scorerEvents scrapes leadstream_scorer_events_total by outcome.
func scorerEvents(t *testing.T, addr string) map[string]float64 {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("scrape scorer: %v", err)
	}
	defer resp.Body.Close()
	return parseCounter(t, resp.Body, "leadstream_scorer_events_total", "outcome")
}

// parseCounter reads the samples of a counter with one label from the
// Prometheus text format.
func parseCounter(t *testing.T, r io.Reader, name, label string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	sc := bufio.NewScanner(r)
	prefix := name + "{" + label + "=\""
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), prefix)
		if !ok {
			continue
		}
		value, count, ok := strings.Cut(rest, "\"} ")
		n, err := strconv.ParseFloat(count, 64)
		if !ok || err != nil {
			t.Fatalf("cannot read sample %q", sc.Text())
		}
		out[value] += n
	}
	return out
}

func sum(m map[int32]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}
