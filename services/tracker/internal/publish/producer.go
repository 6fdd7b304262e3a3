// Package publish produces accepted events to Kafka: synchronously for
// the batch API, which answers only after Kafka has every event, and
// through a bounded buffer for the pixel, which answers at once.
package publish

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"

	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
)

// ContentType is the content-type header of every event record.
const ContentType = "application/x-protobuf; proto=leadstream.v1.Event"

// Options configure a Producer.
type Options struct {
	// Topic receives the events.
	Topic string
	// BufferSize bounds the pixel events accepted and not yet
	// acknowledged.
	BufferSize int
	// Timeout bounds how long a batch waits for Kafka.
	Timeout time.Duration
	// Registerer receives the metrics; none are registered when nil.
	Registerer prometheus.Registerer
	// Log reports lost events; a no-op logger when nil.
	Log *zap.Logger
}

// Producer sends events to the events topic. Its methods are safe for
// concurrent use.
type Producer struct {
	cl      *kgo.Client
	topic   string
	timeout time.Duration
	log     *zap.Logger
	metrics *metrics

	capacity int64
	pending  atomic.Int64 // pixel events in buf or in the client, unacknowledged
	buf      chan *kgo.Record
	done     chan struct{} // closed when forward returns

	mu     sync.RWMutex
	closed bool // guarded by mu; once set, buf is closed
}

// New returns a producer on cl, which should be built with Client's
// options, and starts forwarding the pixel buffer. Close stops it.
func New(cl *kgo.Client, opts Options) *Producer {
	if opts.Log == nil {
		opts.Log = zap.NewNop()
	}
	p := &Producer{
		cl: cl, topic: opts.Topic, timeout: opts.Timeout, log: opts.Log,
		metrics:  newMetrics(opts.Registerer, opts.BufferSize),
		capacity: int64(opts.BufferSize),
		buf:      make(chan *kgo.Record, opts.BufferSize),
		done:     make(chan struct{}),
	}
	go p.forward()
	return p
}

// contentType is the header of every event record. Records share it:
// the client only reads headers.
var contentType = []kgo.RecordHeader{{Key: "content-type", Value: []byte(ContentType)}}

// Record encodes ev as the record the events topic expects: protobuf
// value, keyed by anonymous id, else lead id.
func Record(topic string, ev *leadstreamv1.Event) (*kgo.Record, error) {
	value, err := proto.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("encode event %s: %w", ev.GetId(), err)
	}
	return &kgo.Record{Topic: topic, Key: []byte(key(ev)), Value: value, Headers: contentType},
		nil
}

func key(ev *leadstreamv1.Event) string {
	if k := ev.GetAnonymousId(); k != "" {
		return k
	}
	return ev.GetLeadId()
}

// Produce sends events and returns once Kafka acknowledged all of them,
// or ErrTimeout. After a timeout some events may still arrive: the
// sender retries with the same event ids, which the scorer counts once.
func (p *Producer) Produce(ctx context.Context, events []*leadstreamv1.Event) error {
	b, err := p.encode(events)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()

	acks := newAcks(len(b.recs), p.metrics.batchLatency)
	for i := range b.recs {
		p.cl.Produce(ctx, &b.recs[i], acks.promise)
	}
	if err := acks.wait(ctx); err != nil {
		return err
	}
	// Only now has the client let go of every record and its bytes.
	b.release()
	return nil
}

// acks counts the promises of one batch down to zero; the last one
// closes done, so a batch costs one channel however many records it has.
type acks struct {
	left    atomic.Int64
	done    chan struct{}
	start   time.Time
	latency prometheus.Observer

	mu    sync.Mutex
	first error // guarded by mu
}

func newAcks(n int, latency prometheus.Observer) *acks {
	a := &acks{done: make(chan struct{}), start: time.Now(), latency: latency}
	a.left.Store(int64(n))
	return a
}

func (a *acks) promise(_ *kgo.Record, err error) {
	a.latency.Observe(time.Since(a.start).Seconds())
	if err != nil {
		a.mu.Lock()
		a.first = cmpOr(a.first, err)
		a.mu.Unlock()
	}
	if a.left.Add(-1) == 0 {
		close(a.done)
	}
}

// wait waits for every promise, but not past ctx: a record already on
// the wire may take a request timeout longer to fail.
func (a *acks) wait(ctx context.Context) error {
	select {
	case <-a.done:
	case <-ctx.Done():
		return fmt.Errorf("produce batch: %w", ErrTimeout)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case a.first == nil:
		return nil
	case errors.Is(a.first, context.DeadlineExceeded):
		return fmt.Errorf("produce batch: %w", ErrTimeout)
	default:
		return fmt.Errorf("produce batch: %w", a.first)
	}
}

// Enqueue takes ev into the pixel buffer and returns at once. It fails
// with ErrBufferFull rather than grow past the buffer size, and with
// ErrClosed once Close has begun.
func (p *Producer) Enqueue(ev *leadstreamv1.Event) error {
	rec, err := Record(p.topic, ev)
	if err != nil {
		return err
	}
	rec.Context = context.WithValue(context.Background(), startKey{}, time.Now())

	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return ErrClosed
	}
	if p.pending.Add(1) > p.capacity {
		p.pending.Add(-1)
		return ErrBufferFull
	}
	p.metrics.pending.Inc()
	// Never blocks: buf has room for capacity records and pending counts
	// every record in it.
	p.buf <- rec
	return nil
}

type startKey struct{}

// forward hands buffered pixel records to the client. Produce blocks
// while the client's own buffer is full, which is the back pressure that
// fills buf and turns the pixel into 503s.
func (p *Producer) forward() {
	defer close(p.done)
	for rec := range p.buf {
		p.cl.Produce(context.Background(), rec, p.pixelAcked)
	}
}

func (p *Producer) pixelAcked(rec *kgo.Record, err error) {
	p.pending.Add(-1)
	p.metrics.pending.Dec()
	if start, ok := rec.Context.Value(startKey{}).(time.Time); ok {
		p.metrics.latency.WithLabelValues(pathPixel).Observe(time.Since(start).Seconds())
	}
	if err != nil {
		p.metrics.dropped.Inc()
		p.log.Error("pixel event lost", zap.String("topic", rec.Topic), zap.Error(err))
	}
}

// Settle waits until every pixel event taken in has its answer, for at
// most timeout, and reports whether all have. Once the client is closed
// it fails the events still waiting from its own goroutines; their
// callbacks must have run before the tracker says it has stopped.
func (p *Producer) Settle(timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for p.pending.Load() > 0 {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

// Pending is the number of pixel events not yet acknowledged.
func (p *Producer) Pending() int {
	return int(p.pending.Load())
}

// Close refuses new pixel events, hands every buffered one to the client
// and waits until Kafka acknowledged them all, or ctx ends. It does not
// close the client.
func (p *Producer) Close(ctx context.Context) error {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		close(p.buf)
	}
	p.mu.Unlock()

	select {
	case <-p.done:
	case <-ctx.Done():
		return fmt.Errorf("drain pixel buffer: %w", ctx.Err())
	}
	if err := p.cl.Flush(ctx); err != nil {
		return fmt.Errorf("flush producer: %w", err)
	}
	return nil
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}
