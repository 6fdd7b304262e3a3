// Package ratelimit keeps one token bucket per client, so one noisy
// client cannot crowd out the others.
package ratelimit

import (
	"sync"
	"time"
)

// sweepEvery is how often idle buckets are dropped, which bounds memory
// to the clients seen in about that long.
const sweepEvery = time.Minute

// Limiter admits up to Rate requests per second per client, with bursts
// of up to Burst. The zero Rate admits everything. Safe for concurrent
// use.
type Limiter struct {
	rate  float64
	burst float64
	now   func() time.Time

	mu        sync.Mutex
	buckets   map[string]*bucket // guarded by mu
	lastSweep time.Time          // guarded by mu
}

type bucket struct {
	tokens float64
	at     time.Time
}

// New returns a limiter; now is the clock, time.Now when nil.
func New(rate float64, burst int, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	if burst < 1 {
		burst = 1
	}
	return &Limiter{rate: rate, burst: float64(burst), now: now,
		buckets: map[string]*bucket{}, lastSweep: now()}
}

// Allow takes one token from client's bucket and reports whether there
// was one.
func (l *Limiter) Allow(client string) bool {
	if l.rate <= 0 {
		return true
	}
	now := l.now()

	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	b := l.buckets[client]
	if b == nil {
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[client] = b
	}
	b.refill(now, l.rate, l.burst)
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// Clients is the number of buckets held, for tests and metrics.
func (l *Limiter) Clients() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

func (b *bucket) refill(now time.Time, rate, burst float64) {
	if elapsed := now.Sub(b.at).Seconds(); elapsed > 0 {
		b.tokens = min(burst, b.tokens+elapsed*rate)
		b.at = now
	}
}

// sweep drops the buckets that have refilled completely: forgetting them
// changes nothing, since a new bucket starts full. l.mu must be held.
func (l *Limiter) sweep(now time.Time) {
	if now.Sub(l.lastSweep) < sweepEvery {
		return
	}
	l.lastSweep = now
	for k, b := range l.buckets {
		b.refill(now, l.rate, l.burst)
		if b.tokens >= l.burst {
			delete(l.buckets, k)
		}
	}
}
