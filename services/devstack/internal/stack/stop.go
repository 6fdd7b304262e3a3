package stack

import (
	"context"
	"sync"

	"github.com/leadstream/leadstream/services/devstack/internal/supervise"
	"go.uber.org/zap"
)

// stop stops the parts in an order that loses nothing: the tracker first,
// so the events it accepted reach the broker; then the scorers, which
// finish the events they hold; then the notifier, which delivers what the
// scorers published; then Redis and the broker, which the others need
// until they are gone.
func (s *Stack) stop() {
	ctx := context.Background()
	var tracker, scorers, notifier []*supervise.Process
	for i, p := range s.parts {
		switch {
		case i == 0:
			tracker = append(tracker, p)
		case i == len(s.parts)-1:
			notifier = append(notifier, p)
		default:
			scorers = append(scorers, p)
		}
	}
	for _, group := range [][]*supervise.Process{tracker, scorers, notifier} {
		s.stopAll(ctx, group)
	}
	if s.redis != nil {
		s.stopAll(ctx, []*supervise.Process{s.redis})
	}
	if s.broker != nil {
		s.broker.Close()
		s.log.Info("broker stopped")
	}
}

// stopAll stops the processes of one group in parallel.
func (s *Stack) stopAll(ctx context.Context, group []*supervise.Process) {
	var wg sync.WaitGroup
	for _, p := range group {
		wg.Go(func() {
			if err := p.Stop(ctx, s.cfg.StopTimeout); err != nil {
				s.log.Warn("part did not stop cleanly",
					zap.String("part", p.Name()), zap.Error(err))
				return
			}
			s.log.Info("part stopped", zap.String("part", p.Name()))
		})
	}
	wg.Wait()
}
