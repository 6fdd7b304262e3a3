package faults

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/leadstream/leadstream/pkg/testenv"
)

const (
	writeKey      = "wk_faults"
	webhookSecret = "faults-secret"
	secretEnv     = "LEADSTREAM_FAULTS_WEBHOOK_SECRET"
)

// stack is the whole pipeline for one scenario: Kafka and Redis in or
// beside the test process, the services as processes of their own.
type stack struct {
	t      *testing.T
	dir    string
	prefix string

	kafka  *testenv.Kafka
	kcut   *cutSwitch
	redis  *testenv.Redis
	rproxy *testenv.Proxy
	recv   *Receiver

	events, transitions, deadletter    string
	scoreGroup, notifyGroup, keyPrefix string
	rulesPath                          string

	tracker  *proc
	scorers  []*proc
	notifier *proc
	nextID   int
	// procs is every process the stack made, scorers removed by a
	// scenario included, so that none's exits go uncounted.
	procs []*proc
}

// startStack starts Kafka, Redis, the webhook receiver and every service,
// with n scorers, and waits until they are ready.
func startStack(t *testing.T, n int) *stack {
	t.Helper()
	s := &stack{t: t, dir: logDir(t), prefix: testenv.Prefix(t), kcut: newCutSwitch()}
	s.events, s.transitions = s.prefix+"events", s.prefix+"transitions"
	s.deadletter = s.prefix + "deadletter"
	s.scoreGroup, s.notifyGroup = s.prefix+"scorer", s.prefix+"notifier"
	s.keyPrefix = strings.TrimSuffix(s.prefix, "-")

	s.kafka = testenv.StartKafka(t, kfake.ListenFn(s.kcut.listen),
		kfake.GroupMinSessionTimeout(time.Second))
	s.shortSessions()
	s.createTopics()
	s.redis = testenv.StartRedis(t)
	s.rproxy = testenv.StartProxy(t, s.redis.Addrs[0])
	s.recv = StartReceiver(t, webhookSecret)
	rulesPath, err := s.writeRules(rulesVersion)
	s.must(err)
	s.rulesPath = rulesPath
	s.writeSinks()

	s.tracker = s.newProc("tracker", s.trackerArgs())
	s.notifier = s.newProc("notifier", s.notifierArgs())
	for i := 0; i < n; i++ {
		s.scorers = append(s.scorers, s.newScorer())
	}
	all := append([]*proc{s.tracker, s.notifier}, s.scorers...)
	for _, p := range all {
		s.must(p.start())
	}
	for _, p := range all {
		s.must(s.ready(p))
	}
	t.Cleanup(func() {
		for _, p := range s.procs {
			p.close()
		}
		if t.Failed() || *keepFlag {
			t.Logf("service logs kept in %s", s.dir)
			return
		}
		os.RemoveAll(s.dir)
	})
	return s
}

// all returns every service process of the stack.
func (s *stack) all() []*proc {
	return append([]*proc{s.tracker, s.notifier}, s.scorers...)
}

// exits records in rep every exit of a service that the scenario did not
// ask for. The suite restarts such a service, as a supervisor would, so
// that the rest of the run still means something; the exit still fails
// the scenario, since a crash is a bug even when nothing is lost.
func (s *stack) exits(rep *Report) {
	for _, p := range s.procs {
		if n := p.unexpectedExits(); n > 0 {
			rep.exited(n, "%s exited on its own %d times and was restarted (log %s)", p.name,
				n, p.logPath)
		}
	}
}

// logDir makes the directory of a stack's files and logs; unlike
// t.TempDir it outlives a failed test, so its logs can be read.
func logDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "leadstream-faults-")
	if err != nil {
		t.Fatalf("make log directory: %v", err)
	}
	return dir
}

func (s *stack) must(err error) {
	s.t.Helper()
	if err != nil {
		s.t.Fatal(err)
	}
}

// ready waits up to 30 seconds for p to be ready.
func (s *stack) ready(p *proc) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return p.waitReady(ctx)
}

// sessionTimeout is the group session timeout the broker imposes.
const sessionTimeout = 6 * time.Second

// shortSessions caps the session and rebalance timeouts of the notifier's
// group. kafka-go asks for 30s each and the notifier has no flag for them,
// so a notifier killed with SIGKILL would hold its partitions for 30s; the
// broker-side cap plays the setting a deployment would choose. Scorers
// get the same timeouts through their own flags.
func (s *stack) shortSessions() {
	if s.kafka.Cluster == nil {
		return
	}
	ms := int32(sessionTimeout.Milliseconds())
	s.kafka.Cluster.ControlKey(int16(kmsg.JoinGroup), func(req kmsg.Request) (kmsg.Response,
		error, bool) {
		if jr, ok := req.(*kmsg.JoinGroupRequest); ok && jr.Group == s.notifyGroup {
			jr.SessionTimeoutMillis = min(jr.SessionTimeoutMillis, ms)
			jr.RebalanceTimeoutMillis = min(jr.RebalanceTimeoutMillis, ms)
		}
		return nil, nil, false
	})
}

// eventPartitions is how many partitions the events topic has.
const eventPartitions = 8

