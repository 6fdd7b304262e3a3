package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// receiver is a local webhook endpoint. It records when each transition
// arrived, keyed by the id of the event that caused it.
type receiver struct {
	srv *http.Server
	url string

	mu     sync.Mutex
	seen   map[string]bool      // transition ids; guarded by mu
	at     map[string]time.Time // event id to first arrival; guarded by mu
	first  time.Time            // guarded by mu
	last   time.Time            // guarded by mu
	copies int                  // deliveries of a transition seen before; guarded by mu
}

// webhook is the part of the delivered JSON the receiver reads.
type webhook struct {
	ID      string `json:"id"`
	EventID string `json:"event_id"`
}

func startReceiver() (*receiver, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for webhooks: %w", err)
	}
	r := &receiver{seen: map[string]bool{}, at: map[string]time.Time{},
		url: "http://" + l.Addr().String() + "/hook"}
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = r.srv.Serve(l) }()
	return r, nil
}

func (r *receiver) close() { _ = r.srv.Close() }

// ServeHTTP records one delivery.
func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	now := time.Now()
	body, err := io.ReadAll(req.Body)
	var h webhook
	if err == nil {
		err = json.Unmarshal(body, &h)
	}
	if err != nil || h.ID == "" {
		http.Error(w, "bad webhook", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	if r.seen[h.ID] {
		r.copies++
	} else {
		r.seen[h.ID] = true
		if r.first.IsZero() {
			r.first = now
		}
		r.last = now
		if _, ok := r.at[h.EventID]; !ok {
			r.at[h.EventID] = now
		}
	}
	r.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// count returns how many distinct transitions arrived, and the times of
// the first and the last.
func (r *receiver) count() (n int, first, last time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.seen), r.first, r.last
}

// arrival returns when the transition of event id arrived.
func (r *receiver) arrival(id string) (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.at[id]
	return t, ok
}
