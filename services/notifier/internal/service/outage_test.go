package service_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/leadstream/leadstream/pkg/testenv"
	"github.com/leadstream/leadstream/services/notifier/internal/harness"
)

// TestStartsWhileKafkaIsCutOff starts the notifier while every broker
// drops its connections: it must report Kafka not ready, stay up, and
// deliver what waits in the topic once the brokers are back.
func TestStartsWhileKafkaIsCutOff(t *testing.T) {
	t.Setenv(secretEnv, "s3cret")
	sw := harness.NewSwitch()
	e := harness.New(t, kfake.ListenFn(sw.Listen))
	rc := harness.NewReceiver(t, "s3cret", 0)
	sinks := harness.WriteSinks(t, fmt.Sprintf(`allow_private_networks: true
sinks:
  - {name: crm, type: webhook, url: %q, secret_env: %s, stages: [sql]}
`, rc.URL, secretEnv))
	addr := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	ids := e.Produce(t, "early", 5)

	sw.Cut()
	run(t, append(e.Args(sinks, addr), "--session-timeout", "6s")...)
	harness.WaitFor(t, 10*time.Second, "/readyz to answer 503 naming kafka", func() bool {
		code, body := harness.Get("http://" + addr + "/readyz")
		return code == 503 && strings.Contains(body, "kafka")
	})
	time.Sleep(2 * time.Second) // long enough for topic creation to fail and retry
	sw.Restore()

	harness.WaitFor(t, 30*time.Second, "the transitions produced before the start", func() bool {
		return len(rc.Accepted()) == len(ids)
	})
	for id, n := range rc.Accepted() {
		if n != 1 {
			t.Errorf("transition %s accepted %d times, want once", id, n)
		}
	}
	harness.WaitFor(t, 10*time.Second, "/readyz to answer 200", func() bool {
		code, _ := harness.Get("http://" + addr + "/readyz")
		return code == 200
	})
}
