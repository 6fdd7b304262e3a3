package bench

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/leadstream/leadstream/pkg/rules"
	"github.com/leadstream/leadstream/pkg/topics"
)

// scorerSuite measures the scorer from the events topic through Redis to
// committed offsets, with one scorer process and then two, against the
// Redis ceiling. The lead mix is produced lead after lead, so a device's
// events lie back to back in its partition, as in a visit or a backlog,
// and the scorer applies them in runs. It is measured once more with
// every lead's events spread over the whole topic, one event per lead
// at a time, where every run is a single event.
//
// Each figure's reference is the Redis ceiling measured again just before
// it, so that the ratio compares two measurements of the same minute: a
// shared machine's speed drifts by some 10% over the minutes of a run.
func (b *Bench) scorerSuite(ctx context.Context) error {
	recs, err := b.eventRecords("", b.cfg.Events)
	if err != nil {
		return err
	}
	r, err := rules.Load(b.cfg.Rules)
	if err != nil {
		return fmt.Errorf("load rules: %w", err)
	}
	for _, n := range pick(b.cfg.Quick, []int{1}, []int{1, 2}) {
		if err := b.scoreWith(ctx, r, recs, n, "back to back"); err != nil {
			return err
		}
	}
	return b.scoreWith(ctx, r, interleave(recs), 1, "interleaved")
}

// interleave reorders the records of the lead mix, eight per lead, so
// that every lead's first event comes before any lead's second, and so
// on; each lead's events keep their order.
func interleave(recs []*kgo.Record) []*kgo.Record {
	const perLead = 8
	out := make([]*kgo.Record, 0, len(recs))
	for k := range perLead {
		for i := k; i < len(recs); i += perLead {
			out = append(out, recs[i])
		}
	}
	return out
}

// createTopics creates the topics of a pipeline with devstack's
// partition counts.
func (b *Bench) createTopics(ctx context.Context, ts topicSet) error {
	cl, err := b.client()
	if err != nil {
		return err
	}
	defer cl.Close()
	err = topics.Ensure(ctx, cl, topics.Spec{Name: ts.events, Partitions: eventPartitions},
		topics.Spec{Name: ts.transitions, Partitions: 4},
		topics.Spec{Name: ts.deadletter, Partitions: 1})
	if err != nil {
		return fmt.Errorf("create topics: %w", err)
	}
	return nil
}

// scoreWith measures the Redis ceiling under r, then starts n scorers in a
// fresh group and key prefix on new topics, waits until the group has
// settled with every partition assigned, produces recs and records the
// rate at which the scorers commit them. The rate is that of n scorers at work: the rebalances of
// joining the group, a few hundred milliseconds each, are left out, as
// they would be from any sustained rate.
func (b *Bench) scoreWith(ctx context.Context, r *rules.Rules, recs []*kgo.Record, n int,
	order string) error {
	ref, err := b.ceiling(ctx, r)
	if err != nil {
		return err
	}
	// The scorers start on an empty Redis, as the ceiling's first replay
	// did, and without the replays' garbage in this process, which hosts
	// the broker.
	if err := b.flushRedis(ctx); err != nil {
		return err
	}
	ts := b.topicSet()
	if err := b.createTopics(ctx, ts); err != nil {
		return err
	}
	group, prefix := b.name("scorer"), b.name("ls")
	var procs []*service
	defer func() {
		for _, p := range procs {
			p.child.Stop(20 * time.Second)
		}
	}()
	for i := 1; i <= n; i++ {
		p, err := b.startScorer(ctx, ts, group, prefix, i)
		if err != nil {
			return err
		}
		procs = append(procs, p)
	}
	if err := b.waitAssigned(ctx, group, n, eventPartitions); err != nil {
		return err
	}
	cl, err := b.client()
	if err != nil {
		return err
	}
	defer cl.Close()
	for _, r := range recs {
		r.Topic = ts.events
	}
	total := int64(len(recs))
	produced := make(chan error, 1)
	go func() {
		_, err := produceAll(ctx, cl, recs)
		produced <- err
	}()
	profiled := b.profileAll(ctx, procs, fmt.Sprintf("%dproc-%s", n,
		strings.ReplaceAll(order, " ", "-")))
	var rate float64
	var cpu processWork
	work, err := b.redisWorkOf(ctx, func() (err error) {
		cpu, err = processWorkOf(procs, func() (err error) {
			rate, err = b.drainRate(ctx, group, ts.events, total)
			return err
		})
		return err
	})
	if perr := <-produced; err == nil {
		err = perr
	}
	if perr := <-profiled; err == nil {
		err = perr
	}
	if err != nil {
		return err
	}
	calls, err := scriptCalls(ctx, procs)
	if err != nil {
		return err
	}
	// Events that went to the dead-letter topic were not scored; a rate
	// that counted them would flatter the scorer.
	if dead, err := b.endOffsets(ctx, ts.deadletter); err != nil || dead > 0 {
		return fmt.Errorf("scorer dead-lettered %d events (%v)", dead, err)
	}
	name := fmt.Sprintf("scorer end to end, %d proc", n)
	if order != "back to back" {
		name += ", " + order
	}
	if b.cfg.Profile {
		name += ", profiled"
	}
	b.report.Add(Figure{Group: "scorer", Name: name,
		Value: rate, Unit: "ev/s", Reference: ref.rate,
		RefName: "apply script alone, pipelined, same redis-server, just before (" +
			ref.note() + ")",
		Target: &Target{Ratio: true, Bound: 0.7},
		Note: fmt.Sprintf("%d events of the lead mix, each device's %s, from the events "+
			"topic to committed offsets, %d partitions; %s; %s; %s; %s", total, order,
			eventPartitions, work.perEvent(total), cpu.perEvent(total),
			callsPerEvent(calls, total), work.byCommand(total, 3))})
	for _, p := range procs {
		b.addRSS("scorer", fmt.Sprintf("%d proc run, %s", n, order), p.child)
	}
	return nil
}

// profileAll takes a CPU profile of each of procs over the first seconds
// of a drain (one in a quick run, two otherwise) and sends the first
// error, or nil, once all are taken; without --profile it sends nil at
// once.
func (b *Bench) profileAll(ctx context.Context, procs []*service,
	name string) <-chan error {
	errc := make(chan error, 1)
	if !b.cfg.Profile {
		errc <- nil
		return errc
	}
	go func() {
		var wg sync.WaitGroup
		errs := make([]error, len(procs))
		for i, p := range procs {
			wg.Go(func() {
				errs[i] = b.profile(ctx, p, pick(b.cfg.Quick, time.Second, 2*time.Second),
					fmt.Sprintf("scorer-%s-%d", name, i+1))
			})
		}
		wg.Wait()
		errc <- errors.Join(errs...)
	}()
	return errc
}

// drainRate polls the group's committed offsets until they reach total
// and returns the rate between the first commit seen and the last, so
// that joining the group does not count.
func (b *Bench) drainRate(ctx context.Context, group, topic string, total int64) (float64,
	error) {
	ctx, cancel := context.WithTimeout(ctx, pick(b.cfg.Quick, time.Minute, 4*time.Minute))
	defer cancel()
	var start time.Time
	var from int64
	for {
		done, err := b.committed(ctx, group, topic)
		if err != nil {
			return 0, err
		}
		now := time.Now()
		if done > 0 && start.IsZero() {
			start, from = now, done
		}
		if done >= total {
			if done == from {
				return 0, fmt.Errorf("drain %s: everything committed at once", topic)
			}
			return float64(done-from) / now.Sub(start).Seconds(), nil
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("drain %s: %d of %d committed: %w", topic, done, total,
				ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
