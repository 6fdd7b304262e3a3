package collector

import (
	"bytes"
	"context"
	"encoding/json"
	"image/gif"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
	"github.com/leadstream/leadstream/services/tracker/internal/publish"
	"github.com/leadstream/leadstream/services/tracker/internal/ratelimit"
	"github.com/leadstream/leadstream/services/tracker/internal/sites"
	"github.com/leadstream/leadstream/services/tracker/internal/tracking"
)

// recorder is a Publisher that keeps what it is given; err, when set, is
// returned instead.
type recorder struct {
	mu     sync.Mutex
	events []*leadstreamv1.Event
	err    error
}

var _ Publisher = (*recorder)(nil)

func (r *recorder) Produce(_ context.Context, evs []*leadstreamv1.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	r.events = append(r.events, evs...)
	return nil
}

func (r *recorder) Enqueue(ev *leadstreamv1.Event) error {
	return r.Produce(context.Background(), []*leadstreamv1.Event{ev})
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

func newTestServer(t *testing.T, pub *recorder, limiter *ratelimit.Limiter) *httptest.Server {
	t.Helper()
	return newServer(t, Options{Publisher: pub, Limiter: limiter, MaxBodyBytes: 4096,
		Policy: tracking.Policy{Limits: tracking.DefaultLimits(), Skew: 5 * time.Minute,
			MaxAge: 720 * time.Hour}})
}

// newServer serves a collector with opts and the test sites.
func newServer(t *testing.T, opts Options) *httptest.Server {
	t.Helper()
	reg, err := sites.New(
		sites.Site{Name: "shop", WriteKey: "wk_shop", Origins: []string{"https://shop.example"}},
		sites.Site{Name: "api", WriteKey: "wk_api"})
	if err != nil {
		t.Fatal(err)
	}
	opts.Sites = reg
	c := New(opts)
	mux := http.NewServeMux()
	c.Mount(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func do(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	return resp, buf.Bytes()
}

func TestPixel(t *testing.T) {
	cases := []struct {
		name   string
		query  string
		ua     string
		code   int
		stored int
	}{
		{"accepted", "k=wk_shop&aid=a1&p.x=1", "Mozilla/5.0", 200, 1},
		{"unknown key", "k=wk_nope&aid=a1", "Mozilla/5.0", 403, 0},
		{"no identity", "k=wk_shop", "Mozilla/5.0", 400, 0},
		{"bad ts", "k=wk_shop&aid=a&ts=soon", "Mozilla/5.0", 400, 0},
		{"value too long", "k=wk_shop&aid=a&p.x=" + strings.Repeat("v", 1025), "Mozilla/5.0",
			413, 0},
		{"bot answered, not stored", "k=wk_shop&aid=a1", "Googlebot/2.1", 200, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pub := &recorder{}
			srv := newTestServer(t, pub, nil)
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/p.gif?"+tc.query, nil)
			req.Header.Set("User-Agent", tc.ua)
			req.Header.Set("Referer", "https://shop.example/pricing")
			resp, body := do(t, req)
			if resp.StatusCode != tc.code || pub.count() != tc.stored {
				t.Fatalf("code %d stored %d (%s), want %d and %d", resp.StatusCode, pub.count(),
					body, tc.code, tc.stored)
			}
			if tc.code != 200 {
				return
			}
			if _, err := gif.Decode(bytes.NewReader(body)); err != nil {
				t.Errorf("pixel is not a GIF: %v", err)
			}
			if resp.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control = %q", resp.Header.Get("Cache-Control"))
			}
			if tc.stored == 1 && pub.events[0].Url != "https://shop.example/pricing" {
				t.Errorf("url = %q, want the Referer", pub.events[0].Url)
			}
		})
	}
}

func postBatch(t *testing.T, url, body, origin string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	return do(t, req)
}

func TestBatch(t *testing.T) {
	good := `{"id":"e1","type":"page_view","anonymous_id":"a"}`
	bad := `{"type":"page_view"}`
	cases := []struct {
		name   string
		path   string
		body   string
		origin string
		code   int
		reason string
		stored int
	}{
		{"accepted", "/v1/events", `{"write_key":"wk_api","events":[` + good + `,` + good + `]}`,
			"", 202, "", 2},
		{"mixed batch refused whole", "/v1/events",
			`{"write_key":"wk_api","events":[` + good + `,` + bad + `]}`, "", 400,
			tracking.ReasonMissingIdentity, 0},
		{"unknown key", "/v1/events", `{"write_key":"wk_x","events":[` + good + `]}`, "", 403,
			reasonUnknownKey, 0},
		{"key in query", "/v1/events?k=wk_api", `{"events":[` + good + `]}`, "", 202, "", 1},
		{"keys disagree", "/v1/events?k=wk_shop", `{"write_key":"wk_api","events":[` + good +
			`]}`, "", 400, reasonMalformed, 0},
		{"malformed", "/v1/events", `{"write_key":`, "", 400, reasonMalformed, 0},
		{"body too large", "/v1/events", `{"write_key":"wk_api","events":[` +
			strings.Repeat(good+",", 100) + good + `]}`, "", 413, reasonBodyTooBig, 0},
		{"allowed origin", "/v1/events", `{"write_key":"wk_shop","events":[` + good + `]}`,
			"https://shop.example", 202, "", 1},
		{"foreign origin", "/v1/events", `{"write_key":"wk_shop","events":[` + good + `]}`,
			"https://evil.example", 403, reasonOrigin, 0},
		{"origin on key without origins", "/v1/events",
			`{"write_key":"wk_api","events":[` + good + `]}`, "https://any.example", 202, "", 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pub := &recorder{}
			srv := newTestServer(t, pub, nil)
			resp, body := postBatch(t, srv.URL+tc.path, tc.body, tc.origin)
			if resp.StatusCode != tc.code || pub.count() != tc.stored {
				t.Fatalf("code %d stored %d (%s), want %d and %d", resp.StatusCode, pub.count(),
					body, tc.code, tc.stored)
			}
			var got errorBody
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("answer is not JSON: %s", body)
			}
			if got.Reason != tc.reason || tc.code == 202 && got.Accepted != tc.stored {
				t.Errorf("answer %s, want reason %q", body, tc.reason)
			}
			allow := resp.Header.Get("Access-Control-Allow-Origin")
			if wantAllow := tc.origin == "https://shop.example"; (allow != "") != wantAllow {
				t.Errorf("Access-Control-Allow-Origin = %q", allow)
			}
		})
	}
}

