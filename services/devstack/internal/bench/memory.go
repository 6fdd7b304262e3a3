package bench

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/leadstream/leadstream/pkg/leadstore"
	"github.com/leadstream/leadstream/pkg/rules"
	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
)

// scoreWorkers is the concurrency of the memory fill.
const scoreWorkers = 16

// extraIDs is how many more event ids per lead the dedupe figure adds.
const extraIDs = 10

// memorySuite measures Redis memory per lead and per remembered event
// id, for the lead mix under the run's rules, at each lead count.
func (b *Bench) memorySuite(ctx context.Context) error {
	r, err := rules.Load(b.cfg.Rules)
	if err != nil {
		return fmt.Errorf("load rules: %w", err)
	}
	for _, n := range b.cfg.Leads {
		if err := b.memoryAt(ctx, r, n); err != nil {
			return err
		}
	}
	return nil
}

func (b *Bench) memoryAt(ctx context.Context, r *rules.Rules, leads int) error {
	if err := b.rdb.FlushAll(ctx).Err(); err != nil {
		return fmt.Errorf("flush redis: %w", err)
	}
	// The scorer's default key prefix and short ids: real anonymous ids
	// are often longer (UUIDs), so these figures lean low.
	prefix := "ls"
	st, err := leadstore.New(b.rdb, prefix)
	if err != nil {
		return fmt.Errorf("new lead store: %w", err)
	}
	if err := st.Load(ctx); err != nil {
		return err
	}
	before, err := usedMemory(ctx, b.rdb)
	if err != nil {
		return err
	}
	mix := NewMix("m", 1_800_000_000_000)
	if err := fillLeads(ctx, st, r, mix, leads); err != nil {
		return err
	}
	filled, err := usedMemory(ctx, b.rdb)
	if err != nil {
		return err
	}
	perLead := float64(filled-before) / float64(leads)
	parts, err := b.breakdown(ctx, prefix, leads)
	if err != nil {
		return err
	}
	if err := b.forgetIDs(ctx, prefix); err != nil {
		return err
	}
	stripped, err := usedMemory(ctx, b.rdb)
	if err != nil {
		return err
	}
	apart := float64(stripped-before) / float64(leads)
	perID, err := b.dedupeCost(ctx, r, mix, prefix, leads)
	if err != nil {
		return err
	}
	at := num(float64(leads))
	note := fmt.Sprintf("%d leads x 8 events (6 signals, 1 identify merge, ends MQL), "+
		"INFO used_memory delta; per lead by key (MEMORY USAGE, sampled): %s", leads, parts)
	b.report.Add(
		Figure{Group: "memory", Name: "redis bytes per lead @" + at,
			Value: perLead, Unit: "B", Note: note + "; remembered event ids included"},
		Figure{Group: "memory", Name: "redis bytes per lead, ids apart @" + at,
			Value: apart, Unit: "B", Target: &Target{AtMost: true, Bound: 400},
			Note: "the same leads once their remembered event ids are deleted"},
		Figure{Group: "memory", Name: "redis bytes of remembered ids per lead @" + at,
			Value: perLead - apart, Unit: "B",
			Note: "the 8 ids of the mix's events, as the lead's state hash keeps them"},
		Figure{Group: "memory",
			Name:  fmt.Sprintf("redis bytes per dedupe id @%s", num(float64(leads))),
			Value: perID, Unit: "B",
			Note: fmt.Sprintf("marginal cost of %d more ids per lead", extraIDs)},
	)
	return nil
}

