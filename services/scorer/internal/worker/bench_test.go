package worker

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/leadstream/leadstream/pkg/testenv"
)

// BenchmarkWorkerThroughput runs one worker over a workload of about 2,500
// events on the in-process broker and a real Redis, from the worker's
// start to the last commit, and reports events per second and Redis
// round trips per event.
func BenchmarkWorkerThroughput(b *testing.B) {
	var events int
	var busy time.Duration
	trips := &roundTrips{}
	for i := range b.N {
		b.StopTimer()
		e := newEnvSized(b, int64(100+i), testenv.StartRedis(b), 300)
		e.maxPoll = 500
		e.produce(b)
		group := e.prefix + "group"
		rdb := e.rdb.Client(b)
		rdb.AddHook(trips)
		b.StartTimer()

		start := time.Now()
		w := e.startOn(b, group, rdb, nil)
		e.waitCommitted(b, group, 2*time.Minute)
		busy += time.Since(start)
		events += e.wl.Count()

		b.StopTimer()
		if err := w.stop(b); err != nil {
			b.Fatalf("stop worker: %v", err)
		}
	}
	b.ReportMetric(float64(events)/busy.Seconds(), "events/s")
	b.ReportMetric(float64(trips.n.Load())/float64(events), "redis-trips/event")
}

// roundTrips counts the commands and pipelines a client sends.
type roundTrips struct{ n atomic.Int64 }

var _ redis.Hook = (*roundTrips)(nil)

func (c *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmd)
	}
}

func (c *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmds)
	}
}
