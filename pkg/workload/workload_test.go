package workload

import (
	"math/rand"
	"reflect"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/leadstream/leadstream/pkg/rules"
	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
)

const rulesFile = "../../deploy/rules/faults.yaml"

func loadRules(t testing.TB) *rules.Rules {
	t.Helper()
	r, err := rules.Load(rulesFile)
	if err != nil {
		t.Fatalf("load rules: %v", err)
	}
	return r
}

func generate(t testing.TB, cfg Config) *Workload {
	t.Helper()
	w, err := Generate(cfg)
	if err != nil {
		t.Fatalf("generate: %v", err)
	}
	return w
}

func TestGenerateIsDeterministicPerSeed(t *testing.T) {
	tests := []struct {
		name string
		a, b int64
		same bool
	}{
		{"same seed", 7, 7, true},
		{"other seed", 7, 8, false},
		{"zero seed", 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := generate(t, DefaultConfig(tt.a))
			b := generate(t, DefaultConfig(tt.b))
			if got := reflect.DeepEqual(a, b); got != tt.same {
				t.Fatalf("seeds %d and %d: equal = %v, want %v", tt.a, tt.b, got, tt.same)
			}
		})
	}
}

func TestGenerateHasWhatFaultsNeed(t *testing.T) {
	w := generate(t, DefaultConfig(1))
	events := w.Events()
	seen := map[string]int{}
	var serverSide, both int
	for _, ev := range events {
		seen[ev.ID]++
		switch {
		case ev.AnonymousID == "" && ev.LeadID != "":
			serverSide++
		case ev.AnonymousID != "" && ev.LeadID != "":
			both++
		}
		if len(w.Batches) > 0 && ev.ID == "" {
			t.Fatalf("event without id: %+v", ev)
		}
	}
	dups := len(events) - len(seen)

	tests := []struct {
		name string
		got  int
		min  int
	}{
		{"events", len(events), 1000},
		{"duplicates", dups, 20},
		{"server-side events", serverSide, 20},
		{"events with both ids", both, 100},
		{"out-of-order pairs", outOfOrder(events), 100},
		{"poison records", len(w.Poison), 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got < tt.min {
				t.Fatalf("got %d, want at least %d", tt.got, tt.min)
			}
		})
	}
	for _, b := range w.Batches {
		if len(b.Events) == 0 || len(b.Events) > w.Config.MaxBatch {
			t.Fatalf("batch of %d events, want 1..%d", len(b.Events), w.Config.MaxBatch)
		}
	}
}

// outOfOrder counts pairs of consecutive events of one key whose times
// go backwards.
func outOfOrder(events []Event) int {
	last, n := map[string]string{}, 0
	for _, ev := range events {
		if prev, ok := last[ev.Key()]; ok && ev.Timestamp < prev {
			n++
		}
		last[ev.Key()] = ev.Timestamp
	}
	return n
}

func TestPoisonIsUnusable(t *testing.T) {
	w := generate(t, DefaultConfig(3))
	for _, p := range w.Poison {
		t.Run(p.Reason+"/"+string(p.Key), func(t *testing.T) {
			var ev leadstreamv1.Event
			err := proto.Unmarshal(p.Value, &ev)
			if err == nil && (ev.GetAnonymousId() != "" || ev.GetLeadId() != "") {
				t.Fatalf("poison decodes to a usable event: %v", &ev)
			}
		})
	}
}

func TestOracleCoversEveryStage(t *testing.T) {
	o := expect(t, loadRules(t), generate(t, DefaultConfig(5)).Events())
	stages := o.Stages()
	for _, s := range []rules.Stage{rules.Visitor, rules.MQL, rules.SQL, rules.Excluded} {
		t.Run(s.String(), func(t *testing.T) {
			if stages[s] < 5 {
				t.Fatalf("%d leads end in %s, want at least 5 (all: %v)", stages[s], s, stages)
			}
		})
	}
	for id, tr := range o.Transitions {
		if tr.To == rules.Excluded && tr.Epoch != 1 {
			t.Fatalf("transition %s: lead %s excluded at epoch %d; competitors must "+
				"never qualify first", id, tr.LeadID, tr.Epoch)
		}
	}
}

