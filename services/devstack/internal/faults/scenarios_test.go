package faults

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/leadstream/leadstream/pkg/testenv"
)

// scenarios are the faults the pipeline must survive without losing or
// double-counting anything.
var scenarios = []scenario{
	{name: "scorer-sigkill", scorers: 3, inject: scorerSigkill},
	{name: "scale", scorers: 1, inject: scale},
	{name: "redis-slow-and-down", scorers: 3, inject: redisSlowAndDown},
	{name: "kafka-cut", scorers: 3, kfake: true, inject: kafkaCut},
	{name: "rules-reload", scorers: 3, inject: rulesReload},
	{name: "notifier-kill-mid-retry", scorers: 2, inject: notifierKillMidRetry},
	{name: "tracker-sigterm", scorers: 2, inject: trackerSigterm},
}

func TestScenarios(t *testing.T) {
	sd := seed()
	t.Logf("seed %d (replay with %s)", sd, replayFlags(sd))
	external := os.Getenv(testenv.EnvKafkaBrokers) != ""
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			if sc.bug != "" && !*bugsFlag {
				t.Skipf("NOTE: known bug: %s; reproduce with -faults.known-bugs", sc.bug)
			}
			if sc.kfake && external {
				t.Skipf("%s cuts the in-process broker's listeners, and %s names an "+
					"external Kafka that the suite cannot cut", sc.name, testenv.EnvKafkaBrokers)
			}
			runScenario(t, sc, sd)
		})
	}
}

// scorerSigkill kills a random scorer with SIGKILL at random moments and
// starts it again, several times, while events flow.
func scorerSigkill(f *faults) error {
	rounds := 3
	if f.full {
		rounds = 8
	}
	f.at(0.1)
	for i := 0; i < rounds; i++ {
		// NOTE: kills wait for the rebalance of the last restart to end.
		// The test broker (kfake) can keep a member killed between its
		// JoinGroup and its SyncGroup in the group for good, with its
		// partitions, once the leader has synced; a Kafka broker would
		// fence it after the session timeout. Kills mid-batch, the fault
		// this scenario is for, are not affected.
		if err := f.s.owned(f.ctx, 30*time.Second); err != nil {
			return fmt.Errorf("scorer-sigkill before kill %d: %w", i+1, err)
		}
		p := f.s.scorers[f.rnd.Intn(len(f.s.scorers))]
		p.kill()
		f.count++
		f.sleep(100*time.Millisecond, 600*time.Millisecond)
		if err := p.start(); err != nil {
			return err
		}
		if err := f.s.ready(p); err != nil {
			return err
		}
		f.sleep(200*time.Millisecond, 800*time.Millisecond)
	}
	return nil
}

// scale grows the group from one scorer to four and back to one; each
// leaving scorer gets SIGTERM and must hand back its work and exit 0.
func scale(f *faults) error {
	f.at(0.15)
	for len(f.s.scorers) < 4 {
		if err := f.s.addScorer(); err != nil {
			return err
		}
		f.count++
		f.sleep(100*time.Millisecond, 400*time.Millisecond)
	}
	f.at(0.55)
	for len(f.s.scorers) > 1 {
		if err := f.s.removeScorer(); err != nil {
			return err
		}
		f.count++
		f.sleep(100*time.Millisecond, 400*time.Millisecond)
	}
	return nil
}

// redisSlowAndDown slows the scorers' Redis connection, then cuts it for
// a few seconds.
func redisSlowAndDown(f *faults) error {
	f.at(0.15)
	before, err := f.s.slowApplies(f.ctx)
	if err != nil {
		return err
	}
	f.s.rproxy.AddLatency(f.s.t, 80, 40)
	f.count++
	f.sleep(1500*time.Millisecond, 2500*time.Millisecond)
	f.s.rproxy.RemoveToxics()
	after, err := f.s.slowApplies(f.ctx)
	if err != nil {
		return err
	}
	if after <= before {
		return fmt.Errorf("redis-slow-and-down: no scorer ran an apply script slower than "+
			"%gs while Redis was slowed (%g before, %g after)", slowScript, before, after)
	}
	f.s.t.Logf("%g apply scripts ran slower than %gs while Redis was slowed",
		after-before, slowScript)
	f.at(0.45)
	f.s.rproxy.Cut()
	f.count++
	f.sleep(2*time.Second, 4*time.Second)
	f.s.rproxy.Restore(f.s.t)
	return nil
}

// kafkaCut drops every connection to the brokers and refuses new ones for
// a few seconds: tracker, scorers and notifier all lose Kafka at once.
func kafkaCut(f *faults) error {
	if f.s.kafka.Cluster == nil {
		return errors.New("kafka-cut: the brokers are external; their listeners cannot be cut")
	}
	rounds := 1
	if f.full {
		rounds = 2
	}
	for i := 0; i < rounds; i++ {
		f.at(0.3 + 0.3*float64(i))
		closed := f.s.kcut.Cut()
		f.count++
		f.sleep(2*time.Second, 4*time.Second)
		f.s.kcut.Restore()
		if closed == 0 {
			return errors.New("kafka-cut: no client was connected to the brokers when cut")
		}
	}
	return nil
}

