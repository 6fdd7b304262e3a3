package bench

import (
	"context"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
)

// watcher reads the transitions topic and records when each transition
// to SQL appeared there, keyed by its event id. With the receiver it
// splits the end-to-end latency into the part up to Kafka (tracker and
// scorer) and the part after it (notifier).
type watcher struct {
	cl   *kgo.Client
	done chan struct{}

	mu sync.Mutex
	at map[string]time.Time // guarded by mu
}

func (b *Bench) startWatcher(topic string) (*watcher, error) {
	cl, err := b.client(kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(50*time.Millisecond))
	if err != nil {
		return nil, err
	}
	w := &watcher{cl: cl, done: make(chan struct{}), at: map[string]time.Time{}}
	go w.run()
	return w, nil
}

func (w *watcher) run() {
	defer close(w.done)
	for {
		fs := w.cl.PollFetches(context.Background())
		if fs.IsClientClosed() {
			return
		}
		now := time.Now()
		fs.EachRecord(func(r *kgo.Record) {
			var t leadstreamv1.Transition
			if proto.Unmarshal(r.Value, &t) != nil || t.GetTo() != leadstreamv1.Stage_STAGE_SQL {
				return
			}
			w.mu.Lock()
			if _, ok := w.at[t.GetEventId()]; !ok {
				w.at[t.GetEventId()] = now
			}
			w.mu.Unlock()
		})
	}
}

func (w *watcher) close() {
	w.cl.Close()
	<-w.done
}

// arrival returns when the SQL transition of event id reached Kafka.
func (w *watcher) arrival(id string) (time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	t, ok := w.at[id]
	return t, ok
}
