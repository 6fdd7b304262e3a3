package main_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/leadstream/leadstream/services/notifier/internal/harness"
)

// mustRun fails the test at once if the notifier has exited.
func (p *proc) mustRun(t *testing.T) {
	t.Helper()
	select {
	case <-p.done:
		t.Fatalf("notifier exited during the outage: %v\n%s", p.err, p.stderr)
	default:
	}
}

// readiness polls /readyz until stopped and remembers which answers it
// saw and when.
type readiness struct {
	mu    sync.Mutex
	codes []int
	stop  chan struct{}
	done  chan struct{}
}

func watchReadiness(t *testing.T, base string) *readiness {
	t.Helper()
	r := &readiness{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(r.done)
		for {
			code, _ := harness.Get(base + "/readyz")
			r.mu.Lock()
			r.codes = append(r.codes, code)
			r.mu.Unlock()
			select {
			case <-r.stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	t.Cleanup(r.halt)
	return r
}

func (r *readiness) halt() {
	select {
	case <-r.stop:
	default:
		close(r.stop)
	}
	<-r.done
}

// sawOutage reports whether a 503 was followed, later, by a 200.
func (r *readiness) sawOutage() (down, upAgain bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.codes {
		switch {
		case c == 503:
			down = true
		case c == 200 && down:
			upAgain = true
		}
	}
	return down, upAgain
}

// produceSpread publishes n transitions of batch, one every gap, without
// waiting for each (a cut broker holds them in the client), and returns
// their ids once every one is acknowledged.
func produceSpread(t *testing.T, e *harness.Env, batch string, n int, gap time.Duration) []string {
	t.Helper()
	cl := e.Kafka.Client(t, kgo.RecordDeliveryTimeout(30*time.Second))
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	var failed atomic.Value
	var ids []string
	for i := range n {
		rec, id := e.Record(batch, i)
		ids = append(ids, id)
		cl.Produce(ctx, rec, func(_ *kgo.Record, err error) {
			if err != nil {
				failed.Store(err)
			}
		})
		time.Sleep(gap)
	}
	if err := cl.Flush(ctx); err != nil {
		t.Fatalf("flush produced transitions: %v", err)
	}
	if err, _ := failed.Load().(error); err != nil {
		t.Fatalf("produce transition: %v", err)
	}
	return ids
}

const fetchErrors = "leadstream_notifier_fetch_errors_total"

func TestRidesOutKafkaCut(t *testing.T) {
	const (
		n   = 60
		gap = 100 * time.Millisecond // n*gap spans the cut with room on both sides
		cut = 3 * time.Second
	)
	sw := harness.NewSwitch()
	e := harness.New(t, kfake.ListenFn(sw.Listen))
	rc := harness.NewReceiver(t, secret, 0)
	p := startNotifier(t, e, rc, "--session-timeout", "6s", "--rebalance-timeout", "6s")

	// One delivery first, so the notifier has joined its group before the cut.
	warm := e.Produce(t, "warm", 1)
	harness.WaitFor(t, 20*time.Second, "the first delivery", func() bool {
		return rc.Accepted()[warm[0]] == 1
	})
	ready := watchReadiness(t, p.base)

	go func() {
		time.Sleep(1500 * time.Millisecond)
		sw.Cut()
		time.Sleep(cut)
		sw.Restore()
	}()
	ids := append(warm, produceSpread(t, e, "cut", n, gap)...)
	harness.WaitFor(t, 40*time.Second, "every transition delivered", func() bool {
		p.mustRun(t)
		return len(rc.Accepted()) == len(ids)
	})
	time.Sleep(time.Second) // room for a wrong resend to show
	harness.WaitFor(t, 10*time.Second, "/readyz to answer 200 after the cut", func() bool {
		_, up := ready.sawOutage()
		return up
	})
	ready.halt()

	p.mustRun(t)
	if down, _ := ready.sawOutage(); !down {
		t.Errorf("/readyz never answered 503 while Kafka was cut")
	}
	checkSigned(t, rc, ids)
	if got := len(rc.Accepted()); got != len(ids) {
		t.Errorf("receiver accepted %d distinct transitions, want %d", got, len(ids))
	}
	// Whether the reader hands a failed fetch to the loop or rides out the
	// cut on its own depends on where the cut finds it; either way every
	// transition above arrived once and /readyz saw the outage.
	t.Logf("%s = %v during the cut", fetchErrors, metric(t, p.base, fetchErrors))
	if strings.Contains(p.stderr.String(), "service part failed") {
		t.Errorf("a part of the notifier failed:\n%s", p.stderr)
	}
}
