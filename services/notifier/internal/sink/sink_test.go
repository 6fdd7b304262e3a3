package sink_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leadstream/leadstream/pkg/subscribe"
	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
	"github.com/leadstream/leadstream/services/notifier/internal/netguard"
	"github.com/leadstream/leadstream/services/notifier/internal/sink"
)

var update = flag.Bool("update", false, "rewrite golden files")

func sample() *leadstreamv1.Transition {
	return &leadstreamv1.Transition{
		Id: "tr-crm-0042-3-2", LeadId: "crm-0042", From: leadstreamv1.Stage_STAGE_MQL,
		To: leadstreamv1.Stage_STAGE_SQL, OccurredAtUnixMs: 1796292900000, EventId: "9b2f",
		RulesVersion: "2026-q4",
		Reasons: []string{"distinct_days(pricing_view, 30d) = 3 >= 2", "content_download = 3 >= 3",
			"trait decision_maker"},
		Counters: map[string]int64{"pricing_view": 4, "content_download": 3},
		Scores:   map[string]float64{"engagement": 85},
		Traits: map[string]string{"title": "VP Marketing", "company": "Buyer & Sons",
			"email_domain": "buyer.example", "industry": "Retail"},
	}
}

func server(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func TestSlackMessageGolden(t *testing.T) {
	got, err := sink.SlackMessage(sample(), "https://crm.example.com/leads/{{lead_id}}")
	if err != nil {
		t.Fatal(err)
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, got, "", "  "); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "slack_sql.golden.json")
	if *update {
		if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if !bytes.Equal(pretty.Bytes(), want) {
		t.Errorf("slack message differs from %s:\n%s", path, pretty.Bytes())
	}
}

func TestWebhookSendsSignedContractBody(t *testing.T) {
	secret := []byte("whsec")
	type seen struct {
		hdr  http.Header
		body []byte
	}
	got := make(chan seen, 1)
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.Header.Clone(), b}
	})
	wh := &sink.Webhook{
		URL: srv.URL, Secret: secret, Client: sink.NewHTTPClient(true), Now: time.Now,
	}
	d := sink.Delivery{Transition: sample(), Attempt: 1, ID: "d-1"}
	if err := wh.Send(t.Context(), d); err != nil {
		t.Fatalf("Send() = %v", err)
	}
	s := <-got
	sig := s.hdr.Get("Leadstream-Signature")
	if err := subscribe.Verify(sig, s.body, secret, 0, time.Now()); err != nil {
		t.Errorf("receiver cannot verify the signature: %v", err)
	}
	want := map[string]string{
		"Content-Type": "application/json", "User-Agent": "leadstream-notifier",
		"Idempotency-Key": "tr-crm-0042-3-2", "Leadstream-Delivery": "d-1",
	}
	for k, v := range want {
		if s.hdr.Get(k) != v {
			t.Errorf("header %s = %q, want %q", k, s.hdr.Get(k), v)
		}
	}
	var p subscribe.Payload
	if err := json.Unmarshal(s.body, &p); err != nil || p.To != "sql" || p.From != "mql" ||
		p.OccurredAt != "2026-12-03T10:15:00Z" || p.Traits["company"] != "Buyer & Sons" {
		t.Errorf("body = %s (%v)", s.body, err)
	}
}

func TestPostOutcomes(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		header    map[string]string
		wantCode  int
		wantAfter time.Duration
	}{
		{"accepted", 202, nil, 0, 0},
		{"server error", 500, nil, 500, 0},
		{"rate limited in seconds", 429, map[string]string{"Retry-After": "7"},
			429, 7 * time.Second},
		{"redirect not followed", 302, map[string]string{"Location": "http://169.254.169.254/"},
			302, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := server(t, func(w http.ResponseWriter, _ *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				_, _ = w.Write(bytes.Repeat([]byte("x"), 1<<20))
			})
			wh := &sink.Webhook{URL: srv.URL, Secret: []byte("k"),
				Client: sink.NewHTTPClient(true), Now: time.Now}
			err := wh.Send(t.Context(), sink.Delivery{Transition: sample(), Attempt: 1, ID: "d"})
			var se *sink.StatusError
			switch {
			case tt.wantCode == 0 && err != nil:
				t.Fatalf("Send() = %v, want success", err)
			case tt.wantCode != 0 &&
				(!errors.As(err, &se) || se.Code != tt.wantCode || se.RetryAfter != tt.wantAfter):
				t.Fatalf("Send() = %v, want status %d retry after %v",
					err, tt.wantCode, tt.wantAfter)
			}
		})
	}
}