// TestOracleIgnoresOrder shuffles the events as partitions and consumer
// restarts may, and expects the very same outcome.
func TestOracleIgnoresOrder(t *testing.T) {
	r := loadRules(t)
	for _, seed := range []int64{1, 2, 3} {
		w := generate(t, DefaultConfig(seed))
		want := expect(t, r, w.Events())
		for round := int64(0); round < 4; round++ {
			t.Run(string(rune('a'+seed))+string(rune('0'+round)), func(t *testing.T) {
				events := w.Events()
				rnd := rand.New(rand.NewSource(seed*100 + round))
				rnd.Shuffle(len(events), func(i, j int) {
					events[i], events[j] = events[j], events[i]
				})
				if got := expect(t, r, events); !reflect.DeepEqual(got, sameIDs(want, got)) {
					t.Fatalf("outcome changed under shuffle %d of seed %d", round, seed)
				}
			})
		}
	}
}

// sameIDs returns want with each transition's event id and time taken from
// got: which copy of the events triggers a transition depends on order,
// but the transition and its id do not.
func sameIDs(want, got *Oracle) *Oracle {
	out := &Oracle{Leads: want.Leads, Transitions: map[string]rules.LeadTransition{}}
	for id, tr := range want.Transitions {
		if g, ok := got.Transitions[id]; ok {
			tr.EventID, tr.OccurredAtMs, tr.Reasons = g.EventID, g.OccurredAtMs, g.Reasons
		}
		out.Transitions[id] = tr
	}
	return out
}

func expect(t testing.TB, r *rules.Rules, events []Event) *Oracle {
	t.Helper()
	o, err := Expect(r, events)
	if err != nil {
		t.Fatalf("expect: %v", err)
	}
	return o
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		ok     bool
	}{
		{"default", func(*Config) {}, true},
		{"no devices", func(c *Config) { c.MaxDevices = 0 }, false},
		{"no batch", func(c *Config) { c.MaxBatch = 0 }, false},
		{"negative leads", func(c *Config) { c.Leads = -1 }, false},
		{"duplicate rate", func(c *Config) { c.DuplicateRate = 2 }, false},
		{"no time", func(c *Config) { c.Newest = time.Time{} }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig(1)
			tt.change(&cfg)
			if err := cfg.Validate(); (err == nil) != tt.ok {
				t.Fatalf("Validate() = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

func TestProtoDerivesEmailDomain(t *testing.T) {
	ev := Event{ID: "e", Type: "identify", LeadID: "l", Timestamp: "2026-12-01T10:00:00Z",
		Traits: map[string]string{"email": " Ann@Rival-Agency.com"}}
	pb, err := ev.Proto()
	if err != nil {
		t.Fatal(err)
	}
	if got := pb.GetTraits()["email_domain"]; got != "rival-agency.com" {
		t.Fatalf("email_domain = %q", got)
	}
	if _, err := (Event{Timestamp: "yesterday"}).Proto(); err == nil {
		t.Fatal("bad timestamp accepted")
	}
}

// TestCausesHoldUnderShuffle checks that in every order the event that
// causes a transition is one the oracle allows, and that the oracle pins
// the cause down exactly for a good share of transitions.
func TestCausesHoldUnderShuffle(t *testing.T) {
	r := loadRules(t)
	for _, seed := range []int64{4, 5} {
		w := generate(t, DefaultConfig(seed))
		o, err := w.Expect(r)
		if err != nil {
			t.Fatalf("expect: %v", err)
		}
		for id := range o.Transitions {
			if len(o.Causes[id]) == 0 {
				t.Fatalf("seed %d: transition %s has no possible cause", seed, id)
			}
		}
		exact := len(o.Cause)
		t.Logf("seed %d: %d of %d transitions have one known cause", seed, exact,
			len(o.Transitions))
		if exact < len(o.Transitions)/10 {
			t.Fatalf("seed %d: %d of %d transitions have one known cause, want at least "+
				"a tenth", seed, exact, len(o.Transitions))
		}
		for round := int64(0); round < 4; round++ {
			events := w.Events()
			rnd := rand.New(rand.NewSource(seed*100 + round))
			rnd.Shuffle(len(events), func(i, j int) { events[i], events[j] = events[j], events[i] })
			for id, tr := range expect(t, r, events).Transitions {
				if !contains(o.Causes[id], tr.EventID) {
					t.Fatalf("seed %d shuffle %d: transition %s caused by %s, oracle allows %v",
						seed, round, id, tr.EventID, o.Causes[id])
				}
				if c, ok := o.Cause[id]; ok && c != tr.EventID {
					t.Fatalf("seed %d shuffle %d: transition %s caused by %s, oracle says %s",
						seed, round, id, tr.EventID, c)
				}
				if tr.OccurredAtMs != o.EventTimes[tr.EventID] {
					t.Fatalf("seed %d shuffle %d: transition %s at %d, its event at %d",
						seed, round, id, tr.OccurredAtMs, o.EventTimes[tr.EventID])
				}
			}
		}
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
