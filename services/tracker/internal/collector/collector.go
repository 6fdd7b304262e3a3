// Package collector serves the tracker's HTTP API: the pixel, the
// snippet and the batch endpoint. It checks write keys, origins and rate
// limits, turns requests into events with package tracking and hands
// them to a Publisher.
package collector

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
	"github.com/leadstream/leadstream/services/tracker/internal/ratelimit"
	"github.com/leadstream/leadstream/services/tracker/internal/sites"
	"github.com/leadstream/leadstream/services/tracker/internal/tracking"
)

// Publisher takes accepted events to Kafka.
type Publisher interface {
	// Produce returns once Kafka acknowledged every event.
	Produce(ctx context.Context, events []*leadstreamv1.Event) error
	// Enqueue takes one event for later delivery and returns at once.
	Enqueue(ev *leadstreamv1.Event) error
}

// Options configure a Collector.
type Options struct {
	Sites     *sites.Registry
	Policy    tracking.Policy
	Publisher Publisher
	// MaxBodyBytes bounds a batch body; past it the answer is 413.
	MaxBodyBytes int64
	// Limiter applies per write key and client address; nil admits all.
	Limiter *ratelimit.Limiter
	// TrustForwardedFor takes the client address from X-Forwarded-For,
	// for a tracker behind a proxy.
	TrustForwardedFor bool
	Registerer        prometheus.Registerer
	Log               *zap.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Collector is the HTTP API. It is safe for concurrent use.
type Collector struct {
	opts    Options
	log     *zap.Logger
	metrics *metrics
}

// New returns a Collector.
func New(opts Options) *Collector {
	if opts.Log == nil {
		opts.Log = zap.NewNop()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Limiter == nil {
		opts.Limiter = ratelimit.New(0, 0, nil)
	}
	return &Collector{opts: opts, log: opts.Log, metrics: newMetrics(opts.Registerer)}
}

// Mount adds the API's routes to mux.
func (c *Collector) Mount(mux *http.ServeMux) {
	mux.HandleFunc("GET /p.gif", c.metrics.counted(routePixel, c.servePixel))
	mux.HandleFunc("GET /t.js", c.metrics.counted(routeSnippet, serveSnippet))
	mux.HandleFunc("POST /v1/events", c.metrics.counted(routeEvents, c.serveEvents))
	mux.HandleFunc("OPTIONS /v1/events", c.metrics.counted(routeCORS, c.servePreflight))
}

func (c *Collector) servePixel(w http.ResponseWriter, r *http.Request) {
	key, raw, problems := tracking.ParsePixel(r.URL.Query())
	site := c.admit(w, r, key)
	if site == nil {
		return
	}
	if raw.URL == "" {
		raw.URL = r.Referer()
	}
	meta := tracking.Meta{Source: leadstreamv1.Source_SOURCE_PIXEL, Site: site.Name,
		ReceivedAt: c.opts.Now()}
	ev, more := c.opts.Policy.Build(0, raw, meta)
	if problems = append(problems, more...); len(problems) > 0 {
		c.rejected(problems, 1)
		refuseEvents(w, problems)
		return
	}

	if c.filterBot(r, meta.Source, 1) {
		writePixel(w)
		return
	}
	if err := c.opts.Publisher.Enqueue(ev); err != nil {
		c.unavailable(w, err, 1)
		return
	}
	c.metrics.accepted.WithLabelValues(meta.Source.String()).Inc()
	c.log.Debug("pixel event accepted", zap.String("event_id", ev.Id))
	writePixel(w)
}

func (c *Collector) serveEvents(w http.ResponseWriter, r *http.Request) {
	batch, ok := c.readBatch(w, r)
	if !ok {
		return
	}
	site := c.admitBatch(w, r, batch.WriteKey)
	if site == nil {
		return
	}
	source := leadstreamv1.Source_SOURCE_BATCH
	if batch.Snippet {
		source = leadstreamv1.Source_SOURCE_SNIPPET
	}
	events, ok := c.buildBatch(w, batch, tracking.Meta{Source: source, Site: site.Name,
		ReceivedAt: c.opts.Now()})
	if !ok {
		return
	}

	// Servers forwarding events may carry any user agent; only browser
	// traffic is screened for bots.
	if batch.Snippet && c.filterBot(r, source, len(events)) {
		writeAccepted(w, len(events))
		return
	}
	if err := c.opts.Publisher.Produce(r.Context(), events); err != nil {
		c.unavailable(w, err, len(events))
		return
	}
	c.metrics.accepted.WithLabelValues(source.String()).Add(float64(len(events)))
	c.log.Debug("batch accepted", zap.Int("events", len(events)), zap.String("site", site.Name))
	writeAccepted(w, len(events))
}

// readBatch reads and decodes the body within the size limit.
func (c *Collector) readBatch(w http.ResponseWriter, r *http.Request) (tracking.Batch, bool) {
	buf, err := c.readBody(w, r)
	defer putBody(buf)
	body := buf.Bytes()
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		c.metrics.rejected.WithLabelValues(reasonBodyTooBig).Inc()
		refuse(w, http.StatusRequestEntityTooLarge, reasonBodyTooBig, "body is over the size limit")
		return tracking.Batch{}, false
	case err != nil:
		refuse(w, http.StatusBadRequest, reasonMalformed, "read body: "+err.Error())
		return tracking.Batch{}, false
	}

	batch, problems, err := tracking.DecodeBatch(body, c.opts.Policy.Limits)
	switch {
	case errors.Is(err, tracking.ErrTooManyEvents):
		c.metrics.rejected.WithLabelValues(reasonTooMany).Inc()
		refuse(w, http.StatusRequestEntityTooLarge, reasonTooMany, err.Error())
		return batch, false
	case err != nil:
		c.metrics.rejected.WithLabelValues(reasonMalformed).Inc()
		refuse(w, http.StatusBadRequest, reasonMalformed, err.Error())
		return batch, false
	}
	if key := r.URL.Query().Get("k"); key != "" && batch.WriteKey != "" && key != batch.WriteKey {
		refuse(w, http.StatusBadRequest, reasonMalformed, "write_key and k name different keys")
		return batch, false
	} else if batch.WriteKey == "" {
		batch.WriteKey = key
	}
	if len(problems) > 0 {
		c.rejected(problems, len(batch.Events))
		refuseEvents(w, problems)
		return batch, false
	}
	return batch, true
}

// bodies holds request body buffers between requests; DecodeBatch keeps
// no reference to the body, so a buffer is free again once decoded.
var bodies = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBody is the largest buffer kept for reuse, so that one huge
// request does not pin its memory for good.
const maxPooledBody = 1 << 20

// readBody reads the body, up to the size limit, into a pooled buffer
// sized from Content-Length when the client sent one.
func (c *Collector) readBody(w http.ResponseWriter, r *http.Request) (*bytes.Buffer, error) {
	buf := bodies.Get().(*bytes.Buffer)
	buf.Reset()
	if n := r.ContentLength; n > 0 && n <= c.opts.MaxBodyBytes {
		// ReadFrom wants bytes.MinRead free before each read; with them
		// the body fits without growing the buffer.
		buf.Grow(int(n) + bytes.MinRead)
	}
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, c.opts.MaxBodyBytes))
	return buf, err
}

