package dispatch_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/leadstream/leadstream/services/notifier/internal/dispatch"
)

// TestQueuedBacklogDrains reads more transitions than a sink takes first
// attempts for, so most of its deliveries go to its queue, and polls the
// queue only every 30s: the backlog must still drain at the pace of the
// sink, claim after claim, not a claim of Concurrency jobs per poll (which
// would take minutes here).
func TestQueuedBacklogDrains(t *testing.T) {
	e := newEnv(t)
	rc := newReceiver(t, func(int, *http.Request, http.ResponseWriter) int {
		time.Sleep(5 * time.Millisecond)
		return http.StatusOK
	})
	e.startWith(t, "g", func(c *dispatch.Config) {
		c.MaxInFlight, c.Concurrency, c.PollInterval = 2, 2, 30*time.Second
	}, webhookRoute("crm", rc, 3))
	ids := e.produce(t, 80)
	waitFor(t, 25*time.Second, "every transition delivered", func() bool {
		_, ok := rc.snapshot()
		return len(ok) >= len(ids)
	})
	checkOnceEach(t, rc, ids)
}
