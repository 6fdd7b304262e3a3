package collector

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
	"github.com/leadstream/leadstream/services/tracker/internal/sites"
	"github.com/leadstream/leadstream/services/tracker/internal/tracking"
)

// discard is a Publisher that drops every event, so the benchmarks
// measure the HTTP handling alone.
type discard struct{}

var _ Publisher = discard{}

func (discard) Produce(context.Context, []*leadstreamv1.Event) error { return nil }
func (discard) Enqueue(*leadstreamv1.Event) error                    { return nil }

func benchMux(b *testing.B) *http.ServeMux {
	b.Helper()
	reg, err := sites.New(sites.Site{Name: "bench", WriteKey: "wk_bench"})
	if err != nil {
		b.Fatal(err)
	}
	c := New(Options{Sites: reg, Publisher: discard{}, MaxBodyBytes: 512 << 10,
		Policy: tracking.Policy{Limits: tracking.DefaultLimits(), Skew: 5 * time.Minute,
			MaxAge: 720 * time.Hour}})
	mux := http.NewServeMux()
	c.Mount(mux)
	return mux
}

// BenchmarkServePixel is the tracker's work for one pixel request, from
// the parsed request to the written GIF, without the network.
func BenchmarkServePixel(b *testing.B) {
	mux := benchMux(b)
	ts := time.Now().UnixMilli()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		target := fmt.Sprintf("/p.gif?k=wk_bench&e=page_view&aid=a-%d&eid=px-%d"+
			"&url=https%%3A%%2F%%2Fexample.com%%2Fblog%%2Fpost&ts=%d", i%1000, i, ts)
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
		if rec.Code != http.StatusOK {
			b.Fatalf("pixel answered %d: %s", rec.Code, rec.Body)
		}
	}
}

// BenchmarkServeBatch is the tracker's work for a batch of 50 page views,
// without the network; ns/op divided by 50 is the cost per event.
func BenchmarkServeBatch(b *testing.B) {
	mux := benchMux(b)
	var sb strings.Builder
	sb.WriteString(`{"write_key":"wk_bench","events":[`)
	ts := time.Now().UTC().Format(time.RFC3339)
	for i := range 50 {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"id":"0190f0a2-7c1e-7b3a-9d4e-%012d","type":"page_view",`+
			`"anonymous_id":"a-%d","timestamp":%q,"url":"https://example.com/blog/p%d",`+
			`"properties":{"utm_source":"newsletter"}}`, i, i, ts, i)
	}
	sb.WriteString(`]}`)
	body := sb.String()
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/v1/events", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		mux.ServeHTTP(rec, req)
		if rec.Code != http.StatusAccepted {
			b.Fatalf("batch answered %d: %s", rec.Code, rec.Body)
		}
	}
}
