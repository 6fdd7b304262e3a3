package main_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/leadstream/leadstream/pkg/testenv"
	"github.com/leadstream/leadstream/services/notifier/internal/harness"
)

const secret = "binary-test-secret"

// binary is the notifier built once for the whole package.
var binary string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "notifier-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "make build directory:", err)
		return 1
	}
	defer func() { _ = os.RemoveAll(dir) }()
	binary = filepath.Join(dir, "notifier")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build notifier: %v\n%s", err, out)
		return 1
	}
	code := m.Run()
	if code == 0 {
		if err := goleak.Find(goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
			goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
			goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop")); err != nil {
			fmt.Fprintln(os.Stderr, "goroutines left behind:", err)
			return 1
		}
	}
	return code
}

// proc is a running notifier process.
type proc struct {
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	base   string // http://host:port of the operational endpoints
	done   chan struct{}
	err    error // set when done is closed
}

// start runs the binary with args and extra environment, killed when
// the test ends if it is still running.
func start(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(binary, args...), stderr: &bytes.Buffer{},
		done: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start notifier: %v", err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("notifier stderr:\n%s", p.stderr)
		}
	})
	return p
}

// wait returns the exit code, failing the test if the process runs on
// past timeout.
func (p *proc) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		t.Fatalf("notifier still running after %v", timeout)
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	}
	if p.err != nil {
		t.Fatalf("wait for notifier: %v", p.err)
	}
	return 0
}

// startNotifier runs the binary against e with one webhook sink posting
// to rc, and waits until /readyz answers 200.
func startNotifier(t *testing.T, e *harness.Env, rc *harness.Receiver, extra ...string) *proc {
	t.Helper()
	sinks := harness.WriteSinks(t, fmt.Sprintf(`allow_private_networks: true
sinks:
  - name: crm
    type: webhook
    url: %s
    secret_env: CRM_WEBHOOK_SECRET
    stages: [sql]
`, rc.URL))
	addr := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	p := start(t, []string{"CRM_WEBHOOK_SECRET=" + secret},
		append(e.Args(sinks, addr), extra...)...)
	p.base = "http://" + addr
	harness.WaitFor(t, 15*time.Second, "/readyz to answer 200", func() bool {
		code, _ := harness.Get(p.base + "/readyz")
		return code == 200
	})
	return p
}

// checkSigned fails unless every id was accepted exactly once and every
// request carried a valid signature.
func checkSigned(t *testing.T, rc *harness.Receiver, ids []string) {
	t.Helper()
	got := rc.Accepted()
	for _, id := range ids {
		if got[id] != 1 {
			t.Errorf("transition %s accepted %d times, want 1", id, got[id])
		}
	}
	for _, r := range rc.Requests() {
		if r.Signed != nil {
			t.Errorf("signature of %s: %v", r.Key, r.Signed)
		}
	}
}

// metric returns the value of the series whose line starts with prefix,
// or -1 when it is absent.
func metric(t *testing.T, base, prefix string) float64 {
	t.Helper()
	code, body := harness.Get(base + "/metrics")
	if code != 200 {
		t.Fatalf("/metrics answered %d", code)
	}
	for _, line := range strings.Split(body, "\n") {
		if rest, ok := strings.CutPrefix(line, prefix+" "); ok {
			v, err := strconv.ParseFloat(rest, 64)
			if err != nil {
				t.Fatalf("parse %q: %v", line, err)
			}
			return v
		}
	}
	return -1
}

const delivered = `leadstream_notifier_deliveries_total{outcome="delivered",sink="crm"}`