// createTopics creates the topics up front, so that every service sees
// the same partition counts whichever starts first.
func (s *stack) createTopics() {
	s.t.Helper()
	adm := kadm.NewClient(s.kafka.Client(s.t))
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for topic, parts := range map[string]int32{s.events: eventPartitions, s.transitions: 4,
		s.deadletter: 2} {
		resp, err := adm.CreateTopic(ctx, parts, -1, nil, topic)
		if err == nil {
			err = resp.Err
		}
		s.must(err)
	}
}

// rulesVersion is the version of deploy/rules/faults.yaml.
const rulesVersion = "faults-v1"

// writeRules writes deploy/rules/faults.yaml under version into the
// stack's directory, replacing the file there at once: a reload then
// swaps in the same criteria under another version, so the oracle still
// holds and the transitions tell which rules decided them.
func (s *stack) writeRules(version string) (string, error) {
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	data, err := os.ReadFile(filepath.Join(root, "deploy", "rules", "faults.yaml"))
	if err != nil {
		return "", fmt.Errorf("write rules %s: %w", version, err)
	}
	line := `version: "` + rulesVersion + `"`
	if !strings.Contains(string(data), line) {
		return "", fmt.Errorf("write rules %s: faults.yaml lacks the line %s", version, line)
	}
	text := strings.Replace(string(data), line, `version: "`+version+`"`, 1)
	path := filepath.Join(s.dir, "rules.yaml")
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(text), 0o644); err != nil {
		return "", fmt.Errorf("write rules %s: %w", version, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("write rules %s: %w", version, err)
	}
	return path, nil
}

// writeSinks writes the notifier's one webhook sink. Its attempts, at the
// notifier's short backoff (200ms doubling to 2s, full jitter), span 30
// to 45 seconds: longer than any scenario keeps the webhook failing, so a
// scenario tests retries and never parks a delivery the checker expects
// delivered.
func (s *stack) writeSinks() {
	s.t.Helper()
	yaml := fmt.Sprintf(`allow_private_networks: true
sinks:
  - name: faults
    type: webhook
    url: %s
    secret_env: %s
    stages: [mql, sql, excluded]
    max_attempts: 40
`, s.recv.URL(), secretEnv)
	s.must(os.WriteFile(filepath.Join(s.dir, "sinks.yaml"), []byte(yaml), 0o644))
}

func (s *stack) common() []string {
	return []string{"--kafka-brokers", strings.Join(s.kafka.Brokers, ","),
		"--events-topic", s.events, "--transitions-topic", s.transitions,
		"--deadletter-topic", s.deadletter, "--log-format", "json", "--log-level", "info"}
}

func (s *stack) newProc(name string, args []string) *proc {
	s.nextID++
	port := testenv.StablePort(s.t)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	p := &proc{name: name, bin: filepath.Join(binDir, strings.Fields(name)[0]),
		args: append(args, "--http-addr", addr), httpAddr: addr,
		env:     []string{secretEnv + "=" + webhookSecret},
		logPath: filepath.Join(s.dir, fmt.Sprintf("%s-%d.log", name, s.nextID))}
	s.procs = append(s.procs, p)
	return p
}

func (s *stack) trackerArgs() []string {
	return append(s.common(), "--write-keys", writeKey+"=faults",
		"--rate-limit", "1000000", "--rate-burst", "1000000", "--shutdown-timeout", "20s")
}

func (s *stack) notifierArgs() []string {
	return append(s.common(), "--sinks", filepath.Join(s.dir, "sinks.yaml"),
		"--group", s.notifyGroup, "--redis-addrs", s.redis.Addrs[0],
		"--redis-key-prefix", s.keyPrefix+"-notifier", "--parked-topic", s.prefix+"parked",
		"--retry-base", "200ms", "--retry-max", "2s")
}

// newScorer returns a scorer process, not started, connecting to Redis
// through the proxy so that Redis can be slowed or cut.
func (s *stack) newScorer() *proc {
	p := s.newProc("scorer", append([]string{"run"}, s.common()...))
	p.args = append(p.args, "--rules", s.rulesPath, "--group", s.scoreGroup,
		"--redis-addrs", s.rproxy.Addr, "--redis-key-prefix", s.keyPrefix,
		"--drain-timeout", "10s", "--session-timeout", sessionTimeout.String(),
		"--rebalance-timeout", sessionTimeout.String())
	return p
}

// addScorer starts one more scorer and waits until it is ready.
func (s *stack) addScorer() error {
	p := s.newScorer()
	if err := p.start(); err != nil {
		return err
	}
	s.scorers = append(s.scorers, p)
	return s.ready(p)
}

// removeScorer stops the last scorer with SIGTERM; it must exit 0.
func (s *stack) removeScorer() error {
	p := s.scorers[len(s.scorers)-1]
	s.scorers = s.scorers[:len(s.scorers)-1]
	if err := p.signal(syscall.SIGTERM, 30*time.Second); err != nil {
		return fmt.Errorf("stop scorer on SIGTERM: %w", err)
	}
	return nil
}

// produce writes records straight to the events topic.
func (s *stack) produce(ctx context.Context, recs ...*kgo.Record) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.kafka.Brokers...), kgo.DefaultProduceTopic(s.events))
	if err != nil {
		return fmt.Errorf("produce poison: %w", err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		return fmt.Errorf("produce poison: %w", err)
	}
	return nil
}
