package publish

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/leadstream/leadstream/pkg/testenv"
	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
)

// benchEvents are 50 page views shaped like the bench's batch figure.
func benchEvents() []*leadstreamv1.Event {
	now := time.Now().UnixMilli()
	events := make([]*leadstreamv1.Event, 50)
	for i := range events {
		events[i] = &leadstreamv1.Event{Id: fmt.Sprintf("0190f0a2-7c1e-7b3a-9d4e-%012d", i),
			Type: "page_view", AnonymousId: fmt.Sprintf("a-%d", i),
			Url:              fmt.Sprintf("https://example.com/blog/post-%d", i),
			OccurredAtUnixMs: now, ReceivedAtUnixMs: now, ClientTimestampUnixMs: now,
			Source: leadstreamv1.Source_SOURCE_BATCH, Site: "bench"}
	}
	return events
}

// BenchmarkProduce is the batch API's producer against the in-process
// broker: 50 events per op from 32 concurrent requests, per codec.
func BenchmarkProduce(b *testing.B) {
	codecs := []struct {
		name  string
		codec kgo.CompressionCodec
	}{
		{"none", kgo.NoCompression()}, {"snappy", kgo.SnappyCompression()},
		{"lz4", kgo.Lz4Compression()}, {"zstd", kgo.ZstdCompression()},
	}
	kafka := testenv.StartKafka(b)
	events := benchEvents()
	for _, c := range codecs {
		b.Run(c.name, func(b *testing.B) {
			topic := testenv.Prefix(b) + "events"
			kafka.CreateTopic(b, topic, 8)
			opts := ClientOptions(5*time.Millisecond, c.codec)
			p := New(kafka.Client(b, opts...), Options{Topic: topic, BufferSize: 1,
				Timeout: 10 * time.Second})
			b.Cleanup(func() { _ = p.Close(context.Background()) })
			b.SetParallelism(16)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := p.Produce(context.Background(), events); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N*len(events))/b.Elapsed().Seconds(), "events/s")
		})
	}
}
