package rules

import (
	"errors"
	"os"
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	const okStages = "stages:\n  mql: \"blog_view >= 2\"\n"
	tests := []struct {
		name  string
		text  string
		line  int
		field string
		msg   string // part of the message, usually the fix
	}{
		{"missing version", "stages:\n  mql: \"x >= 1\"\nsignals: {x: {event: a}}\n",
			1, "version", "add a line such as version:"},
		{"empty file", "", 0, "", "the file is empty"},
		{"yaml syntax", "version: \"1\"\nsignals:\n  a: b: c\n", 3, "", "invalid YAML"},
		{"unknown top key", "version: \"1\"\nsignal: {}\n" + okStages, 2, "signal",
			"did you mean \"signals\"?"},
		{"unknown signal key", "version: \"1\"\nsignals:\n  blog_view: {event: a, " +
			"url: /x}\n" + okStages, 3, "signals.blog_view.url",
			"allowed here: event, url_path, properties, form"},
		{"signal without event", "version: \"1\"\nsignals:\n  blog_view: {form: x}\n" +
			okStages, 3, "signals.blog_view.event", "event: page_view"},
		{"relative url_path", "version: \"1\"\nsignals:\n  blog_view: {event: a, " +
			"url_path: blog}\n" + okStages, 3, "signals.blog_view.url_path",
			"must start with \"/\""},
		{"bad url_path", "version: \"1\"\nsignals:\n  blog_view: {event: a, " +
			"url_path: \"/[x\"}\n" + okStages, 3, "signals.blog_view.url_path",
			"not a valid pattern"},
		{"unknown signal in condition", withStages("stages:\n  mql: \"blog_veiw >= 2\"\n"),
			18, "stages.mql", "unknown signal \"blog_veiw\"; define it under signals; " +
				"did you mean \"blog_view\"?"},
		{"unknown signal in points", "version: \"1\"\nsignals: {a: {event: x}}\n" +
			"scores:\n  s: {points: {b: 1}}\nstages: {mql: \"a >= 1\"}\n", 4,
			"scores.s.points.b", "unknown signal \"b\""},
		{"minutes window", withStages("stages:\n  mql: \"count(download, 30m) >= 1\"\n"),
			18, "stages.mql", "use h (hours) or d (days), the shortest is 1h"},
		{"zero window", withStages("stages:\n  mql: \"count(download, 0h) >= 1\"\n"),
			18, "stages.mql", "shorter than an hour"},
		{"fraction window", withStages("stages:\n  mql: \"count(download, 1.5d) >= 1\"\n"),
			18, "stages.mql", "fractions are not supported"},
		{"distinct_days in hours", withStages(
			"stages:\n  mql: \"distinct_days(download, 36h) >= 2\"\n"), 18, "stages.mql",
			"needs a window of whole days"},
		{"bad operator", withStages("stages:\n  mql: \"download = 1\"\n"), 18, "stages.mql",
			"unknown operator \"=\"; use one of >=, >, <=, <, =="},
		{"not equal operator", withStages("stages:\n  mql: \"download != 1\"\n"), 18,
			"stages.mql", "unknown operator \"!=\""},
		{"no comparison", withStages("stages:\n  mql: \"download\"\n"), 18, "stages.mql",
			"has no comparison"},
		{"fractional count", withStages("stages:\n  mql: \"download >= 1.5\"\n"), 18,
			"stages.mql", "counts are whole numbers"},
		{"unknown trait", withStages("stages:\n  sql:\n    all: [\"trait dmm\"]\n"), 19,
			"stages.sql.all[0]", "unknown trait \"dmm\"; define it under traits; did you " +
				"mean \"dm\"?"},
		{"unknown score", withStages("stages:\n  mql: \"score(engagement) >= 1\"\n"), 18,
			"stages.mql", "unknown score \"engagement\""},
		{"unknown function", withStages("stages:\n  mql: \"sum(download) >= 1\"\n"), 18,
			"stages.mql", "unknown function \"sum\""},
		{"bad regexp", "version: \"1\"\nsignals: {a: {event: x}}\ntraits:\n  t: {field: " +
			"title, matches: '(vp'}\n" + "stages: {mql: \"a >= 1\"}\n", 4, "traits.t.matches",
			"not a valid regular expression"},
		{"two trait tests", "version: \"1\"\nsignals: {a: {event: x}}\ntraits:\n  t: {field: " +
			"title, equals: x, in: [y]}\nstages: {mql: \"a >= 1\"}\n", 4, "traits.t",
			"give exactly one test"},
		{"duplicate signal", "version: \"1\"\nsignals:\n  a: {event: x}\n  a: {event: y}\n" +
			"stages: {mql: \"a >= 1\"}\n", 4, "signals.a", "duplicate key \"a\" (first at " +
			"line 3)"},
		{"name used twice", "version: \"1\"\nsignals:\n  a: {event: x}\nscores:\n  a: " +
			"{points: {a: 1}}\nstages: {mql: \"a >= 1\"}\n", 5, "scores.a",
			"already used under signals at line 3"},
		{"reserved name", "version: \"1\"\nsignals:\n  trait: {event: x}\n" +
			"stages: {mql: \"page >= 1\"}\nsignals2: 1\n", 3, "signals.trait", "reserved word"},
		{"bad timezone", "version: \"1\"\ntimezone: Mars/Olympus\n" + okStages, 2,
			"timezone", "use an IANA name"},
		{"local timezone", "version: \"1\"\ntimezone: Local\n" + okStages, 2, "timezone",
			"depends on the machine"},
		{"bad half_life", "version: \"1\"\nsignals: {a: {event: x}}\nscores:\n  s: " +
			"{half_life: 2w, points: {a: 1}}\nstages: {mql: \"a >= 1\"}\n", 4,
			"scores.s.half_life", "use h (hours) or d (days)"},
		{"bad points", "version: \"1\"\nsignals: {a: {event: x}}\nscores:\n  s: " +
			"{points: {a: lots}}\nstages: {mql: \"a >= 1\"}\n", 4, "scores.s.points.a",
			"not a number"},
		{"two keys in condition", withStages("stages:\n  mql: {all: [\"page >= 1\"], " +
			"any: [\"page >= 2\"]}\n"), 18, "stages.mql", "exactly one of all, any or not"},
		{"empty all", withStages("stages:\n  mql: {all: []}\n"), 18, "stages.mql.all",
			"non-empty list"},
		{"not with a list", withStages("stages:\n  mql: {not: [\"page >= 1\"]}\n"), 18,
			"stages.mql.not", "not takes one condition"},
		{"unknown stage", withStages("stages:\n  lead: \"page >= 1\"\n"), 18, "stages.lead",
			"allowed here: mql, sql"},
		{"missing stages", "version: \"1\"\nsignals: {a: {event: x}}\n", 1, "stages",
			"missing; define when a lead becomes"},
		{"bad require_identified", withStages("stages: {mql: \"page >= 1\"}\n" +
			"require_identified: yes\n"), 18, "require_identified", "write true or false"},
		{"alias", "version: &v \"1\"\nsignals: {a: {event: x}}\nstages: {mql: \"a >= 1\"}\n",
			1, "", "anchors and aliases"},
		{"two documents", "version: \"1\"\n" + okStages + "---\nversion: \"2\"\n", 4, "",
			"one document"},
		{"not a mapping", "- a\n- b\n", 1, "", "expected the rules"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("rules.yaml", []byte(tt.text))
			if err == nil {
				t.Fatal("Parse accepted a bad file")
			}
			pe := findParseError(t, err, tt.field)
			if pe.Line != tt.line || !strings.Contains(pe.Msg, tt.msg) {
				t.Errorf("got line %d msg %q; want line %d msg containing %q", pe.Line, pe.Msg,
					tt.line, tt.msg)
			}
			if !strings.HasPrefix(pe.Error(), "rules.yaml:") {
				t.Errorf("error %q does not start with the file name", pe.Error())
			}
		})
	}
}

