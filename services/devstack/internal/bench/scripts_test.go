package bench

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// scorerMetrics serves a registry with the scorer's script histogram
// after observing calls[script] calls of each script.
func scorerMetrics(t *testing.T, calls map[string]int) *service {
	t.Helper()
	reg := prometheus.NewRegistry()
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: scriptMetric},
		[]string{"script"})
	reg.MustRegister(h)
	for script, n := range calls {
		for range n {
			h.WithLabelValues(script).Observe(0.001)
		}
	}
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	t.Cleanup(srv.Close)
	return &service{url: srv.URL}
}

func TestScriptCallsAddsUpScorers(t *testing.T) {
	procs := []*service{
		scorerMetrics(t, map[string]int{"apply": 7, "link": 2}),
		scorerMetrics(t, map[string]int{"apply": 3, "advance": 1}),
	}
	calls, err := scriptCalls(context.Background(), procs)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]uint64{"apply": 10, "link": 2, "advance": 1}
	if len(calls) != len(want) {
		t.Fatalf("calls = %v, want %v", calls, want)
	}
	for k, v := range want {
		if calls[k] != v {
			t.Fatalf("calls = %v, want %v", calls, want)
		}
	}
	got := callsPerEvent(calls, 20)
	if got != "lead store calls per event: advance 0.050, apply 0.500, link 0.100" {
		t.Fatalf("callsPerEvent = %q", got)
	}
}

func TestScriptCallsWantsTheScriptMetric(t *testing.T) {
	srv := scorerMetrics(t, nil) // a histogram vector with no series is not served
	if _, err := scriptCalls(context.Background(), []*service{srv}); err == nil {
		t.Fatal("no error for metrics without the script histogram")
	}
}
