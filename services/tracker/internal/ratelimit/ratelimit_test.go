package ratelimit

import (
	"testing"
	"time"
)

type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time { return c.now }

func TestLimiter(t *testing.T) {
	cases := []struct {
		name       string
		rate       float64
		burst      int
		wait       time.Duration
		requests   int
		wantAllows int
	}{
		{"burst then refuse", 10, 5, 0, 8, 5},
		{"refill over time", 10, 5, 100 * time.Millisecond, 8, 6},
		{"disabled", 0, 1, 0, 100, 100},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clock := &fakeClock{now: time.Unix(1000, 0)}
			l := New(tc.rate, tc.burst, clock.Now)
			allowed := 0
			for i := range tc.requests {
				if i == tc.burst {
					clock.now = clock.now.Add(tc.wait)
				}
				if l.Allow("wk|1.2.3.4") {
					allowed++
				}
			}
			if allowed != tc.wantAllows {
				t.Errorf("allowed %d of %d, want %d", allowed, tc.requests, tc.wantAllows)
			}
		})
	}
}

func TestLimiterIsPerClient(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1000, 0)}
	l := New(1, 1, clock.Now)
	if !l.Allow("a") || l.Allow("a") || !l.Allow("b") {
		t.Fatal("clients share a bucket")
	}
}

func TestLimiterForgetsIdleClients(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1000, 0)}
	l := New(10, 2, clock.Now)
	l.Allow("a")
	l.Allow("b")
	clock.now = clock.now.Add(2 * sweepEvery)
	l.Allow("c")
	if n := l.Clients(); n != 1 {
		t.Errorf("Clients() = %d after sweep, want 1", n)
	}
}
