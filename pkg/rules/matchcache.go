package rules

import (
	"hash/maphash"
	"regexp"
	"strings"
	"sync/atomic"
)

const (
	// matchSlots is the number of recent results a matchCache keeps.
	matchSlots = 4096
	// maxCachedLen bounds the values a matchCache keeps, and so its size.
	maxCachedLen = 128
)

// matchCache remembers recent results of one trait's regular expression.
// A lead is evaluated on every one of its events with the same trait
// values, and running the expression again costs far more than the rest
// of an evaluation. It is a direct-mapped table: a value whose slot holds
// another value is matched again and replaces it. Slots are swapped
// atomically, so one cache serves concurrent evaluations without locks.
type matchCache struct {
	seed  maphash.Seed
	slots [matchSlots]atomic.Pointer[matchResult]
}

type matchResult struct {
	raw string
	ok  bool
}

func newMatchCache() *matchCache {
	return &matchCache{seed: maphash.MakeSeed()}
}

// match reports whether re matches raw, from the cache when it can. A nil
// cache always runs re.
func (c *matchCache) match(re *regexp.Regexp, raw string) bool {
	if c == nil || len(raw) > maxCachedLen {
		return re.MatchString(raw)
	}
	slot := &c.slots[maphash.String(c.seed, raw)%matchSlots]
	if hit := slot.Load(); hit != nil && hit.raw == raw {
		return hit.ok
	}
	ok := re.MatchString(raw)
	// The clone keeps the cache from pinning the buffer raw came from.
	slot.Store(&matchResult{raw: strings.Clone(raw), ok: ok})
	return ok
}
