package service_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"go.uber.org/goleak"
	"go.uber.org/zap"

	"github.com/leadstream/leadstream/pkg/config"
	"github.com/leadstream/leadstream/pkg/testenv"
	"github.com/leadstream/leadstream/services/notifier/internal/harness"
	"github.com/leadstream/leadstream/services/notifier/internal/service"
)

const secretEnv = "NOTIFIER_SERVICE_TEST_SECRET"

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"))
}

// run parses args as the binary would and runs the service until the
// test ends, failing it if Run returns an error.
func run(t *testing.T, args ...string) {
	t.Helper()
	var cfg service.Config
	fs := config.NewFlagSet("notifier")
	cfg.Register(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parse flags: %v", err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("validate: %v", err)
	}
	svc, err := service.New(cfg, zap.NewNop())
	if err != nil {
		t.Fatalf("new service: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run() = %v", err)
		}
	})
}

func TestSlowSinkDoesNotDelayTheOther(t *testing.T) {
	const (
		inline = 200 * time.Millisecond
		slow   = 2 * time.Second // beyond inline, within the sink's timeout
		bound  = 1500 * time.Millisecond
		n      = 12
	)
	t.Setenv(secretEnv, "s3cret")
	e := harness.New(t)
	fast := harness.NewReceiver(t, "s3cret", 0)
	lagging := harness.NewReceiver(t, "s3cret", slow)
	sinks := harness.WriteSinks(t, fmt.Sprintf(`allow_private_networks: true
sinks:
  - {name: fast, type: webhook, url: %q, secret_env: %s, stages: [sql], timeout: 5s}
  - {name: slow, type: webhook, url: %q, secret_env: %s, stages: [sql], timeout: 5s}
`, fast.URL, secretEnv, lagging.URL, secretEnv))
	addr := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	run(t, append(e.Args(sinks, addr), "--inline-timeout", inline.String())...)
	harness.WaitFor(t, 15*time.Second, "/readyz to answer 200", func() bool {
		code, _ := harness.Get("http://" + addr + "/readyz")
		return code == 200
	})

	// One transition first, so the consumer has joined its group before
	// latency is measured.
	warm := e.Produce(t, "warm", 1)
	harness.WaitFor(t, 15*time.Second, "the first delivery", func() bool {
		return fast.Accepted()[warm[0]] == 1
	})

	ids := e.Produce(t, "slow", n)
	measured := map[string]bool{}
	for _, id := range ids {
		measured[id] = true
	}
	harness.WaitFor(t, 15*time.Second, "every transition at the fast sink", func() bool {
		return len(fast.Accepted()) == n+1
	})
	// Were each partition to wait for the slow sink, a record behind
	// another would reach the fast sink after 2s or more.
	for _, r := range fast.Requests() {
		if measured[r.Key] && r.Latency > bound {
			t.Errorf("fast sink got %s after %v, want under %v", r.Key, r.Latency, bound)
		}
	}
	harness.WaitFor(t, 20*time.Second, "every transition at the slow sink", func() bool {
		return len(lagging.Accepted()) == n+1
	})
	for name, rc := range map[string]*harness.Receiver{"fast": fast, "slow": lagging} {
		got := rc.Accepted()
		for _, id := range append(ids, warm...) {
			if got[id] < 1 {
				t.Errorf("%s sink never accepted %s", name, id)
			}
		}
	}
	for id, c := range fast.Accepted() {
		if c != 1 {
			t.Errorf("fast sink accepted %s %d times, want once", id, c)
		}
	}
	for _, r := range append(fast.Requests(), lagging.Requests()...) {
		if r.Signed != nil {
			t.Errorf("signature of %s: %v", r.Key, r.Signed)
		}
	}
}
