package rules

// Evaluate returns the stage changes that s warrants at event time atMs,
// in order, without changing s; the caller applies them (Stage = To and
// Epoch+1 for each). The decision is:
//
//  1. An excluded lead stays excluded: nothing.
//  2. If exclude holds: one transition to excluded, whatever the stage.
//  3. If identified leads only may qualify and s is not identified:
//     nothing.
//  4. Below mql, if mql or sql holds: to mql. It carries the reasons of
//     mql, or those of sql when only sql holds, since a lead meeting the
//     sql criteria passes through mql.
//  5. Below sql, if sql holds: to sql, with the reasons of sql.
//
// A stage with no criteria never holds. The result depends only on s,
// atMs and the rules: never on the wall clock or on map order.
//
// Evaluate allocates nothing when no stage changes: conditions are first
// decided as booleans, and reasons are only written for a change.
func (r *Rules) Evaluate(s *State, atMs int64) []Transition {
	cur := s.Stage
	if cur == 0 {
		cur = Visitor
	}
	if cur == Excluded {
		return nil
	}
	e := r.newEvalCtx(s, atMs)
	if holds(r.exclude, &e) {
		return []Transition{{From: cur, To: Excluded, Reasons: appendReasons(nil, r.exclude, &e)}}
	}
	if cur >= SQL || r.identify && !s.Identified {
		return nil
	}

	sqlOK := holds(r.sql, &e)
	mqlOK := cur < MQL && holds(r.mql, &e)
	if !mqlOK && !sqlOK {
		return nil
	}
	out := make([]Transition, 0, 2)
	if cur < MQL {
		// A lead meeting only the sql criteria passes through mql with
		// the sql reasons.
		why := r.sql
		if mqlOK {
			why = r.mql
		}
		out = append(out, Transition{From: cur, To: MQL, Reasons: appendReasons(nil, why, &e)})
		cur = MQL
	}
	if sqlOK {
		out = append(out, Transition{From: cur, To: SQL, Reasons: appendReasons(nil, r.sql, &e)})
	}
	return out
}
