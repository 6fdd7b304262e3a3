package faults

import (
	"fmt"
	"syscall"
	"testing"
	"time"
)

// scenarios are the faults the pipeline must survive without losing or
// double-counting anything.
var scenarios = []scenario{
	{name: "scorer-sigkill", scorers: 3, inject: scorerSigkill},
	{name: "scale", scorers: 1, inject: scale},
	{name: "redis-slow-and-down", scorers: 3, inject: redisSlowAndDown},
	{name: "kafka-cut", scorers: 3, inject: kafkaCut},
	{name: "rules-reload", scorers: 3, inject: rulesReload},
	{name: "notifier-kill-mid-retry", scorers: 2, inject: notifierKillMidRetry},
	{name: "tracker-sigterm", scorers: 2, inject: trackerSigterm},
}

func TestScenarios(t *testing.T) {
	sd := seed()
	t.Logf("seed %d (replay with -faults.seed=%d)", sd, sd)
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			if sc.bug != "" && !*bugsFlag {
				t.Skipf("NOTE: known bug: %s; reproduce with -faults.known-bugs", sc.bug)
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
	f.s.rproxy.AddLatency(f.s.t, 80, 40)
	f.count++
	f.sleep(1500*time.Millisecond, 2500*time.Millisecond)
	f.s.rproxy.RemoveToxics()
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
	rounds := 1
	if f.full {
		rounds = 2
	}
	for i := 0; i < rounds; i++ {
		f.at(0.3 + 0.3*float64(i))
		f.s.kcut.Cut()
		f.count++
		f.sleep(2*time.Second, 4*time.Second)
		f.s.kcut.Restore()
	}
	return nil
}

// rulesReload swaps in an equivalent rules file under a new version and
// sends SIGHUP to every scorer, twice.
func rulesReload(f *faults) error {
	for i, share := range []float64{0.3, 0.6} {
		f.at(share)
		f.s.writeRules(fmt.Sprintf("faults-v%d", i+2))
		for _, p := range f.s.scorers {
			if err := p.signal(syscall.SIGHUP, 0); err != nil {
				return err
			}
		}
		f.count++
	}
	return nil
}

// notifierKillMidRetry makes the webhook fail so that deliveries are being
// retried, kills the notifier with SIGKILL in the middle of that, starts
// it again, and lets the webhook recover.
func notifierKillMidRetry(f *faults) error {
	f.at(0.2)
	f.s.recv.Fail(true)
	f.count++
	f.sleep(1500*time.Millisecond, 2500*time.Millisecond)
	f.s.notifier.kill()
	f.count++
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

// trackerSigterm stops the tracker with SIGTERM under load, twice, and
// starts it again; senders retry meanwhile. Every batch it answered 202
// must be on the events topic.
func trackerSigterm(f *faults) error {
	for _, share := range []float64{0.3, 0.6} {
		f.at(share)
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
	}
	return nil
}
