package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Latency settings: p99Limit is the bound of a sustained rate, tick the
// pacing interval, senders the concurrent batch requests.
const (
	p99Limit = 100 * time.Millisecond
	tick     = 10 * time.Millisecond
	senders  = 32
)

// LatencyStep is what one rate step of the latency suite measured.
type LatencyStep struct {
	// Rate is the offered rate, events per second.
	Rate int `json:"rate"`
	// Sent and Received count events sent and transitions that arrived.
	Sent     int `json:"sent"`
	Received int `json:"received"`
	// Refused counts events the tracker did not accept, Behind the
	// events the generator could not send on time.
	Refused int `json:"refused"`
	Behind  int `json:"behind"`
	// P50, P99 and Max are latencies in milliseconds.
	P50 float64 `json:"p50_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
	// KafkaP50 and KafkaP99 are the latencies up to the transition's
	// appearance in the transitions topic: the tracker's and the
	// scorer's share.
	KafkaP50 float64 `json:"kafka_p50_ms"`
	KafkaP99 float64 `json:"kafka_p99_ms"`
}

// sustained reports whether the step kept up within the p99 bound.
func (s LatencyStep) sustained() bool {
	return s.Sent > 0 && s.Received >= s.Sent*99/100 && s.Behind == 0 &&
		s.P99 < float64(p99Limit.Milliseconds())
}

// pipeline is the whole chain the latency suite drives.
type pipeline struct {
	tracker, scorer, notifier *service
	rcv                       *receiver
	watch                     *watcher
	mix                       *Mix
	next                      atomic.Int64 // numbers the samples
}

func (p *pipeline) stop() {
	for _, s := range []*service{p.tracker, p.scorer, p.notifier} {
		if s != nil {
			s.child.Stop(20 * time.Second)
		}
	}
	if p.rcv != nil {
		p.rcv.close()
	}
	if p.watch != nil {
		p.watch.close()
	}
}

// latencySuite sends contact-me form submits, each making a new lead an
// SQL at once, at fixed rates into the tracker's batch API and measures
// the time from sending each event to its transition reaching the
// webhook receiver.
func (b *Bench) latencySuite(ctx context.Context) error {
	p, err := b.startPipeline(ctx)
	if err != nil {
		return err
	}
	defer p.stop()
	if _, err := b.step(ctx, p, 50, time.Second); err != nil {
		return fmt.Errorf("warm up: %w", err)
	}
	best, saturated := 0, 0
	for _, rate := range b.cfg.Rates {
		if saturated > 0 {
			// A saturated pipeline carries a backlog into every later step,
			// so their figures would measure the backlog, not the rate.
			b.report.Missing("latency", fmt.Sprintf("e2e p99 @%d/s", rate),
				fmt.Sprintf("not run: at %d/s the backlog did not drain", saturated))
			continue
		}
		st, err := b.step(ctx, p, rate, pick(b.cfg.Quick, 3*time.Second, 6*time.Second))
		if err != nil {
			return err
		}
		b.report.Latency = append(b.report.Latency, st)
		b.addLatency(st)
		if st.sustained() {
			best = max(best, rate)
		}
		if st.Received < st.Sent {
			saturated = rate
		}
	}
	b.report.Add(Figure{Group: "latency", Name: "highest rate with p99 < 100 ms",
		Value: float64(best), Unit: "ev/s",
		Note: fmt.Sprintf("of the steps %v; 99%% delivered, none refused", b.cfg.Rates)})
	return nil
}

func (b *Bench) addLatency(st LatencyStep) {
	note := fmt.Sprintf("sent %d, arrived %d, refused %d, behind %d; up to the "+
		"transitions topic p50 %.1f ms, p99 %.1f ms", st.Sent, st.Received, st.Refused,
		st.Behind, st.KafkaP50, st.KafkaP99)
	if st.Received < st.Sent {
		note += "; events that never arrived count as the wait: lower bounds"
	}
	var target *Target
	if st.Rate == 2000 {
		target = &Target{AtMost: true, Bound: 50}
	}
	b.report.Add(
		Figure{Group: "latency", Name: fmt.Sprintf("e2e p50 @%d/s", st.Rate), Value: st.P50,
			Unit: "ms"},
		Figure{Group: "latency", Name: fmt.Sprintf("e2e p99 @%d/s", st.Rate), Value: st.P99,
			Unit: "ms", Target: target, Note: note},
		Figure{Group: "latency", Name: fmt.Sprintf("e2e max @%d/s", st.Rate), Value: st.Max,
			Unit: "ms"},
	)
}

func (b *Bench) startPipeline(ctx context.Context) (*pipeline, error) {
	ts := b.topicSet()
	if err := b.createTopics(ctx, ts); err != nil {
		return nil, err
	}
	p := &pipeline{mix: NewMix(b.name("e2e"), 0)}
	var err error
	if p.rcv, err = startReceiver(); err != nil {
		return nil, err
	}
	if p.watch, err = b.startWatcher(ts.transitions); err != nil {
		p.stop()
		return nil, err
	}
	if p.tracker, err = b.startTracker(ctx, ts); err == nil {
		p.scorer, err = b.startScorer(ctx, ts, b.name("scorer"), b.name("ls"), 1)
	}
	if err == nil {
		p.notifier, err = b.startNotifier(ctx, ts, p.rcv.url, "sql")
	}
	if err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

// sample is one event sent.
type sample struct {
	id   string
	sent time.Time
}

// step sends rate events per second for d, waits for their transitions
// and returns the latencies.
func (b *Bench) step(ctx context.Context, p *pipeline, rate int, d time.Duration) (
	LatencyStep, error) {
	st := LatencyStep{Rate: rate}
	samples, refused, behind := b.pace(ctx, p, rate, d)
	st.Sent, st.Refused, st.Behind = len(samples), refused, behind
	lat := collect(ctx, p.rcv, samples, 10*time.Second)
	if len(lat) == 0 {
		return st, fmt.Errorf("rate %d/s: none of %d events arrived", rate, len(samples))
	}
	st.Received = len(lat)
	lat = withMissing(lat, samples, time.Now())
	st.P50, st.P99, st.Max = quantile(lat, 0.50), quantile(lat, 0.99), lat[len(lat)-1]
	kl := collect(ctx, p.watch, samples, time.Second)
	st.KafkaP50, st.KafkaP99 = quantile(kl, 0.50), quantile(kl, 0.99)
	b.log.Sugar().Infof("latency step %d/s: sent %d arrived %d p50 %.1fms p99 %.1fms "+
		"(to kafka p50 %.1fms p99 %.1fms)", rate, st.Sent, st.Received, st.P50, st.P99,
		st.KafkaP50, st.KafkaP99)
	return st, nil
}

// pace sends events at rate for d: every tick the events due so far, in
// batches of up to batchSize, handed to senders. An event the senders
// cannot take at once counts as behind: the generator stays open-loop.
func (b *Bench) pace(ctx context.Context, p *pipeline, rate int, d time.Duration) (
	[]sample, int, int) {
	jobs := make(chan int, senders*4)
	var mu sync.Mutex
	var samples []sample
	var refused atomic.Int64
	cl := NewClient(senders)
	defer cl.CloseIdleConnections()
	var wg sync.WaitGroup
	for range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range jobs {
				got, bad := p.send(ctx, cl, n)
				mu.Lock()
				samples = append(samples, got...)
				mu.Unlock()
				refused.Add(int64(bad))
			}
		}()
	}
	behind := issue(ctx, jobs, rate, d)
	close(jobs)
	wg.Wait()
	return samples, int(refused.Load()), behind
}

// issue queues batch sizes at rate for d and returns how many events
// could not be queued in time.
func issue(ctx context.Context, jobs chan<- int, rate int, d time.Duration) int {
	t := time.NewTicker(tick)
	defer t.Stop()
	start, issued, behind := time.Now(), 0, 0
	for now := range t.C {
		el := now.Sub(start)
		if el > d || ctx.Err() != nil {
			return behind
		}
		due := int(float64(rate)*el.Seconds()) - issued
		for due > 0 {
			n := min(due, batchSize)
			select {
			case jobs <- n:
			default:
				behind += n
			}
			due -= n
			issued += n
		}
	}
	return behind
}

// send posts n contact-me events in one batch and returns them as
// samples, or the count refused.
func (p *pipeline) send(ctx context.Context, cl *http.Client, n int) ([]sample, int) {
	now := time.Now()
	events := make([]map[string]any, n)
	out := make([]sample, n)
	for i := range events {
		ev := p.mix.ContactMe(int(p.next.Add(1)), now.UnixMilli())
		events[i] = jsonEvent(ev)
		out[i] = sample{id: ev.GetId(), sent: now}
	}
	req, err := p.tracker.post(events)
	if err != nil {
		return nil, n
	}
	resp, err := cl.Do(req.WithContext(ctx))
	if err != nil {
		return nil, n
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return nil, n
	}
	return out, 0
}

// arrivals tells when the outcome of an event was seen.
type arrivals interface {
	arrival(eventID string) (time.Time, bool)
}

var (
	_ arrivals = (*receiver)(nil)
	_ arrivals = (*watcher)(nil)
)

// collect waits until every sample's transition arrived, wait passed
// since the last arrival or three times wait in all, and returns the
// latencies in ms, sorted.
func collect(ctx context.Context, rcv arrivals, samples []sample, wait time.Duration) []float64 {
	deadline, limit := time.Now().Add(wait), time.Now().Add(3*wait)
	var lat []float64
	pending := samples
	for len(pending) > 0 && ctx.Err() == nil {
		if now := time.Now(); now.After(deadline) || now.After(limit) {
			break
		}
		var rest []sample
		for _, s := range pending {
			if at, ok := rcv.arrival(s.id); ok {
				lat = append(lat, float64(at.Sub(s.sent).Microseconds())/1000)
				deadline = time.Now().Add(wait)
			} else {
				rest = append(rest, s)
			}
		}
		pending = rest
		time.Sleep(20 * time.Millisecond)
	}
	sort.Float64s(lat)
	return lat
}

// withMissing adds, for each sample that never arrived, the time from
// the last send to gaveUp: a lower bound of its latency, so that the
// quantiles of a saturated step are lower bounds rather than the
// latencies of the lucky survivors.
func withMissing(lat []float64, samples []sample, gaveUp time.Time) []float64 {
	missing := len(samples) - len(lat)
	if missing <= 0 {
		return lat
	}
	var last time.Time
	for _, s := range samples {
		if s.sent.After(last) {
			last = s.sent
		}
	}
	bound := float64(gaveUp.Sub(last).Microseconds()) / 1000
	out := append(append([]float64(nil), lat...), make([]float64, missing)...)
	for i := len(lat); i < len(out); i++ {
		out[i] = bound
	}
	sort.Float64s(out)
	return out
}

// quantile returns the q-quantile of sorted values (nearest rank).
func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}