// fillLeads scores every event of leads leads; each worker owns whole leads,
// so a lead's events keep their order.
func fillLeads(ctx context.Context, st *leadstore.Store, r *rules.Rules, mix *Mix,
	leads int) error {
	all := make([][]*leadstreamv1.Event, leads)
	for i := range all {
		all[i] = mix.Lead(i)
	}
	var wg sync.WaitGroup
	errc := make(chan error, scoreWorkers)
	for w := range scoreWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < leads; i += scoreWorkers {
				for _, ev := range all[i] {
					if err := score(ctx, st, r, ev); err != nil {
						errc <- fmt.Errorf("score lead %d: %w", i, err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	return <-errc
}

// dedupeCost adds extraIDs events per lead that count for nothing, so
// only the dedupe set grows, and returns the bytes per added id.
func (b *Bench) dedupeCost(ctx context.Context, r *rules.Rules, mix *Mix, prefix string,
	leads int) (float64, error) {
	events := make([]*leadstreamv1.Event, 0, leads*extraIDs)
	for i := range leads {
		lead := fmt.Sprintf("%s-l%d", mix.Prefix, i)
		for k := range extraIDs {
			at := mix.Base + 2*dayMs + int64(k)*1000
			events = append(events, mix.event("heartbeat", "", lead, at, ""))
		}
	}
	cmds, err := applyCommands(ctx, b.rdb, prefix, r, events)
	if err != nil {
		return 0, err
	}
	before, err := usedMemory(ctx, b.rdb)
	if err != nil {
		return 0, err
	}
	if _, err := b.replay(ctx, cmds); err != nil {
		return 0, err
	}
	after, err := usedMemory(ctx, b.rdb)
	if err != nil {
		return 0, err
	}
	return float64(after-before) / float64(len(events)), nil
}

// forgetScript deletes the remembered event ids ("~" and "~<slot>") of
// one lead's state hash.
var forgetScript = redis.NewScript(`
for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do
  if string.sub(f, 1, 1) == '~' then redis.call('HDEL', KEYS[1], f) end
end
return 0
`)

// forgetIDs deletes every lead's remembered event ids, so what is left is
// what the lead costs without them.
func (b *Bench) forgetIDs(ctx context.Context, prefix string) error {
	if err := forgetScript.Load(ctx, b.rdb).Err(); err != nil {
		return fmt.Errorf("load the forget script: %w", err)
	}
	iter := b.rdb.Scan(ctx, 0, prefix+":{l:*", 1000).Iterator()
	pipe := b.rdb.Pipeline()
	for iter.Next(ctx) {
		forgetScript.Run(ctx, pipe, []string{iter.Val()})
		if pipe.Len() >= 500 {
			if _, err := pipe.Exec(ctx); err != nil {
				return fmt.Errorf("forget remembered ids: %w", err)
			}
		}
	}
	if err := iter.Err(); err != nil {
		return fmt.Errorf("scan leads: %w", err)
	}
	if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
		return fmt.Errorf("forget remembered ids: %w", err)
	}
	return nil
}

// breakdownSample bounds the keys the breakdown measures.
const breakdownSample = 4000

// breakdown returns the bytes per lead of each kind of key under prefix
// (e.g. "anon:seen 310 B"), estimated with MEMORY USAGE on a sample.
func (b *Bench) breakdown(ctx context.Context, prefix string, leads int) (string, error) {
	var keys []string
	iter := b.rdb.Scan(ctx, 0, prefix+":*", 1000).Iterator()
	for iter.Next(ctx) && len(keys) < breakdownSample {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		return "", fmt.Errorf("scan keys: %w", err)
	}
	total, err := b.rdb.DBSize(ctx).Result()
	if err != nil || len(keys) == 0 {
		return "", fmt.Errorf("count keys (%d sampled): %w", len(keys), err)
	}
	pipe := b.rdb.Pipeline()
	usage := make([]*redis.IntCmd, len(keys))
	for i, k := range keys {
		usage[i] = pipe.MemoryUsage(ctx, k)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return "", fmt.Errorf("measure keys: %w", err)
	}
	sums := map[string]int64{}
	for i, k := range keys {
		sums[keyKind(k)] += usage[i].Val()
	}
	// Scale the sample to the whole keyspace, then per lead.
	scale := float64(total) / float64(len(keys)) / float64(leads)
	var out []string
	for _, kind := range sortedKinds(sums) {
		out = append(out, fmt.Sprintf("%s %.0f B", kind, float64(sums[kind])*scale))
	}
	return strings.Join(out, ", "), nil
}

// keyKind turns "p:{lead:42}:state" into "lead:state".
func keyKind(key string) string {
	open, shut := strings.Index(key, "{"), strings.LastIndex(key, "}")
	if open < 0 || shut < open {
		return "other"
	}
	kind, _, _ := strings.Cut(key[open+1:shut], ":")
	return kind + key[shut+1:]
}

func sortedKinds(m map[string]int64) []string {
	kinds := make([]string, 0, len(m))
	for k := range m {
		kinds = append(kinds, k)
	}
	sort.Slice(kinds, func(i, j int) bool { return m[kinds[i]] > m[kinds[j]] })
	return kinds
}
