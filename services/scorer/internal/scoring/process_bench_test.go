package scoring_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/leadstream/leadstream/pkg/leadstore"
	"github.com/leadstream/leadstream/pkg/rules"
	"github.com/leadstream/leadstream/pkg/testenv"
	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
	"github.com/leadstream/leadstream/services/scorer/internal/scoring"
)

// commandCounter counts the Redis round trips a client makes.
type commandCounter struct{ n atomic.Int64 }

var _ redis.Hook = (*commandCounter)(nil)

func (c *commandCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *commandCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmd)
	}
}

func (c *commandCounter) ProcessPipelineHook(
	next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmds)
	}
}

// leadEvents is one lead of a realistic mix for the example rules: three
// anonymous page views, an identify, then server-side and browser events.
func leadEvents(prefix string, i int) []*leadstreamv1.Event {
	anon, lead := fmt.Sprintf("%s-a%d", prefix, i), fmt.Sprintf("%s-l%d", prefix, i)
	at := int64(1_800_000_000_000) + int64(i)*1000
	ev := func(n int, typ, a, l, url string, dt int64) *leadstreamv1.Event {
		return &leadstreamv1.Event{Id: fmt.Sprintf("%s-e%d-%d", prefix, i, n), Type: typ,
			AnonymousId: a, LeadId: l, OccurredAtUnixMs: at + dt, Url: url}
	}
	ident := ev(3, "identify", anon, lead, "https://example.com/signup", 4000)
	ident.Traits = map[string]string{"email": "p@buyer.example", "title": "Analyst"}
	day := int64(86_400_000)
	return []*leadstreamv1.Event{
		ev(0, "page_view", anon, "", "https://example.com/blog/one", 0),
		ev(1, "page_view", anon, "", "https://example.com/blog/two", 1000),
		ev(2, "page_view", anon, "", "https://example.com/pricing", 2000),
		ident,
		ev(4, "download", "", lead, "https://example.com/guide", day),
		ev(5, "email_open", "", lead, "", day+1000),
		ev(6, "page_view", anon, "", "https://example.com/pricing", day+2000),
		ev(7, "page_view", anon, "", "https://example.com/about", day+3000),
	}
}

// BenchmarkProcess is the scorer's work per event against a real Redis,
// without Kafka: linking, counting, evaluating and recording stage
// changes. redis_calls/op is the round trips per event.
func BenchmarkProcess(b *testing.B) {
	r, err := rules.Load("../../../../deploy/rules/example.yaml")
	if err != nil {
		b.Fatal(err)
	}
	rdb := testenv.StartRedis(b).Client(b)
	counter := &commandCounter{}
	rdb.AddHook(counter)
	st, err := leadstore.New(rdb, testenv.Prefix(b))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if err := st.Load(ctx); err != nil {
		b.Fatal(err)
	}
	p := scoring.New(st)
	prefix := testenv.Prefix(b)
	var events []*leadstreamv1.Event
	counter.n.Store(0)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if len(events) == 0 {
			events = leadEvents(prefix, i/8)
		}
		if _, err := p.Process(ctx, r, events[0]); err != nil {
			b.Fatal(err)
		}
		events = events[1:]
		i++
	}
	b.ReportMetric(float64(counter.n.Load())/float64(i), "redis_calls/op")
}
