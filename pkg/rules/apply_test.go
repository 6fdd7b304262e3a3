package rules

import (
	"reflect"
	"testing"
)

func TestApply(t *testing.T) {
	r := mustParse(t, withStages(`stages:
  mql: {all: ["blog_view >= 1", "count(download, 2d) >= 1", "count(page, 5h) >= 1"]}
`))
	at := ms(t, "2026-12-10T12:30:00Z")
	s := &State{}
	r.Apply(s, event("1", "page_view", "a", "", at, "/blog/x"))
	r.Apply(s, event("2", "download", "a", "", at, ""))
	ev := identify("3", "a", "L", at, map[string]string{"title": "CEO", "email": "x@y.z",
		"country": ""})
	r.Apply(s, ev)
	r.Apply(s, identify("4", "a", "L", at, map[string]string{"title": "CTO", "country": "DE"}))
	day, hour := localDay(at, r.Location()), unixHour(at)
	want := &State{Stage: Visitor, Identified: true,
		Counts: map[string]int64{"blog_view": 1},
		Days:   map[string]map[int64]int64{"download": {day: 1}},
		Hours:  map[string]map[int64]int64{"page": {hour: 1}},
		Scores: map[string]ScoreState{"eng": {Value: 30, AtMs: at}},
		Traits: map[string]string{"title": "CTO", "country": "DE"}}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("got  %+v\nwant %+v", s, want)
	}
}

func TestPrune(t *testing.T) {
	r := mustParse(t, withStages(`stages:
  mql: {all: ["count(download, 2d) >= 1", "count(page, 5h) >= 1"]}
`))
	at := ms(t, "2026-12-10T12:30:00Z")
	day, hour := localDay(at, r.Location()), unixHour(at)
	s := NewState()
	s.Days["download"] = map[int64]int64{day + 1: 1, day: 1, day - 1: 1, day - 2: 1}
	s.Days["gone"] = map[int64]int64{day: 1}
	s.Hours["page"] = map[int64]int64{hour: 1, hour - 4: 1, hour - 5: 1}
	s.Hours["download"] = map[int64]int64{hour: 1}
	r.Prune(s, at)
	wantDays := map[string]map[int64]int64{"download": {day + 1: 1, day: 1, day - 1: 1}}
	wantHours := map[string]map[int64]int64{"page": {hour: 1, hour - 4: 1}}
	if !reflect.DeepEqual(s.Days, wantDays) || !reflect.DeepEqual(s.Hours, wantHours) {
		t.Errorf("got days %v hours %v", s.Days, s.Hours)
	}
}