func TestBatchListsEveryProblem(t *testing.T) {
	srv := newTestServer(t, &recorder{}, nil)
	_, body := postBatch(t, srv.URL+"/v1/events", `{"write_key":"wk_api","events":[
		{"type":"x","anonymous_id":"a"},{"type":"identify","anonymous_id":"a"},
		{"type":"bad type","lead_id":"l"}]}`, "")
	var got errorBody
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Rejected) != 2 || got.Rejected[0].Index != 1 || got.Rejected[1].Index != 2 {
		t.Errorf("rejected = %+v", got.Rejected)
	}
}

func TestUnavailable(t *testing.T) {
	pub := &recorder{err: publish.ErrBufferFull}
	srv := newTestServer(t, pub, nil)
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/p.gif?k=wk_shop&aid=a", nil)
	resp, _ := do(t, req)
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Errorf("pixel: code %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	resp, _ = postBatch(t, srv.URL+"/v1/events",
		`{"write_key":"wk_api","events":[{"type":"x","lead_id":"l"}]}`, "")
	if resp.StatusCode != 503 {
		t.Errorf("batch: code %d, want 503", resp.StatusCode)
	}
}

// TestRateLimit sends three requests of one client on a stopped clock,
// so the third always finds the burst of two spent.
func TestRateLimit(t *testing.T) {
	routes := []struct {
		name string
		send func(url string) int
	}{
		{"pixel", func(url string) int {
			req, _ := http.NewRequest(http.MethodGet, url+"/p.gif?k=wk_shop&aid=a", nil)
			resp, _ := do(t, req)
			return resp.StatusCode
		}},
		{"batch", func(url string) int {
			resp, _ := postBatch(t, url+"/v1/events",
				`{"write_key":"wk_api","events":[{"type":"page_view","anonymous_id":"a"}]}`, "")
			return resp.StatusCode
		}},
	}
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	for _, rt := range routes {
		t.Run(rt.name, func(t *testing.T) {
			lim := ratelimit.New(1, 2, func() time.Time { return now })
			srv := newTestServer(t, &recorder{}, lim)
			var codes []int
			for range 3 {
				codes = append(codes, rt.send(srv.URL))
			}
			ok := http.StatusOK
			if rt.name == "batch" {
				ok = http.StatusAccepted
			}
			if codes[0] != ok || codes[1] != ok || codes[2] != 429 {
				t.Errorf("codes = %v, want %d %d 429", codes, ok, ok)
			}
		})
	}
}

