package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/leadstream/leadstream/pkg/workload"
)

// driver sends a workload's batches to the tracker from several
// concurrent senders, as clients would: a batch that gets no 202 is sent
// again until it does.
type driver struct {
	url     string
	client  *http.Client
	senders int
	// pace is the pause between handing out two batches, so that the
	// traffic lasts long enough for faults to hit it.
	pace time.Duration

	sent     atomic.Int64 // batches acknowledged
	retries  atomic.Int64 // posts that got no 202 and are sent again
	inflight atomic.Int64 // posts waiting for an answer

	mu    sync.Mutex
	acked map[string]bool // guarded by mu: event ids acknowledged
}

func newDriver(trackerAddr string, senders int) *driver {
	return &driver{url: "http://" + trackerAddr + "/v1/events",
		client: &http.Client{Timeout: 15 * time.Second}, senders: senders,
		acked: map[string]bool{}}
}

// run sends every batch and returns once all are acknowledged.
func (d *driver) run(ctx context.Context, batches []workload.Batch) error {
	work := make(chan workload.Batch)
	errs := make(chan error, d.senders)
	var wg sync.WaitGroup
	for i := 0; i < d.senders; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range work {
				if err := d.send(ctx, b); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	var err error
feed:
	for _, b := range batches {
		time.Sleep(d.pace)
		select {
		case work <- b:
		case err = <-errs:
			break feed
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(work)
	wg.Wait()
	if err == nil && len(errs) > 0 {
		err = <-errs
	}
	return err
}

// send posts b until the tracker acknowledges it. A refusal of the
// request itself (4xx other than 429) is an error: the workload is valid.
func (d *driver) send(ctx context.Context, b workload.Batch) error {
	body, err := json.Marshal(b)
	if err != nil {
		return fmt.Errorf("encode batch: %w", err)
	}
	for wait := 20 * time.Millisecond; ; wait = min(2*wait, time.Second) {
		status, msg, err := d.post(ctx, body)
		switch {
		case status == http.StatusAccepted:
			d.ack(b)
			return nil
		case status >= 400 && status < 500 && status != http.StatusTooManyRequests:
			return fmt.Errorf("tracker refused a batch: %d %s", status, msg)
		case ctx.Err() != nil:
			return fmt.Errorf("send batch: %w", ctx.Err())
		}
		_ = err // connection refused or reset while the tracker is down
		d.retries.Add(1)
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
	}
}

func (d *driver) post(ctx context.Context, body []byte) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.url, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	d.inflight.Add(1)
	defer d.inflight.Add(-1)
	resp, err := d.client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	return resp.StatusCode, string(msg), nil
}

func (d *driver) ack(b workload.Batch) {
	d.mu.Lock()
	for _, ev := range b.Events {
		d.acked[ev.ID] = true
	}
	d.mu.Unlock()
	d.sent.Add(1)
}

// ackedIDs returns a copy of the acknowledged event ids.
func (d *driver) ackedIDs() map[string]bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make(map[string]bool, len(d.acked))
	for id := range d.acked {
		out[id] = true
	}
	return out
}
