package faults

import (
	"context"
	"fmt"
	"math/rand"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/leadstream/leadstream/pkg/rules"
	"github.com/leadstream/leadstream/pkg/workload"
)

// scenario is one kind of fault, injected while the workload flows.
type scenario struct {
	name    string
	scorers int
	// bug names a known bug that makes the scenario fail; it is skipped
	// unless -faults.known-bugs is given.
	bug string
	// kfake marks scenarios that need the in-process broker: they are
	// skipped, saying why, when the suite runs against an external Kafka.
	kfake bool
	// inject runs on the test goroutine while the driver sends; it
	// returns once every fault it caused is healed, with an error when a
	// fault could not be injected or did not take effect.
	inject func(f *faults) error
}

// faults is what an inject function works with.
type faults struct {
	ctx   context.Context
	s     *stack
	rnd   *rand.Rand
	full  bool
	count int
	total int64
	drv   *driver
	// reloads are the rules reloads made, for the checker.
	reloads []Reload
}

// at waits until share of the batches are acknowledged, or the traffic
// stopped.
func (f *faults) at(share float64) {
	for float64(f.drv.sent.Load()) < share*float64(f.total) && f.ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
}

// sleep waits between lo and hi.
func (f *faults) sleep(lo, hi time.Duration) {
	time.Sleep(lo + time.Duration(f.rnd.Int63n(int64(hi-lo)+1)))
}

// seed returns the seed of this run: -faults.seed, or one from the clock.
func seed() int64 {
	if *seedFlag != 0 {
		return *seedFlag
	}
	return time.Now().UnixNano() % 1_000_000
}

// replayFlags returns the flags that replay the workload and the fault
// schedule of a run with seed: the seed and the size of the workload.
func replayFlags(seed int64) string {
	out := fmt.Sprintf("-faults.seed=%d", seed)
	if *fullFlag {
		out += " -faults.full"
	}
	if *leadsFlag > 0 {
		out += fmt.Sprintf(" -faults.leads=%d", *leadsFlag)
	}
	return out
}

// replayHint says how to run one scenario again on the same workload.
func replayHint(name string, seed int64) string {
	return fmt.Sprintf("replay with: cd services/devstack && go test -count=1 -v "+
		"-run 'TestScenarios/%s$' ./internal/faults %s", name, replayFlags(seed))
}

// trafficTime is how long the driver spreads the workload over.
func trafficTime() time.Duration {
	if *fullFlag {
		return 25 * time.Second
	}
	return 8 * time.Second
}

// sizeConfig returns the workload size of the mode.
func sizeConfig(seed int64, prefix string) workload.Config {
	cfg := workload.DefaultConfig(seed)
	cfg.Prefix = prefix
	cfg.Leads, cfg.Visitors = 250, 25
	if *fullFlag {
		cfg.Leads, cfg.Visitors = 2000, 200
	}
	if *leadsFlag > 0 {
		cfg.Leads, cfg.Visitors = *leadsFlag, *leadsFlag/10
	}
	// Event times must be within the tracker's accepted age.
	cfg.Newest = time.Now().Add(-time.Hour).Truncate(time.Second).UTC()
	return cfg
}

