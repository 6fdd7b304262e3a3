package leadstore

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/leadstream/leadstream/pkg/rules"
	"github.com/leadstream/leadstream/pkg/testenv"
	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
)

// maxLeadBytes bounds what Redis spends on the keys of a typical lead
// after about twenty events under the example rules, ids remembered for
// deduplication included.
const maxLeadBytes = 1000

// TestLeadMemory applies a typical lead's events under the example rules
// and weighs its keys with MEMORY USAGE.
func TestLeadMemory(t *testing.T) {
	r, err := rules.Load("../../deploy/rules/example.yaml")
	if err != nil {
		t.Fatalf("load rules: %v", err)
	}
	rdb := testenv.StartRedis(t).Client(t)
	prefix := testenv.Prefix(t) + "ls"
	s, err := New(rdb, prefix)
	if err != nil {
		t.Fatalf("new store: %v", err)
	}
	ctx := context.Background()
	lead := Lead("crm-0042")
	for i, ev := range typicalLead(20) {
		if _, err := s.Apply(ctx, lead, r, ev); err != nil {
			t.Fatalf("apply event %d: %v", i, err)
		}
	}
	total := int64(0)
	for _, part := range []string{partState} {
		key := s.key(lead, part)
		n, err := rdb.MemoryUsage(ctx, key).Result()
		if err != nil {
			t.Fatalf("memory usage of %s: %v", key, err)
		}
		enc, _ := rdb.ObjectEncoding(ctx, key).Result()
		t.Logf("%s: %d bytes (%s)", key, n, enc)
		total += n
	}
	fields, _ := rdb.HGetAll(ctx, s.key(lead, partState)).Result()
	t.Logf("state fields: %v", fields)
	t.Logf("lead after 20 events: %d bytes", total)
	if total > maxLeadBytes {
		t.Fatalf("a typical lead costs %d bytes, more than %d", total, maxLeadBytes)
	}
}

// typicalLead returns n events of one lead over two weeks: blog reads,
// pricing visits, downloads, newsletter opens and an identify.
func typicalLead(n int) []*leadstreamv1.Event {
	start := time.Date(2026, 11, 16, 9, 0, 0, 0, time.UTC)
	kinds := []struct{ typ, url string }{
		{"page_view", "https://example.com/blog/post"},
		{"page_view", "https://example.com/pricing"},
		{"download", ""}, {"email_open", ""}, {"page_view", "https://example.com/docs"},
	}
	out := make([]*leadstreamv1.Event, 0, n)
	for i := range n {
		k := kinds[i%len(kinds)]
		ev := &leadstreamv1.Event{Id: fmt.Sprintf("9b2f6c1e-4d1a-4f7e-8a3b-%012d", i),
			Type: k.typ, Url: k.url, LeadId: "crm-0042",
			OccurredAtUnixMs: start.Add(time.Duration(i) * 17 * time.Hour).UnixMilli()}
		if i == 3 {
			ev.Type = "identify"
			ev.Traits = map[string]string{"email": "kim@bigco.example",
				"email_domain": "bigco.example", "title": "VP Sales", "company": "BigCo"}
		}
		out = append(out, ev)
	}
	return out
}
