package telemetry_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/leadstream/leadstream/pkg/telemetry"
)

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	body, _ := io.ReadAll(rec.Body)
	return rec.Code, string(body)
}

func TestEndpoints(t *testing.T) {
	s := telemetry.New(nil)
	hits := prometheus.NewCounter(prometheus.CounterOpts{Name: "leadstream_test_hits_total",
		Help: "hits"})
	s.Registry.MustRegister(hits)
	hits.Inc()
	broken := errors.New("redis down")
	var redisErr error
	s.AddCheck("redis", func(context.Context) error { return redisErr })
	h := s.Handler()

	if code, _ := get(t, h, "/healthz"); code != http.StatusOK {
		t.Errorf("healthz = %d", code)
	}
	if code, _ := get(t, h, "/readyz"); code != http.StatusOK {
		t.Errorf("readyz while ready = %d", code)
	}
	redisErr = broken
	code, body := get(t, h, "/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "redis down") {
		t.Errorf("readyz with a failing check = %d %s", code, body)
	}
	redisErr = nil
	s.Drain()
	code, body = get(t, h, "/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "draining") {
		t.Errorf("readyz while draining = %d %s", code, body)
	}
	if _, body := get(t, h, "/metrics"); !strings.Contains(body, "leadstream_test_hits_total 1") {
		t.Errorf("metrics lack the counter:\n%s", body)
	}
}

func TestServeStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- telemetry.Serve(ctx, nil, "127.0.0.1:0", http.NotFoundHandler()) }()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve after cancel: %v", err)
	}
}

// TestProfiling serves the profiles only when asked to.
func TestProfiling(t *testing.T) {
	off := telemetry.New(nil)
	code, _ := get(t, off.Handler(), "/debug/pprof/goroutine?debug=1")
	if code != http.StatusNotFound {
		t.Errorf("profiles off: goroutine profile = %d, want 404", code)
	}
	on := telemetry.New(nil)
	on.Profiling = true
	h := on.Handler()
	code, body := get(t, h, "/debug/pprof/goroutine?debug=1")
	if code != http.StatusOK || !strings.Contains(body, "TestProfiling") {
		t.Errorf("profiles on: goroutine profile = %d, lacks this test:\n%.300s", code, body)
	}
	code, body = get(t, h, "/debug/pprof/")
	if code != http.StatusOK || !strings.Contains(body, "heap") {
		t.Errorf("profiles on: index = %d %.300s", code, body)
	}
}