// runScenario runs sc once and returns its report.
func runScenario(t *testing.T, sc scenario, seed int64) *Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s := startStack(t, sc.scorers)
	r, err := rules.Load(s.rulesPath)
	s.must(err)
	w, err := workload.Generate(sizeConfig(seed, s.prefix))
	s.must(err)
	oracle, err := w.Expect(r)
	s.must(err)
	early, during := splitPoison(w.Poison)
	s.must(s.producePoison(ctx, early))

	drv := newDriver(s.tracker.httpAddr, 4)
	drv.pace = trafficTime() / time.Duration(len(w.Batches)+1)
	f := &faults{s: s, rnd: rand.New(rand.NewSource(seed)), full: *fullFlag,
		total: int64(len(w.Batches)), drv: drv}
	driveErr, poisonErr, injectErr := s.traffic(ctx, t, f, sc, w, during)
	if driveErr != nil || poisonErr != nil || injectErr != nil {
		t.Fatalf("scenario=%s seed=%d: drive: %v; poison: %v; inject: %v\n%s", sc.name, seed,
			driveErr, poisonErr, injectErr, replayHint(sc.name, seed))
	}

	healed := time.Now()
	qerr := s.quiesce(ctx, oracle)
	rep := &Report{Scenario: sc.name, Seed: seed, Events: w.Count() + len(w.Poison),
		Faults: f.count, Recover: time.Since(healed)}
	exp := Expected{Oracle: oracle, Acked: drv.ackedIDs(), Poison: w.Poison,
		EventsTopic: s.events, RulesVersion: r.Version(), Reloads: f.reloads}
	obs, err := s.observe(ctx, oracle)
	s.must(err)
	Check(rep, exp, obs)
	s.exits(rep)
	fmt.Println(rep.String())
	if qerr != nil {
		t.Logf("not quiet: %v", qerr)
		s.dumpStacks()
	}
	if !rep.OK() {
		t.Errorf("%s\n%s\n%s", rep, firstProblems(rep, 30), replayHint(sc.name, seed))
	}
	return rep
}

// traffic sends the workload and the poison records meant for the middle
// of the traffic, each on a goroutine of its own, while sc injects its
// faults here on the test goroutine, which alone may end the test. It
// returns once all three are done.
func (s *stack) traffic(ctx context.Context, t *testing.T, f *faults, sc scenario,
	w *workload.Workload, poison []workload.Poison) (driveErr, poisonErr, injectErr error) {
	t.Helper()
	// Should an inject helper end the test, the deferred calls stop the
	// senders and wait for them, so nothing outlives the test.
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	f.ctx = ctx
	wg.Add(2)
	go func() {
		defer wg.Done()
		if driveErr = f.drv.run(ctx, w.Batches); driveErr != nil {
			cancel() // the faults and the poison stop waiting for traffic
		}
	}()
	go func() {
		defer wg.Done()
		poisonErr = s.poisonDuring(ctx, f, poison)
	}()
	if sc.inject != nil {
		if injectErr = sc.inject(f); injectErr != nil {
			cancel()
		}
	}
	wg.Wait()
	return driveErr, poisonErr, injectErr
}

// splitPoison returns the poison records produced before the traffic
// starts and those produced while it flows (and faults hit it).
func splitPoison(poison []workload.Poison) (before, during []workload.Poison) {
	n := len(poison) / 3
	return poison[:n], poison[n:]
}

// poisonDuring produces each of poison at its own share of the traffic,
// spread from 10% to 90%, so that poison records meet the faults.
func (s *stack) poisonDuring(ctx context.Context, f *faults, poison []workload.Poison) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.kafka.Brokers...),
		kgo.DefaultProduceTopic(s.events))
	if err != nil {
		return fmt.Errorf("produce poison: %w", err)
	}
	defer cl.Close()
	for i, p := range poison {
		share := 0.1 + 0.8*float64(i)/float64(max(len(poison)-1, 1))
		for float64(f.drv.sent.Load()) < share*float64(f.total) && ctx.Err() == nil {
			time.Sleep(20 * time.Millisecond)
		}
		rec := &kgo.Record{Key: p.Key, Value: p.Value}
		if err := cl.ProduceSync(ctx, rec).FirstErr(); err != nil {
			return fmt.Errorf("produce poison %s: %w", p.Key, err)
		}
	}
	return nil
}

// dumpStacks has every running service print its goroutines into its
// log (Go does so on SIGQUIT), to show where a stalled pipeline waits.
func (s *stack) dumpStacks() {
	for _, p := range s.all() {
		_ = p.signal(syscall.SIGQUIT, 0)
	}
	time.Sleep(200 * time.Millisecond)
}

