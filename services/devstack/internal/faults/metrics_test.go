package faults

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// metric returns the value of one sample of a service's /metrics, zero
// when the service does not report it yet (a counter vector reports a
// label only once it was counted). sample is the metric name with its
// labels as the text format writes them, e.g. `x_total{result="ok"}`.
func metric(ctx context.Context, p *proc, sample string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet,
		"http://"+p.httpAddr+"/metrics", nil)
	if err != nil {
		return 0, fmt.Errorf("read metrics of %s: %w", p.name, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("read metrics of %s: %w", p.name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("read metrics of %s: status %d", p.name, resp.StatusCode)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		value, ok := strings.CutPrefix(sc.Text(), sample+" ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			return 0, fmt.Errorf("read metric %s of %s: %w", sample, p.name, err)
		}
		return v, nil
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("read metrics of %s: %w", p.name, err)
	}
	return 0, nil
}

// slowApplies returns how many apply scripts the scorers ran that took
// longer than slowScript, from their script latency histograms.
func (s *stack) slowApplies(ctx context.Context) (float64, error) {
	var slow float64
	for _, p := range s.scorers {
		n, err := slowFrom(ctx, p)
		if err != nil {
			return 0, err
		}
		slow += n
	}
	return slow, nil
}

// slowScript is a bound of the scorer's script histogram (0.0001 * 2^7)
// that an apply script passes only when Redis is slow: the fault adds
// 80ms ± 40ms to every reply.
const slowScript = 0.0128

const scriptHist = `leadstream_scorer_redis_script_duration_seconds`

// slowFrom reads p's apply script histogram: its count less its largest
// bucket at or below slowScript.
func slowFrom(ctx context.Context, p *proc) (float64, error) {
	count, err := metric(ctx, p, scriptHist+`_count{script="apply"}`)
	if err != nil {
		return 0, err
	}
	fast, err := metric(ctx, p, scriptHist+`_bucket{script="apply",le="`+slowBucket+`"}`)
	if err != nil {
		return 0, err
	}
	return count - fast, nil
}

// slowBucket is slowScript as the text format names the bucket.
var slowBucket = strconv.FormatFloat(slowScript, 'g', -1, 64)

// owned waits until the live scorers own every partition of the events
// topic between them and each owns some: the group's last rebalance is
// over. (While a cooperative rebalance is under way the old members keep
// their partitions, so the sum alone would not tell.)
func (s *stack) owned(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		var n float64
		var err error
		idle := false
		for _, p := range s.scorers {
			v, e := metric(ctx, p, "leadstream_scorer_partitions_assigned")
			n, err, idle = n+v, errors.Join(err, e), idle || v == 0
		}
		if err == nil && n == eventPartitions && !idle {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("live scorers own %g of %d partitions after %s (%v): %w",
				n, eventPartitions, timeout, err, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
