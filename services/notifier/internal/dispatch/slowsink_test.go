package dispatch_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
	"github.com/leadstream/leadstream/services/notifier/internal/dispatch"
	"github.com/leadstream/leadstream/services/notifier/internal/retryq"
)

// narrow is a dispatcher with a window of four records and one retry in
// flight per sink, so that a sink answering within the inline timeout,
// but slowly, would cap every sink at a few deliveries per second if it
// could hold the window.
func narrow(c *dispatch.Config) {
	c.MaxInFlight = 4
	c.Concurrency = 1
	c.InlineTimeout = 2 * time.Second
}

// held is a receiver whose handler waits on a channel the test closes
// when it ends, before the dispatcher stops.
func held(t *testing.T) (release func(), wait func(*http.Request)) {
	t.Helper()
	ch := make(chan struct{})
	var once sync.Once
	release = func() { once.Do(func() { close(ch) }) }
	wait = func(r *http.Request) {
		select {
		case <-ch:
		case <-r.Context().Done():
		}
	}
	return release, wait
}

// TestSlowSinkDoesNotHoldTheWindow runs hundreds of transitions, in
// rounds, through a window of four while one sink answers 2xx after a
// second (within the inline timeout) or never. A sink that held its
// records' window slots would let the live sink run at most a window
// ahead of it; instead the live sink must receive every transition
// while the slow sink has received only a fraction.
func TestSlowSinkDoesNotHoldTheWindow(t *testing.T) {
	const rounds, perRound = 10, 20
	const n = rounds * perRound
	tests := []struct {
		name string
		slow func(wait func(*http.Request)) func(int, *http.Request, http.ResponseWriter) int
	}{
		{"slow but successful", func(func(*http.Request)) func(
			int, *http.Request, http.ResponseWriter) int {
			return func(int, *http.Request, http.ResponseWriter) int {
				time.Sleep(time.Second)
				return http.StatusOK
			}
		}},
		{"hanging", func(wait func(*http.Request)) func(
			int, *http.Request, http.ResponseWriter) int {
			return func(_ int, r *http.Request, _ http.ResponseWriter) int {
				wait(r)
				return http.StatusOK
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			release, wait := held(t)
			slow := newReceiver(t, tt.slow(wait))
			live := newReceiver(t, always(http.StatusOK))
			e.startWith(t, "g", narrow, webhookRoute("slow", slow, 100),
				webhookRoute("live", live, 3))
			t.Cleanup(release) // runs before the stop, which waits for attempts

			var ids []string
			for r := range rounds {
				trs := sqlTransitions(fmt.Sprintf("r%d-", r), perRound)
				ids = append(ids, e.publish(t, trs...)...)
				time.Sleep(50 * time.Millisecond)
			}
			waitFor(t, 60*time.Second, "every transition at the live sink", func() bool {
				_, ok := live.snapshot()
				return len(ok) >= n
			})
			// Holding the window, the live sink could not get more than
			// four transitions ahead of the slow one.
			if all, _ := slow.snapshot(); len(all) > n/2 {
				t.Errorf("the slow sink had received %d of %d transitions when the live "+
					"sink had them all; the live sink waited for it", len(all), n)
			}
			if all, _ := slow.snapshot(); len(all) == 0 {
				t.Error("the slow sink was never tried")
			}
			// The slow sink has every delivery in hand all the same: most
			// of them wait in its queue, and the backlog gauge shows it.
			waitFor(t, 20*time.Second, "most deliveries to the slow sink queued", func() bool {
				return e.metric(t, deliveriesTotal, "sink", "slow",
					"outcome", "retry_scheduled") >= n/2
			})
			waitFor(t, 20*time.Second, "the slow sink's backlog", func() bool {
				return e.metric(t, backlogGauge, "sink", "slow") >= n/2
			})
			checkOnceEach(t, live, ids)
		})
	}
}

// sqlTransitions returns n SQL transitions, each for a lead of its own
// whose name starts with prefix.
func sqlTransitions(prefix string, n int) []*leadstreamv1.Transition {
	var trs []*leadstreamv1.Transition
	for i := range n {
		lead := fmt.Sprintf("%slead-%03d", prefix, i)
		trs = append(trs, &leadstreamv1.Transition{Id: lead + "-sql-1", LeadId: lead,
			From: leadstreamv1.Stage_STAGE_MQL, To: leadstreamv1.Stage_STAGE_SQL,
			OccurredAtUnixMs: time.Now().UnixMilli()})
	}
	return trs
}

// TestLeadOrderKeptPerSink holds lead a's MQL at one sink, within the
// inline timeout. The other sink receives a's MQL and SQL, and lead b's
// MQL, without waiting for it, while the slow sink still receives a's
// SQL only after it answered a's MQL.
func TestLeadOrderKeptPerSink(t *testing.T) {
	e := newEnv(t)
	release, wait := held(t)
	var mu sync.Mutex
	var mqlDone time.Time
	slow := newReceiver(t, func(_ int, r *http.Request, _ http.ResponseWriter) int {
		if r.Header.Get("Idempotency-Key") == "a-mql-1" {
			wait(r)
			mu.Lock()
			mqlDone = time.Now()
			mu.Unlock()
		}
		return http.StatusOK
	})
	live := newReceiver(t, always(http.StatusOK))
	slowRoute := webhookRoute("slow", slow, 3)
	slowRoute.Timeout = time.Minute
	e.startWith(t, "g", func(c *dispatch.Config) {
		// The held attempt must fit in the lease.
		c.InlineTimeout = time.Minute
		c.Queue = retryq.New(e.redis.Client(t), e.prefix, 2*time.Minute, time.Hour)
	}, slowRoute, webhookRoute("live", live, 3))
	t.Cleanup(release)

	ids := e.publishTwoLeads(t)

	waitFor(t, 20*time.Second, "all three at the live sink", func() bool {
		_, ok := live.snapshot()
		return len(ok) == len(ids)
	})
	waitFor(t, 20*time.Second, "b's MQL at the slow sink", func() bool {
		_, ok := slow.snapshot()
		return len(ok) == 1
	})
	if all, _ := slow.snapshot(); len(all) != 2 {
		t.Errorf("slow sink saw %d requests while a's MQL was held, want 2 (a's MQL, b's)",
			len(all))
	}
	release()
	waitFor(t, 20*time.Second, "all three at the slow sink", func() bool {
		_, ok := slow.snapshot()
		return len(ok) == len(ids)
	})
	at := slow.arrivals()
	mu.Lock()
	defer mu.Unlock()
	if !at["a-sql-1"].After(mqlDone) {
		t.Errorf("lead a's SQL reached the slow sink %v before its MQL was answered",
			mqlDone.Sub(at["a-sql-1"]))
	}
	checkOnceEach(t, live, ids)
	checkOnceEach(t, slow, ids)
}

// TestLongWaitGoesToTheQueue holds lead a's first delivery for 3s of a
// 6s lease. Its next delivery, waiting behind it at the same sink, could
// then outlast its own lease with the 3.5s inline timeout, so it is
// handed to the retry loop rather than attempted; it still arrives
// after the first was answered, and each is delivered once.
func TestLongWaitGoesToTheQueue(t *testing.T) {
	const lease, hold, inline = 6 * time.Second, 3 * time.Second, 3500 * time.Millisecond
	e := newEnv(t)
	rc, firstDone := holdingReceiver(t, "a-mql-1", hold)
	route := webhookRoute("crm", rc, 3)
	route.Timeout = 10 * time.Second
	e.startWith(t, "g", func(c *dispatch.Config) {
		c.InlineTimeout = inline
		c.Queue = retryq.New(e.redis.Client(t), e.prefix, lease, time.Hour)
	}, route)
	ids := e.publish(t,
		&leadstreamv1.Transition{Id: "a-mql-1", LeadId: "a",
			From: leadstreamv1.Stage_STAGE_VISITOR, To: leadstreamv1.Stage_STAGE_MQL},
		&leadstreamv1.Transition{Id: "a-sql-1", LeadId: "a",
			From: leadstreamv1.Stage_STAGE_MQL, To: leadstreamv1.Stage_STAGE_SQL})

	waitFor(t, 30*time.Second, "both delivered", func() bool {
		_, ok := rc.snapshot()
		return len(ok) == len(ids)
	})
	_, ok := rc.snapshot()
	if done := firstDone(); !ok[1].at.After(done) || ok[1].key != "a-sql-1" {
		t.Errorf("a's SQL arrived at %v, before its MQL was answered at %v", ok[1].at, done)
	}
	checkMetrics(t, e, map[string]float64{
		deliveriesTotal + " crm retry_scheduled": 1, deliveriesTotal + " crm delivered": 2,
		attemptsTotal + " crm ok": 2, attemptsTotal + " crm error": 0,
	})
	time.Sleep(300 * time.Millisecond) // room for a wrong extra delivery
	checkOnceEach(t, rc, ids)
}
