package publish

import (
	"fmt"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
)

// maxPooledBatch is the most bytes of encoded records a pooled batch
// keeps between requests.
const maxPooledBatch = 4 << 20

// batches holds encoded batches between requests.
var batches = sync.Pool{New: func() any { return new(batch) }}

// batch is the records of one Produce call. Their keys and values are
// slices of one buffer, so a batch costs a few allocations however many
// events it has, and its memory is reused once Kafka took every record.
type batch struct {
	recs []kgo.Record
	buf  []byte
	ends []int // ends[2i] ends record i's key in buf, ends[2i+1] its value
}

// encode marshals events into a batch from the pool.
func (p *Producer) encode(events []*leadstreamv1.Event) (*batch, error) {
	b := batches.Get().(*batch)
	if b.buf == nil {
		b.buf = make([]byte, 0, 16<<10)
	}
	b.buf, b.ends = b.buf[:0], b.ends[:0]
	var err error
	for _, ev := range events {
		b.buf = append(b.buf, key(ev)...)
		b.ends = append(b.ends, len(b.buf))
		if b.buf, err = marshal.MarshalAppend(b.buf, ev); err != nil {
			b.release()
			return nil, fmt.Errorf("encode event %s: %w", ev.GetId(), err)
		}
		b.ends = append(b.ends, len(b.buf))
	}
	b.slice(p.topic)
	return b, nil
}

var marshal = proto.MarshalOptions{}

// slice points the records at their bytes; only once every event is
// encoded, since appending may move buf.
func (b *batch) slice(topic string) {
	n := len(b.ends) / 2
	if cap(b.recs) < n {
		b.recs = make([]kgo.Record, n)
	}
	b.recs = b.recs[:n]
	from := 0
	for i := range b.recs {
		k, v := b.ends[2*i], b.ends[2*i+1]
		// Full slice expressions keep a record from reaching into the
		// next one's bytes should anything append to it.
		b.recs[i] = kgo.Record{Topic: topic, Key: b.buf[from:k:k], Value: b.buf[k:v:v],
			Headers: contentType}
		from = v
	}
}

// release returns b to the pool. Only a batch the client no longer holds
// may be released.
func (b *batch) release() {
	if cap(b.buf) > maxPooledBatch {
		return
	}
	clear(b.recs)
	b.recs = b.recs[:0]
	batches.Put(b)
}
