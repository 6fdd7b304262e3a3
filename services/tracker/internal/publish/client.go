package publish

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// ClientOptions are the producer settings the tracker needs on top of
// the connection options: idempotent writes acknowledged by every
// in-sync replica, a short linger to batch concurrent requests, and
// compression. Records retry until acknowledged or their context ends,
// so an accepted pixel is not given up while Kafka is briefly away.
func ClientOptions(linger time.Duration, codec kgo.CompressionCodec) []kgo.Opt {
	return []kgo.Opt{
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerLinger(linger),
		kgo.ProducerBatchCompression(codec, kgo.NoCompression()),
		kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)),
	}
}

// Compressions are the codecs ParseCompression knows, by name.
var Compressions = []string{"lz4", "zstd", "snappy", "none"}

// ParseCompression returns the codec of a name in Compressions. lz4 is
// the default: on a small machine it costs the least CPU per event of
// the codecs that shrink event batches well; zstd packs tighter for more
// CPU.
func ParseCompression(name string) (kgo.CompressionCodec, error) {
	switch name {
	case "lz4":
		return kgo.Lz4Compression(), nil
	case "zstd":
		return kgo.ZstdCompression(), nil
	case "snappy":
		return kgo.SnappyCompression(), nil
	case "none":
		return kgo.NoCompression(), nil
	}
	return kgo.NoCompression(), fmt.Errorf("unknown compression %q: %w", name, ErrCompression)
}

// Pinger answers readiness checks with a cheap metadata request, caching
// the answer for a while so that probes from many load balancers do not
// become load on Kafka.
type Pinger struct {
	cl      *kgo.Client
	ttl     time.Duration
	timeout time.Duration

	mu   sync.Mutex
	at   time.Time // guarded by mu; when err was learned
	err  error     // guarded by mu
	seen bool      // guarded by mu
}

// NewPinger returns a Pinger on cl that asks at most once per ttl and
// gives Kafka timeout to answer.
func NewPinger(cl *kgo.Client, ttl, timeout time.Duration) *Pinger {
	return &Pinger{cl: cl, ttl: ttl, timeout: timeout}
}

// Check returns nil when a broker answered recently.
func (p *Pinger) Check(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.seen && time.Since(p.at) < p.ttl {
		return p.err
	}
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	p.err = p.cl.Ping(ctx)
	if p.err != nil {
		p.err = fmt.Errorf("ping kafka: %w", p.err)
	}
	p.at, p.seen = time.Now(), true
	return p.err
}
