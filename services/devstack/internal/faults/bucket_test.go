package faults

import (
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// TestSlowBucketNamed checks that a histogram with the scorer's script
// buckets has one named slowBucket, so that the redis-slow-and-down check
// reads a bucket and not a missing sample (which reads as 0).
func TestSlowBucketNamed(t *testing.T) {
	reg := prometheus.NewRegistry()
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: scriptHist,
		Buckets: prometheus.ExponentialBuckets(0.0001, 2, 14)}, []string{"script"})
	reg.MustRegister(h)
	h.WithLabelValues("apply").Observe(0.001)
	h.WithLabelValues("apply").Observe(0.05)
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	p := &proc{name: "scorer", httpAddr: srv.Listener.Addr().String()}
	slow, err := slowFrom(t.Context(), p)
	if err != nil || slow != 1 {
		t.Fatalf("slowFrom = %g, %v; want 1 slow script of 2", slow, err)
	}
}