// TestEndlessResponseBody answers with a body that never ends. Send must
// read no more than its limit, hang up, and report success or failure by
// the status alone; the context it gets would end only much later.
func TestEndlessResponseBody(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		wantCode int
		slack    bool
	}{
		{"webhook accepted", http.StatusOK, 0, false},
		{"webhook server error", http.StatusInternalServerError, 500, false},
		{"slack accepted", http.StatusOK, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hungUp := make(chan struct{})
			srv := server(t, func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(tt.status)
				chunk := bytes.Repeat([]byte("x"), 32<<10)
				for {
					if _, err := w.Write(chunk); err != nil {
						close(hungUp)
						return
					}
					w.(http.Flusher).Flush()
				}
			})
			client := sink.NewHTTPClient(true)
			var s sink.Sender = &sink.Webhook{URL: srv.URL, Secret: []byte("k"),
				Client: client, Now: time.Now}
			if tt.slack {
				s = &sink.Slack{URL: srv.URL, Client: client}
			}
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			done := make(chan error, 1)
			go func() {
				done <- s.Send(ctx, sink.Delivery{Transition: sample(), Attempt: 1, ID: "d"})
			}()
			var err error
			select {
			case err = <-done:
			case <-time.After(time.Minute):
				t.Fatal("Send is still reading an endless body after a minute")
			}
			if ctx.Err() != nil {
				t.Fatalf("Send returned %v only once its context ended", err)
			}
			var se *sink.StatusError
			switch {
			case tt.wantCode == 0 && err != nil:
				t.Errorf("Send() = %v, want success", err)
			case tt.wantCode != 0 && (!errors.As(err, &se) || se.Code != tt.wantCode):
				t.Errorf("Send() = %v, want status %d", err, tt.wantCode)
			}
			select {
			case <-hungUp:
			case <-time.After(time.Minute):
				t.Error("the client never hung up on the endless body")
			}
		})
	}
}

func TestDialTimeRefusal(t *testing.T) {
	var hits atomic.Int32
	srv := server(t, func(http.ResponseWriter, *http.Request) { hits.Add(1) })
	for _, s := range []sink.Sender{
		&sink.Webhook{URL: srv.URL, Secret: []byte("k"),
			Client: sink.NewHTTPClient(false), Now: time.Now},
		&sink.Slack{URL: srv.URL, Client: sink.NewHTTPClient(false)},
	} {
		err := s.Send(context.Background(),
			sink.Delivery{Transition: sample(), Attempt: 1, ID: "d"})
		if !errors.Is(err, netguard.ErrForbiddenAddress) {
			t.Errorf("Send() to loopback = %v, want ErrForbiddenAddress", err)
		}
	}
	if hits.Load() != 0 {
		t.Errorf("the loopback server received %d requests", hits.Load())
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 3, 10, 15, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"120", 2 * time.Minute, true},
		{"-3", 0, false},
		{"soon", 0, false},
		{"Thu, 03 Dec 2026 10:16:30 GMT", 90 * time.Second, true},
		{"Thu, 03 Dec 2026 10:00:00 GMT", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := sink.ParseRetryAfter(tt.in, now)
			if got != tt.want || ok != tt.ok {
				t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v, %v",
					tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{
		"1", "Thu, 03 Dec 2026 10:16:30 GMT", "99999999999999999999", " 5 ",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d, _ := sink.ParseRetryAfter(s, time.Now()); d < 0 {
			t.Fatalf("ParseRetryAfter(%q) = %v, negative", s, d)
		}
	})
}
