package faults

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Delivery is one webhook request the receiver answered.
type Delivery struct {
	// Key is the Idempotency-Key header: the transition id.
	Key     string
	LeadID  string
	From    string
	To      string
	EventID string
	// Status is what the receiver answered.
	Status int
}

// Receiver is a webhook endpoint that records every delivery. It can be
// told to fail, to make the notifier retry.
type Receiver struct {
	srv    *httptest.Server
	secret string

	failing atomic.Bool

	mu       sync.Mutex
	attempts []Delivery // guarded by mu
	last     time.Time  // guarded by mu: when the last request came
}

// StartReceiver starts a receiver that checks signatures under secret,
// closed when the test ends.
func StartReceiver(t *testing.T, secret string) *Receiver {
	t.Helper()
	r := &Receiver{secret: secret}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

// URL returns the receiver's address.
func (r *Receiver) URL() string { return r.srv.URL + "/hooks/leadstream" }

// Fail makes the receiver answer 503 to every delivery while on is true.
func (r *Receiver) Fail(on bool) { r.failing.Store(on) }

// Delivered returns the deliveries answered with 2xx, in arrival order.
func (r *Receiver) Delivered() []Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Delivery
	for _, d := range r.attempts {
		if d.Status/100 == 2 {
			out = append(out, d)
		}
	}
	return out
}

// Attempts returns the number of requests received.
func (r *Receiver) Attempts() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.attempts)
}

// Retried returns how many transitions the receiver refused while told
// to fail, and how many of those the notifier has already tried again:
// both are deliveries the notifier holds for a retry.
func (r *Receiver) Retried() (refused, again int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := map[string]int{}
	for _, d := range r.attempts {
		if d.Status == http.StatusServiceUnavailable {
			n[d.Key]++
		}
	}
	for _, c := range n {
		if c > 1 {
			again++
		}
	}
	return len(n), again
}

// Idle returns how long ago the last request came; zero before any.
func (r *Receiver) Idle() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.last.IsZero() {
		return 0
	}
	return time.Since(r.last)
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	d := Delivery{Key: req.Header.Get("Idempotency-Key"), Status: http.StatusOK}
	var hook hookBody
	switch {
	case err != nil:
		d.Status = http.StatusBadRequest
	case !verify(r.secret, req.Header.Get("Leadstream-Signature"), body):
		d.Status = http.StatusUnauthorized
	case r.failing.Load():
		d.Status = http.StatusServiceUnavailable
	default:
		if hook, err = parseHook(body); err != nil || hook.ID != d.Key {
			d.Status = http.StatusBadRequest
		}
	}
	d.LeadID, d.From, d.To, d.EventID = hook.LeadID, hook.From, hook.To, hook.EventID

	r.mu.Lock()
	r.attempts = append(r.attempts, d)
	r.last = time.Now()
	r.mu.Unlock()
	w.WriteHeader(d.Status)
}

// hookBody is the part of the webhook body the checker needs.
type hookBody struct {
	ID      string `json:"id"`
	LeadID  string `json:"lead_id"`
	From    string `json:"from"`
	To      string `json:"to"`
	EventID string `json:"event_id"`
}

// parseHook decodes a webhook body and insists on the fields the contract
// promises.
func parseHook(body []byte) (hookBody, error) {
	var h hookBody
	if err := json.Unmarshal(body, &h); err != nil {
		return hookBody{}, fmt.Errorf("decode webhook body: %w", err)
	}
	if h.ID == "" || h.LeadID == "" || h.To == "" {
		return hookBody{}, fmt.Errorf("decode webhook body: id, lead_id or to missing")
	}
	return h, nil
}

// verify checks a "t=<unix>,v1=<hex>" signature of body under secret.
func verify(secret, header string, body []byte) bool {
	var ts, sig string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	if _, err := strconv.ParseInt(ts, 10, 64); err != nil || sig == "" {
		return false
	}
	want, err := hex.DecodeString(sig)
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	return hmac.Equal(mac.Sum(nil), want)
}
