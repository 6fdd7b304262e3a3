package worker

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/leadstream/leadstream/pkg/telemetry"
	"github.com/leadstream/leadstream/pkg/testenv"
)

// TestRedisOutageLosesNothing puts a proxy between the worker and Redis,
// slows it, cuts it for two seconds mid-stream and restores it. The
// worker must keep running (no crash loop), report itself not ready while
// Redis is unreachable and ready again after, and end exactly where the
// oracle says: nothing lost, nothing counted twice.
func TestRedisOutageLosesNothing(t *testing.T) {
	e := newEnv(t, 14)
	group := e.prefix + "group"
	proxy := testenv.StartProxy(t, e.rdb.Addrs[0])
	rdb := redis.NewClient(&redis.Options{Addr: proxy.Addr, DialTimeout: 300 * time.Millisecond,
		ReadTimeout: 500 * time.Millisecond, WriteTimeout: 500 * time.Millisecond})
	t.Cleanup(func() { _ = rdb.Close() })

	e.produce(t)
	w := e.startOn(t, group, rdb, slowly(30*time.Millisecond))
	tel := telemetry.New(nil)
	tel.AddCheck("redis", w.store.Ping)
	ready := func() bool { return len(tel.Ready(context.Background())) == 0 }

	waitFor(t, "the worker to score events", func() bool { return w.applied() > 0 })
	proxy.AddLatency(t, 20, 5)
	time.Sleep(300 * time.Millisecond)
	before := w.applied()
	proxy.Cut()
	waitFor(t, "readiness to fail while redis is cut", func() bool { return !ready() })
	time.Sleep(2 * time.Second)
	if total := float64(e.wl.Count()); before >= total {
		t.Fatalf("all %g events were applied before the cut; it proved nothing", total)
	}
	assertRunning(t, w)
	proxy.Restore(t)
	proxy.RemoveToxics()
	waitFor(t, "readiness to return after redis is back", ready)

	e.waitCommitted(t, group, 40*time.Second)
	e.check(t)
	assertRunning(t, w)
	t.Logf("applied %g events before the cut, %g in all", before, w.applied())
}

// assertRunning fails the test if the worker has returned.
func assertRunning(t *testing.T, r *running) {
	t.Helper()
	select {
	case err := <-r.done:
		r.done <- err
		t.Fatalf("worker returned during the fault: %v", err)
	default:
	}
}
