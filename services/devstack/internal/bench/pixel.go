package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
)

// WriteKey is the write key the benchmarked tracker accepts.
const WriteKey = "wk_bench"

// batchSize is the number of events per batch request of the batch
// figure.
const batchSize = 50

// gif is a transparent 1x1 GIF, the answer of the bare pixel.
var gif = []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00!\xf9\x04" +
	"\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")

// ServePixel serves the bare pixel on addr until ctx ends: a net/http
// handler that answers every request with the GIF and nothing else. It
// is the ceiling of what an HTTP pixel can do on this machine.
func ServePixel(ctx context.Context, addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(barePixel), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.Serve(l); err != http.ErrServerClosed {
		return fmt.Errorf("serve bare pixel: %w", err)
	}
	return nil
}

func barePixel(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "image/gif")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(gif)
}

// pixelSuite compares the tracker's pixel with the bare pixel, both in
// their own process, under the same closed-loop load.
func (b *Bench) pixelSuite(ctx context.Context) error {
	bare, err := b.barePixelRate(ctx)
	if err != nil {
		return err
	}
	b.refs[refPixel] = bare
	tr, err := b.startTracker(ctx, b.topicSet())
	if err != nil {
		return err
	}
	defer tr.child.Stop(10 * time.Second)
	res, err := b.load(ctx, tr.pixelRequest)
	if err != nil {
		return fmt.Errorf("load tracker pixel: %w", err)
	}
	b.report.Add(Figure{Group: "tracker", Name: "tracker pixel", Value: res.Rate(),
		Unit: "req/s", Reference: bare, RefName: "bare net/http GIF handler, own process",
		Target: &Target{Ratio: true, Bound: 0.6}, Note: b.loadNote(res)})
	b.addRSS("tracker", "pixel load", tr.child)
	return nil
}

func (b *Bench) barePixelRate(ctx context.Context) (float64, error) {
	addr, err := freeAddr()
	if err != nil {
		return 0, err
	}
	c, err := StartChild("bare-pixel", b.cfg.Self, b.logDir(),
		[]string{"serve-pixel", "--http-addr", addr}, nil)
	if err != nil {
		return 0, err
	}
	defer c.Stop(5 * time.Second)
	if err := c.WaitHTTP(ctx, "http://"+addr+"/p.gif"); err != nil {
		return 0, err
	}
	res, err := b.load(ctx, func(w, n int) (*http.Request, error) {
		return http.NewRequest(http.MethodGet, "http://"+addr+"/p.gif?"+pixelQuery(w, n), nil)
	})
	if err != nil {
		return 0, fmt.Errorf("load bare pixel: %w", err)
	}
	return res.Rate(), nil
}

// load runs the closed-loop load of the run's settings.
func (b *Bench) load(ctx context.Context, req func(w, n int) (*http.Request, error)) (
	LoadResult, error) {
	warm := pick(b.cfg.Quick, 500*time.Millisecond, 2*time.Second)
	return Load{Workers: b.cfg.Workers, Warmup: warm, Duration: b.cfg.Duration, Request: req,
		Status: http.StatusOK}.Run(ctx)
}

func (b *Bench) loadNote(res LoadResult) string {
	return fmt.Sprintf("%d workers, keep-alive, %.0fs counted, %d failed", b.cfg.Workers,
		res.Seconds, res.Failed)
}

// pixelQuery is a page view as the snippet would report it.
func pixelQuery(w, n int) string {
	q := url.Values{}
	q.Set("k", WriteKey)
	q.Set("e", "page_view")
	q.Set("aid", "a-"+strconv.Itoa(w*100000+n%1000))
	q.Set("eid", fmt.Sprintf("px-%d-%d", w, n))
	q.Set("url", "https://example.com/blog/lead-scoring-101")
	q.Set("ts", strconv.FormatInt(time.Now().UnixMilli(), 10))
	return q.Encode()
}

// batchSuite measures the tracker's batch API in events per second
// against raw Kafka produce.
func (b *Bench) batchSuite(ctx context.Context) error {
	tr, err := b.startTracker(ctx, b.topicSet())
	if err != nil {
		return err
	}
	defer tr.child.Stop(10 * time.Second)
	mix := NewMix(b.name("batch"), time.Now().Add(-time.Hour).UnixMilli())
	res, err := Load{Workers: b.cfg.Workers, Warmup: time.Second, Duration: b.cfg.Duration,
		Status: http.StatusAccepted, Request: func(w, n int) (*http.Request, error) {
			return tr.batchRequest(mix, w*1_000_000+n*batchSize)
		}}.Run(ctx)
	if err != nil {
		return fmt.Errorf("load tracker batch: %w", err)
	}
	f := Figure{Group: "tracker", Name: "tracker batch", Value: res.Rate() * batchSize,
		Unit: "ev/s", Target: &Target{Bound: 100_000},
		Note: fmt.Sprintf("%d events per request; ", batchSize) + b.loadNote(res)}
	if ref := b.refs[refProduce]; ref > 0 {
		f.Reference, f.RefName = ref, "raw franz-go produce, same broker"
	}
	b.report.Add(f)
	b.addRSS("tracker", "batch load", tr.child)
	return nil
}

// batchRequest returns a batch of page views and downloads of distinct
// visitors, numbered from first.
func (t *service) batchRequest(mix *Mix, first int) (*http.Request, error) {
	events := make([]map[string]any, batchSize)
	for i := range events {
		events[i] = jsonEvent(mix.event("page_view", fmt.Sprintf("a-%d", (first+i)%50000), "",
			time.Now().UnixMilli(), "https://example.com/blog/post-"+strconv.Itoa(i)))
	}
	return t.post(events)
}

// post returns the batch request of events.
func (t *service) post(events []map[string]any) (*http.Request, error) {
	body, err := json.Marshal(map[string]any{"write_key": WriteKey, "events": events})
	if err != nil {
		return nil, fmt.Errorf("encode batch: %w", err)
	}
	req, err := http.NewRequest(http.MethodPost, t.url+"/v1/events", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	return req, nil
}

// jsonEvent is ev as the batch API takes it.
func jsonEvent(ev *leadstreamv1.Event) map[string]any {
	m := map[string]any{"id": ev.GetId(), "type": ev.GetType(),
		"timestamp": time.UnixMilli(ev.GetOccurredAtUnixMs()).UTC().Format(time.RFC3339Nano),
		"url":       ev.GetUrl()}
	if ev.GetAnonymousId() != "" {
		m["anonymous_id"] = ev.GetAnonymousId()
	}
	if ev.GetLeadId() != "" {
		m["lead_id"] = ev.GetLeadId()
	}
	if len(ev.GetProperties()) > 0 {
		m["properties"] = ev.GetProperties()
	}
	if len(ev.GetTraits()) > 0 {
		m["traits"] = ev.GetTraits()
	}
	return m
}

func (t *service) pixelRequest(w, n int) (*http.Request, error) {
	return http.NewRequest(http.MethodGet, t.url+"/p.gif?"+pixelQuery(w, n), nil)
}
