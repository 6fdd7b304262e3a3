package demo

import (
	"errors"
	"strings"
	"testing"

	"github.com/leadstream/leadstream/pkg/rules"
	leadstreamv1 "github.com/leadstream/leadstream/proto/leadstream/v1"
)

func seenAt(off int64, id, lead string, to leadstreamv1.Stage) Seen {
	return Seen{Offset: off, Transition: &leadstreamv1.Transition{Id: id, LeadId: lead,
		From: leadstreamv1.Stage_STAGE_VISITOR, To: to}}
}

func TestObserved(t *testing.T) {
	const mql, sql = leadstreamv1.Stage_STAGE_MQL, leadstreamv1.Stage_STAGE_SQL
	exp := Expectation{Transitions: []string{"l1 mql", "l1 sql", "l2 excluded"}}
	both := []Seen{seenAt(0, "m1", "l1", mql), seenAt(1, "s1", "l1", sql),
		seenAt(2, "x2", "l2", leadstreamv1.Stage_STAGE_EXCLUDED)}
	tests := []struct {
		name    string
		records []Seen
		notes   string // the notes Add returned, joined by "|"
		wantErr string // empty for none
	}{
		{"exactly the expected", both, "||", ""},
		{"a copy is allowed", append(both[:2:2], seenAt(3, "m1", "l1", mql), both[2]),
			"||published again|", ""},
		{"one missing", both[:2], "|", "missing l2 excluded"},
		{"an unexpected one", append(both[:3:3], seenAt(4, "m3", "l3", mql)),
			"|||unexpected", "unexpected l3 mql"},
		{"the same move under another id", append(both[:3:3], seenAt(4, "m9", "l1", mql)),
			"|||another id for the same move", "l1 mql published twice, as m1 and m9"},
		{"a record that does not decode", append(both[:3:3],
			Seen{Offset: 4, Err: errors.New("decode transition at t/0@4: bad")}),
			"|||does not decode", "decode transition at t/0@4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := NewObserved(exp)
			var notes []string
			for _, s := range tt.records {
				notes = append(notes, o.Add(s))
			}
			if got := strings.Join(notes, "|"); got != tt.notes {
				t.Errorf("notes = %q, want %q", got, tt.notes)
			}
			err := o.Err()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Err = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Err = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestObservedReachedAndFinal(t *testing.T) {
	o := NewObserved(Expectation{Transitions: []string{"l1 mql", "l1 sql"}})
	end := map[int32]int64{0: 2, 1: 0}
	o.Add(seenAt(0, "m1", "l1", leadstreamv1.Stage_STAGE_MQL))
	if o.Reached(end) {
		t.Error("Reached after offset 0 of a partition that ends at 2")
	}
	o.Add(seenAt(1, "s1", "l1", leadstreamv1.Stage_STAGE_SQL))
	if !o.Reached(end) {
		t.Error("not Reached after reading partition 0 to its end")
	}
	final := o.Final([]string{"l1", "l2"})
	if final["l1"] != rules.SQL || final["l2"] != rules.Visitor {
		t.Errorf("Final = %v, want l1 sql and l2 visitor", final)
	}
	if got := Summary(final); got != "2 leads: 1 visitors, 0 MQLs, 1 SQLs, 0 excluded" {
		t.Errorf("Summary = %q", got)
	}
}
