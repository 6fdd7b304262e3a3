package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// service is a running service binary.
type service struct {
	child *Child
	url   string // base URL of its HTTP server
}

// topicSet names the topics of one pipeline.
type topicSet struct {
	events, transitions, deadletter string
}

// topicSet returns topic names no earlier suite used.
func (b *Bench) topicSet() topicSet {
	n := b.name("t")
	return topicSet{events: n + ".events", transitions: n + ".transitions",
		deadletter: n + ".deadletter"}
}

func (t topicSet) args() []string {
	return []string{"--events-topic", t.events, "--transitions-topic", t.transitions,
		"--deadletter-topic", t.deadletter}
}

// start starts a service binary with args and waits for its /readyz.
func (b *Bench) start(ctx context.Context, name string, args []string,
	env ...string) (*service, error) {
	path, err := findBinary(b.cfg.Bin, binaryOf(name))
	if err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	args = append(args, "--http-addr", addr, "--kafka-brokers", b.kafka,
		"--log-level", "warn", "--log-format", "json")
	c, err := StartChild(name, path, b.logDir(), args, env)
	if err != nil {
		return nil, err
	}
	s := &service{child: c, url: "http://" + addr}
	if err := c.WaitHTTP(ctx, s.url+"/readyz"); err != nil {
		c.Stop(5 * time.Second)
		return nil, err
	}
	return s, nil
}

// binaryOf maps a child name such as "scorer-2" to its binary.
func binaryOf(name string) string {
	for _, s := range []string{"tracker", "scorer", "notifier"} {
		if len(name) >= len(s) && name[:len(s)] == s {
			return s
		}
	}
	return name
}

// startTracker starts the tracker on ts with rate limiting off.
func (b *Bench) startTracker(ctx context.Context, ts topicSet) (*service, error) {
	args := append([]string{"--write-keys", WriteKey + "=bench", "--rate-limit", "0"},
		ts.args()...)
	return b.start(ctx, "tracker", args)
}

// startScorer starts the n-th scorer of group on ts.
func (b *Bench) startScorer(ctx context.Context, ts topicSet, group, prefix string,
	n int) (*service, error) {
	rules, err := filepath.Abs(b.cfg.Rules)
	if err != nil {
		return nil, fmt.Errorf("resolve rules path: %w", err)
	}
	args := append([]string{"run", "--rules", rules, "--group", group,
		"--redis-addrs", b.raddr, "--redis-key-prefix", prefix}, ts.args()...)
	if b.cfg.Profile {
		args = append(args, "--pprof")
	}
	return b.start(ctx, fmt.Sprintf("scorer-%d", n), args)
}

// startNotifier starts the notifier with one webhook sink to url for
// the given stages.
func (b *Bench) startNotifier(ctx context.Context, ts topicSet, url string,
	stages string) (*service, error) {
	sinks := filepath.Join(b.logDir(), b.name("sinks")+".yaml")
	yaml := fmt.Sprintf("allow_private_networks: true\nsinks:\n  - name: bench\n"+
		"    type: webhook\n    url: %s\n    secret_env: BENCH_WEBHOOK_SECRET\n"+
		"    stages: [%s]\n", url, stages)
	if err := os.WriteFile(sinks, []byte(yaml), 0o644); err != nil {
		return nil, fmt.Errorf("write sinks file: %w", err)
	}
	args := append([]string{"--sinks", sinks, "--group", b.name("notifier"),
		"--redis-addrs", b.raddr}, ts.args()...)
	return b.start(ctx, "notifier", args, "BENCH_WEBHOOK_SECRET=bench-secret")
}

// profile takes a CPU profile of s for d and writes it to
// <out>/profiles/name.pprof.
func (b *Bench) profile(ctx context.Context, s *service, d time.Duration, name string) error {
	dir := filepath.Join(b.cfg.OutDir, "profiles")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create profile dir: %w", err)
	}
	url := fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", s.url, int(d.Seconds()))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("profile %s: %w", name, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("profile %s: %w", name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("profile %s: %s", name, resp.Status)
	}
	f, err := os.Create(filepath.Join(dir, name+".pprof"))
	if err != nil {
		return fmt.Errorf("profile %s: %w", name, err)
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return fmt.Errorf("profile %s: %w", name, err)
	}
	return f.Close()
}

// addRSS records the peak resident memory of a child so far.
func (b *Bench) addRSS(group, under string, c *Child) {
	_, peak, err := c.Memory()
	if err != nil {
		b.report.Missing(group, group+" RSS peak", err.Error())
		return
	}
	b.report.Add(Figure{Group: group, Name: fmt.Sprintf("%s RSS peak (%s)", c.name, under),
		Value: float64(peak) / (1 << 20), Unit: "MiB", Note: "VmHWM of the process"})
}
