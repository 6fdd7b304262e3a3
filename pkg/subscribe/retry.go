package subscribe

import (
	"math/rand/v2"
	"time"
)

// RetryPolicy says how often and how patiently a failed handler call is
// retried. The zero value means five attempts, starting at 200ms and
// doubling up to 30s.
type RetryPolicy struct {
	// MaxAttempts is the number of handler calls per transition,
	// including the first; 1 disables retries.
	MaxAttempts int
	// Base is the ceiling of the first wait; each attempt doubles it.
	Base time.Duration
	// Max caps every wait.
	Max time.Duration
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 5
	}
	if p.Base <= 0 {
		p.Base = 200 * time.Millisecond
	}
	if p.Max <= 0 {
		p.Max = 30 * time.Second
	}
	return p
}

// Backoff returns how long to wait after the given failed attempt
// (1-based): a uniformly random duration between zero and
// min(Max, Base*2^(attempt-1)), the "full jitter" scheme, which spreads
// the retries of many clients that failed together.
func Backoff(base, maxWait time.Duration, attempt int) time.Duration {
	ceiling := base
	for i := 1; i < attempt && ceiling < maxWait; i++ {
		ceiling *= 2
	}
	if ceiling > maxWait || ceiling <= 0 {
		ceiling = maxWait
	}
	if ceiling <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(ceiling) + 1))
}
