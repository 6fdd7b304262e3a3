package dispatch_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/leadstream/leadstream/services/notifier/internal/dispatch"
	"github.com/leadstream/leadstream/services/notifier/internal/retryq"
)

// committedOffset is the group's committed offset of partition 0 of the
// env's topic, or -1 when none is.
func (e *env) committedOffset(t *testing.T, group string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resps, err := kadm.NewClient(e.kafka.Client(t)).FetchOffsets(ctx, e.prefix+group)
	if err != nil {
		t.Fatalf("fetch offsets of %s: %v", group, err)
	}
	if r, ok := resps.Lookup(e.topic, 0); ok && r.Err == nil {
		return r.At
	}
	return -1
}

// commitOffset commits at for partition 0 of the env's topic in group,
// as a notifier that stopped there would have left it.
func (e *env) commitOffset(t *testing.T, group string, at int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var offs kadm.Offsets
	offs.Add(kadm.Offset{Topic: e.topic, Partition: 0, At: at, LeaderEpoch: -1})
	resps, err := kadm.NewClient(e.kafka.Client(t)).CommitOffsets(ctx, e.prefix+group, offs)
	if err == nil {
		err = resps.Error()
	}
	if err != nil {
		t.Fatalf("commit offset of %s: %v", group, err)
	}
}

// TestSlowDeliveryDoesNotHoldTheCommit holds the delivery of the record
// at offset 3 of a one-partition topic. That delivery is queued in Redis
// under a lease before it is attempted, so the record is finished: the
// group's offset moves past it while it is still held, and the records
// after it are delivered meanwhile. A second notifier that starts from
// offset 3, as after a crash, rereads 3 to 9 and sends none of them
// again: 3 is queued and leased, 4 to 9 are recorded as delivered. Once
// the held delivery ends, each transition has been delivered exactly
// once.
func TestSlowDeliveryDoesNotHoldTheCommit(t *testing.T) {
	const slow = "lead-03-sql-1"
	e := newEnv(t)
	e.topic = e.prefix + "single"
	e.kafka.CreateTopic(t, e.topic, 1)
	release := make(chan struct{})
	rc := newReceiver(t, func(_ int, r *http.Request, _ http.ResponseWriter) int {
		if r.Header.Get("Idempotency-Key") == slow {
			<-release
		}
		return http.StatusOK
	})
	route := webhookRoute("crm", rc, 5)
	route.Timeout = time.Minute
	tune := func(c *dispatch.Config) {
		// Long enough that the held attempt stays the first one and its
		// queued copy is not claimed by a retry loop while the test runs.
		c.InlineTimeout = time.Minute
		c.Queue = retryq.New(e.redis.Client(t), e.prefix, 2*time.Minute, time.Hour)
		c.CommitInterval = 20 * time.Millisecond
	}
	e.startWith(t, "first", tune, route)
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	t.Cleanup(unblock) // before the stop above, which waits for the held attempt
	ids := e.produce(t, 10)

	waitFor(t, 20*time.Second, "every transition but the held one delivered", func() bool {
		_, ok := rc.snapshot()
		return len(ok) == len(ids)-1
	})
	waitFor(t, 10*time.Second, "every offset committed", func() bool {
		return e.committedOffset(t, "first") == 10
	})
	if all, _ := rc.snapshot(); len(all) != len(ids) {
		t.Fatalf("receiver saw %d requests, want %d with the held one still open",
			len(all), len(ids))
	}

	e.commitOffset(t, "second", 3)
	e.startWith(t, "second", tune, route)
	waitFor(t, 20*time.Second, "the second notifier to finish offsets 3 to 9", func() bool {
		return e.committedOffset(t, "second") == 10
	})
	if got := e.metric(t, deliveriesTotal, "outcome", "duplicate"); got != 6 {
		t.Errorf("second notifier counted %v duplicates, want 6 (offsets 4 to 9)", got)
	}
	if all, _ := rc.snapshot(); len(all) != len(ids) {
		t.Fatalf("receiver saw %d requests after the reread, want %d", len(all), len(ids))
	}

	unblock()
	waitFor(t, 10*time.Second, "the held delivery", func() bool {
		_, ok := rc.snapshot()
		return len(ok) == len(ids)
	})
	time.Sleep(300 * time.Millisecond) // room for a wrong extra delivery
	checkOnceEach(t, rc, ids)
}

// TestCommitWaitsForTheQueue stops Redis while transitions arrive: they
// are read but cannot be queued, so they are not finished and the
// group's offset stays where it was. Once Redis is back they are queued,
// delivered once each and committed.
func TestCommitWaitsForTheQueue(t *testing.T) {
	e := newEnv(t)
	e.topic = e.prefix + "single"
	e.kafka.CreateTopic(t, e.topic, 1)
	rc := newReceiver(t, always(http.StatusOK))
	e.startWith(t, "g", func(c *dispatch.Config) { c.CommitInterval = 20 * time.Millisecond },
		webhookRoute("crm", rc, 5))
	first := e.publish(t, sqlTransitions("before-", 2)...)
	waitFor(t, 20*time.Second, "the first two committed", func() bool {
		return e.committedOffset(t, "g") == 2
	})

	node := e.redis.OwnNodes(t)[0]
	node.Stop()
	later := e.publish(t, sqlTransitions("during-", 3)...)
	waitFor(t, 20*time.Second, "the later three read", func() bool {
		return e.metric(t, inFlightGauge) == 3
	})
	time.Sleep(200 * time.Millisecond) // ten commit intervals
	if got := e.committedOffset(t, "g"); got != 2 {
		t.Fatalf("committed offset = %d while Redis is down, want 2", got)
	}
	if _, ok := rc.snapshot(); len(ok) != len(first) {
		t.Fatalf("receiver accepted %d deliveries while Redis was down, want %d",
			len(ok), len(first))
	}

	node.Restart(t)
	waitFor(t, 30*time.Second, "every offset committed", func() bool {
		return e.committedOffset(t, "g") == 5
	})
	waitFor(t, 10*time.Second, "every transition delivered", func() bool {
		_, ok := rc.snapshot()
		return len(ok) == len(first)+len(later)
	})
	checkOnceEach(t, rc, append(first, later...))
}

// TestLeadOrderKept delivers a lead's MQL before its SQL even when the
// MQL delivery is slow (within the inline timeout: a retried delivery
// keeps no order), while another lead's transition does not wait.
func TestLeadOrderKept(t *testing.T) {
	// Long enough for lead b's record to be fetched and delivered on a
	// loaded machine while a's MQL is held, and within the sink's 2s
	// timeout.
	const hold = 1500 * time.Millisecond
	e := newEnv(t)
	rc, answered := holdingReceiver(t, "a-mql-1", hold)
	e.startWith(t, "g", func(c *dispatch.Config) { c.InlineTimeout = 3 * time.Second },
		webhookRoute("crm", rc, 3))
	ids := e.publishTwoLeads(t)

	waitFor(t, 20*time.Second, "all three delivered", func() bool {
		_, ok := rc.snapshot()
		return len(ok) == len(ids)
	})
	at, mqlDone := rc.arrivals(), answered()
	if !at["a-sql-1"].After(mqlDone) {
		t.Errorf("lead a's SQL arrived %v before its MQL was answered",
			mqlDone.Sub(at["a-sql-1"]))
	}
	if !at["b-mql-1"].Before(mqlDone) {
		t.Error("lead b's transition waited for lead a's slow delivery")
	}
	checkOnceEach(t, rc, ids)
}
