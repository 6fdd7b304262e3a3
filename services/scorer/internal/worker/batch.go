package worker

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap"

	"github.com/leadstream/leadstream/pkg/leadstore"
	"github.com/leadstream/leadstream/pkg/rules"
	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
	"github.com/leadstream/leadstream/services/scorer/internal/scoring"
)

// TransitionContentType names the message in the content-type header.
const TransitionContentType = "application/x-protobuf; messageType=leadstream.v1.Transition"

// batch is what scoring one poll produced.
type batch struct {
	mu     sync.Mutex
	leads  map[string]*leadPending // by entity LeadID; guarded by mu
	poison []poisonRecord          // guarded by mu
}

// leadPending is a lead's transitions still to publish.
type leadPending struct {
	entity  leadstore.Entity
	records map[string][]byte // by transition id
}

type poisonRecord struct {
	rec *kgo.Record
	err error
}

// finish publishes and commits a scored batch, steps 2 to 4 of the
// package comment, and records how long the batch took from begin.
func (w *Worker) finish(ctx context.Context, b *batch, recs []*kgo.Record,
	begin time.Time) error {
	if w.crashAt(crashBeforePublish, b) {
		return errCrash
	}
	if err := w.deadLetter(ctx, b.poison); err != nil {
		return err
	}
	if err := w.publish(ctx, b); err != nil {
		return err
	}
	if w.crashAt(crashBeforeAck, b) {
		return errCrash
	}
	if err := w.ack(ctx, b); err != nil {
		return err
	}
	w.m.pending.Set(0)
	if w.crashAt(crashBeforeCommit, b) {
		return errCrash
	}
	w.commit(ctx, recs)
	w.m.batch.Observe(time.Since(begin).Seconds())
	return nil
}

// drop forgets the transitions whose ids are in done: a batch before
// this one published and removed them after this one read them.
func (b *batch) drop(done map[string]bool) {
	if len(done) == 0 {
		return
	}
	for id, lp := range b.leads {
		for tid := range lp.records {
			if done[tid] {
				delete(lp.records, tid)
			}
		}
		if len(lp.records) == 0 {
			delete(b.leads, id)
		}
	}
}

// ids returns the ids of every transition the batch will publish.
func (b *batch) ids() map[string]bool {
	out := map[string]bool{}
	for _, lp := range b.leads {
		for tid := range lp.records {
			out[tid] = true
		}
	}
	return out
}

// lanes is how many records of one partition are scored at once. Records
// with the same key (one device, or one lead without a device) share a
// lane and keep their order; other records only wait for the lead store,
// so running them side by side hides the Redis round trips. With 8 lanes
// Redis sat half idle in the scorer benchmark, and 128 more than doubled
// the events per second there. A fetch often brings one partition's
// records only, and then 128 lanes were all busy while hundreds of
// records of later batches waited for their turns; 512 gave 0.757 of the
// Redis ceiling for two scorers against 0.710 (means of three runs each),
// 2048 no more.
const lanes = 512

// score starts scoring the batch's records by partition and key: records
// of one key in order, everything else in parallel. Events of one lead
// under different keys may interleave, as they may across partitions;
// the store's atomic scripts and epoch checks keep that correct. A lane's
// records wait for the same lane's records of earlier batches, so a
// batch can be scored while the batches before it are still being
// scored: no batch waits for the slowest lane of another. The returned
// channel yields the error of scoring, nil when every record is scored.
func (w *Worker) score(ctx context.Context, b *batch, recs []*kgo.Record) <-chan error {
	r := w.rules()
	groups := map[laneKey][]*kgo.Record{}
	for _, rec := range recs {
		k := laneKey{partition: rec.Partition, lane: laneOf(rec.Key)}
		groups[k] = append(groups[k], rec)
	}
	errc := make(chan error, len(groups))
	for k, seq := range groups {
		turn := w.lanes.enter(k)
		go func() {
			err := turn.wait()
			if err == nil {
				err = w.scoreLane(ctx, r, b, seq)
			}
			w.lanes.leave(k, turn, err)
			errc <- err
		}()
	}
	out := make(chan error, 1)
	go func() {
		var errs []error
		for range groups {
			errs = append(errs, <-errc)
		}
		out <- errors.Join(errs...)
	}()
	return out
}

// laneQueue orders each lane's records across batches. A batch's records
// of a lane take a turn, which starts when the lane's turn before it
// ends. A turn that fails fails the turns after it without scoring them,
// so no record of a key is scored past one that was not.
type laneQueue struct {
	mu    sync.Mutex
	tails map[laneKey]*laneTurn // the last turn of each busy lane; guarded by mu
}

// laneTurn is one batch's turn on a lane.
type laneTurn struct {
	before *laneTurn // the turn to wait for; nil when the lane was idle
	done   chan struct{}
	err    error // set before done is closed
}

