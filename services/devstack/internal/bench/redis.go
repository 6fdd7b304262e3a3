package bench

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/leadstream/leadstream/pkg/leadstore"
	"github.com/leadstream/leadstream/pkg/rules"
	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
)

// Pipelining of the Redis ceiling: pipes concurrent pipelines of depth
// commands each, replayed ceilingTries times.
const (
	pipes        = 4
	depth        = 64
	ceilingTries = 3
)

// redisSuite measures the lead store's apply script alone, driven by
// pipelined clients against the run's redis-server: the most events per
// second Redis can count with the scorer's own script.
func (b *Bench) redisSuite(ctx context.Context) error {
	r, err := rules.Load(b.cfg.Rules)
	if err != nil {
		return fmt.Errorf("load rules: %w", err)
	}
	c, err := b.ceiling(ctx, r)
	if err != nil {
		return err
	}
	b.report.Add(Figure{Group: "redis", Name: "redis apply script, pipelined", Value: c.rate,
		Unit: "ev/s", Note: c.note()})
	return b.depthCosts(ctx, r)
}

// ceilingRun is one measurement of the Redis ceiling.
type ceilingRun struct {
	rate   float64
	work   redisWork
	events int
}

// ceiling measures the apply script alone under r: the best of a few
// replays, each on fresh leads. One replay moves by some 10% from run to
// run on a shared machine, and a ceiling that happened to come out low
// would flatter the scorer.
func (b *Bench) ceiling(ctx context.Context, r *rules.Rules) (ceilingRun, error) {
	// The replays send the script by its digest: Redis must know it.
	st, err := leadstore.New(b.rdb, b.name("ls"))
	if err != nil {
		return ceilingRun{}, fmt.Errorf("new lead store: %w", err)
	}
	if err := st.Load(ctx); err != nil {
		return ceilingRun{}, err
	}
	var best ceilingRun
	for range ceilingTries {
		prefix := b.name("ls")
		cmds, err := applyCommands(ctx, b.rdb, prefix, r, mixEvents(prefix, b.cfg.Events))
		if err != nil {
			return ceilingRun{}, err
		}
		var got float64
		w, err := b.redisWorkOf(ctx, func() (err error) {
			got, err = b.replay(ctx, cmds)
			return err
		})
		if err != nil {
			return ceilingRun{}, err
		}
		if got > best.rate {
			best = ceilingRun{rate: got, work: w, events: len(cmds)}
		}
	}
	return best, nil
}

func (c ceilingRun) note() string {
	return fmt.Sprintf("best of %d replays of %d events of the lead mix, %d pipelines x %d "+
		"deep; %s; %s", ceilingTries, c.events, pipes, depth, c.work.perEvent(int64(c.events)),
		c.work.byCommand(int64(c.events), 3))
}

// depthCosts weighs the apply script's Redis CPU per event when its calls
// come in shallower pipelines, one pipeline at a time: what a client that
// cannot gather many calls per round trip costs Redis.
func (b *Bench) depthCosts(ctx context.Context, r *rules.Rules) error {
	n := min(b.cfg.Events, 20000)
	for _, d := range []int{1, 4, 16} {
		prefix := b.name(fmt.Sprintf("depth%d", d))
		cmds, err := applyCommands(ctx, b.rdb, prefix, r, mixEvents(prefix, n))
		if err != nil {
			return err
		}
		w, err := b.redisWorkOf(ctx, func() error {
			for i := 0; i < len(cmds); i += d {
				if err := b.pipeline(ctx, cmds[i:min(i+d, len(cmds))]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		b.report.Add(Figure{Group: "redis",
			Name:  fmt.Sprintf("redis CPU per apply, pipelines %d deep", d),
			Value: w.cpu * 1e6 / float64(len(cmds)), Unit: "µs",
			Note: fmt.Sprintf("%d events of the lead mix, one pipeline at a time", len(cmds))})
	}
	return nil
}

// mixEvents returns n events of the lead mix.
func mixEvents(prefix string, n int) []*leadstreamv1.Event {
	mix := NewMix(prefix, time.Now().Add(-48*time.Hour).UnixMilli())
	out := make([]*leadstreamv1.Event, 0, n+8)
	for i := 0; len(out) < n; i++ {
		out = append(out, mix.Lead(i)...)
	}
	return out[:n]
}

// replay sends cmds through pipes concurrent pipelines and returns
// commands per second. depth is a multiple of the mix's 8 events per
// lead, so for the mix each lead's events stay in order in one pipeline.
func (b *Bench) replay(ctx context.Context, cmds [][]any) (float64, error) {
	work := make(chan [][]any, pipes)
	errc := make(chan error, pipes)
	var wg sync.WaitGroup
	start := time.Now()
	for range pipes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			failed := false
			for chunk := range work {
				// After a failure the rest is drained, so the sender
				// never blocks on a worker that gave up.
				if failed {
					continue
				}
				if err := b.pipeline(ctx, chunk); err != nil {
					errc <- err
					failed = true
				}
			}
		}()
	}
	for i := 0; i < len(cmds); i += depth {
		work <- cmds[i:min(i+depth, len(cmds))]
	}
	close(work)
	wg.Wait()
	elapsed := time.Since(start)
	select {
	case err := <-errc:
		return 0, err
	default:
	}
	return float64(len(cmds)) / elapsed.Seconds(), nil
}

func (b *Bench) pipeline(ctx context.Context, chunk [][]any) error {
	p := b.rdb.Pipeline()
	for _, args := range chunk {
		p.Do(ctx, args...)
	}
	cmds, err := p.Exec(ctx)
	if err != nil && err != redis.Nil {
		return fmt.Errorf("pipelined apply (%d commands): %w", len(cmds), err)
	}
	return nil
}

// usedMemory returns what Redis holds for data: used_memory less the
// buffers of client connections (mem_clients_normal). A connection's
// buffers cost some 20 KB whatever it stores, and the fill opens a pool of
// them, which at 10k leads would add tens of bytes to every lead.
func usedMemory(ctx context.Context, rdb *redis.Client) (int64, error) {
	info, err := rdb.Info(ctx, "memory").Result()
	if err != nil {
		return 0, fmt.Errorf("read redis memory: %w", err)
	}
	return parseUsedMemory(info)
}

// parseUsedMemory reads used_memory less mem_clients_normal (0 when
// absent) from the text of INFO memory.
func parseUsedMemory(info string) (int64, error) {
	var used, clients int64 = -1, 0
	for _, line := range strings.Split(info, "\n") {
		name, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || (name != "used_memory" && name != "mem_clients_normal") {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("parse %s %q: %w", name, v, ErrBadInfo)
		}
		if name == "used_memory" {
			used = n
		} else {
			clients = n
		}
	}
	switch {
	case used < 0:
		return 0, fmt.Errorf("read redis memory: no used_memory: %w", ErrBadInfo)
	case clients > used:
		return 0, fmt.Errorf("read redis memory: clients %d past used_memory %d: %w",
			clients, used, ErrBadInfo)
	}
	return used - clients, nil
}
