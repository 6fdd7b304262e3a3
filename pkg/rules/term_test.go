package rules

import (
	"testing"
	"time"
)

// testNames is what the term tests may refer to.
func testNames(t testing.TB) (names, *Rules) {
	t.Helper()
	r := mustParse(t, withStages("stages: {mql: \"page >= 1\"}\n"))
	ns := names{signals: map[string]bool{}, scores: map[string]bool{},
		traits: r.traits}
	for name := range r.signals {
		ns.signals[name] = true
	}
	for name := range r.scores {
		ns.scores[name] = true
	}
	return ns, r
}

func TestTerms(t *testing.T) {
	ns, r := testNames(t)
	at := ms(t, "2026-12-10T12:30:00Z")
	day, hour := localDay(at, time.UTC), unixHour(at)
	s := NewState()
	s.Counts["download"] = 3
	s.Days["pricing_view"] = map[int64]int64{day: 2, day - 3: 1, day - 30: 5}
	s.Hours["page"] = map[int64]int64{hour: 1, hour - 11: 2, hour - 12: 4}
	s.Scores["eng"] = ScoreState{Value: 83, AtMs: at - 86400000}
	s.Scores["flat"] = ScoreState{Value: 40, AtMs: at - 5*86400000}
	s.Traits = map[string]string{"title": "VP Sales", "email_domain": "RIVAL.com",
		"employees": "1,200", "country": "de"}
	tests := []struct {
		term    string
		holds   bool
		explain string
	}{
		{"download >= 3", true, "download = 3 >= 3"},
		{"download > 3", false, "download = 3 > 3"},
		{"download <= 3", true, "download = 3 <= 3"},
		{"download < 3", false, "download = 3 < 3"},
		{"download == 3", true, "download = 3 == 3"},
		{"blog_view == 0", true, "blog_view = 0 == 0"},
		{"count(pricing_view, 30d) >= 3", true, "count(pricing_view, 30d) = 3 >= 3"},
		{"count(pricing_view, 31d) >= 8", true, "count(pricing_view, 31d) = 8 >= 8"},
		{"count(pricing_view,1d)>=2", true, "count(pricing_view, 1d) = 2 >= 2"},
		{"count(pricing_view, 48h) >= 3", false, "count(pricing_view, 48h) = 2 >= 3"},
		{"count(page, 12h) == 3", true, "count(page, 12h) = 3 == 3"},
		{"count(page, 13h) == 7", true, "count(page, 13h) = 7 == 7"},
		{"count(page, 1h) < 2", true, "count(page, 1h) = 1 < 2"},
		{"distinct_days(pricing_view, 4d) >= 2", true,
			"distinct_days(pricing_view, 4d) = 2 >= 2"},
		{"distinct_days(pricing_view, 3d) >= 2", false,
			"distinct_days(pricing_view, 3d) = 1 >= 2"},
		{"score(eng) >= 41.5", true, "score(eng) = 41.5 >= 41.5"},
		{"score(eng) > 41.5", false, "score(eng) = 41.5 > 41.5"},
		{"score(flat) == 40", true, "score(flat) = 40 == 40"},
		{"score(nope_missing_is_zero) >= 0", false, ""},
		{"trait dm", true, "trait dm (title = \"VP Sales\")"},
		{"trait rival", true, "trait rival (email_domain = \"RIVAL.com\")"},
		{"trait big", true, "trait big (employees = \"1,200\")"},
		{"trait german", false, "trait german (country = \"de\")"},
	}
	for _, tt := range tests {
		t.Run(tt.term, func(t *testing.T) {
			tm, err := parseTerm(tt.term, ns)
			if tt.explain == "" {
				if err == nil {
					t.Fatal("parseTerm accepted an unknown score")
				}
				return
			}
			if err != nil {
				t.Fatalf("parse term: %v", err)
			}
			e := r.newEvalCtx(s, at)
			held := holds(tm, &e)
			if held != tt.holds || tm.explain(&e) != tt.explain {
				t.Errorf("got %v %q, want %v %q", held, tm.explain(&e), tt.holds, tt.explain)
			}
			if reasons := appendReasons(nil, tm, &e); len(reasons) != 1 ||
				reasons[0] != tt.explain {
				t.Errorf("reasons %q", reasons)
			}
		})
	}
}

