package collector

import (
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// Route labels; one per endpoint, so the label stays bounded.
const (
	routePixel   = "pixel"
	routeSnippet = "snippet"
	routeEvents  = "events"
	routeCORS    = "events_preflight"
)

type metrics struct {
	requests *prometheus.CounterVec
	accepted *prometheus.CounterVec
	rejected *prometheus.CounterVec
	bots     *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "leadstream_tracker_requests_total",
			Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		accepted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "leadstream_tracker_events_accepted_total",
			Help: "Events accepted for the events topic, by source.",
		}, []string{"source"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "leadstream_tracker_events_rejected_total",
			Help: "Events refused, by reason.",
		}, []string{"reason"}),
		bots: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "leadstream_tracker_bots_filtered_total",
			Help: "Events from bot user agents, answered but not produced, by source.",
		}, []string{"source"}),
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.accepted, m.rejected, m.bots)
	}
	return m
}

// statusRecorder remembers the status a handler wrote, for the requests
// counter.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.code == 0 {
		s.code = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// counted wraps h so that every answer is counted under route.
func (m *metrics) counted(route string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w}
		h(rec, r)
		if rec.code == 0 {
			rec.code = http.StatusOK
		}
		m.requests.WithLabelValues(route, strconv.Itoa(rec.code)).Inc()
	}
}
