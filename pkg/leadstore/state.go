package leadstore

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
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

// The fields of a state hash that are not coded (see names.go).
const (
	fieldStage    = "S"
	fieldEpoch    = "E"
	fieldIdent    = "I"
	fieldClock    = "C"
	fieldPruned   = "P" // the mark of the last bucket prune
	fieldSeen     = "~" // how many event ids were ever remembered
	prefixMerged  = "a:"
	prefixSeenRec = "~"
)

// decodeState reads the flat field/value list of a state hash and counts
// the coded fields whose code book does not know.
func decodeState(flat []any, book *codebook) (*rules.State, int, error) {
	st := rules.NewState()
	unknown := 0
	for i := 0; i+1 < len(flat); i += 2 {
		f, _ := flat[i].(string)
		v, _ := flat[i+1].(string)
		known, err := setField(st, f, v, book)
		if err != nil {
			return nil, 0, fmt.Errorf("decode state field %q: %w", f, err)
		}
		if !known {
			unknown++
		}
	}
	return st, unknown, nil
}

// setField sets one hash field of the state; it reports false for a
// coded field whose code book does not know, and leaves it out.
func setField(st *rules.State, f, v string, book *codebook) (bool, error) {
	var err error
	switch f {
	case fieldStage:
		var n int64
		n, err = strconv.ParseInt(v, 10, 64)
		st.Stage = rules.Stage(n)
		return true, err
	case fieldEpoch:
		st.Epoch, err = strconv.ParseInt(v, 10, 64)
		return true, err
	case fieldIdent:
		st.Identified = v == "1"
		return true, nil
	}
	if len(f) < 2 || strings.HasPrefix(f, prefixSeenRec) || strings.HasPrefix(f, prefixMerged) {
		return true, nil
	}
	kind, rest := f[0], f[1:]
	code, bucket, _ := strings.Cut(rest, ":")
	name, ok := book.byCode[code]
	switch {
	case kind != 'c' && kind != 'd' && kind != 'h' && kind != 's' && kind != 't':
		return true, nil
	case !ok:
		return false, nil
	}
	switch kind {
	case 'c':
		st.Counts[name], err = strconv.ParseInt(v, 10, 64)
	case 'd':
		err = setBucket(st.Days, name, bucket, v)
	case 'h':
		err = setBucket(st.Hours, name, bucket, v)
	case 's':
		st.Scores[name], err = parseScore(v)
	case 't':
		st.Traits[name] = v
	}
	return true, err
}

// setBucket sets buckets[sig][bucket] = v.
func setBucket(buckets map[string]map[int64]int64, sig, bucket, v string) error {
	b, err := strconv.ParseInt(bucket, 10, 64)
	if err != nil {
		return err
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return err
	}
	if buckets[sig] == nil {
		buckets[sig] = map[int64]int64{}
	}
	buckets[sig][b] = n
	return nil
}

// parseScore reads a score's value and the time in ms it is valued at,
// two big-endian doubles.
func parseScore(v string) (rules.ScoreState, error) {
	if len(v) != 16 {
		return rules.ScoreState{}, ErrBadReply
	}
	val := math.Float64frombits(binary.BigEndian.Uint64([]byte(v[:8])))
	at := math.Float64frombits(binary.BigEndian.Uint64([]byte(v[8:])))
	return rules.ScoreState{Value: val, AtMs: int64(at)}, nil
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

// decodePair reads a reply of two flat lists, a state and pending
// records, and counts the state's fields with codes book does not know.
func decodePair(v any, book *codebook) (*rules.State, []Pending, int, error) {
	parts, ok := v.([]any)
	if !ok || len(parts) != 2 {
		return nil, nil, 0, ErrBadReply
	}
	stFlat, _ := parts[0].([]any)
	pendFlat, _ := parts[1].([]any)
	st, unknown, err := decodeState(stFlat, book)
	if err != nil {
		return nil, nil, 0, err
	}
	return st, decodePending(pendFlat), unknown, nil
}

// decode reads a state and pending reply with the code book, reading
// the book again when the state has codes it does not know: another
// process's rules named something new.
func (s *Store) decode(ctx context.Context, v any) (*rules.State, []Pending, error) {
	book, err := s.names.book(ctx, s.rdb)
	if err != nil {
		return nil, nil, err
	}
	st, pending, unknown, err := decodePair(v, book)
	if err != nil || unknown == 0 || !s.names.mayReload() {
		return st, pending, err
	}
	if book, err = s.names.reload(ctx, s.rdb); err != nil {
		return nil, nil, err
	}
	st, pending, _, err = decodePair(v, book)
	return st, pending, err
}
