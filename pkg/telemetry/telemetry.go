// Package telemetry serves the operational endpoints every service has:
// /healthz (the process is alive), /readyz (its dependencies answer) and
// /metrics (Prometheus), and on request Go's profiles under /debug/pprof/.
package telemetry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"
)

// Check reports whether one dependency is usable; nil means ready.
type Check func(ctx context.Context) error

// Server serves the operational endpoints and holds the metrics registry.
type Server struct {
	// Registry is where the service registers its metrics; it already
	// holds the Go runtime and process collectors.
	Registry *prometheus.Registry
	// Profiling serves Go's profiles (CPU, heap, goroutines, traces)
	// under /debug/pprof/ beside the other endpoints. A CPU profile costs
	// the process some speed while it is taken, and the endpoints show
	// the program's internals, so it is off unless asked for.
	Profiling bool

	log      *zap.Logger
	mu       sync.Mutex
	checks   map[string]Check // guarded by mu
	draining bool             // guarded by mu
}

// New returns a Server with a fresh registry.
func New(log *zap.Logger) *Server {
	if log == nil {
		log = zap.NewNop()
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return &Server{Registry: reg, log: log, checks: map[string]Check{}}
}

// AddCheck adds a readiness check under name.
func (s *Server) AddCheck(name string, c Check) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checks[name] = c
}

// Drain makes /readyz fail from now on, so load balancers stop sending
// traffic while the service finishes what it has.
func (s *Server) Drain() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.draining = true
}

// Handler returns the mux with the three endpoints; services may mount
// it beside their own routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	s.Mount(mux)
	return mux
}

// Mount adds the three endpoints to mux.
func (s *Server) Mount(mux *http.ServeMux) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", s.serveReady)
	metrics := promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{Registry: s.Registry})
	mux.Handle("GET /metrics", metrics)
	if s.Profiling {
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
}

// Ready runs every check and returns the failures by name.
func (s *Server) Ready(ctx context.Context) map[string]string {
	s.mu.Lock()
	checks := make(map[string]Check, len(s.checks))
	for n, c := range s.checks {
		checks[n] = c
	}
	draining := s.draining
	s.mu.Unlock()

	failed := map[string]string{}
	if draining {
		failed["shutdown"] = "draining"
	}
	for name, check := range checks {
		if err := check(ctx); err != nil {
			failed[name] = err.Error()
		}
	}
	return failed
}

func (s *Server) serveReady(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	failed := s.Ready(ctx)
	w.Header().Set("Content-Type", "application/json")
	if len(failed) > 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"ready": len(failed) == 0, "failing": failed})
}

// Serve listens on addr and serves h until ctx ends, then shuts down
// within the grace period.
func Serve(ctx context.Context, log *zap.Logger, addr string, h http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	return ServeListener(ctx, log, ln, h)
}

// ServeListener serves h on ln until ctx ends. A nil log is silent.
func ServeListener(ctx context.Context, log *zap.Logger, ln net.Listener, h http.Handler) error {
	if log == nil {
		log = zap.NewNop()
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("http listening", zap.String("addr", ln.Addr().String()))

	select {
	case err := <-errc:
		return fmt.Errorf("serve http: %w", err)
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shut down http: %w", err)
	}
	return nil
}
