// Package metrics holds a node's Prometheus metrics (client_golang), served at
// /metrics. Every method is safe on a nil *Metrics (metrics off).
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is one node's set of metrics and the registry that serves them.
type Metrics struct {
	reg         *prometheus.Registry
	requests    *prometheus.CounterVec
	reqSeconds  *prometheus.HistogramVec
	started     prometheus.Counter
	ended       *prometheus.CounterVec
	decisions   prometheus.Counter
	transitions prometheus.Counter
	conflicts   prometheus.Counter
	appendSecs  prometheus.Histogram
	timerLag    prometheus.Histogram
}

// New creates the metrics of a node and registers them, with the Go runtime's.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sfnd_api_requests_total", Help: "API requests by operation and HTTP status.",
	}, []string{"op", "status"})
	m.reqSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "sfnd_api_request_seconds", Help: "API request latency by operation.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10, 60},
	}, []string{"op"})
	m.started = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "sfnd_executions_started_total", Help: "Executions started (ExecutionStarted appended by this node).",
	})
	m.ended = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sfnd_executions_ended_total", Help: "Executions ended by this node, by final status.",
	}, []string{"status"})
	m.decisions = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "sfnd_decisions_total", Help: "Decisions appended to execution histories.",
	})
	m.transitions = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "sfnd_state_transitions_total", Help: "State transitions (history events appended).",
	})
	m.conflicts = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "sfnd_append_conflicts_total", Help: "History appends fenced by the expected-sequence check (another owner wrote).",
	})
	m.appendSecs = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "sfnd_history_append_seconds", Help: "Latency of one history append (one decision).",
		Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
	})
	m.timerLag = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "sfnd_timer_lag_seconds", Help: "How late a timer's firing reached its execution.",
		Buckets: []float64{.001, .005, .01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	})
	m.reg.MustRegister(m.requests, m.reqSeconds, m.started, m.ended, m.decisions, m.transitions,
		m.conflicts, m.appendSecs, m.timerLag,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Register adds a collector (gauges read at scrape time: resident actors, partition
// ownership, activity queue depth).
func (m *Metrics) Register(c prometheus.Collector) {
	if m != nil {
		m.reg.MustRegister(c)
	}
}

// Request counts one API call.
func (m *Metrics) Request(op string, status int, took time.Duration) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(op, strconv.Itoa(status)).Inc()
	m.reqSeconds.WithLabelValues(op).Observe(took.Seconds())
}

// Decision counts one appended decision of n events that took took to append.
func (m *Metrics) Decision(n int, took time.Duration) {
	if m == nil {
		return
	}
	m.decisions.Inc()
	m.transitions.Add(float64(n))
	m.appendSecs.Observe(took.Seconds())
}

// Conflict counts an append fenced by the expected-sequence check.
func (m *Metrics) Conflict() {
	if m != nil {
		m.conflicts.Inc()
	}
}

// Started counts an execution start.
func (m *Metrics) Started() {
	if m != nil {
		m.started.Inc()
	}
}

// Ended counts an execution's end with its final status.
func (m *Metrics) Ended(status string) {
	if m != nil {
		m.ended.WithLabelValues(status).Inc()
	}
}

// TimerLag records how late a timer fired.
func (m *Metrics) TimerLag(d time.Duration) {
	if m != nil {
		m.timerLag.Observe(max(d, 0).Seconds())
	}
}
