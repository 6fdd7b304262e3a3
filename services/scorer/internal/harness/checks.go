package harness

import (
	"bytes"
	"context"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/leadstream/leadstream/pkg/rules"
	"github.com/leadstream/leadstream/pkg/testenv"
	"github.com/leadstream/leadstream/pkg/workload"
	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
	"github.com/leadstream/leadstream/services/scorer/internal/scoring"
)

// ReadToEnd reads topic from the start up to its end offsets as they are
// when it is called.
func ReadToEnd(t *testing.T, k *testenv.Kafka, topic string) []*kgo.Record {
	t.Helper()
	adm := kadm.NewClient(k.Client(t))
	ends, err := adm.ListEndOffsets(context.Background(), topic)
	if err != nil {
		t.Fatalf("list end offsets of %s: %v", topic, err)
	}
	var n int64
	ends.Each(func(l kadm.ListedOffset) { n += l.Offset })
	recs := k.ReadAll(t, topic, int(n), 20*time.Second)
	if len(recs) < int(n) {
		t.Fatalf("read %d records of %s, want %d", len(recs), topic, n)
	}
	return recs
}

// CheckDeadLetters checks each record on the dead-letter topic against
// the poison record it copies, found by key in events (the events topic
// as read back): the same value, the reason the scorer finds in it in
// header error, and in headers source_topic, source_partition and
// source_offset the place where it was written. Every poison record must
// be dead-lettered; one delivered again may be dead-lettered again.
func CheckDeadLetters(t *testing.T, events, dead []*kgo.Record, poison []workload.Poison) {
	t.Helper()
	reasons := map[string]string{}
	for _, p := range poison {
		_, err := scoring.Decode(p.Value)
		if err == nil {
			t.Fatalf("poison record %s (%s) decodes as an event", p.Key, p.Reason)
		}
		reasons[string(p.Key)] = spaced(err.Error())
	}
	origins := map[string]*kgo.Record{}
	for _, rec := range events {
		if _, ok := reasons[string(rec.Key)]; ok {
			origins[string(rec.Key)+"@"+place(rec.Partition, rec.Offset)] = rec
		}
	}
	if len(origins) != len(poison) {
		t.Fatalf("found %d poison records on the events topic, produced %d",
			len(origins), len(poison))
	}
	seen := map[string]bool{}
	for _, rec := range dead {
		seen[checkDeadLetter(t, rec, origins, reasons)] = true
	}
	for at := range origins {
		if !seen[at] {
			t.Fatalf("poison record %s was never dead-lettered", at)
		}
	}
}

// checkDeadLetter checks one dead letter and returns the key and place of
// the poison record it copies.
func checkDeadLetter(t *testing.T, rec *kgo.Record, origins map[string]*kgo.Record,
	reasons map[string]string) string {
	t.Helper()
	h := map[string]string{}
	for _, kv := range rec.Headers {
		h[kv.Key] = string(kv.Value)
	}
	at := string(rec.Key) + "@" + h["source_partition"] + "/" + h["source_offset"]
	src, ok := origins[at]
	switch {
	case !ok:
		t.Fatalf("dead letter with key %q names %s/%s, where no poison record of "+
			"that key was written; headers %v", rec.Key, h["source_partition"],
			h["source_offset"], h)
	case h["source_topic"] != src.Topic:
		t.Fatalf("dead letter %s: source_topic %q, written to %q", at, h["source_topic"],
			src.Topic)
	case spaced(h["error"]) != reasons[string(rec.Key)]:
		t.Fatalf("dead letter %s: error %q, want %q", at, h["error"],
			reasons[string(rec.Key)])
	case h["service"] != "scorer":
		t.Fatalf("dead letter %s: service %q, want scorer", at, h["service"])
	case !bytes.Equal(rec.Value, src.Value):
		t.Fatalf("dead letter %s: value differs from the poison record's", at)
	}
	return at
}

// spaced returns s with each run of white space as one space: protobuf
// varies the spaces in its error messages from one binary to another, so
// that nobody compares them exactly.
func spaced(s string) string { return strings.Join(strings.Fields(s), " ") }

func place(partition int32, offset int64) string {
	return strconv.Itoa(int(partition)) + "/" + strconv.FormatInt(offset, 10)
}

// firstSeen is where a transition id first appears on the topic.
type firstSeen struct {
	partition int32
	offset    int64
	tr        *leadstreamv1.Transition
}

// CheckStageOrder checks that the first copy of each of a lead's
// transitions comes on the topic in epoch order, each one starting where
// the one before ended: a lead that met the SQL criteria at once still
// shows visitor → mql before mql → sql. Later copies (published again
// after a crash) may come anywhere. It returns how many leads went
// through both mql and sql, so a caller can tell the check saw some.
func CheckStageOrder(t *testing.T, recs []*kgo.Record) int {
	t.Helper()
	leads := map[string]map[string]firstSeen{}
	for _, rec := range recs {
		tr, err := scoring.Unmarshal(rec.Value)
		if err != nil {
			t.Fatalf("transition record: %v", err)
		}
		ids := leads[tr.GetLeadId()]
		if ids == nil {
			ids = map[string]firstSeen{}
			leads[tr.GetLeadId()] = ids
		}
		if f, ok := ids[tr.GetId()]; !ok || rec.Offset < f.offset {
			ids[tr.GetId()] = firstSeen{partition: rec.Partition, offset: rec.Offset, tr: tr}
		}
	}
	both := 0
	for lead, ids := range leads {
		if checkLeadOrder(t, lead, ids) {
			both++
		}
	}
	return both
}

// checkLeadOrder checks one lead's first copies and reports whether the
// lead went through mql and sql.
func checkLeadOrder(t *testing.T, lead string, ids map[string]firstSeen) bool {
	t.Helper()
	seq := make([]firstSeen, 0, len(ids))
	for _, f := range ids {
		seq = append(seq, f)
	}
	sort.Slice(seq, func(i, j int) bool { return seq[i].offset < seq[j].offset })
	from := leadstreamv1.Stage_STAGE_VISITOR
	var mql, sql bool
	for i, f := range seq {
		tr := f.tr
		if f.partition != seq[0].partition {
			t.Fatalf("lead %s: transitions on partitions %d and %d", lead, seq[0].partition,
				f.partition)
		}
		if tr.GetEpoch() != int64(i+1) || tr.GetFrom() != from {
			t.Fatalf("lead %s: transition %d on the topic (offset %d) is %s → %s at "+
				"epoch %d; want epoch %d from %s", lead, i+1, f.offset, tr.GetFrom(),
				tr.GetTo(), tr.GetEpoch(), i+1, from)
		}
		from = tr.GetTo()
		mql = mql || from == leadstreamv1.Stage_STAGE_MQL
		sql = sql || from == leadstreamv1.Stage_STAGE_SQL
	}
	return mql && sql
}

// ThroughMQLToSQL returns how many of the oracle's leads go through mql
// and then sql, which is what CheckStageOrder must find on the topic.
func ThroughMQLToSQL(o *workload.Oracle) int {
	stages := map[string]map[rules.Stage]bool{}
	for _, tr := range o.Transitions {
		if stages[tr.LeadID] == nil {
			stages[tr.LeadID] = map[rules.Stage]bool{}
		}
		stages[tr.LeadID][tr.To] = true
	}
	n := 0
	for _, s := range stages {
		if s[rules.MQL] && s[rules.SQL] {
			n++
		}
	}
	return n
}
