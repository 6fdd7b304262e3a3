package dispatch_test

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leadstream/leadstream/services/notifier/internal/dispatch"
)

func TestRetriesUntilSuccess(t *testing.T) {
	e := newEnv(t)
	rc := newReceiver(t, func(n int, _ *http.Request, _ http.ResponseWriter) int {
		if n <= 2 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	e.start(t, "g", webhookRoute("crm", rc, 5))
	ids := e.produce(t, 1)
	waitFor(t, 20*time.Second, "a successful delivery", func() bool {
		_, ok := rc.snapshot()
		return len(ok) == 1
	})
	time.Sleep(300 * time.Millisecond) // room for a wrong extra delivery
	checkOnceEach(t, rc, ids)

	all, _ := rc.snapshot()
	if len(all) != 3 {
		t.Fatalf("receiver saw %d requests, want 3 (500, 500, 200)", len(all))
	}
	seen := map[string]bool{}
	for _, r := range all {
		if r.key != ids[0] {
			t.Errorf("Idempotency-Key = %q, want %q on every attempt", r.key, ids[0])
		}
		if r.delivery == "" || seen[r.delivery] {
			t.Errorf("Leadstream-Delivery %q is empty or repeated", r.delivery)
		}
		seen[r.delivery] = true
	}
	checkMetrics(t, e, map[string]float64{
		attemptsTotal + " crm error": 2, attemptsTotal + " crm ok": 1,
		deliveriesTotal + " crm delivered": 1, deliveriesTotal + " crm retry_scheduled": 1,
		parkedTotal + " crm": 0,
	})
	waitFor(t, 5*time.Second, "an empty backlog", func() bool {
		return e.metric(t, backlogGauge, "sink", "crm") == 0
	})
}

// checkMetrics waits until series of the dispatcher started last equal
// want, keyed by "<name> <sink>" or "<name> <sink> <outcome or result>",
// and reports those that do not within a generous deadline. The waiting
// covers a receiver that counts a request before the notifier has read
// its answer.
func checkMetrics(t *testing.T, e *env, want map[string]float64) {
	t.Helper()
	wrong := func() []string {
		var out []string
		for k, v := range want {
			f := strings.Fields(k)
			labels := []string{"sink", f[1]}
			switch {
			case len(f) == 3 && f[0] == attemptsTotal:
				labels = append(labels, "result", f[2])
			case len(f) == 3:
				labels = append(labels, "outcome", f[2])
			}
			if got := e.metric(t, f[0], labels...); got != v {
				out = append(out, fmt.Sprintf("%s%v = %v, want %v", f[0], labels, got, v))
			}
		}
		return out
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(wrong()) > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	for _, w := range wrong() {
		t.Error(w)
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	e := newEnv(t)
	rc := newReceiver(t, func(n int, _ *http.Request, w http.ResponseWriter) int {
		if n == 1 {
			w.Header().Set("Retry-After", "2")
			return http.StatusServiceUnavailable
		}
		return http.StatusAccepted
	})
	e.start(t, "g", webhookRoute("crm", rc, 5))
	ids := e.produce(t, 1)
	waitFor(t, 20*time.Second, "a successful delivery", func() bool {
		_, ok := rc.snapshot()
		return len(ok) == 1
	})
	all, _ := rc.snapshot()
	// Backoff alone would retry within 100ms here.
	if gap := all[1].at.Sub(all[0].at); gap < 1900*time.Millisecond {
		t.Errorf("retried after %v, want at least the 2s Retry-After", gap)
	}
	checkOnceEach(t, rc, ids)
}

func TestDeadSinkDoesNotDelayOthers(t *testing.T) {
	tests := []struct {
		name string
		dead func(int, *http.Request, http.ResponseWriter) int
	}{
		{"always 500", always(http.StatusInternalServerError)},
		{"hanging", func(_ int, r *http.Request, _ http.ResponseWriter) int {
			<-r.Context().Done()
			return http.StatusOK
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			dead := newReceiver(t, tt.dead)
			live := newReceiver(t, always(http.StatusOK))
			e.start(t, "g", webhookRoute("dead", dead, 100), webhookRoute("live", live, 3))
			ids := e.produce(t, 30)
			start := time.Now()
			waitFor(t, 15*time.Second, "all transitions at the live sink", func() bool {
				_, ok := live.snapshot()
				return len(ok) == len(ids)
			})
			// A dead sink costs at most one inline timeout (300ms); then
			// deliveries to it go straight to the queue.
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("live sink got everything after %v, want well under 5s", took)
			}
			checkOnceEach(t, live, ids)
			if all, _ := dead.snapshot(); len(all) == 0 {
				t.Error("the dead sink was never tried")
			}
			checkMetrics(t, e, map[string]float64{
				attemptsTotal + " live ok": 30, attemptsTotal + " live error": 0,
				deliveriesTotal + " live delivered": 30, attemptsTotal + " dead ok": 0,
				parkedTotal + " dead": 0,
			})
			waitFor(t, 10*time.Second, "the dead sink's failed attempts counted", func() bool {
				return e.metric(t, attemptsTotal, "sink", "dead", "result", "error") >= 1
			})
			waitFor(t, 10*time.Second, "the dead sink's backlog", func() bool {
				return e.metric(t, backlogGauge, "sink", "dead") >= 1
			})
		})
	}
}

func TestParksAfterLastAttempt(t *testing.T) {
	e := newEnv(t)
	rc := newReceiver(t, always(http.StatusBadGateway))
	e.start(t, "g", webhookRoute("crm", rc, 3))
	ids := e.produce(t, 1)
	recs := e.kafka.ReadAll(t, e.parked, 1, 20*time.Second)
	if len(recs) != 1 {
		t.Fatalf("parked topic has %d records, want 1", len(recs))
	}
	hdr := map[string]string{}
	for _, h := range recs[0].Headers {
		hdr[h.Key] = string(h.Value)
	}
	want := map[string]string{dispatch.HeaderSink: "crm", dispatch.HeaderAttempts: "3",
		dispatch.HeaderError: "http status 502", dispatch.HeaderSourceTopic: e.topic}
	for k, v := range want {
		if hdr[k] != v {
			t.Errorf("header %s = %q, want %q", k, hdr[k], v)
		}
	}
	if _, err := strconv.Atoi(hdr[dispatch.HeaderSourceOffset]); err != nil {
		t.Errorf("source offset header %q: %v", hdr[dispatch.HeaderSourceOffset], err)
	}
	if all, _ := rc.snapshot(); len(all) != 3 {
		t.Errorf("receiver saw %d attempts, want 3", len(all))
	}
	if string(recs[0].Key) != "lead-00" || len(ids) != 1 {
		t.Errorf("parked key = %q, want the original key", recs[0].Key)
	}
	waitFor(t, 5*time.Second, "the parked delivery counted", func() bool {
		return e.metric(t, parkedTotal, "sink", "crm") == 1
	})
	checkMetrics(t, e, map[string]float64{
		attemptsTotal + " crm error": 3, attemptsTotal + " crm ok": 0,
		deliveriesTotal + " crm parked": 1, deliveriesTotal + " crm delivered": 0,
	})
	waitFor(t, 5*time.Second, "an empty backlog", func() bool {
		return e.metric(t, backlogGauge, "sink", "crm") == 0
	})
}

// TestBacklogFollowsAHangingSink fills a sink's only retry slot with an
// attempt that hangs, then queues more deliveries: the backlog gauge
// must show them while no slot is free.
func TestBacklogFollowsAHangingSink(t *testing.T) {
	e := newEnv(t)
	release, wait := held(t)
	rc := newReceiver(t, func(_ int, r *http.Request, _ http.ResponseWriter) int {
		wait(r)
		return http.StatusOK
	})
	route := webhookRoute("hung", rc, 10)
	route.Timeout = time.Minute
	e.startWith(t, "g", func(c *dispatch.Config) { c.Concurrency = 1 }, route)
	t.Cleanup(release)

	first := e.produce(t, 1)
	waitFor(t, 20*time.Second, "the first attempt and a retry hanging", func() bool {
		all, _ := rc.snapshot()
		return len(all) == 2
	})
	later := e.publish(t, sqlTransitions("later-", 20)...)
	want := float64(len(first) + len(later))
	waitFor(t, 20*time.Second, "the backlog to count every queued delivery", func() bool {
		return e.metric(t, backlogGauge, "sink", "hung") == want
	})
	if all, _ := rc.snapshot(); len(all) != 2 {
		t.Errorf("receiver saw %d requests with its slot taken, want 2", len(all))
	}
	checkMetrics(t, e, map[string]float64{
		attemptsTotal + " hung error": 1, deliveriesTotal + " hung retry_scheduled": want,
	})

	release()
	waitFor(t, 20*time.Second, "every delivery once released", func() bool {
		_, ok := rc.snapshot()
		return len(ok) >= len(first)+len(later)
	})
	waitFor(t, 10*time.Second, "an empty backlog", func() bool {
		return e.metric(t, backlogGauge, "sink", "hung") == 0
	})
}

// TestRestartLosesNothing stops a notifier while retries are pending and
// starts another; the second one, in a fresh group, also rereads every
// transition, which must not repeat a successful delivery.
func TestRestartLosesNothing(t *testing.T) {
	e := newEnv(t)
	var healthy atomic.Bool
	rc := newReceiver(t, func(n int, _ *http.Request, _ http.ResponseWriter) int {
		if healthy.Load() || n%3 == 0 {
			return http.StatusOK
		}
		return http.StatusServiceUnavailable
	})
	route := webhookRoute("crm", rc, 100)
	stop := e.start(t, "first", route)
	ids := e.produce(t, 12)
	waitFor(t, 20*time.Second, "some deliveries and some pending", func() bool {
		all, ok := rc.snapshot()
		return len(ok) >= 2 && len(all) >= len(ids)
	})
	stop()
	_, before := rc.snapshot()
	if len(before) == len(ids) {
		t.Fatal("everything was delivered before the restart; the test proves nothing")
	}

	healthy.Store(true)
	e.start(t, "second", route)
	waitFor(t, 20*time.Second, "every transition delivered", func() bool {
		_, ok := rc.snapshot()
		return len(ok) >= len(ids)
	})
	time.Sleep(500 * time.Millisecond)
	checkOnceEach(t, rc, ids)
	// The second notifier found what the first delivered recorded.
	waitFor(t, 10*time.Second, "the reread deliveries counted", func() bool {
		return e.metric(t, deliveriesTotal, "sink", "crm", "outcome", "duplicate") >=
			float64(len(before))
	})
	checkMetrics(t, e, map[string]float64{
		deliveriesTotal + " crm duplicate": float64(len(before)),
		deliveriesTotal + " crm delivered": float64(len(ids) - len(before)),
	})
}
