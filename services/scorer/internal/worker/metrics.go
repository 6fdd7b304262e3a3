package worker

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Metrics are the scorer's Prometheus metrics.
type Metrics struct {
	events      *prometheus.CounterVec
	published   *prometheus.CounterVec
	batch       prometheus.Histogram
	script      *prometheus.HistogramVec
	pending     prometheus.Gauge
	partitions  prometheus.Gauge
	moves       *prometheus.CounterVec
	ruleReloads *prometheus.CounterVec
	lag         *prometheus.GaugeVec
}

// NewMetrics registers the scorer's metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "leadstream_scorer_events_total",
			Help: "Events processed, by outcome: applied, duplicate or poison.",
		}, []string{"outcome"}),
		published: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "leadstream_scorer_transitions_published_total",
			Help: "Transitions acknowledged by Kafka, by target stage.",
		}, []string{"to"}),
		batch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "leadstream_scorer_batch_duration_seconds",
			Help:    "Time from a poll to the commit of its offsets.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}),
		script: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "leadstream_scorer_redis_script_duration_seconds",
			Help:    "Latency of lead store scripts, by script.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 14),
		}, []string{"script"}),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "leadstream_scorer_pending_transitions",
			Help: "Transitions recorded in Redis and not yet acknowledged by Kafka.",
		}),
		partitions: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "leadstream_scorer_partitions_assigned",
			Help: "Event partitions this worker owns.",
		}),
		moves: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "leadstream_scorer_partition_changes_total",
			Help: "Event partitions this worker gained or gave up, by change: " +
				"assigned, revoked or lost.",
		}, []string{"change"}),
		ruleReloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "leadstream_scorer_rules_reloads_total",
			Help: "Rules reloads, by result: ok or refused.",
		}, []string{"result"}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "leadstream_scorer_consumer_lag_records",
			Help: "Events of an owned partition behind the last one polled: the high " +
				"watermark of the fetch that brought it less the offset after it.",
		}, []string{"partition"}),
	}
	reg.MustRegister(m.events, m.published, m.batch, m.script, m.pending, m.partitions,
		m.moves, m.ruleReloads, m.lag)
	return m
}

// observeLag sets the lag of each partition that fs brought records of.
// It costs a gauge update per partition and poll, and no request: the
// high watermark comes with every fetch.
func (m *Metrics) observeLag(fs kgo.Fetches) {
	fs.EachPartition(func(p kgo.FetchTopicPartition) {
		n := len(p.Records)
		if n == 0 || p.Err != nil {
			return
		}
		behind := p.HighWatermark - (p.Records[n-1].Offset + 1)
		m.lag.WithLabelValues(strconv.Itoa(int(p.Partition))).Set(float64(max(behind, 0)))
	})
}

// forgetLag drops the lag of partitions the worker gave up, so that a sum
// over the workers counts each partition once.
func (m *Metrics) forgetLag(parts map[string][]int32) {
	for _, ps := range parts {
		for _, p := range ps {
			m.lag.DeleteLabelValues(strconv.Itoa(int(p)))
		}
	}
}

// ObserveScript records the latency of one lead store script.
func (m *Metrics) ObserveScript(script string, d time.Duration) {
	m.script.WithLabelValues(script).Observe(d.Seconds())
}

// RulesReloaded counts a reload attempt.
func (m *Metrics) RulesReloaded(ok bool) {
	result := "ok"
	if !ok {
		result = "refused"
	}
	m.ruleReloads.WithLabelValues(result).Inc()
}
