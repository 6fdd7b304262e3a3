package leadstore

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/leadstream/leadstream/pkg/rules"
)

// Pending is a transition recorded in Redis and not yet acknowledged as
// published. Record is opaque to the store.
type Pending struct {
	ID     string
	Record []byte
}

// decodeState reads the flat field/value list of a state hash.
func decodeState(flat []any) (*rules.State, error) {
	st := rules.NewState()
	for i := 0; i+1 < len(flat); i += 2 {
		f, _ := flat[i].(string)
		v, _ := flat[i+1].(string)
		if err := setField(st, f, v); err != nil {
			return nil, fmt.Errorf("decode state field %q: %w", f, err)
		}
	}
	return st, nil
}

// setField sets one hash field of the state.
func setField(st *rules.State, f, v string) error {
	kind, rest, _ := strings.Cut(f, ":")
	var err error
	switch kind {
	case "stage":
		var n int64
		n, err = strconv.ParseInt(v, 10, 64)
		st.Stage = rules.Stage(n)
	case "epoch":
		st.Epoch, err = strconv.ParseInt(v, 10, 64)
	case "ident":
		st.Identified = v == "1"
	case "c":
		st.Counts[rest], err = strconv.ParseInt(v, 10, 64)
	case "d":
		err = setBucket(st.Days, rest, v)
	case "h":
		err = setBucket(st.Hours, rest, v)
	case "s":
		st.Scores[rest], err = parseScore(v)
	case "t":
		st.Traits[rest] = v
	}
	return err
}

// setBucket sets "<signal>:<bucket>" = v in buckets.
func setBucket(buckets map[string]map[int64]int64, rest, v string) error {
	i := strings.LastIndexByte(rest, ':')
	if i < 0 {
		return ErrBadReply
	}
	b, err := strconv.ParseInt(rest[i+1:], 10, 64)
	if err != nil {
		return err
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return err
	}
	sig := rest[:i]
	if buckets[sig] == nil {
		buckets[sig] = map[int64]int64{}
	}
	buckets[sig][b] = n
	return nil
}

// parseScore reads "<value>|<at_ms>".
func parseScore(v string) (rules.ScoreState, error) {
	val, at, ok := strings.Cut(v, "|")
	if !ok {
		return rules.ScoreState{}, ErrBadReply
	}
	f, err := strconv.ParseFloat(val, 64)
	if err != nil {
		return rules.ScoreState{}, err
	}
	ms, err := strconv.ParseInt(at, 10, 64)
	return rules.ScoreState{Value: f, AtMs: ms}, err
}

// decodePending reads the flat id/record list of a pending hash, sorted
// by id for a stable order; callers order by what the records say.
func decodePending(flat []any) []Pending {
	var out []Pending
	for i := 0; i+1 < len(flat); i += 2 {
		id, _ := flat[i].(string)
		rec, _ := flat[i+1].(string)
		out = append(out, Pending{ID: id, Record: []byte(rec)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// decodePair reads a reply of two flat lists: a state and pending records.
func decodePair(v any) (*rules.State, []Pending, error) {
	parts, ok := v.([]any)
	if !ok || len(parts) != 2 {
		return nil, nil, ErrBadReply
	}
	stFlat, _ := parts[0].([]any)
	pendFlat, _ := parts[1].([]any)
	st, err := decodeState(stFlat)
	if err != nil {
		return nil, nil, err
	}
	return st, decodePending(pendFlat), nil
}
