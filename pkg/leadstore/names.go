package leadstore

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// A state hash names what it counts by short codes: "c3" for the lifetime
// count of signal 3, not "c:content_download". Names were most of a
// lead's field bytes, and every field is kept once per lead. Codes are
// assigned in Redis, once per key prefix, and never change or get reused,
// so every rules version and every process reads what any other wrote.
//
// The codebook is the hash "<prefix>:names": field "<kind>:<name>"
// (kinds sig, score and trait) to its code, and "#" counting the codes
// handed out. Scripts that change leads never touch it: it is read once
// per process and written only when rules name something new.

// Kinds of coded names.
const (
	kindSignal = "sig"
	kindScore  = "score"
	kindTrait  = "trait"
)

// codesScript returns the code of each "<kind>:<name>" in ARGV, giving new
// names the next code. KEYS: the codebook.
var codesScript = redis.NewScript(`
local digits = '0123456789abcdefghijklmnopqrstuvwxyz'
local function code(n)
  local out = ''
  repeat
    local d = n % 36
    out = string.sub(digits, d + 1, d + 1) .. out
    n = math.floor(n / 36)
  until n == 0
  return out
end
local out = {}
for i, name in ipairs(ARGV) do
  local c = redis.call('HGET', KEYS[1], name)
  if not c then
    c = code(redis.call('HINCRBY', KEYS[1], '#', 1) - 1)
    redis.call('HSET', KEYS[1], name, c)
  end
  out[i] = c
end
return out
`)

// codebook is one immutable view of the codes.
type codebook struct {
	byName map[string]string // "<kind>:<name>" to code
	byCode map[string]string // code to name
}

func (b *codebook) with(names, codes []string) *codebook {
	out := &codebook{byName: make(map[string]string, len(b.byName)+len(names)),
		byCode: make(map[string]string, len(b.byCode)+len(names))}
	for k, v := range b.byName {
		out.byName[k] = v
	}
	for k, v := range b.byCode {
		out.byCode[k] = v
	}
	for i, n := range names {
		out.byName[n] = codes[i]
		_, name, _ := strings.Cut(n, ":")
		out.byCode[codes[i]] = name
	}
	return out
}

// names keeps the process's view of the codebook.
type names struct {
	key    string
	cur    atomic.Pointer[codebook]
	mu     sync.Mutex // serialises changes of cur
	loaded atomic.Bool
	// lastReload is when a decode last read the book again, unix ns.
	lastReload atomic.Int64
}

// reloadEvery bounds how often decodes read the codebook again for codes
// they do not know: a field no code book knows (written by hand, say)
// must not cost a read per event.
const reloadEvery = time.Second

// mayReload reports whether a decode may read the book again now.
func (n *names) mayReload() bool {
	now := time.Now().UnixNano()
	last := n.lastReload.Load()
	return now-last >= int64(reloadEvery) && n.lastReload.CompareAndSwap(last, now)
}

func newNames(key string) *names {
	n := &names{key: key}
	n.cur.Store(&codebook{byName: map[string]string{}, byCode: map[string]string{}})
	return n
}

// book returns the codebook, reading it from Redis the first time.
func (n *names) book(ctx context.Context, rdb redis.UniversalClient) (*codebook, error) {
	if n.loaded.Load() {
		return n.cur.Load(), nil
	}
	return n.reload(ctx, rdb)
}

// reload reads every code from Redis, for codes other processes gave out.
func (n *names) reload(ctx context.Context, rdb redis.UniversalClient) (*codebook, error) {
	all, err := rdb.HGetAll(ctx, n.key).Result()
	if err != nil {
		return nil, fmt.Errorf("read the codebook %s: %w", n.key, err)
	}
	var ns, cs []string
	for name, code := range all {
		if name != "#" {
			ns, cs = append(ns, name), append(cs, code)
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	b := n.cur.Load().with(ns, cs)
	n.cur.Store(b)
	n.loaded.Store(true)
	return b, nil
}

// codes returns the code of every "<kind>:<name>" in want, asking Redis
// for the ones not known yet (and so giving new names their codes).
func (n *names) codes(ctx context.Context, rdb redis.UniversalClient,
	want []string) (*codebook, error) {
	b := n.cur.Load()
	var missing []string
	for _, w := range want {
		if _, ok := b.byName[w]; !ok {
			missing = append(missing, w)
		}
	}
	if len(missing) == 0 {
		return b, nil
	}
	args := make([]any, len(missing))
	for i, m := range missing {
		args[i] = m
	}
	v, err := codesScript.Run(ctx, rdb, []string{n.key}, args...).StringSlice()
	if err != nil || len(v) != len(missing) {
		return nil, fmt.Errorf("give codes to %d names in %s: %w", len(missing), n.key,
			orBadReply(err))
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	b = n.cur.Load().with(missing, v)
	n.cur.Store(b)
	return b, nil
}

func orBadReply(err error) error {
	if err == nil {
		return ErrBadReply
	}
	return err
}
