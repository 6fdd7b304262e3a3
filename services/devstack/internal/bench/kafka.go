package bench

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/leadstream/leadstream/pkg/topics"
)

// Reference names.
const (
	refProduce  = "kafka_produce"
	refConsume  = "kafka_consume"
	refPixel    = "bare_pixel"
	refDelivery = "bare_delivery"
)

// eventPartitions is the partition count of the events topics, as
// devstack creates them.
const eventPartitions = 8

// kafkaSuite measures raw franz-go produce and consume through the
// broker: the ceiling for anything that goes through Kafka here.
func (b *Bench) kafkaSuite(ctx context.Context) error {
	topic := b.name("kafka")
	if err := b.createTopic(ctx, topic, eventPartitions); err != nil {
		return err
	}
	recs, err := b.eventRecords(topic, b.cfg.Events)
	if err != nil {
		return err
	}
	cl, err := b.client()
	if err != nil {
		return err
	}
	defer cl.Close()
	pr, err := produceAll(ctx, cl, recs)
	if err != nil {
		return err
	}
	b.refs[refProduce] = pr
	cr, err := b.consumeRate(ctx, topic, len(recs))
	if err != nil {
		return err
	}
	b.refs[refConsume] = cr
	note := fmt.Sprintf("%d event records, %d partitions, acks=all", len(recs), eventPartitions)
	b.report.Add(
		Figure{Group: "kafka", Name: "kafka produce, raw franz-go", Value: pr, Unit: "rec/s",
			Note: note},
		Figure{Group: "kafka", Name: "kafka consume, raw franz-go", Value: cr, Unit: "rec/s",
			Note: note},
	)
	return nil
}

// client returns a franz-go client of the broker.
func (b *Bench) client(opts ...kgo.Opt) (*kgo.Client, error) {
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(b.kafka)}, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("new kafka client: %w", err)
	}
	return cl, nil
}

func (b *Bench) createTopic(ctx context.Context, topic string, parts int32) error {
	cl, err := b.client()
	if err != nil {
		return err
	}
	defer cl.Close()
	if err := topics.Ensure(ctx, cl, topics.Spec{Name: topic, Partitions: parts}); err != nil {
		return fmt.Errorf("create topic %s: %w", topic, err)
	}
	return nil
}

// eventRecords returns the records of n mixed events for topic.
func (b *Bench) eventRecords(topic string, n int) ([]*kgo.Record, error) {
	mix := NewMix(b.name("lead"), time.Now().Add(-48*time.Hour).UnixMilli())
	recs := make([]*kgo.Record, 0, n)
	for i := 0; len(recs) < n; i++ {
		for _, ev := range mix.Lead(i) {
			v, err := Encode(ev)
			if err != nil {
				return nil, err
			}
			recs = append(recs, &kgo.Record{Topic: topic, Key: []byte(Key(ev)), Value: v,
				Headers: []kgo.RecordHeader{{Key: "content-type",
					Value: []byte(eventContentType)}}})
		}
	}
	return recs[:n], nil
}

// produceAll produces recs and waits for every acknowledgement; it
// returns records per second.
func produceAll(ctx context.Context, cl *kgo.Client, recs []*kgo.Record) (float64, error) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	start := time.Now()
	for _, r := range recs {
		wg.Add(1)
		cl.Produce(ctx, r, func(_ *kgo.Record, err error) {
			defer wg.Done()
			if err != nil {
				mu.Lock()
				first = err
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if first != nil {
		return 0, fmt.Errorf("produce: %w", first)
	}
	return float64(len(recs)) / time.Since(start).Seconds(), nil
}

// consumeRate reads n records of topic from the start with a fresh
// client and returns records per second.
func (b *Bench) consumeRate(ctx context.Context, topic string, n int) (float64, error) {
	cl, err := b.client(kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	start, got := time.Now(), 0
	for got < n {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			return 0, fmt.Errorf("consume %s after %d records: %w", topic, got, err)
		}
		got += fs.NumRecords()
	}
	return float64(got) / time.Since(start).Seconds(), nil
}

// committed returns the sum of the group's committed offsets on topic.
func (b *Bench) committed(ctx context.Context, group, topic string) (int64, error) {
	cl, err := b.client()
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	offs, err := kadm.NewClient(cl).FetchOffsets(ctx, group)
	if err != nil {
		return 0, fmt.Errorf("fetch offsets of %s: %w", group, err)
	}
	var sum int64
	offs.Each(func(o kadm.OffsetResponse) {
		if o.Topic == topic && o.At > 0 {
			sum += o.At
		}
	})
	return sum, nil
}

// endOffsets returns the sum of topic's end offsets: how many records
// it holds.
func (b *Bench) endOffsets(ctx context.Context, topic string) (int64, error) {
	cl, err := b.client()
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		return 0, fmt.Errorf("list end offsets of %s: %w", topic, err)
	}
	var sum int64
	ends.Each(func(o kadm.ListedOffset) { sum += o.Offset })
	return sum, nil
}

// waitAssigned waits until group is stable with n members that hold
// partitions partitions between them, each member some.
func (b *Bench) waitAssigned(ctx context.Context, group string, n, partitions int) error {
	cl, err := b.client()
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		groups, err := adm.DescribeGroups(ctx, group)
		if err == nil {
			if g, ok := groups[group]; ok && g.Err == nil && settled(g, n, partitions) {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for %d members of %s to hold %d partitions: %w", n, group,
				partitions, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// settled reports whether g is stable with n members holding partitions
// partitions between them, each member some.
func settled(g kadm.DescribedGroup, n, partitions int) bool {
	if g.State != "Stable" || len(g.Members) != n {
		return false
	}
	held := 0
	for _, m := range g.Members {
		c, ok := m.Assigned.AsConsumer()
		if !ok {
			return false
		}
		mine := 0
		for _, t := range c.Topics {
			mine += len(t.Partitions)
		}
		if mine == 0 {
			return false
		}
		held += mine
	}
	return held == partitions
}