// TestBatchLimits refuses batches past each limit whole, with 413, and
// counts every refusal by reason.
func TestBatchLimits(t *testing.T) {
	ev := func(props string) string {
		return `{"type":"page_view","anonymous_id":"a","properties":{` + props + `}}`
	}
	cases := []struct {
		name, body, reason string
	}{
		{"too many events", `{"write_key":"wk_api","events":[` + ev("") + `,` + ev("") + `,` +
			ev("") + `]}`, reasonTooMany},
		{"too many properties", `{"write_key":"wk_api","events":[` +
			ev(`"a":"1","b":"2","c":"3"`) + `]}`, tracking.ReasonTooLarge},
		{"property too long", `{"write_key":"wk_api","events":[` +
			ev(`"a":"`+strings.Repeat("x", 33)+`"`) + `]}`, tracking.ReasonTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pub, reg := &recorder{}, prometheus.NewRegistry()
			srv := newServer(t, Options{Publisher: pub, MaxBodyBytes: 4096, Registerer: reg,
				Policy: tracking.Policy{Skew: 5 * time.Minute, MaxAge: time.Hour,
					Limits: tracking.Limits{MaxEvents: 2, MaxProps: 2, MaxKeyLen: 8,
						MaxValueLen: 32}}})
			resp, body := postBatch(t, srv.URL+"/v1/events", tc.body, "")
			var got errorBody
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("answer is not JSON: %s", body)
			}
			if resp.StatusCode != 413 || got.Reason != tc.reason || pub.count() != 0 {
				t.Fatalf("code %d reason %q stored %d (%s), want 413 %q and none",
					resp.StatusCode, got.Reason, pub.count(), body, tc.reason)
			}
			rejected := counterValue(t, reg, "leadstream_tracker_events_rejected_total",
				"reason", tc.reason)
			if rejected < 1 {
				t.Errorf("rejected{reason=%q} = %g, want at least 1", tc.reason, rejected)
			}
		})
	}
}

// counterValue returns the counter name{label=value} registered in reg,
// failing the test when there is none.
func counterValue(t *testing.T, reg *prometheus.Registry, name, label, value string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather metrics: %v", err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if mf.GetName() == name && l.GetName() == label && l.GetValue() == value {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("no %s{%s=%q} among the metrics", name, label, value)
	return 0
}

