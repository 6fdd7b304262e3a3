package bench

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// redisWork is how much Redis has worked since it started: CPU seconds
// (user and system), the EVALSHA calls it answered, and the calls and
// time of every command (commandstats). Commands that scripts run count
// there too, and their time is also in the script's.
type redisWork struct {
	cpu   float64
	evals int64
	cmds  map[string]cmdStat
}

// cmdStat is one command's line of commandstats.
type cmdStat struct {
	calls int64
	usec  int64
}

// since returns the work done between w0 and w.
func (w redisWork) since(w0 redisWork) redisWork {
	out := redisWork{cpu: w.cpu - w0.cpu, evals: w.evals - w0.evals,
		cmds: map[string]cmdStat{}}
	for name, c := range w.cmds {
		c0 := w0.cmds[name]
		if d := (cmdStat{calls: c.calls - c0.calls, usec: c.usec - c0.usec}); d.calls > 0 {
			out.cmds[name] = d
		}
	}
	return out
}

// perEvent describes w spread over n events: Redis CPU and script calls.
func (w redisWork) perEvent(n int64) string {
	if n <= 0 {
		return "no events"
	}
	return fmt.Sprintf("redis %.1f µs CPU and %.2f EVALSHA per event",
		w.cpu*1e6/float64(n), float64(w.evals)/float64(n))
}

// byCommand lists the busiest commands of w per event: calls and
// execution time. A script's time includes the commands it runs, which
// are listed too; what the CPU figure holds beyond the commands clients
// sent is reading, parsing and answering them.
func (w redisWork) byCommand(n int64, most int) string {
	if n <= 0 {
		return ""
	}
	names := make([]string, 0, len(w.cmds))
	for name := range w.cmds {
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool { return w.cmds[names[i]].usec > w.cmds[names[j]].usec })
	parts := make([]string, 0, most)
	for _, name := range names[:min(most, len(names))] {
		c := w.cmds[name]
		parts = append(parts, fmt.Sprintf("%s %.2f calls %.1f µs", name,
			float64(c.calls)/float64(n), float64(c.usec)/float64(n)))
	}
	return "per event: " + strings.Join(parts, ", ")
}

// redisWorkOf runs fn and returns the work Redis did meanwhile.
func (b *Bench) redisWorkOf(ctx context.Context, fn func() error) (redisWork, error) {
	w0, err := readRedisWork(ctx, b.rdb)
	if err != nil {
		return redisWork{}, err
	}
	if err := fn(); err != nil {
		return redisWork{}, err
	}
	w1, err := readRedisWork(ctx, b.rdb)
	if err != nil {
		return redisWork{}, err
	}
	return w1.since(w0), nil
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
		default:
			cmd, ok := strings.CutPrefix(name, "cmdstat_")
			if !ok {
				continue
			}
			c, err := parseCmdStat(v)
			if err != nil {
				return redisWork{}, fmt.Errorf("parse %s %q: %w", name, v, err)
			}
			if w.cmds == nil {
				w.cmds = map[string]cmdStat{}
			}
			w.cmds[cmd] = c
			if cmd == "evalsha" {
				w.evals = c.calls
			}
		}
	}
	if seen != 2 {
		return redisWork{}, fmt.Errorf("read redis cpu: no used_cpu_sys/user: %w", ErrBadInfo)
	}
	return w, nil
}

// parseCmdStat reads "calls=N,usec=N,..." of a commandstats line.
func parseCmdStat(v string) (cmdStat, error) {
	var c cmdStat
	var have int
	for _, kv := range strings.Split(v, ",") {
		k, n, _ := strings.Cut(kv, "=")
		var dst *int64
		switch k {
		case "calls":
			dst = &c.calls
		case "usec":
			dst = &c.usec
		default:
			continue
		}
		x, err := strconv.ParseInt(n, 10, 64)
		if err != nil {
			return cmdStat{}, ErrBadInfo
		}
		*dst = x
		have++
	}
	if have != 2 {
		return cmdStat{}, ErrBadInfo
	}
	return c, nil
}
