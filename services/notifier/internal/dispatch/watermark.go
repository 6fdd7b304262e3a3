package dispatch

import (
	"sort"
	"sync"

	"github.com/segmentio/kafka-go"
)

// partitionKey names one partition of one topic.
type partitionKey struct {
	topic     string
	partition int
}

// partitionMarks is what one partition has read and finished since the
// reader last started it.
type partitionMarks struct {
	// inFlight holds the offsets read and not yet finished, or finished
	// behind one that is not, in the order read; offsets rise.
	inFlight []flight
	// last is the highest offset read.
	last int64
	// done is the highest offset at or below which every record read is
	// finished; -1 while none is.
	done int64
	// committed is the done value that the group last accepted.
	committed int64
}

type flight struct {
	offset   int64
	finished bool
}

// ticket is what finish needs to find a record again.
type ticket struct {
	marks  *partitionMarks
	offset int64
}

// watermarks tracks the records in flight per partition and, for each,
// the offset up to which the partition can be committed: the highest
// offset below which every record read is finished, even while later
// records are finished already. It is safe for concurrent use.
type watermarks struct {
	mu    sync.Mutex
	parts map[partitionKey]*partitionMarks // mu must be held
}

func newWatermarks() *watermarks {
	return &watermarks{parts: map[partitionKey]*partitionMarks{}}
}

// read registers msg as in flight. A reader that goes back on a
// partition (it lost and regained it in a rebalance, and rereads from the
// committed offset) starts that partition afresh; tickets of the earlier
// reading then finish into marks that are no longer committed.
func (w *watermarks) read(msg kafka.Message) ticket {
	k := partitionKey{msg.Topic, msg.Partition}
	w.mu.Lock()
	defer w.mu.Unlock()
	m := w.parts[k]
	if m == nil || msg.Offset <= m.last {
		m = &partitionMarks{done: msg.Offset - 1, committed: msg.Offset - 1}
		w.parts[k] = m
	}
	m.last = msg.Offset
	m.inFlight = append(m.inFlight, flight{offset: msg.Offset})
	return ticket{marks: m, offset: msg.Offset}
}

// finish marks the ticket's record finished and moves the partition's
// done offset past every finished record at the head.
func (w *watermarks) finish(t ticket) {
	w.mu.Lock()
	defer w.mu.Unlock()
	m := t.marks
	i := sort.Search(len(m.inFlight), func(i int) bool { return m.inFlight[i].offset >= t.offset })
	if i == len(m.inFlight) || m.inFlight[i].offset != t.offset {
		return
	}
	m.inFlight[i].finished = true
	n := 0
	for n < len(m.inFlight) && m.inFlight[n].finished {
		m.done = m.inFlight[n].offset
		n++
	}
	m.inFlight = m.inFlight[n:]
}

// due returns, per partition whose done offset moved since its last
// commit, a message whose commit covers every finished record below the
// first unfinished one.
func (w *watermarks) due() []kafka.Message {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []kafka.Message
	for k, m := range w.parts {
		if m.done > m.committed {
			out = append(out, kafka.Message{Topic: k.topic, Partition: k.partition, Offset: m.done})
		}
	}
	return out
}

// committed records that the group accepted msgs, as returned by due.
func (w *watermarks) committed(msgs []kafka.Message) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, msg := range msgs {
		if m := w.parts[partitionKey{msg.Topic, msg.Partition}]; m != nil {
			m.committed = max(m.committed, msg.Offset)
		}
	}
}