func TestPreflight(t *testing.T) {
	cases := []struct {
		name, query, origin string
		code                int
	}{
		{"configured origin", "?k=wk_shop", "https://shop.example", 204},
		{"other origin", "?k=wk_shop", "https://evil.example", 403},
		{"key without origins", "?k=wk_api", "https://shop.example", 403},
		{"no key, known origin", "", "https://shop.example", 204},
		{"no key, unknown origin", "", "https://evil.example", 403},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newTestServer(t, &recorder{}, nil)
			req, _ := http.NewRequest(http.MethodOptions, srv.URL+"/v1/events"+tc.query, nil)
			req.Header.Set("Origin", tc.origin)
			req.Header.Set("Access-Control-Request-Method", "POST")
			resp, _ := do(t, req)
			allow := resp.Header.Get("Access-Control-Allow-Origin")
			if resp.StatusCode != tc.code || (tc.code == 204) != (allow == tc.origin) {
				t.Errorf("code %d allow %q, want %d", resp.StatusCode, allow, tc.code)
			}
		})
	}
}

func TestSnippetBotsAreFiltered(t *testing.T) {
	pub, reg := &recorder{}, prometheus.NewRegistry()
	srv := newServer(t, Options{Publisher: pub, MaxBodyBytes: 4096, Registerer: reg,
		Policy: tracking.Policy{Limits: tracking.DefaultLimits(), Skew: 5 * time.Minute}})
	body := `{"write_key":"wk_api","source":"snippet","events":[{"type":"x","anonymous_id":"a"}]}`
	for _, ua := range []string{"HeadlessChrome/120", "Mozilla/5.0 (compatible; bingbot/2.0)"} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/events", strings.NewReader(body))
		req.Header.Set("User-Agent", ua)
		if resp, _ := do(t, req); resp.StatusCode != 202 {
			t.Errorf("%s: code %d", ua, resp.StatusCode)
		}
	}
	if pub.count() != 0 {
		t.Errorf("bot events stored: %d", pub.count())
	}
	bots := counterValue(t, reg, "leadstream_tracker_bots_filtered_total", "source",
		leadstreamv1.Source_SOURCE_SNIPPET.String())
	if bots != 2 {
		t.Errorf("bots filtered from the snippet = %g, want 2", bots)
	}
}

func TestSnippet(t *testing.T) {
	srv := newTestServer(t, &recorder{}, nil)
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/t.js", nil)
	resp, body := do(t, req)
	ctype := resp.Header.Get("Content-Type")
	if resp.StatusCode != 200 || !strings.HasPrefix(ctype, "text/javascript") {
		t.Fatalf("code %d type %q", resp.StatusCode, ctype)
	}
	for _, want := range []string{"sendBeacon", "keepalive", "data-key", "identify", "track"} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("snippet lacks %q", want)
		}
	}
	req, _ = http.NewRequest(http.MethodGet, srv.URL+"/t.js", nil)
	req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
	if resp, _ := do(t, req); resp.StatusCode != http.StatusNotModified {
		t.Errorf("revalidation: code %d, want 304", resp.StatusCode)
	}
}

func TestIsBot(t *testing.T) {
	cases := map[string]bool{
		"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)": true,
		"Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/120.0":                     true,
		"Baiduspider": true, "AhrefsBot/7.0": true,
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) Safari/605.1.15": false,
		"Mozilla/5.0 (Linux; Android 14; Pixel 8) Chrome/120 Mobile":   false,
		"": false,
	}
	for ua, want := range cases {
		t.Run(ua, func(t *testing.T) {
			if got := IsBot(ua); got != want {
				t.Errorf("IsBot = %v, want %v", got, want)
			}
		})
	}
}

func TestClientIP(t *testing.T) {
	cases := []struct {
		name  string
		xff   string
		trust bool
		want  string
	}{
		{"peer", "9.9.9.9", false, "10.0.0.1"},
		{"last hop when trusted", "9.9.9.9, 8.8.8.8", true, "8.8.8.8"},
		{"no header", "", true, "10.0.0.1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = "10.0.0.1:4000"
			if tc.xff != "" {
				r.Header.Set("X-Forwarded-For", tc.xff)
			}
			if got := clientIP(r, tc.trust); got != tc.want {
				t.Errorf("clientIP = %q, want %q", got, tc.want)
			}
		})
	}
}