func TestDeliversSignedAndStopsCleanly(t *testing.T) {
	e := harness.New(t)
	rc := harness.NewReceiver(t, secret, 0)
	p := startNotifier(t, e, rc)

	if code, _ := harness.Get(p.base + "/healthz"); code != 200 {
		t.Errorf("/healthz answered %d, want 200", code)
	}
	ids := e.Produce(t, "a", 12)
	harness.WaitFor(t, 20*time.Second, "12 deliveries", func() bool {
		return len(rc.Accepted()) == len(ids)
	})
	checkSigned(t, rc, ids)
	// The receiver counts a request before it answers, the notifier
	// counts a delivery once it has read the answer.
	harness.WaitFor(t, 10*time.Second, delivered, func() bool {
		return metric(t, p.base, delivered) == float64(len(ids))
	})

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("send SIGTERM: %v", err)
	}
	if code := p.wait(t, 5*time.Second); code != 0 {
		t.Fatalf("exit code after SIGTERM = %d, want 0\n%s", code, p.stderr)
	}

	// A fresh key prefix hides the delivery records, so only committed
	// offsets can keep the next notifier in the group from resending.
	rc2 := harness.NewReceiver(t, secret, 0)
	e.KeyPrefix += "-second"
	startNotifier(t, e, rc2)
	later := e.Produce(t, "b", 3)
	harness.WaitFor(t, 20*time.Second, "the later deliveries", func() bool {
		return len(rc2.Accepted()) >= len(later)
	})
	time.Sleep(500 * time.Millisecond) // room for a wrong resend to show
	checkSigned(t, rc2, later)
	if n := len(rc2.Accepted()); n != len(later) {
		t.Errorf("second notifier delivered %d transitions, want only the %d new ones",
			n, len(later))
	}
}

func TestReadyzFollowsRedis(t *testing.T) {
	e := harness.New(t)
	p := startNotifier(t, e, harness.NewReceiver(t, secret, 0))
	nodes := e.Redis.OwnNodes(t)

	nodes[0].Stop()
	harness.WaitFor(t, 10*time.Second, "/readyz to answer 503", func() bool {
		code, body := harness.Get(p.base + "/readyz")
		return code == 503 && strings.Contains(body, "redis")
	})
	if code, _ := harness.Get(p.base + "/healthz"); code != 200 {
		t.Errorf("/healthz answered %d with Redis down, want 200", code)
	}
	nodes[0].Restart(t)
	harness.WaitFor(t, 10*time.Second, "/readyz to answer 200 again", func() bool {
		code, _ := harness.Get(p.base + "/readyz")
		return code == 200
	})
}

func TestBadConfigurationExitsNamingTheProblem(t *testing.T) {
	webhook := `sinks:
  - name: crm
    type: webhook
    url: https://crm.example.com/hooks
    secret_env: CRM_WEBHOOK_SECRET
    stages: [sql]
`
	tests := []struct {
		name  string
		sinks string // sinks file body; empty means no --sinks flag
		env   []string
		want  string
	}{
		{"no sinks flag", "", nil, "sinks"},
		{"missing secret", webhook, nil, "CRM_WEBHOOK_SECRET is not set"},
		{"unknown key", webhook + "    colour: blue\n", []string{"CRM_WEBHOOK_SECRET=x"},
			"sinks.yaml:7"},
		{"bad stage", strings.Replace(webhook, "[sql]", "[hot]", 1),
			[]string{"CRM_WEBHOOK_SECRET=x"}, `unknown stage "hot"`},
		{"private url", strings.Replace(webhook, "crm.example.com", "127.0.0.1", 1),
			[]string{"CRM_WEBHOOK_SECRET=x"}, "sinks.yaml:4"},
		{"no in-flight window", webhook,
			[]string{"CRM_WEBHOOK_SECRET=x", "LEADSTREAM_MAX_IN_FLIGHT=0"}, "--max-in-flight"},
		{"no commit interval", webhook,
			[]string{"CRM_WEBHOOK_SECRET=x", "LEADSTREAM_COMMIT_INTERVAL=0s"}, "--commit-interval"},
		{"short session timeout", webhook,
			[]string{"CRM_WEBHOOK_SECRET=x", "LEADSTREAM_SESSION_TIMEOUT=500ms"},
			"--session-timeout"},
		{"no rebalance timeout", webhook,
			[]string{"CRM_WEBHOOK_SECRET=x", "LEADSTREAM_REBALANCE_TIMEOUT=0s"},
			"--rebalance-timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"--kafka-brokers", "127.0.0.1:1", "--redis-addrs", "127.0.0.1:1"}
			if tt.sinks != "" {
				args = append(args, "--sinks", harness.WriteSinks(t, tt.sinks))
			}
			p := start(t, append([]string{"CRM_WEBHOOK_SECRET="}, tt.env...), args...)
			if code := p.wait(t, 10*time.Second); code == 0 {
				t.Fatalf("exit code 0, want non-zero")
			}
			if !strings.Contains(p.stderr.String(), tt.want) {
				t.Errorf("stderr does not name %q:\n%s", tt.want, p.stderr)
			}
		})
	}
}
