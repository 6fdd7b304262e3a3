package bench

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/leadstream/leadstream/pkg/leadstore"
	"github.com/leadstream/leadstream/pkg/rules"
	"github.com/leadstream/leadstream/pkg/testenv"
)

// TestReplayMatchesStore checks that replaying captured commands leaves
// the same counts in Redis as the lead store's own calls would: the
// Redis ceiling must run the real script with the real arguments.
func TestReplayMatchesStore(t *testing.T) {
	r, err := rules.Load("../../../../deploy/rules/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	red := testenv.StartRedis(t)
	rdb := red.Client(t)
	ctx := context.Background()
	prefix := testenv.Prefix(t)
	st, err := leadstore.New(rdb, prefix)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Load(ctx); err != nil {
		t.Fatal(err)
	}
	mix := NewMix(prefix, 1_800_000_000_000)
	var events = append(mix.Lead(0), mix.Lead(1)...)
	cmds, err := applyCommands(ctx, rdb.(*redis.Client), prefix, r, events)
	if err != nil {
		t.Fatal(err)
	}
	if len(cmds) != len(events) {
		t.Fatalf("captured %d commands for %d events", len(cmds), len(events))
	}
	for _, args := range cmds {
		if err := rdb.Do(ctx, args...).Err(); err != nil {
			t.Fatalf("replay %v: %v", args[0], err)
		}
	}
	tests := []struct {
		name   string
		entity leadstore.Entity
		counts map[string]int64
		days   int // distinct days with a pricing view
	}{
		// Without the identify merge the visitor keeps its page views and
		// the lead its own events. The example rules count pricing views
		// by day only.
		{"visitor", leadstore.Anon(prefix + "-a0"), map[string]int64{"blog_view": 2}, 2},
		{"lead", leadstore.Lead(prefix + "-l1"), map[string]int64{"content_download": 1}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			state, _, err := st.Read(ctx, tt.entity)
			if err != nil {
				t.Fatal(err)
			}
			for sig, want := range tt.counts {
				if got := state.Counts[sig]; got != want {
					t.Errorf("%s = %d, want %d (all: %v)", sig, got, want, state.Counts)
				}
			}
			if got := len(state.Days["pricing_view"]); got != tt.days {
				t.Errorf("pricing views on %d days, want %d", got, tt.days)
			}
		})
	}
}