func firstProblems(rep *Report, n int) string {
	p := rep.Problems
	if len(p) > n {
		p = append(p[:n:n], fmt.Sprintf("... and %d more", len(rep.Problems)-n))
	}
	return strings.Join(p, "\n")
}

func (s *stack) producePoison(ctx context.Context, poison []workload.Poison) error {
	recs := make([]*kgo.Record, len(poison))
	for i, p := range poison {
		recs[i] = &kgo.Record{Key: p.Key, Value: p.Value}
	}
	return s.produce(ctx, recs...)
}

// quiesce waits until the scorers and the notifier have committed
// everything, no transition is pending in Redis, and the webhook has
// received every expected transition and then nothing for a moment. It
// gives up after a minute; the checker then says what is missing.
func (s *stack) quiesce(ctx context.Context, o *workload.Oracle) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	adm := kadm.NewClient(s.kafka.Client(s.t))
	rdb := redis.NewClient(&redis.Options{Addr: s.redis.Addrs[0]})
	defer rdb.Close()
	var last string
	for {
		state, done := s.quiet(ctx, adm, rdb, o)
		if done {
			return nil
		}
		last = state
		select {
		case <-ctx.Done():
			bg := context.Background()
			return fmt.Errorf("%s (%s; %s): %w", last, describeGroup(bg, adm, s.scoreGroup),
				describeGroup(bg, adm, s.notifyGroup), ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// quiet reports whether the pipeline is quiet, and if not, why.
func (s *stack) quiet(ctx context.Context, adm *kadm.Client, rdb redis.UniversalClient,
	o *workload.Oracle) (string, bool) {
	lagS, err := groupLag(ctx, adm, s.scoreGroup, s.events)
	if err != nil || lagS > 0 {
		return fmt.Sprintf("scorer lag %d (%v)", lagS, err), false
	}
	lagN, err := groupLag(ctx, adm, s.notifyGroup, s.transitions)
	if err != nil || lagN > 0 {
		return fmt.Sprintf("notifier lag %d (%v)", lagN, err), false
	}
	_, pending, err := readLeads(ctx, rdb, s.keyPrefix, o)
	if err != nil || pending > 0 {
		return fmt.Sprintf("%d pending (%v)", pending, err), false
	}
	got := map[string]bool{}
	for _, d := range s.recv.Delivered() {
		got[d.Key] = true
	}
	settled := len(o.Transitions) == 0 || s.recv.Idle() >= 500*time.Millisecond
	if len(got) < len(o.Transitions) || !settled {
		return fmt.Sprintf("%d of %d delivered", len(got), len(o.Transitions)), false
	}
	return "", true
}

// observe collects what the pipeline ended with.
func (s *stack) observe(ctx context.Context, o *workload.Oracle) (Observed, error) {
	rdb := redis.NewClient(&redis.Options{Addr: s.redis.Addrs[0]})
	defer rdb.Close()
	leads, pending, err := readLeads(ctx, rdb, s.keyPrefix, o)
	if err != nil {
		return Observed{}, err
	}
	obs := Observed{Leads: leads, Pending: pending, Deliveries: s.recv.Delivered()}
	evs, err := readTopic(ctx, s.kafka.Brokers, s.events)
	if err != nil {
		return Observed{}, err
	}
	obs.EventIDs, obs.EventAt = eventIDs(evs)
	trs, err := readTopic(ctx, s.kafka.Brokers, s.transitions)
	if err != nil {
		return Observed{}, err
	}
	if obs.Transitions, err = transitions(trs); err != nil {
		return Observed{}, err
	}
	dls, err := readTopic(ctx, s.kafka.Brokers, s.deadletter)
	if err != nil {
		return Observed{}, err
	}
	obs.DeadLetters = deadLetters(dls)
	return obs, nil
}