func TestTraitTests(t *testing.T) {
	_, r := testNames(t)
	tests := []struct {
		trait, value string
		want         bool
	}{
		{"dm", "CEO", true},
		{"dm", "Vice President", false},
		{"dm", "", false},
		{"rival", " other.IO ", true},
		{"rival", "rival.co", false},
		{"big", "100", true},
		{"big", "99.9", false},
		{"big", "10000", false},
		{"big", "many", false},
		{"big", "NaN", false},
		{"german", "DE", true},
		{"german", "De", false},
	}
	for _, tt := range tests {
		t.Run(tt.trait+"="+tt.value, func(t *testing.T) {
			tr := r.traits[tt.trait]
			if got := tr.holds(map[string]string{tr.field: tt.value}); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestWindowEdges checks that windows are aligned on buckets: a day
// window counts whole local days, an hour window whole UTC hours.
func TestWindowEdges(t *testing.T) {
	r := mustParse(t, withStages(`stages:
  mql: "count(download, 2d) >= 2"
  sql: "count(page, 3h) >= 2"
`))
	tests := []struct {
		name       string
		typ        string
		first, now string
		stage      Stage
	}{
		{"day window includes the start of yesterday", "download", "2026-12-09T00:00:00Z",
			"2026-12-10T23:59:59Z", MQL},
		{"day window excludes the end of the day before", "download",
			"2026-12-08T23:59:59Z", "2026-12-10T00:00:00Z", Visitor},
		{"hour window includes the start of hour-2", "page_view", "2026-12-10T10:00:00Z",
			"2026-12-10T12:59:59Z", SQL},
		{"hour window excludes the end of hour-3", "page_view", "2026-12-10T09:59:59Z",
			"2026-12-10T12:00:00Z", Visitor},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewState()
			r.Apply(s, event("1", tt.typ, "", "L", ms(t, tt.first), ""))
			r.Apply(s, event("2", tt.typ, "", "L", ms(t, tt.now), ""))
			got := Visitor
			for _, tr := range r.Evaluate(s, ms(t, tt.now)) {
				got = tr.To
			}
			if got != tt.stage {
				t.Errorf("got stage %s, want %s", got, tt.stage)
			}
		})
	}
}

// TestTimeZones checks that days are cut in the rules' zone: two visits an
// hour and a half apart around midnight in New York are one UTC day but
// two New York days.
func TestTimeZones(t *testing.T) {
	stages := "stages: {mql: \"distinct_days(pricing_view, 2d) >= 2\"}\n"
	visits := []string{"2026-12-01T23:30:00-05:00", "2026-12-02T01:00:00-05:00"}
	tests := []struct {
		zone  string
		stage Stage
	}{
		{"UTC", Visitor},
		{"America/New_York", MQL},
		{"Asia/Tokyo", Visitor},
	}
	for _, tt := range tests {
		t.Run(tt.zone, func(t *testing.T) {
			text := withStages(stages)
			text = "timezone: " + tt.zone + "\n" + text[len("version: \"t1\"\ntimezone: UTC\n"):]
			r := mustParse(t, "version: \"tz\"\n"+text)
			s := NewState()
			var trs []Transition
			for i, v := range visits {
				at := ms(t, v)
				r.Apply(s, event(itoa(i), "page_view", "", "L", at, "/pricing"))
				trs = r.Evaluate(s, at)
			}
			got := Visitor
			if len(trs) > 0 {
				got = trs[len(trs)-1].To
			}
			if got != tt.stage {
				t.Errorf("got %s, want %s (days %v)", got, tt.stage, s.Days)
			}
		})
	}
}

// TestZoneDayWindows cuts day windows at midnight in the rules' zone,
// including on the days daylight saving time starts and ends there (23
// and 25 hours long). Each case would come out the other way in UTC.
func TestZoneDayWindows(t *testing.T) {
	tests := []struct {
		name, zone, first, now string
		stage                  Stage
	}{
		{"includes the start of yesterday", "America/New_York",
			"2026-12-09T00:00:00-05:00", "2026-12-10T23:59:59-05:00", MQL},
		{"excludes the end of the day before", "America/New_York",
			"2026-12-08T23:59:59-05:00", "2026-12-10T00:00:00-05:00", Visitor},
		{"25-hour day counts as one", "America/New_York",
			"2026-10-31T00:30:00-04:00", "2026-11-01T23:30:00-05:00", MQL},
		{"25-hour day ends at local midnight", "America/New_York",
			"2026-10-30T23:30:00-04:00", "2026-11-01T00:30:00-04:00", Visitor},
		{"23-hour day counts as one", "Europe/Berlin",
			"2026-03-28T00:30:00+01:00", "2026-03-29T23:30:00+02:00", MQL},
		{"23-hour day starts at local midnight", "Europe/Berlin",
			"2026-03-27T23:30:00+01:00", "2026-03-29T00:30:00+01:00", Visitor},
		{"east of UTC", "Asia/Tokyo",
			"2026-12-09T00:10:00+09:00", "2026-12-10T23:50:00+09:00", MQL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := withStages("stages: {mql: \"count(download, 2d) >= 2\"}\n")
			text = "timezone: " + tt.zone + "\n" + text[len("version: \"t1\"\ntimezone: UTC\n"):]
			r := mustParse(t, "version: \"tz\"\n"+text)
			s := NewState()
			r.Apply(s, event("1", "download", "", "L", ms(t, tt.first), ""))
			r.Apply(s, event("2", "download", "", "L", ms(t, tt.now), ""))
			got := Visitor
			for _, tr := range r.Evaluate(s, ms(t, tt.now)) {
				got = tr.To
			}
			if got != tt.stage {
				t.Errorf("got stage %s, want %s (days %v)", got, tt.stage, s.Days)
			}
		})
	}
}

func TestLocalDayAndHour(t *testing.T) {
	if got := localDay(0, time.UTC); got != 0 {
		t.Errorf("day of the epoch: %d", got)
	}
	if got := localDay(-1, time.UTC); got != -1 {
		t.Errorf("day before the epoch: %d", got)
	}
	if got := unixHour(-1); got != -1 {
		t.Errorf("hour before the epoch: %d", got)
	}
	if got := unixHour(3600000); got != 1 {
		t.Errorf("hour 1: %d", got)
	}
}
