package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/leadstream/leadstream/pkg/config"
	"github.com/leadstream/leadstream/pkg/testenv"
	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
	"github.com/leadstream/leadstream/services/devstack/internal/demo"
	"github.com/leadstream/leadstream/services/devstack/internal/deploycheck"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/goleak"
	"google.golang.org/protobuf/proto"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// buildAll builds devstack and the services into one directory, as make
// build does.
func buildAll(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	for _, s := range append([]string{"devstack"}, deploycheck.Services...) {
		if _, err := deploycheck.Build(ctx, dir, s); err != nil {
			t.Fatalf("%v", err)
		}
	}
	return dir
}

// webhook records the bodies posted to it.
type webhook struct {
	mu     sync.Mutex
	bodies []string
}

func (w *webhook) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	w.mu.Lock()
	w.bodies = append(w.bodies, string(body))
	w.mu.Unlock()
}

func (w *webhook) has(s string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, b := range w.bodies {
		if strings.Contains(b, s) {
			return true
		}
	}
	return false
}

// devstack is one running devstack process.
type devstack struct {
	cmd     *exec.Cmd
	tracker string
	kafka   string
	done    chan struct{}
}

var readyLine = regexp.MustCompile(`devstack ready: tracker=(\S+) kafka=(\S+)`)

func startDevstack(t *testing.T, bin, dataDir, hook string) *devstack {
	t.Helper()
	rules, _ := filepath.Abs(filepath.Join(deploycheck.Root, "deploy/rules/example.yaml"))
	cmd := exec.Command(filepath.Join(bin, "devstack"), "--rules", rules,
		"--http", "127.0.0.1:0", "--kafka", "127.0.0.1:0", "--data-dir", dataDir,
		"--scorers", "2", "--write-key", "wk_e2e", "--stop-timeout", "15s",
		"--webhook", hook, "--webhook-secret", "e2e-secret", "--log-level", "warn")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("pipe: %v", err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatalf("start devstack: %v", err)
	}
	d := &devstack{cmd: cmd, done: make(chan struct{})}
	readyc := make(chan []string, 1)
	go d.scan(stdout, readyc)
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-d.done
	})
	select {
	case m := <-readyc:
		d.tracker, d.kafka = m[1], m[2]
	case <-time.After(60 * time.Second):
		t.Fatal("devstack not ready within 60s")
	}
	return d
}

// scan logs devstack's output and reports the ready line.
func (d *devstack) scan(r io.Reader, readyc chan<- []string) {
	defer close(d.done)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if m := readyLine.FindStringSubmatch(line); m != nil {
			readyc <- m
		}
		if testing.Verbose() {
			fmt.Println(line)
		}
	}
	_ = d.cmd.Wait()
}

// children lists the processes whose parent is pid.
func children(t *testing.T, pid int) []int {
	t.Helper()
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var out []int
	for _, path := range stats {
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		// The command name may hold spaces; the fields after it do not.
		fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
		if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			child, _ := strconv.Atoi(filepath.Base(filepath.Dir(path)))
			out = append(out, child)
		}
	}
	return out
}

func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil {
		return false
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	// A zombie has exited; only its parent has not reaped it yet.
	return err == nil && !strings.Contains(string(data), ") Z ")
}

// stop sends SIGTERM and wants exit status 0 and every child gone.
func (d *devstack) stop(t *testing.T) {
	t.Helper()
	kids := children(t, d.cmd.Process.Pid)
	// Redis, the tracker, two scorers and the notifier.
	if len(kids) != 5 {
		t.Errorf("devstack has %d children, want 5", len(kids))
	}
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("signal devstack: %v", err)
	}
	select {
	case <-d.done:
	case <-time.After(45 * time.Second):
		t.Fatal("devstack did not exit within 45s of SIGTERM")
	}
	if code := d.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("devstack exited %d, want 0", code)
	}
	for _, pid := range kids {
		if alive(pid) {
			t.Errorf("child %d still runs after devstack exited", pid)
		}
	}
}

// mqlEvents are two blog posts and a download of a lead that identified
// itself: enough for MQL under the example rules.
func mqlEvents(prefix string, now time.Time) []demo.Event {
	aid, lead := prefix+"a", prefix+"lead"
	at := func(d time.Duration) time.Time { return now.Add(-d).UTC() }
	return []demo.Event{
		{ID: prefix + "1", Type: "page_view", AnonymousID: aid, Timestamp: at(26 * time.Hour),
			URL: "https://example.com/blog/one"},
		{ID: prefix + "2", Type: "page_view", AnonymousID: aid, Timestamp: at(25 * time.Hour),
			URL: "https://example.com/blog/two"},
		{ID: prefix + "3", Type: "identify", AnonymousID: aid, LeadID: lead,
			Timestamp: at(2 * time.Hour), Traits: map[string]string{"email": "x@buyer.example",
				"email_domain": "buyer.example", "title": "Analyst"}},
		{ID: prefix + "4", Type: "download", AnonymousID: aid, Timestamp: at(time.Hour),
			URL: "https://example.com/guides/playbook"},
	}
}

// waitTransition reads the transitions topic from the start until it
// finds lead's move to stage.
func waitTransition(t *testing.T, brokers, lead string,
	to leadstreamv1.Stage) *leadstreamv1.Transition {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers),
		kgo.ConsumeTopics(config.DefaultTransitionsTopic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatalf("consumer: %v", err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		var found *leadstreamv1.Transition
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			var tr leadstreamv1.Transition
			if proto.Unmarshal(r.Value, &tr) == nil && tr.GetLeadId() == lead && tr.GetTo() == to {
				found = &tr
			}
		})
		if found != nil {
			return found
		}
	}
	t.Fatalf("no transition of %s to %s within 30s", lead, to)
	return nil
}

func TestDevstackRunsStopsAndResumes(t *testing.T) {
	bin := buildAll(t)
	hook := &webhook{}
	srv := httptest.NewServer(hook)
	t.Cleanup(srv.Close)
	dataDir := t.TempDir()
	prefix := testenv.Prefix(t)

	d := startDevstack(t, bin, dataDir, srv.URL)
	sender := &demo.Sender{BaseURL: d.tracker, WriteKey: "wk_e2e",
		Client: &http.Client{Timeout: 10 * time.Second}}
	for _, ev := range mqlEvents(prefix, time.Now()) {
		if err := sender.Send(context.Background(), ev); err != nil {
			t.Fatalf("send: %v", err)
		}
	}
	first := waitTransition(t, d.kafka, prefix+"lead", leadstreamv1.Stage_STAGE_MQL)
	deadline := time.Now().Add(30 * time.Second)
	for !hook.has(first.GetId()) && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if !hook.has(first.GetId()) {
		t.Errorf("webhook did not receive transition %s", first.GetId())
	}
	d.stop(t)

	again := startDevstack(t, bin, dataDir, srv.URL)
	resumed := waitTransition(t, again.kafka, prefix+"lead", leadstreamv1.Stage_STAGE_MQL)
	if resumed.GetId() != first.GetId() {
		t.Errorf("after resume the transition id is %s, want %s", resumed.GetId(), first.GetId())
	}
	again.stop(t)
}