// rulesReload swaps in the same criteria under a new version and sends
// SIGHUP to every scorer, twice. Each reload is confirmed by every
// scorer's reload counter, and the checker then holds the transitions to
// it: those published before it carry an older version, those caused by
// events that reached Kafka after it the new one.
func rulesReload(f *faults) error {
	for i, share := range []float64{0.3, 0.6} {
		f.at(share)
		version := fmt.Sprintf("faults-v%d", i+2)
		adm := kadm.NewClient(f.s.kafka.Client(f.s.t))
		before, err := endOffsets(f.ctx, adm, f.s.transitions)
		if err != nil {
			return err
		}
		if _, err := f.s.writeRules(version); err != nil {
			return err
		}
		for _, p := range f.s.scorers {
			if err := p.signal(syscall.SIGHUP, 0); err != nil {
				return err
			}
		}
		f.count++
		if err := f.s.reloaded(f.ctx, i+1); err != nil {
			return fmt.Errorf("reload rules %s: %w", version, err)
		}
		after, err := endOffsets(f.ctx, adm, f.s.events)
		if err != nil {
			return err
		}
		f.reloads = append(f.reloads, Reload{Version: version, Before: before, After: after})
	}
	return nil
}

// reloaded waits until every scorer has reloaded its rules n times.
func (s *stack) reloaded(ctx context.Context, n int) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for _, p := range s.scorers {
		for {
			v, err := metric(ctx, p, `leadstream_scorer_rules_reloads_total{result="ok"}`)
			if err == nil && v >= float64(n) {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("%s (%s) reloaded %g of %d times (%v): %w", p.name,
					p.logPath, v, n, err, ctx.Err())
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	return nil
}

// notifierKillMidRetry makes the webhook fail so that deliveries are being
// retried, kills the notifier with SIGKILL in the middle of that, starts
// it again, and lets the webhook recover. The kill only counts once the
// webhook has refused deliveries and seen one of them again, so that
// retries are known to be pending when it comes.
func notifierKillMidRetry(f *faults) error {
	f.at(0.2)
	f.s.recv.Fail(true)
	f.count++
	f.sleep(1500*time.Millisecond, 2500*time.Millisecond)
	refused, again, err := f.retrying(30 * time.Second)
	if err != nil {
		return err
	}
	f.s.notifier.kill()
	f.count++
	f.s.t.Logf("notifier killed while %d transitions were refused, %d of them retried",
		refused, again)
	f.sleep(200*time.Millisecond, 600*time.Millisecond)
	if err := f.s.notifier.start(); err != nil {
		return err
	}
	if err := f.s.ready(f.s.notifier); err != nil {
		return err
	}
	f.sleep(time.Second, 2*time.Second)
	f.s.recv.Fail(false)
	return nil
}

// retrying waits up to timeout until the failing webhook has refused a
// delivery and the notifier has tried one of them again.
func (f *faults) retrying(timeout time.Duration) (refused, again int, err error) {
	deadline := time.Now().Add(timeout)
	for {
		refused, again = f.s.recv.Retried()
		if again > 0 {
			return refused, again, nil
		}
		if time.Now().After(deadline) || f.ctx.Err() != nil {
			return 0, 0, fmt.Errorf("notifier-kill-mid-retry: after %s the webhook had "+
				"refused %d transitions and seen none again: no retry to kill", timeout, refused)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// trackerSigterm stops the tracker with SIGTERM under load, twice, and
// starts it again; senders retry meanwhile. Every batch it answered 202
// must be on the events topic. Each stop must have met traffic: requests
// in flight when it came, or requests refused until the tracker was back.
func trackerSigterm(f *faults) error {
	for _, share := range []float64{0.3, 0.6} {
		f.at(share)
		inflight, retries := f.drv.inflight.Load(), f.drv.retries.Load()
		if err := f.s.tracker.signal(syscall.SIGTERM, 30*time.Second); err != nil {
			return fmt.Errorf("tracker on SIGTERM: %w", err)
		}
		f.count++
		f.sleep(100*time.Millisecond, 500*time.Millisecond)
		if err := f.s.tracker.start(); err != nil {
			return err
		}
		if err := f.s.ready(f.s.tracker); err != nil {
			return err
		}
		refused := f.drv.retries.Load() - retries
		if inflight == 0 && refused == 0 {
			return errors.New("tracker-sigterm: no request was in flight at the SIGTERM and " +
				"none was refused until the tracker was back: the stop missed the load")
		}
	}
	return nil
}
