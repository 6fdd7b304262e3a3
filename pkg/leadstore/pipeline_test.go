package leadstore_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/leadstream/leadstream/pkg/leadstore"
	"github.com/leadstream/leadstream/pkg/testenv"
)

// TestApplyCoalesced applies the events of many leads from one goroutine
// per lead at once: every lead must end with exactly its own counts, and
// the calls must share round trips.
func TestApplyCoalesced(t *testing.T) {
	tests := []struct {
		name   string
		flush  bool // drop the scripts first, so the pipeline meets NOSCRIPT
		leads  int
		events int
	}{
		{"scripts loaded", false, 40, 10},
		{"scripts flushed", true, 20, 5},
	}
	red := testenv.StartRedis(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rdb := red.Client(t)
			trips := &tripCounter{}
			rdb.AddHook(trips)
			s := newStore(t, rdb)
			if tt.flush {
				if err := rdb.ScriptFlush(context.Background()).Err(); err != nil {
					t.Fatalf("flush scripts: %v", err)
				}
			}
			applyConcurrently(t, s, tt.leads, tt.events)
			calls := int64(tt.leads * tt.events)
			if !tt.flush && trips.n.Load() >= calls {
				t.Errorf("%d round trips for %d applies, want fewer", trips.n.Load(), calls)
			}
			for i := range tt.leads {
				st, _, err := s.Read(context.Background(), leadstore.Lead(leadName(i)))
				if err != nil {
					t.Fatalf("read: %v", err)
				}
				if got := st.Counts["blog"]; got != int64(tt.events) {
					t.Errorf("lead %d counted %d blog views, want %d", i, got, tt.events)
				}
			}
		})
	}
}

func leadName(i int) string { return fmt.Sprintf("L%d", i) }

// applyConcurrently applies events blog views to each of leads leads,
// one goroutine per lead, each lead's events in order.
func applyConcurrently(t *testing.T, s *leadstore.Store, leads, events int) {
	t.Helper()
	r := mustRules(t)
	var wg sync.WaitGroup
	errs := make(chan error, leads)
	for i := range leads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range events {
				x := ev(fmt.Sprintf("e%d-%d", i, k), "page_view", "https://x.example/blog/a",
					t0+int64(k))
				if _, err := s.Apply(context.Background(), leadstore.Lead(leadName(i)), r,
					x); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("apply: %v", err)
	}
}

// tripCounter counts the commands and pipelines a client sends.
type tripCounter struct{ n atomic.Int64 }

var _ redis.Hook = (*tripCounter)(nil)

func (c *tripCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *tripCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmd)
	}
}

func (c *tripCounter) ProcessPipelineHook(
	next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmds)
	}
}
