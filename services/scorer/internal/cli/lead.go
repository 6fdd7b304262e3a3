package cli

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/leadstream/leadstream/pkg/config"
	"github.com/leadstream/leadstream/pkg/leadstore"
	"github.com/leadstream/leadstream/pkg/rules"
	"github.com/leadstream/leadstream/services/scorer/internal/scoring"
)

// LeadShow writes what the lead store behind cfg holds about id: a lead
// id, or rules.AnonPrefix and an anonymous id for a visitor.
func LeadShow(ctx context.Context, w io.Writer, cfg config.Redis, id string) error {
	rdb := cfg.Client()
	defer rdb.Close()
	store, err := leadstore.New(rdb, cfg.KeyPrefix)
	if err != nil {
		return err
	}
	e := leadstore.Lead(id)
	if anon, ok := strings.CutPrefix(id, rules.AnonPrefix); ok {
		e = leadstore.Anon(anon)
		if lead, linked, err := store.Resolve(ctx, anon); err != nil {
			return err
		} else if linked {
			fmt.Fprintf(w, "visitor %s is linked to lead %s\n", anon, lead)
		}
	}
	v, err := store.Show(ctx, e)
	if err != nil {
		return err
	}
	writeView(w, e, v)
	return nil
}

func writeView(w io.Writer, e leadstore.Entity, v *leadstore.View) {
	st := v.State
	fmt.Fprintf(w, "lead %s\n  stage: %s (epoch %d)\n  identified: %v\n", e.LeadID(), st.Stage,
		st.Epoch, st.Identified)
	fmt.Fprintf(w, "  counters: %s\n", joinInts(st.Counts))
	for sig, b := range st.Days {
		fmt.Fprintf(w, "  days %s: %s\n", sig, joinBuckets(b))
	}
	for sig, b := range st.Hours {
		fmt.Fprintf(w, "  hours %s: %s\n", sig, joinBuckets(b))
	}
	for _, name := range sorted(st.Scores) {
		sc := st.Scores[name]
		fmt.Fprintf(w, "  score %s: %g as of %s\n", name, sc.Value,
			time.UnixMilli(sc.AtMs).UTC().Format(time.RFC3339))
	}
	traits := scoring.SafeTraits(st.Traits)
	for _, k := range sorted(traits) {
		fmt.Fprintf(w, "  trait %s: %q\n", k, traits[k])
	}
	sort.Strings(v.Anons)
	fmt.Fprintf(w, "  anonymous ids: %s\n", strings.Join(v.Anons, ", "))
	fmt.Fprintf(w, "  remembered event ids: %d\n", v.Seen)
	fmt.Fprintf(w, "  pending transitions: %d\n", len(v.Pending))
	for _, p := range v.Pending {
		t, err := scoring.Unmarshal(p.Record)
		if err != nil {
			fmt.Fprintf(w, "    %s: unreadable: %v\n", p.ID, err)
			continue
		}
		fmt.Fprintf(w, "    %s: %s → %s epoch %d (event %s)\n", p.ID,
			rules.Stage(t.GetFrom()), rules.Stage(t.GetTo()), t.GetEpoch(), t.GetEventId())
	}
}

func joinInts(m map[string]int64) string {
	parts := make([]string, 0, len(m))
	for _, k := range sorted(m) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, m[k]))
	}
	return strings.Join(parts, " ")
}

func joinBuckets(b map[int64]int64) string {
	keys := make([]int64, 0, len(b))
	for k := range b {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d:%d", k, b[k])
	}
	return strings.Join(parts, " ")
}

func sorted[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