func putBody(buf *bytes.Buffer) {
	if buf.Cap() <= maxPooledBody {
		bodies.Put(buf)
	}
}

// buildBatch checks every event and stamps it; one bad event refuses the
// batch, listing every problem, so a client can fix and resend it whole
// without wondering which part went in.
func (c *Collector) buildBatch(w http.ResponseWriter, batch tracking.Batch,
	meta tracking.Meta) ([]*leadstreamv1.Event, bool) {
	events := make([]*leadstreamv1.Event, 0, len(batch.Events))
	var problems tracking.Problems
	for i, raw := range batch.Events {
		ev, more := c.opts.Policy.Build(i, raw, meta)
		problems = append(problems, more...)
		events = append(events, ev)
	}
	if len(problems) > 0 {
		c.rejected(problems, len(batch.Events))
		refuseEvents(w, problems)
		return nil, false
	}
	return events, true
}

// admit checks the write key and the rate limit, answers when either
// fails, and returns the key's site when the request may go on.
func (c *Collector) admit(w http.ResponseWriter, r *http.Request, key string) *sites.Site {
	site := c.opts.Sites.Lookup(key)
	if site == nil {
		c.metrics.rejected.WithLabelValues(reasonUnknownKey).Inc()
		refuse(w, http.StatusForbidden, reasonUnknownKey, "unknown write key")
		return nil
	}
	if !c.opts.Limiter.Allow(key + "|" + clientIP(r, c.opts.TrustForwardedFor)) {
		c.metrics.rejected.WithLabelValues(reasonRateLimited).Inc()
		refuse(w, http.StatusTooManyRequests, reasonRateLimited, "rate limit exceeded")
		return nil
	}
	return site
}

// admitBatch is admit plus CORS: a browser may send with a key only from
// the origins configured for it, when any are.
func (c *Collector) admitBatch(w http.ResponseWriter, r *http.Request, key string) *sites.Site {
	origin := r.Header.Get("Origin")
	w.Header().Add("Vary", "Origin")
	if origin != "" && c.opts.Sites.OriginAllowed(key, origin) {
		w.Header().Set("Access-Control-Allow-Origin", origin)
	} else if origin != "" && c.opts.Sites.HasOrigins(key) {
		c.metrics.rejected.WithLabelValues(reasonOrigin).Inc()
		refuse(w, http.StatusForbidden, reasonOrigin, "origin not allowed for this write key")
		return nil
	}
	return c.admit(w, r, key)
}

// servePreflight answers CORS preflights for the origins configured for
// the key in ?k=, or for any key when none is named.
func (c *Collector) servePreflight(w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("Origin")
	key := r.URL.Query().Get("k")
	h := w.Header()
	h.Add("Vary", "Origin")
	allowed := key != "" && c.opts.Sites.OriginAllowed(key, origin) ||
		key == "" && c.opts.Sites.AnyOriginAllowed(origin)
	if !allowed {
		w.WriteHeader(http.StatusForbidden)
		return
	}
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Content-Type")
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
}

func (c *Collector) filterBot(r *http.Request, source leadstreamv1.Source, n int) bool {
	if !IsBot(r.UserAgent()) {
		return false
	}
	c.metrics.bots.WithLabelValues(source.String()).Add(float64(n))
	return true
}

// rejected counts the refused events: every event of a refused batch,
// under the reason of the first problem.
func (c *Collector) rejected(problems tracking.Problems, events int) {
	c.metrics.rejected.WithLabelValues(problems[0].Reason).Add(float64(events))
}

func (c *Collector) unavailable(w http.ResponseWriter, err error, events int) {
	c.metrics.rejected.WithLabelValues(reasonUnavailable).Add(float64(events))
	c.log.Debug("events not taken, answering 503", zap.Int("events", events), zap.Error(err))
	refuse(w, http.StatusServiceUnavailable, reasonUnavailable,
		"kafka cannot take events now; retry with the same event ids")
}
