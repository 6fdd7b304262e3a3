package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
)

// transitionContentType is the content-type header of transition
// records.
const transitionContentType = "application/x-protobuf; proto=leadstream.v1.Transition"

// notifierSuite measures webhook deliveries per second from the
// transitions topic to a local receiver, against a bare HTTP client
// posting the same bodies to the same receiver.
func (b *Bench) notifierSuite(ctx context.Context) error {
	rcv, err := startReceiver()
	if err != nil {
		return err
	}
	defer rcv.close()
	ceiling, err := b.deliveryCeiling(ctx, rcv.url)
	if err != nil {
		return err
	}
	b.refs[refDelivery] = ceiling

	ts := b.topicSet()
	if err := b.createTopics(ctx, ts); err != nil {
		return err
	}
	total := pick(b.cfg.Quick, 2000, 10000)
	if err := b.produceTransitions(ctx, ts.transitions, total); err != nil {
		return err
	}
	rcv, err = startReceiver()
	if err != nil {
		return err
	}
	defer rcv.close()
	n, err := b.startNotifier(ctx, ts, rcv.url, "mql, sql")
	if err != nil {
		return err
	}
	defer n.child.Stop(20 * time.Second)
	rate, err := deliveryRate(ctx, rcv, total, pick(b.cfg.Quick, time.Minute, 3*time.Minute))
	if err != nil {
		return err
	}
	b.report.Add(Figure{Group: "notifier", Name: "notifier deliveries", Value: rate,
		Unit: "del/s", Reference: ceiling,
		RefName: fmt.Sprintf("bare client, %d workers, same receiver", b.cfg.Workers),
		Note:    fmt.Sprintf("%d transitions, one webhook sink, signed", total)})
	b.addRSS("notifier", "full load", n.child)
	return nil
}

// deliveryCeiling posts sample transitions to url with a bare client.
func (b *Bench) deliveryCeiling(ctx context.Context, url string) (float64, error) {
	res, err := Load{Workers: b.cfg.Workers, Warmup: 500 * time.Millisecond,
		Duration: b.cfg.Duration, Status: http.StatusOK,
		Request: func(w, n int) (*http.Request, error) {
			body, err := json.Marshal(sampleWebhook(fmt.Sprintf("t-%d-%d", w, n)))
			if err != nil {
				return nil, err
			}
			req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
			if err == nil {
				req.Header.Set("Content-Type", "application/json")
			}
			return req, err
		}}.Run(ctx)
	if err != nil {
		return 0, fmt.Errorf("load bare delivery: %w", err)
	}
	return res.Rate(), nil
}

// sampleWebhook is a transition as the webhook contract shapes it.
func sampleWebhook(id string) map[string]any {
	return map[string]any{"id": id, "lead_id": "crm-" + id, "from": "visitor", "to": "sql",
		"occurred_at": time.Now().UTC().Format(time.RFC3339), "event_id": "e-" + id,
		"rules_version": "2026-q4", "reasons": []string{"contact_request = 1 >= 1"},
		"counters": map[string]int{"contact_request": 1, "blog_view": 2},
		"scores":   map[string]float64{"engagement": 10},
		"traits":   map[string]string{"email_domain": "buyer.example", "title": "Analyst"}}
}

// produceTransitions writes n SQL transitions of distinct leads.
func (b *Bench) produceTransitions(ctx context.Context, topic string, n int) error {
	cl, err := b.client()
	if err != nil {
		return err
	}
	defer cl.Close()
	prefix, now := b.name("lead"), time.Now().UnixMilli()
	recs := make([]*kgo.Record, n)
	for i := range recs {
		lead := fmt.Sprintf("%s-%d", prefix, i)
		t := &leadstreamv1.Transition{Id: lead + "-sql-2", LeadId: lead,
			From: leadstreamv1.Stage_STAGE_MQL, To: leadstreamv1.Stage_STAGE_SQL,
			OccurredAtUnixMs: now, EventId: lead + "-ev", RulesVersion: "2026-q4",
			Reasons:  []string{"contact_request = 1 >= 1"},
			Counters: map[string]int64{"contact_request": 1, "blog_view": 2},
			Scores:   map[string]float64{"engagement": 10},
			Traits:   map[string]string{"email_domain": "buyer.example"}, Epoch: 2,
			DecidedAtUnixMs: now, ReceivedAtUnixMs: now}
		v, err := proto.Marshal(t)
		if err != nil {
			return fmt.Errorf("encode transition: %w", err)
		}
		recs[i] = &kgo.Record{Topic: topic, Key: []byte(lead), Value: v,
			Headers: []kgo.RecordHeader{{Key: "content-type",
				Value: []byte(transitionContentType)}}}
	}
	_, err = produceAll(ctx, cl, recs)
	return err
}

// deliveryRate waits until total transitions arrived and returns the
// rate between the first arrival and the last.
func deliveryRate(ctx context.Context, rcv *receiver, total int, limit time.Duration) (
	float64, error) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	for {
		n, first, last := rcv.count()
		if n >= total {
			if !last.After(first) {
				return 0, fmt.Errorf("deliveries: all %d arrived at once", n)
			}
			return float64(n-1) / last.Sub(first).Seconds(), nil
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("deliveries: %d of %d arrived: %w", n, total, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
