package sink

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/leadstream/leadstream/pkg/subscribe"
)

var _ Sender = (*Webhook)(nil)

// Webhook posts the transition as the contract's JSON, signed with a
// shared secret.
type Webhook struct {
	URL    string
	Secret []byte
	Client *http.Client
	// Now is the clock for the signature timestamp.
	Now func() time.Time
}

// Send makes one signed POST.
func (w *Webhook) Send(ctx context.Context, d Delivery) error {
	body, err := json.Marshal(subscribe.NewPayload(d.Transition))
	if err != nil {
		return fmt.Errorf("encode webhook body: %w", err)
	}
	hdr := http.Header{}
	hdr.Set(subscribe.HeaderSignature, subscribe.Sign(w.Secret, body, w.Now()))
	hdr.Set(subscribe.HeaderDelivery, d.ID)
	hdr.Set(subscribe.HeaderIdempotencyKey, d.Transition.GetId())
	return post(ctx, w.Client, w.URL, body, hdr)
}
