package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/leadstream/leadstream/pkg/leadstore"
	"github.com/leadstream/leadstream/pkg/rules"
	"github.com/leadstream/leadstream/pkg/testenv"
	"github.com/leadstream/leadstream/pkg/workload"
	"github.com/leadstream/leadstream/services/scorer/internal/harness"
	"github.com/leadstream/leadstream/services/scorer/internal/scoring"
)

// TestCommands runs the operator commands and checks exit codes and
// what they print.
func TestCommands(t *testing.T) {
	example := harness.RepoPath("deploy/rules/example.yaml")
	events := harness.RepoPath("deploy/rules/example-events.jsonl")
	golden, err := os.ReadFile(harness.RepoPath("pkg/rules/testdata/example-run.golden"))
	if err != nil {
		t.Fatalf("read golden run: %v", err)
	}
	cases := []struct {
		name string
		args []string
		code int
		want []string // each must appear in the output
	}{
		{"check the example", []string{"rules", "check", example}, 0,
			[]string{`Rules "2026-q4"`, "becomes an MQL"}},
		{"check a bad file names file and line", []string{"rules", "check",
			"../../testdata/rules-bad.yaml"}, 1,
			[]string{"rules-bad.yaml:4:", `unknown signal "nosuch"`}},
		{"check a missing file", []string{"rules", "check", "no-such.yaml"}, 1,
			[]string{"no-such.yaml"}},
		{"test the example events", []string{"rules", "test", example, events}, 0,
			[]string{string(golden)}},
		{"run without rules names the flag", []string{"run", "--rules", ""}, 1,
			[]string{"--rules", "LEADSTREAM_RULES"}},
		{"run with a bad redis address", []string{"run", "--rules", example,
			"--redis-addrs", "nohost"}, 1, []string{"--redis-addrs", `"nohost"`}},
		{"run with a tiny session timeout", []string{"run", "--rules", example,
			"--session-timeout", "10ms"}, 1, []string{"--session-timeout"}},
		{"run with a broken rules file", []string{"run", "--rules",
			"../../testdata/rules-bad.yaml", "--http-addr", "127.0.0.1:0"}, 1,
			[]string{"rules-bad.yaml:4:"}},
		{"unknown command prints usage", []string{"frobnicate"}, 2, []string{"usage:"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := startScorer(t, c.args...)
			code := p.wait(t, 20*time.Second)
			out := p.output()
			if code != c.code {
				t.Fatalf("exit code %d, want %d; output:\n%s", code, c.code, out)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Fatalf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// TestLeadShow fills a Redis with the example events, as workers would,
// and shows a lead, a linked visitor and an unlinked one.
func TestLeadShow(t *testing.T) {
	rdb := testenv.StartRedis(t)
	prefix := testenv.Prefix(t) + "ls"
	fillExample(t, rdb, prefix)
	cases := []struct {
		name string
		id   string
		want []string
	}{
		{"lead with two devices", "crm-0301", []string{"lead crm-0301", "stage: sql (epoch 2)",
			"identified: true", "content_download=3", "anonymous ids: a-vp, a-vp-phone",
			`trait email_domain: "bigco.example"`, "pending transitions: 0"}},
		{"linked visitor", "anon:a-vp", []string{"visitor a-vp is linked to lead crm-0301"}},
		{"excluded lead", "crm-0666", []string{"stage: excluded"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := startScorer(t, "lead", "show", "--redis-addrs", rdb.Addrs[0],
				"--redis-key-prefix", prefix, c.id)
			code := p.wait(t, 20*time.Second)
			out := p.output()
			if code != 0 {
				t.Fatalf("exit code %d; output:\n%s", code, out)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Fatalf("output lacks %q:\n%s", w, out)
				}
			}
			if strings.Contains(out, "@") {
				t.Fatalf("output shows an email address:\n%s", out)
			}
		})
	}
}

// fillExample scores deploy/rules/example-events.jsonl into Redis under
// prefix and acknowledges every transition, as a worker would.
func fillExample(t *testing.T, rdb *testenv.Redis, prefix string) {
	t.Helper()
	r, err := rules.Load(harness.RepoPath("deploy/rules/example.yaml"))
	if err != nil {
		t.Fatalf("load rules: %v", err)
	}
	store, err := leadstore.New(rdb.Client(t), prefix)
	if err != nil {
		t.Fatalf("new store: %v", err)
	}
	f, err := os.Open(harness.RepoPath("deploy/rules/example-events.jsonl"))
	if err != nil {
		t.Fatalf("open events: %v", err)
	}
	defer f.Close()
	proc := scoring.New(store)
	ctx := context.Background()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var ev workload.Event
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("event line %q: %v", line, err)
		}
		pb, err := ev.Proto()
		if err != nil {
			t.Fatalf("event %s: %v", ev.ID, err)
		}
		out, err := proc.Process(ctx, r, pb)
		if err != nil {
			t.Fatalf("process %s: %v", ev.ID, err)
		}
		for _, p := range out.Pending {
			if err := store.Ack(ctx, out.Entity, p.ID); err != nil {
				t.Fatalf("ack: %v", err)
			}
		}
	}
}

// TestSIGTERMCommitsAndExitsZero stops a running worker mid-stream with
// SIGTERM: it must exit 0 having committed what it scored, so a worker
// that takes over publishes nothing a second time.
func TestSIGTERMCommitsAndExitsZero(t *testing.T) {
	e := harness.New(t, harness.Options{Seed: 31})
	group := e.Prefix + "group"
	e.Produce(t, e.Records(t))
	first := runScorer(t, e, group, "--max-poll-records", "5")
	waitFor(t, "the worker to score events", 30*time.Second,
		func() bool { return first.applied() > 0 })
	if err := first.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("signal: %v", err)
	}
	if code := first.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("exit code %d after SIGTERM, want 0; log:\n%s", code, first.output())
	}
	if n := committedTotal(t, e, group); n == 0 {
		t.Fatalf("nothing committed before exit; log:\n%s", first.output())
	}

	runScorer(t, e, group)
	e.WaitCommitted(t, group, 40*time.Second)
	rep := e.Check(t)
	if rep.Duplicates != 0 {
		t.Fatalf("%d transitions published twice across a clean stop", rep.Duplicates)
	}
	t.Logf("%+v", rep)
}

func committedTotal(t *testing.T, e *harness.Env, group string) int64 {
	t.Helper()
	adm := kadm.NewClient(e.Kafka.Client(t))
	offs, err := adm.FetchOffsets(context.Background(), group)
	if err != nil {
		t.Fatalf("fetch offsets: %v", err)
	}
	var n int64
	offs.Each(func(o kadm.OffsetResponse) { n += o.At })
	return n
}
