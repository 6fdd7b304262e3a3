package dispatch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"time"

	"github.com/segmentio/kafka-go"
	"go.uber.org/zap"

	"github.com/leadstream/leadstream/pkg/subscribe"
)

// The waits between fetches that failed one after the other: full
// jitter, doubling from fetchBackoffBase up to fetchBackoffMax.
const (
	fetchBackoffBase = 100 * time.Millisecond
	fetchBackoffMax  = 5 * time.Second
)

// fatalKafkaCodes are broker answers that waiting does not change: the
// credentials, the permissions or the group settings are wrong.
var fatalKafkaCodes = map[kafka.Error]bool{
	kafka.SASLAuthenticationFailed:   true,
	kafka.UnsupportedSASLMechanism:   true,
	kafka.IllegalSASLState:           true,
	kafka.TopicAuthorizationFailed:   true,
	kafka.GroupAuthorizationFailed:   true,
	kafka.ClusterAuthorizationFailed: true,
	kafka.InvalidSessionTimeout:      true,
	kafka.InvalidGroupId:             true,
}

// fatalFetch reports whether a fetch error is one the notifier cannot
// ride out. Everything else (refused or reset connections, timeouts, a
// coordinator that moved, a group that could not be joined yet) heals
// once Kafka is reachable again: the reader keeps reconnecting and
// rejoining on its own, so the fetch loop only waits and asks again.
func fatalFetch(err error) bool {
	var code kafka.Error
	if errors.As(err, &code) {
		return fatalKafkaCodes[code]
	}
	var unknownCA x509.UnknownAuthorityError
	var badHost x509.HostnameError
	var badCert *tls.CertificateVerificationError
	// A bare io.EOF is not fatal: the reader passes on the EOF of a
	// connection the broker closed when it cannot join the group. It
	// also answers io.EOF once closed, but the fetch loop never closes
	// the reader it reads from.
	return errors.As(err, &unknownCA) || errors.As(err, &badHost) || errors.As(err, &badCert)
}

// backOff records a fetch that failed for the failures-th time in a
// row and waits before the next one. It returns false if ctx ended
// meanwhile.
func (c *consumer) backOff(ctx context.Context, failures int, err error) bool {
	wait := subscribe.Backoff(fetchBackoffBase, fetchBackoffMax, failures)
	c.d.cfg.Metrics.fetchErrors.Inc()
	c.d.log.Warn("fetch failed, waiting for kafka", zap.String("topic", c.d.cfg.Topic),
		zap.String("group", c.d.cfg.Group), zap.Int("attempt", failures),
		zap.Duration("backoff", wait), zap.Error(err))
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
