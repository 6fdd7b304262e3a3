package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// PixelWindow is how recent a page view must be for the player to send it
// as a browser would, through the pixel. Older events are a server's
// backfill and go through the batch API, whose timestamps the tracker
// trusts further back.
const PixelWindow = 5 * time.Minute

// Sender sends events to a tracker.
type Sender struct {
	BaseURL  string // e.g. http://127.0.0.1:8080
	WriteKey string
	Client   *http.Client
	Now      func() time.Time
}

// Via says how Send would send ev: "pixel" or "batch".
func (s *Sender) Via(ev Event) string {
	recent := s.now().Sub(ev.Timestamp) < PixelWindow
	// The pixel has no lead_id or traits, so only anonymous page views
	// can take it.
	if ev.Type == "page_view" && ev.LeadID == "" && len(ev.Traits) == 0 && recent {
		return "pixel"
	}
	return "batch"
}

func (s *Sender) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Send delivers one event and waits until the tracker accepted it. The
// batch API answers once the broker has the event, so batch events of one
// visitor keep their order; the pixel answers before, so a pixel event may
// land after a batch event sent later.
func (s *Sender) Send(ctx context.Context, ev Event) error {
	var req *http.Request
	var err error
	if s.Via(ev) == "pixel" {
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, s.pixelURL(ev), nil)
	} else {
		req, err = s.batchRequest(ctx, ev)
	}
	if err != nil {
		return fmt.Errorf("build request for event %s: %w", ev.ID, err)
	}
	resp, err := s.Client.Do(req)
	if err != nil {
		return fmt.Errorf("send event %s: %w", ev.ID, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("send event %s: status %d: %s",
			ev.ID, resp.StatusCode, bytes.TrimSpace(body))
	}
	return nil
}

func (s *Sender) pixelURL(ev Event) string {
	q := url.Values{}
	q.Set("k", s.WriteKey)
	q.Set("e", ev.Type)
	q.Set("aid", ev.AnonymousID)
	q.Set("eid", ev.ID)
	q.Set("url", ev.URL)
	q.Set("ref", ev.Referrer)
	q.Set("ts", strconv.FormatInt(ev.Timestamp.UnixMilli(), 10))
	for k, v := range ev.Properties {
		q.Set("p."+k, v)
	}
	return s.BaseURL + "/p.gif?" + q.Encode()
}

func (s *Sender) batchRequest(ctx context.Context, ev Event) (*http.Request, error) {
	body, err := json.Marshal(map[string]any{"write_key": s.WriteKey, "events": []Event{ev}})
	if err != nil {
		return nil, fmt.Errorf("encode batch: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.BaseURL+"/v1/events",
		bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	return req, nil
}