// enter queues a turn on lane k.
func (q *laneQueue) enter(k laneKey) *laneTurn {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.tails == nil {
		q.tails = map[laneKey]*laneTurn{}
	}
	t := &laneTurn{before: q.tails[k], done: make(chan struct{})}
	q.tails[k] = t
	return t
}

// wait waits for the turn before t and returns its error.
func (t *laneTurn) wait() error {
	if t.before == nil {
		return nil
	}
	<-t.before.done
	err := t.before.err
	t.before = nil // the chain behind t is no longer needed
	return err
}

// leave ends turn t of lane k with err.
func (q *laneQueue) leave(k laneKey, t *laneTurn, err error) {
	q.mu.Lock()
	if q.tails[k] == t {
		delete(q.tails, k)
	}
	q.mu.Unlock()
	t.err = err
	close(t.done)
}

// laneKey names the records of one partition scored in one sequence.
type laneKey struct {
	partition int32
	lane      uint32
}

// laneOf spreads record keys over the lanes (FNV-1a).
func laneOf(key []byte) uint32 {
	h := uint32(2166136261)
	for _, c := range key {
		h = (h ^ uint32(c)) * 16777619
	}
	return h % lanes
}

// scoreLane scores a lane's records in order. Consecutive events of one
// device or lead (see scoring.Runnable) go to the store as one run, a
// visit's page views in one script, say; a poison record is set aside
// for the dead-letter topic and ends the run before it.
func (w *Worker) scoreLane(ctx context.Context, r *rules.Rules, b *batch,
	seq []*kgo.Record) error {
	evs := make([]*leadstreamv1.Event, len(seq))
	for i, rec := range seq {
		ev, err := scoring.Decode(rec.Value)
		if err != nil {
			b.addPoison(rec, err)
			w.m.events.WithLabelValues("poison").Inc()
			continue
		}
		evs[i] = ev
	}
	for i := 0; i < len(seq); {
		if evs[i] == nil {
			i++
			continue
		}
		n := 1
		for i+n < len(seq) && n < leadstore.MaxRun && evs[i+n] != nil &&
			scoring.Runnable(evs[i], evs[i+n]) {
			n++
		}
		if err := w.scoreRun(ctx, r, b, seq[i:i+n], evs[i:i+n]); err != nil {
			return err
		}
		i += n
	}
	return nil
}

// scoreRun scores a run of events, retrying store failures until ctx
// ends.
func (w *Worker) scoreRun(ctx context.Context, r *rules.Rules, b *batch, recs []*kgo.Record,
	evs []*leadstreamv1.Event) error {
	for attempt := 1; ; attempt++ {
		out, err := w.proc.ProcessRun(ctx, r, evs)
		if err == nil {
			b.add(out)
			w.countEvents(out, recs)
			return nil
		}
		first := recs[0]
		if ctx.Err() != nil {
			return fmt.Errorf("score event %s: %w", evs[0].GetId(), err)
		}
		w.log.Warn("scoring events failed, retrying", zap.String("event_id", evs[0].GetId()),
			zap.Int("events", len(evs)), zap.Int32("partition", first.Partition),
			zap.Int64("offset", first.Offset), zap.Int("attempt", attempt), zap.Error(err))
		if err := sleep(ctx, backoff(attempt)); err != nil {
			return fmt.Errorf("score event %s: %w", evs[0].GetId(), err)
		}
	}
}

func (w *Worker) countEvents(out *scoring.Outcome, recs []*kgo.Record) {
	for _, dup := range out.Duplicates {
		outcome := "applied"
		if dup {
			outcome = "duplicate"
		}
		w.m.events.WithLabelValues(outcome).Inc()
	}
	for _, t := range out.Decided {
		w.log.Debug("stage changed", zap.String("lead_id", t.GetLeadId()),
			zap.String("event_id", t.GetEventId()), zap.String("to", t.GetTo().String()),
			zap.Int32("partition", recs[0].Partition), zap.Int64("offset", recs[0].Offset))
	}
}

func (b *batch) add(out *scoring.Outcome) {
	if len(out.Pending) == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	id := out.Entity.LeadID()
	lp := b.leads[id]
	if lp == nil {
		lp = &leadPending{entity: out.Entity, records: map[string][]byte{}}
		b.leads[id] = lp
	}
	for _, p := range out.Pending {
		lp.records[p.ID] = p.Record
	}
}

func (b *batch) addPoison(rec *kgo.Record, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.poison = append(b.poison, poisonRecord{rec: rec, err: err})
}