// findParseError returns the ParseError of err about field.
func findParseError(t *testing.T, err error, field string) *ParseError {
	t.Helper()
	var all []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		all = j.Unwrap()
	} else {
		all = []error{err}
	}
	for _, e := range all {
		var pe *ParseError
		if errors.As(e, &pe) && pe.Field == field {
			return pe
		}
	}
	t.Fatalf("no error about field %q in:\n%v", field, err)
	return nil
}

func TestParseCollectsEveryError(t *testing.T) {
	text := "version: \"1\"\nsignals:\n  a: {event: x, bogus: 1}\n" +
		"stages:\n  mql: \"b >= 1\"\n  sql: \"a = 1\"\n"
	_, err := Parse("r.yaml", []byte(text))
	if err == nil {
		t.Fatal("Parse accepted a bad file")
	}
	got := err.Error()
	want := "r.yaml:3: signals.a.bogus: unknown key \"bogus\"; allowed here: event, " +
		"url_path, properties, form\n" +
		"r.yaml:5: stages.mql: unknown signal \"b\"; define it under signals; did you " +
		"mean \"a\"?\n" +
		"r.yaml:6: stages.sql: unknown operator \"=\"; use one of >=, >, <=, <, =="
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestParseAccepts(t *testing.T) {
	r := mustParse(t, withStages(`stages:
  mql:
    any:
      - "page >= 1"
      - not: {all: ["trait rival", "score(flat) > 2"]}
  sql: "count(download, 48h) == 2"
exclude: "trait big"
require_identified: TRUE
`))
	if r.Version() != "t1" || r.Location().String() != "UTC" || !r.RequireIdentified() {
		t.Errorf("got version %q zone %s require %v", r.Version(), r.Location(),
			r.RequireIdentified())
	}
}

func TestLoad(t *testing.T) {
	r, err := Load("../../deploy/rules/example.yaml")
	if err != nil {
		t.Fatalf("load example: %v", err)
	}
	if r.Version() != "2026-q4" {
		t.Errorf("version %q, want 2026-q4", r.Version())
	}
	_, err = Load("testdata/does-not-exist.yaml")
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("load of a missing file: %v, want os.ErrNotExist", err)
	}
}

