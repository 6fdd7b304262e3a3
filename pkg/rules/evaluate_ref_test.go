package rules

import (
	"reflect"
	"testing"
)

// refEvaluate is Evaluate written the plain way: every condition yields
// its reasons as it is decided. The fuzzer below holds the two-pass
// Evaluate to it.
func refEvaluate(r *Rules, s *State, atMs int64) []Transition {
	cur := max(s.Stage, Visitor)
	if cur == Excluded {
		return nil
	}
	e := r.newEvalCtx(s, atMs)
	if ok, why := refCond(r.exclude, &e); ok {
		return []Transition{{From: cur, To: Excluded, Reasons: why}}
	}
	if r.identify && !s.Identified {
		return nil
	}
	var out []Transition
	mqlOK, mqlWhy := refCond(r.mql, &e)
	sqlOK, sqlWhy := refCond(r.sql, &e)
	if cur < MQL && (mqlOK || sqlOK) {
		why := mqlWhy
		if !mqlOK {
			why = append([]string(nil), sqlWhy...)
		}
		out = append(out, Transition{From: cur, To: MQL, Reasons: why})
		cur = MQL
	}
	if cur < SQL && sqlOK {
		out = append(out, Transition{From: cur, To: SQL, Reasons: sqlWhy})
	}
	return out
}

func refCond(c cond, e *evalCtx) (bool, []string) {
	switch c := c.(type) {
	case *term:
		if c.holds(e) {
			return true, []string{c.explain(e)}
		}
	case allCond:
		var why []string
		for _, item := range c.items {
			ok, rs := refCond(item, e)
			if !ok {
				return false, nil
			}
			why = append(why, rs...)
		}
		return true, why
	case anyCond:
		held, why := false, []string(nil)
		for _, item := range c.items {
			if ok, rs := refCond(item, e); ok {
				held, why = true, append(why, rs...)
			}
		}
		return held, why
	case notCond:
		if ok, _ := refCond(c.inner, e); !ok {
			return true, []string{explain(c, e)}
		}
	}
	return false, nil
}

// FuzzEvaluate checks Evaluate against refEvaluate on arbitrary leads.
func FuzzEvaluate(f *testing.F) {
	f.Add(uint8(1), false, uint8(2), uint8(1), uint8(0), uint8(60), uint32(0b101), 83.0,
		"VP Sales", "", "")
	f.Add(uint8(2), true, uint8(0), uint8(0), uint8(1), uint8(250), uint32(3), 10.0,
		"Analyst", "other.io", "1,200")
	f.Add(uint8(0), true, uint8(3), uint8(1), uint8(2), uint8(0), uint32(1<<29|1), 41.0,
		"CEO", "x.com", "50")
	at := int64(1_800_000_000_000)
	rules := []*Rules{mustParse(f, withStages(evalRules)),
		mustParse(f, withStages(evalRules+"require_identified: true\n"))}
	f.Fuzz(func(t *testing.T, stage uint8, ident bool, blog, dl, contact, page uint8,
		pricingDays uint32, eng float64, title, domain, employees string) {
		s := NewState()
		s.Stage, s.Identified = Stage(stage%5), ident
		s.Counts["blog_view"], s.Counts["download"] = int64(blog), int64(dl)
		s.Counts["contact"], s.Counts["page"] = int64(contact), int64(page)
		today := localDay(at, utc)
		s.Days["pricing_view"] = map[int64]int64{}
		for d := int64(0); d < 32; d++ {
			if pricingDays&(1<<d) != 0 {
				s.Days["pricing_view"][today-d] = d + 1
			}
		}
		s.Scores["eng"] = ScoreState{Value: eng, AtMs: at - day}
		s.Traits["title"], s.Traits["email_domain"] = title, domain
		s.Traits["employees"] = employees
		for _, r := range rules {
			got, want := r.Evaluate(s, at), refEvaluate(r, s, at)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("got  %q\nwant %q", got, want)
			}
		}
	})
}
