package main

import (
	"context"
	"flag"
	"math/rand"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/leadstream/leadstream/services/scorer/internal/harness"
)

var (
	crashKills = flag.Int("crash.kills", 4, "SIGKILLs in TestSIGKILLLosesNothing")
	crashLeads = flag.Int("crash.leads", 120, "leads in the workload of TestSIGKILLLosesNothing")
	crashSeed  = flag.Int64("crash.seed", 0, "seed of the kill moments; 0 picks one")
)

// TestSIGKILLLosesNothing runs two scorer processes while events keep
// arriving, SIGKILLs one and then the other at random moments, restarts
// them, and compares the outcome with the oracle once they are quiet.
func TestSIGKILLLosesNothing(t *testing.T) {
	e := harness.New(t, harness.Options{Seed: 41, Leads: *crashLeads,
		Visitors:  *crashLeads / 10,
		KafkaOpts: []kfake.Opt{kfake.GroupMinSessionTimeout(500 * time.Millisecond)}})
	group := e.Prefix + "group"
	seed := *crashSeed
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	t.Logf("kill moments from seed %d (rerun with -crash.seed=%d)", seed, seed)
	rng := rand.New(rand.NewSource(seed))

	start := func() *proc {
		return runScorer(t, e, group, "--max-poll-records", "10", "--session-timeout", "1s",
			"--rebalance-timeout", "3s")
	}
	procs := []*proc{start(), start()}
	produced := trickle(t, e)
	for i := range *crashKills {
		time.Sleep(time.Duration(150+rng.Intn(500)) * time.Millisecond)
		victim := i % len(procs)
		n := procs[victim].applied()
		procs[victim].kill(t)
		t.Logf("kill %d: SIGKILLed scorer %d after it applied %g events", i+1, victim, n)
		procs[victim] = start()
		// NOTE: kills faster than members can rejoin (every few hundred
		// ms, over and over) have left kfake's group without any
		// assignment for over a minute; a crash before the replacement
		// owns partitions is not what this test is after.
		waitFor(t, "the restarted scorer to own partitions", 20*time.Second, func() bool {
			return procs[victim].metric("leadstream_scorer_partitions_assigned") > 0
		})
	}
	if err := <-produced; err != nil {
		t.Fatalf("produce: %v", err)
	}

	e.WaitCommitted(t, group, 90*time.Second)
	rep := e.Check(t)
	t.Logf("%d events, %d kills: %d transitions as the oracle says, %d records, "+
		"%d duplicates (same id published again), %d dead letters", e.Workload.Count(),
		*crashKills, rep.Transitions, rep.Records, rep.Duplicates, rep.DeadLetters)
}

// trickle produces the workload in small chunks over about five seconds,
// so the kills land while events are still arriving. The channel yields
// the first error, or nil once everything is written.
func trickle(t *testing.T, e *harness.Env) <-chan error {
	t.Helper()
	recs := e.Records(t)
	cl := e.Kafka.Client(t, kgo.DefaultProduceTopic(e.Topics.EventsTopic))
	chunk := max(1, len(recs)/50)
	errc := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for len(recs) > 0 {
			n := min(chunk, len(recs))
			if err := cl.ProduceSync(ctx, recs[:n]...).FirstErr(); err != nil {
				errc <- err
				return
			}
			recs = recs[n:]
			time.Sleep(100 * time.Millisecond)
		}
		errc <- nil
	}()
	return errc
}
