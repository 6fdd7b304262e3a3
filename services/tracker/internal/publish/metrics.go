package publish

import "github.com/prometheus/client_golang/prometheus"

// Paths label the produce latency: the batch API waits for Kafka, the
// pixel does not.
const (
	pathBatch = "batch"
	pathPixel = "pixel"
)

type metrics struct {
	latency *prometheus.HistogramVec
	// batchLatency is latency's batch series, looked up once since every
	// batch record observes it.
	batchLatency prometheus.Observer
	pending      prometheus.Gauge
	dropped      prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, capacity int) *metrics {
	m := &metrics{
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "leadstream_tracker_produce_duration_seconds",
			Help:    "Time from handing an event to the producer to Kafka's acknowledgement.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"path"}),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "leadstream_tracker_pixel_buffer_events",
			Help: "Pixel events accepted and not yet acknowledged by Kafka.",
		}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "leadstream_tracker_events_dropped_total",
			Help: "Accepted pixel events that Kafka never acknowledged (lost).",
		}),
	}
	m.batchLatency = m.latency.WithLabelValues(pathBatch)
	capGauge := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "leadstream_tracker_pixel_buffer_capacity_events",
		Help: "How many pixel events the buffer holds before answering 503.",
	})
	capGauge.Set(float64(capacity))
	if reg != nil {
		reg.MustRegister(m.latency, m.pending, m.dropped, capGauge)
	}
	return m
}
