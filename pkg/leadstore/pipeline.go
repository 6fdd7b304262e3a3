package leadstore

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// maxFlushers bounds the apply pipelines in flight at once. A few let one
// pipeline fill, and its replies be read, while another waits for Redis;
// more would only split the calls into smaller pipelines again. In the
// scorer benchmark two kept both flushers busy all the time with Redis
// at four fifths of a core; three and four gained some 5-10% there.
const maxFlushers = 3

// maxPipeline bounds the calls sent in one pipeline.
const maxPipeline = 256

// coalescer sends the calls that concurrent callers make (scripts and
// plain commands) as few pipelines: each caller waits for its own reply,
// so one lead's calls stay in order when its caller makes them one after
// the other, while the calls of different leads share a round trip. Redis
// spends most of a small command's cost on reading and answering it, so
// sharing round trips saves Redis as much as it saves the scorer. There
// is no goroutine of its own: a caller that finds fewer than maxFlushers
// pipelines in flight sends the queued calls itself, until its own call
// is answered and either the queue is empty or another flusher remains
// to empty it.
type coalescer struct {
	rdb redis.UniversalClient

	mu       sync.Mutex
	queue    []*scriptCall // guarded by mu
	flushers int           // guarded by mu
}

// scriptCall is one script run, or with a nil sc one command (args), waiting
// for its reply.
type scriptCall struct {
	sc   *redis.Script
	keys []string
	args []any
	done chan struct{}
	val  any
	err  error
}

// run queues one script run, or with a nil sc the command args, and
// returns its reply.
func (c *coalescer) run(ctx context.Context, sc *redis.Script, keys []string,
	args []any) (any, error) {
	call := &scriptCall{sc: sc, keys: keys, args: args, done: make(chan struct{})}
	c.mu.Lock()
	c.queue = append(c.queue, call)
	if c.flushers < maxFlushers {
		c.flushers++
		c.mu.Unlock()
		c.flush(ctx, call)
	} else {
		c.mu.Unlock()
	}
	<-call.done
	return call.val, call.err
}

// flush sends queued calls until own is answered and someone else or no
// one needs to send the rest. The caller must have counted itself in
// flushers; the last flusher leaves only with the queue empty, so no call
// is stranded.
func (c *coalescer) flush(ctx context.Context, own *scriptCall) {
	for {
		c.mu.Lock()
		n := min(len(c.queue), maxPipeline)
		if n == 0 || (answered(own) && c.flushers > 1) {
			c.flushers--
			c.mu.Unlock()
			return
		}
		calls := append([]*scriptCall(nil), c.queue[:n]...)
		c.queue = c.queue[n:]
		c.mu.Unlock()
		c.send(ctx, calls)
	}
}

func answered(call *scriptCall) bool {
	select {
	case <-call.done:
		return true
	default:
		return false
	}
}

// send runs calls in one pipeline and answers each. A script Redis does
// not know (after a restart or a failover) is run again on its own, which
// loads it.
func (c *coalescer) send(ctx context.Context, calls []*scriptCall) {
	cmds := make([]*redis.Cmd, len(calls))
	_, _ = c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, call := range calls {
			if call.sc == nil {
				cmds[i] = p.Do(ctx, call.args...)
				continue
			}
			cmds[i] = call.sc.EvalSha(ctx, p, call.keys, call.args...)
		}
		return nil
	})
	for i, call := range calls {
		call.val, call.err = cmds[i].Result()
		if call.sc != nil && call.err != nil &&
			strings.HasPrefix(call.err.Error(), "NOSCRIPT") {
			call.val, call.err = call.sc.Run(ctx, c.rdb, call.keys, call.args...).Result()
		}
		close(call.done)
	}
}

// runQueued runs a script through the coalescer and reports its latency,
// queueing included. With a nil sc it sends the command args instead.
func (s *Store) runQueued(ctx context.Context, name string, sc *redis.Script, keys []string,
	args []any) (any, error) {
	start := time.Now()
	v, err := s.batch.run(ctx, sc, keys, args)
	s.observe(name, time.Since(start))
	if err == redis.Nil {
		err = nil
	}
	return v, err
}