func TestSpec(t *testing.T) {
	r := mustParse(t, withStages(`stages:
  mql: {all: ["blog_view >= 2", "count(download, 14d) >= 1", "count(download, 2d) >= 1"]}
  sql: {any: ["count(page, 12h) >= 3", "distinct_days(pricing_view, 30d) >= 2",
              "count(page, 3h) > 1", "trait dm"]}
`))
	sp := r.Spec()
	want := map[string]SignalSpec{
		"blog_view":    {Lifetime: true},
		"download":     {KeepDays: 14},
		"page":         {KeepHours: 12},
		"pricing_view": {KeepDays: 30},
		"contact":      {},
	}
	for name, w := range want {
		if got := sp.Signals[name]; got != w {
			t.Errorf("signal %s: got %+v, want %+v", name, got, w)
		}
	}
	if got := sp.Scores["eng"]; got.HalfLifeMs != 86400000 || got.Points["download"] != 20 {
		t.Errorf("score eng: got %+v", got)
	}
	if got := sp.Scores["flat"]; got.HalfLifeMs != 0 || got.Points["pricing_view"] != 1.5 {
		t.Errorf("score flat: got %+v", got)
	}
	fields := strings.Join(sp.TraitFields, ",")
	if fields != "country,email_domain,employees,title" {
		t.Errorf("trait fields %s", fields)
	}
	sp.Signals["page"] = SignalSpec{}
	if r.Spec().Signals["page"].KeepHours != 12 {
		t.Error("Spec returned shared maps")
	}
}
