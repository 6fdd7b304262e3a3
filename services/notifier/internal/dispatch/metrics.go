package dispatch

import "github.com/prometheus/client_golang/prometheus"

// Delivery outcomes, the values of the outcome label.
const (
	outcomeDelivered = "delivered"
	outcomeScheduled = "retry_scheduled"
	outcomeParked    = "parked"
	outcomeDuplicate = "duplicate"
)

// Metrics are the notifier's Prometheus series. Labels are bounded: sink
// names come from the sinks file.
type Metrics struct {
	deliveries *prometheus.CounterVec
	attempts   *prometheus.CounterVec
	latency    *prometheus.HistogramVec
	parked     *prometheus.CounterVec
	backlog    *prometheus.GaugeVec
	inFlight   prometheus.Gauge
	// fetchErrors counts fetches that failed and were retried.
	fetchErrors prometheus.Counter
}

// NewMetrics registers the series on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "leadstream_notifier_deliveries_total",
			Help: "Transitions handled per sink, by outcome: " +
				"delivered, retry_scheduled, parked, duplicate.",
		}, []string{"sink", "outcome"}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "leadstream_notifier_attempts_total",
			Help: "Delivery attempts per sink, by result: ok or error.",
		}, []string{"sink", "result"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "leadstream_notifier_delivery_duration_seconds",
			Help:    "Duration of one delivery attempt per sink.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2.5, 10),
		}, []string{"sink"}),
		parked: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "leadstream_notifier_parked_total",
			Help: "Transitions written to the parked topic after their last attempt, per sink.",
		}, []string{"sink"}),
		backlog: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "leadstream_notifier_retry_backlog_deliveries",
			Help: "Deliveries waiting in the retry queue per sink.",
		}, []string{"sink"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "leadstream_notifier_in_flight_transitions",
			Help: "Transitions read from Kafka and not yet delivered, queued or parked.",
		}),
		fetchErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "leadstream_notifier_fetch_errors_total",
			Help: "Fetches from Kafka that failed and were retried after a backoff.",
		}),
	}
	reg.MustRegister(m.deliveries, m.attempts, m.latency, m.parked, m.backlog, m.inFlight,
		m.fetchErrors)
	return m
}
