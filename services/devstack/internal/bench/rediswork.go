package bench

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// redisWork is how much Redis has worked since it started: CPU seconds
// (user and system) and the EVALSHA calls it answered.
type redisWork struct {
	cpu   float64
	evals int64
}

// since returns the work done between w0 and w.
func (w redisWork) since(w0 redisWork) redisWork {
	return redisWork{cpu: w.cpu - w0.cpu, evals: w.evals - w0.evals}
}

// perEvent describes w spread over n events: Redis CPU and script calls.
func (w redisWork) perEvent(n int64) string {
	if n <= 0 {
		return "no events"
	}
	return fmt.Sprintf("redis %.1f µs CPU and %.2f EVALSHA per event",
		w.cpu*1e6/float64(n), float64(w.evals)/float64(n))
}

// readRedisWork reads Redis's CPU time and EVALSHA count from INFO.
func readRedisWork(ctx context.Context, rdb *redis.Client) (redisWork, error) {
	info, err := rdb.Info(ctx, "cpu", "commandstats").Result()
	if err != nil {
		return redisWork{}, fmt.Errorf("read redis cpu: %w", err)
	}
	return parseRedisWork(info)
}

// parseRedisWork reads the text of INFO cpu and commandstats.
func parseRedisWork(info string) (redisWork, error) {
	var w redisWork
	var seen int
	for _, line := range strings.Split(info, "\n") {
		name, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		switch name {
		case "used_cpu_sys", "used_cpu_user":
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return redisWork{}, fmt.Errorf("parse %s %q: %w", name, v, ErrBadInfo)
			}
			w.cpu += f
			seen++
		case "cmdstat_evalsha":
			calls, _, _ := strings.Cut(strings.TrimPrefix(v, "calls="), ",")
			n, err := strconv.ParseInt(calls, 10, 64)
			if err != nil {
				return redisWork{}, fmt.Errorf("parse %s %q: %w", name, v, ErrBadInfo)
			}
			w.evals = n
		}
	}
	if seen != 2 {
		return redisWork{}, fmt.Errorf("read redis cpu: no used_cpu_sys/user: %w", ErrBadInfo)
	}
	return w, nil
}
