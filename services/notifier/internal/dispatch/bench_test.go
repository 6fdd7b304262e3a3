package dispatch_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
)

// benchBurst is how many transitions one throughput round produces at
// once; benchRate and benchSpan shape the paced latency round.
const (
	benchBurst = 2000
	benchRate  = 2000 // transitions per second
	benchSpan  = 2 * time.Second
)

// sentLog remembers when each transition id was handed to Kafka.
type sentLog struct {
	mu sync.Mutex
	at map[string]time.Time
}

func (s *sentLog) mark(id string) {
	s.mu.Lock()
	s.at[id] = time.Now()
	s.mu.Unlock()
}

func (s *sentLog) get(id string) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.at[id]
}

// BenchmarkDispatchThroughput runs a dispatcher with one webhook sink
// against the test Kafka and Redis and a local receiver. Each iteration
// produces a burst (deliveries/s, from the first arrival to the last)
// and then a paced stream (latency from produce to receipt, p50/p99).
func BenchmarkDispatchThroughput(b *testing.B) {
	e := newEnv(b)
	e.topic = e.prefix + "bench"
	e.kafka.CreateTopic(b, e.topic, 4)
	rc := newReceiver(b, always(http.StatusOK))
	e.start(b, "bench", webhookRoute("crm", rc, 3))
	cl := e.kafka.Client(b, kgo.DefaultProduceTopic(e.topic))
	sent := &sentLog{at: map[string]time.Time{}}

	var rates, lats []float64
	for i := range b.N {
		_, before := rc.snapshot()
		base := len(before)
		ids := benchProduce(b, cl, sent, fmt.Sprintf("b%d-", i), benchBurst, 0)
		arrived := waitArrivals(b, rc, base, len(ids))
		rates = append(rates, float64(len(ids)-1)/
			arrived[len(arrived)-1].at.Sub(arrived[0].at).Seconds())

		base += len(ids)
		n := int(benchRate * benchSpan.Seconds())
		ids = benchProduce(b, cl, sent, fmt.Sprintf("p%d-", i), n, benchRate)
		for _, r := range waitArrivals(b, rc, base, len(ids)) {
			lats = append(lats, float64(r.at.Sub(sent.get(r.key)).Microseconds())/1000)
		}
	}
	slices.Sort(rates)
	slices.Sort(lats)
	b.ReportMetric(rates[len(rates)/2], "deliveries/s")
	b.ReportMetric(lats[len(lats)/2], "p50_ms")
	b.ReportMetric(lats[len(lats)*99/100], "p99_ms")
	b.ReportMetric(0, "ns/op")
}

// benchProduce publishes n SQL transitions of distinct leads, at rate
// per second (0: as fast as the client goes), and returns their ids.
func benchProduce(
	tb testing.TB, cl *kgo.Client, sent *sentLog, tag string, n, rate int,
) []string {
	tb.Helper()
	ctx := context.Background()
	start := time.Now()
	ids := make([]string, 0, n)
	for i := range n {
		if rate > 0 {
			due := start.Add(time.Duration(i) * time.Second / time.Duration(rate))
			time.Sleep(time.Until(due))
		}
		lead := fmt.Sprintf("%slead-%05d", tag, i)
		tr := &leadstreamv1.Transition{Id: lead + "-sql-1", LeadId: lead,
			From: leadstreamv1.Stage_STAGE_MQL, To: leadstreamv1.Stage_STAGE_SQL,
			OccurredAtUnixMs: time.Now().UnixMilli(), Reasons: []string{"contact_request = 1 >= 1"}}
		v, err := proto.Marshal(tr)
		if err != nil {
			tb.Fatal(err)
		}
		sent.mark(tr.Id)
		cl.Produce(ctx, &kgo.Record{Key: []byte(lead), Value: v}, func(_ *kgo.Record, err error) {
			if err != nil {
				tb.Errorf("produce: %v", err)
			}
		})
		ids = append(ids, tr.Id)
	}
	if err := cl.Flush(ctx); err != nil {
		tb.Fatalf("flush: %v", err)
	}
	return ids
}

// waitArrivals waits until the receiver accepted base+n requests and
// returns the n after base.
func waitArrivals(tb testing.TB, rc *receiver, base, n int) []request {
	tb.Helper()
	var ok []request
	waitFor(tb, 60*time.Second, "the benchmark's deliveries", func() bool {
		_, ok = rc.snapshot()
		return len(ok) >= base+n
	})
	return ok[base : base+n]
}
