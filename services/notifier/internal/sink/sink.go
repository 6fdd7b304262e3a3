// Package sink sends one transition to one destination: a signed webhook,
// a Slack incoming webhook or the log. Senders make a single attempt;
// retrying, parking and deduplication belong to the dispatcher.
package sink

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"go.uber.org/zap"

	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
	"github.com/leadstream/leadstream/services/notifier/internal/netguard"
	"github.com/leadstream/leadstream/services/notifier/internal/sinkfile"
)

// maxResponseBody bounds how much of a response is read before the
// connection is given back; the body itself is never used.
const maxResponseBody = 64 << 10

// userAgent names the notifier to receivers.
const userAgent = "leadstream-notifier"

// Delivery is one attempt to deliver a transition.
type Delivery struct {
	Transition *leadstreamv1.Transition
	// Attempt counts from 1.
	Attempt int
	// ID is unique per attempt, for the receiver's logs.
	ID string
}

// Sender makes one delivery attempt. A nil error means the destination
// accepted the transition.
type Sender interface {
	Send(ctx context.Context, d Delivery) error
}

// StatusError is a response that was not 2xx.
type StatusError struct {
	Code int
	// RetryAfter is what the receiver asked us to wait, or zero.
	RetryAfter time.Duration
}

// Error implements error.
func (e *StatusError) Error() string {
	if e.RetryAfter > 0 {
		return fmt.Sprintf("http status %d, retry after %v", e.Code, e.RetryAfter)
	}
	return fmt.Sprintf("http status %d", e.Code)
}

// NewHTTPClient returns the client senders share: it keeps enough idle
// connections for parallel deliveries, follows no redirects (a redirect
// could lead to an internal address) and, unless allowPrivate, refuses
// to connect to non-public addresses whatever DNS answers.
func NewHTTPClient(allowPrivate bool) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = netguard.Dialer(allowPrivate).DialContext
	tr.Proxy = nil
	// Deliveries run in parallel, often to one receiver; the default of
	// two idle connections per host would close and reopen the rest.
	tr.MaxIdleConns = 512
	tr.MaxIdleConnsPerHost = 256
	return &http.Client{
		Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// New builds the sender for a checked sink.
func New(s sinkfile.Sink, client *http.Client, log *zap.Logger) (Sender, error) {
	switch s.Type {
	case sinkfile.TypeWebhook:
		return &Webhook{URL: s.URL, Secret: s.Secret, Client: client, Now: time.Now}, nil
	case sinkfile.TypeSlack:
		return &Slack{URL: s.URL, LinkTemplate: s.LinkTemplate, Client: client}, nil
	case sinkfile.TypeLog:
		return &Log{Logger: log.With(zap.String("sink", s.Name))}, nil
	}
	return nil, fmt.Errorf("build sink %s: unknown type %q", s.Name, s.Type)
}

// post sends body and turns the response into nil or a *StatusError.
func post(
	ctx context.Context, client *http.Client, url string, body []byte, hdr http.Header,
) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytesReader(body))
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header = hdr
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("post: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBody))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	wait, _ := ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	return &StatusError{Code: resp.StatusCode, RetryAfter: wait}
}
