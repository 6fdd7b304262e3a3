package demo

import (
	"context"
	"fmt"
	"io"
	"time"
)

// reader prints the records Watch sends and logs them in obs.
type reader struct {
	obs  *Observed
	seen <-chan Seen
	errc <-chan error
	w    io.Writer
}

// observe reads until the expected transitions arrived, the scorers
// finished the events of ids, the topic was read to where it ended then,
// and cfg.Quiet passed without another record. It fails when that takes
// longer than cfg.Wait, or when the topic held anything the rules do not
// expect.
func (r *reader) observe(ctx context.Context, cfg Config, ids []string) error {
	ctx, cancel := context.WithTimeout(ctx, cfg.Wait)
	defer cancel()
	allArrived := func() bool { return len(r.obs.Missing()) == 0 }
	if err := r.until(ctx, allArrived); err != nil {
		return fmt.Errorf("wait for transitions: %w: %v", err, r.obs.Err())
	}
	fmt.Fprintf(r.w, "all %d transitions the rules expect arrived; "+
		"checking that no others follow\n", len(r.obs.expected))

	end, err := Settle(ctx, cfg, ids)
	if err != nil {
		return err
	}
	if err := r.until(ctx, func() bool { return r.obs.Reached(end) }); err != nil {
		return fmt.Errorf("read the transitions topic to its end: %w", err)
	}
	if err := r.quiet(ctx, cfg.Quiet); err != nil {
		return fmt.Errorf("wait for a quiet transitions topic: %w", err)
	}
	if err := r.obs.Err(); err != nil {
		return fmt.Errorf("the pipeline did not produce what the rules expect: %w", err)
	}
	fmt.Fprintf(r.w, "no other transitions")
	if n := r.obs.Copies(); n > 0 {
		fmt.Fprintf(r.w, " (%d published again, with the same id)", n)
	}
	fmt.Fprintln(r.w)
	return nil
}

// until reads until done holds or ctx ends.
func (r *reader) until(ctx context.Context, done func() bool) error {
	for !done() {
		if _, err := r.step(ctx, nil); err != nil {
			return err
		}
	}
	return nil
}

// quiet reads until d passes with nothing to read.
func (r *reader) quiet(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		stopped, err := r.step(ctx, timer.C)
		if err != nil || stopped {
			return err
		}
		timer.Reset(d)
	}
}

// step prints and logs one record or fetch error; stopped reports that
// stop fired first.
func (r *reader) step(ctx context.Context, stop <-chan time.Time) (stopped bool, err error) {
	select {
	case s := <-r.seen:
		note := r.obs.Add(s)
		if note != "" {
			note = "  (" + note + ")"
		}
		if s.Err != nil {
			fmt.Fprintf(r.w, "  %v%s\n", s.Err, note)
		} else {
			fmt.Fprintf(r.w, "  %s%s\n", Format(s.Transition), note)
		}
		return false, nil
	case err := <-r.errc:
		fmt.Fprintf(r.w, "  (%v)\n", err)
		return false, nil
	case <-stop:
		return true, nil
	case <-ctx.Done():
		return false, ctx.Err()
	}
}
