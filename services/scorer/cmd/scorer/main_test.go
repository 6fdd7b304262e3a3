package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"net/http"
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
	"github.com/leadstream/leadstream/services/scorer/internal/harness"
)

var logLevel = flag.String("scorer.log-level", "warn", "log level of the scorer processes")

// scorerBin is the scorer binary built once for every test here.
var scorerBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "scorer-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "make build directory:", err)
		os.Exit(1)
	}
	scorerBin = filepath.Join(dir, "scorer")
	// Built without -race: the processes stand for production binaries,
	// and the race detector would slow every one of them down.
	if out, err := exec.Command("go", "build", "-o", scorerBin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build scorer: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	if code == 0 {
		err := goleak.Find(goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"))
		if err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a scorer process started by a test.
type proc struct {
	cmd  *exec.Cmd
	log  string
	http string
	done chan struct{}
	err  error
}

// startScorer starts the scorer binary with args; it is killed when the
// test ends if it still runs.
func startScorer(t *testing.T, args ...string) *proc {
	t.Helper()
	logf, err := os.CreateTemp(t.TempDir(), "scorer-*.log")
	if err != nil {
		t.Fatalf("create log file: %v", err)
	}
	p := &proc{cmd: exec.Command(scorerBin, args...), log: logf.Name(),
		done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start scorer: %v", err)
	}
	go func() {
		p.err = p.cmd.Wait()
		_ = logf.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.kill(t)
		if t.Failed() {
			t.Logf("scorer %v:\n%s", args, tail(p.output(), 4000))
		}
	})
	return p
}

// runScorer starts `scorer run` as one worker of group in e.
func runScorer(t *testing.T, e *harness.Env, group string, extra ...string) *proc {
	t.Helper()
	addr := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	args := []string{"run", "--rules", e.RulesPath,
		"--kafka-brokers", strings.Join(e.Kafka.Brokers, ","),
		"--events-topic", e.Topics.EventsTopic,
		"--transitions-topic", e.Topics.TransitionsTopic,
		"--deadletter-topic", e.Topics.DeadLetterTopic,
		"--redis-addrs", strings.Join(e.Redis.Addrs, ","),
		"--redis-key-prefix", e.KeyPrefix, "--group", group, "--http-addr", addr,
		"--log-level", *logLevel}
	if e.Redis.Cluster {
		args = append(args, "--redis-cluster")
	}
	p := startScorer(t, append(args, extra...)...)
	p.http = addr
	return p
}

// kill sends SIGKILL and waits for the process to end.
func (p *proc) kill(t *testing.T) {
	t.Helper()
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	p.wait(t, 10*time.Second)
}

// wait waits for the process to end and returns its exit code.
func (p *proc) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(timeout):
		t.Fatalf("scorer did not exit within %s; log:\n%s", timeout, p.output())
		return -1
	}
}

// output returns what the process wrote so far.
func (p *proc) output() string {
	b, _ := os.ReadFile(p.log)
	return string(b)
}

// metric returns the value of the sample named by line prefix on the
// process's /metrics page, or 0 when it cannot be read.
func (p *proc) metric(name string) float64 {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.http+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return 0
}

// applied is how many events the process counted as new so far.
func (p *proc) applied() float64 {
	return p.metric(`leadstream_scorer_events_total{outcome="applied"}`)
}

// tail returns the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// waitFor polls cond for up to timeout.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
