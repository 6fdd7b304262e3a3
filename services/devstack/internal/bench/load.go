package bench

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Load is a closed-loop HTTP load: Workers goroutines each send their
// next request as soon as the previous one is answered, over keep-alive
// connections, for Duration after a Warmup that is not counted.
type Load struct {
	// Workers is the number of concurrent requests.
	Workers int
	// Warmup runs before counting starts.
	Warmup time.Duration
	// Duration is how long requests are counted.
	Duration time.Duration
	// Request builds the n-th request of a worker.
	Request func(worker, n int) (*http.Request, error)
	// Status is the answer that counts as success.
	Status int
}

// LoadResult is what a Load measured.
type LoadResult struct {
	// OK and Failed count the answered requests in the counted window.
	OK, Failed int64
	// Seconds is the length of the counted window.
	Seconds float64
}

// Rate returns successful requests per second.
func (r LoadResult) Rate() float64 {
	if r.Seconds == 0 {
		return 0
	}
	return float64(r.OK) / r.Seconds
}

// NewClient returns an HTTP client that keeps up to conns connections
// alive to one host.
func NewClient(conns int) *http.Client {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     conns,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// Run runs the load and counts the answers of the counted window.
func (l Load) Run(ctx context.Context) (LoadResult, error) {
	cl := NewClient(l.Workers)
	defer cl.CloseIdleConnections()
	var counting atomic.Bool
	var ok, failed atomic.Int64
	var firstErr atomic.Value
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var wg sync.WaitGroup
	for w := range l.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ctx.Err() == nil; n++ {
				err := l.once(ctx, cl, w, n)
				switch {
				case !counting.Load() || ctx.Err() != nil:
				case err != nil:
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err)
				default:
					ok.Add(1)
				}
			}
		}()
	}
	sleep(ctx, l.Warmup)
	counting.Store(true)
	start := time.Now()
	sleep(ctx, l.Duration)
	res := LoadResult{OK: ok.Load(), Failed: failed.Load(), Seconds: time.Since(start).Seconds()}
	counting.Store(false)
	cancel()
	wg.Wait()
	if res.OK == 0 {
		err, _ := firstErr.Load().(error)
		return res, fmt.Errorf("no request succeeded: %w", err)
	}
	return res, parent.Err()
}

// once sends one request and drains its answer so the connection is
// reused.
func (l Load) once(ctx context.Context, cl *http.Client, w, n int) error {
	req, err := l.Request(w, n)
	if err != nil {
		return err
	}
	resp, err := cl.Do(req.WithContext(ctx))
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != l.Status {
		return fmt.Errorf("%s: status %d", req.URL.Path, resp.StatusCode)
	}
	return nil
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