// publish produces every pending transition of the batch's leads, each
// lead's in epoch order, and waits for Kafka. Removing them from Redis
// is the next step of finish.
func (w *Worker) publish(ctx context.Context, b *batch) error {
	var out []*kgo.Record
	var decoded []*leadstreamv1.Transition
	for _, lp := range b.leads {
		ts := orderedTransitions(lp, w.log)
		for _, t := range ts {
			out = append(out, w.transitionRecord(t, lp.records[t.GetId()]))
		}
		decoded = append(decoded, ts...)
	}
	w.m.pending.Set(float64(len(out)))
	if err := w.produce(ctx, out); err != nil {
		return err
	}
	for _, t := range decoded {
		w.m.published.WithLabelValues(rules.Stage(t.GetTo()).String()).Inc()
		w.log.Debug("transition published", zap.String("lead_id", t.GetLeadId()),
			zap.String("event_id", t.GetEventId()), zap.String("to", t.GetTo().String()))
	}
	return nil
}

// orderedTransitions decodes a lead's records in epoch order. A record
// that cannot be decoded is still published as it is; it sorts last.
func orderedTransitions(lp *leadPending, log *zap.Logger) []*leadstreamv1.Transition {
	ts := make([]*leadstreamv1.Transition, 0, len(lp.records))
	for id, rec := range lp.records {
		t, err := scoring.Unmarshal(rec)
		if err != nil {
			log.Error("pending transition unreadable, publishing it as stored",
				zap.String("lead_id", lp.entity.LeadID()), zap.Error(err))
			t = &leadstreamv1.Transition{Epoch: 1 << 62}
		}
		t.Id, t.LeadId = id, lp.entity.LeadID()
		ts = append(ts, t)
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].GetEpoch() < ts[j].GetEpoch() })
	return ts
}

func (w *Worker) transitionRecord(t *leadstreamv1.Transition, value []byte) *kgo.Record {
	return &kgo.Record{Topic: w.cfg.Kafka.TransitionsTopic, Key: []byte(t.GetLeadId()),
		Value: value, Headers: []kgo.RecordHeader{
			{Key: "content-type", Value: []byte(TransitionContentType)},
			{Key: "transition-id", Value: []byte(t.GetId())},
		}}
}

// ack removes the batch's published transitions, retrying until ctx
// ends: a transition left behind is only published once more.
func (w *Worker) ack(ctx context.Context, b *batch) error {
	acks := make(map[leadstore.Entity][]string, len(b.leads))
	for _, lp := range b.leads {
		for id := range lp.records {
			acks[lp.entity] = append(acks[lp.entity], id)
		}
	}
	if len(acks) == 0 {
		return nil
	}
	return retry(ctx, w.log, "remove published transitions", func() error {
		return w.store.AckAll(ctx, acks)
	})
}

// deadLetter produces poison records with the reason and their origin.
func (w *Worker) deadLetter(ctx context.Context, poison []poisonRecord) error {
	out := make([]*kgo.Record, 0, len(poison))
	for _, p := range poison {
		rec := p.rec
		w.log.Error("poison event dead-lettered", zap.String("topic", rec.Topic),
			zap.Int32("partition", rec.Partition), zap.Int64("offset", rec.Offset),
			zap.Error(p.err))
		headers := append([]kgo.RecordHeader(nil), rec.Headers...)
		headers = append(headers,
			kgo.RecordHeader{Key: "error", Value: []byte(p.err.Error())},
			kgo.RecordHeader{Key: "source_topic", Value: []byte(rec.Topic)},
			kgo.RecordHeader{Key: "source_partition",
				Value: []byte(strconv.Itoa(int(rec.Partition)))},
			kgo.RecordHeader{Key: "source_offset",
				Value: []byte(strconv.FormatInt(rec.Offset, 10))},
			kgo.RecordHeader{Key: "service", Value: []byte("scorer")})
		out = append(out, &kgo.Record{Topic: w.cfg.Kafka.DeadLetterTopic, Key: rec.Key,
			Value: rec.Value, Headers: headers})
	}
	return w.produce(ctx, out)
}

// produce writes recs and waits for every acknowledgement, retrying until
// ctx ends. A retry may write some records twice; their ids tell.
func (w *Worker) produce(ctx context.Context, recs []*kgo.Record) error {
	if len(recs) == 0 {
		return nil
	}
	return retry(ctx, w.log, "produce", func() error {
		return w.cl.ProduceSync(ctx, recs...).FirstErr()
	})
}

// commit commits the batch's offsets. A failed commit only means the
// batch is delivered again, where its events are duplicates.
func (w *Worker) commit(ctx context.Context, recs []*kgo.Record) {
	if err := w.cl.CommitRecords(ctx, recs...); err != nil {
		w.log.Warn("commit offsets failed; the batch will be delivered again",
			zap.String("group", w.cfg.Group), zap.Error(err))
	}
}

// retry runs fn until it succeeds or ctx ends, with backoff.
func retry(ctx context.Context, log *zap.Logger, what string, fn func() error) error {
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		log.Warn(what+" failed, retrying", zap.Int("attempt", attempt), zap.Error(err))
		if err := sleep(ctx, backoff(attempt)); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
}

func backoff(attempt int) time.Duration {
	return min(50*time.Millisecond<<min(attempt, 10), 5*time.Second)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
