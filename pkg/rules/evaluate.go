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
func (r *Rules) Evaluate(s *State, atMs int64) []Transition {
	cur := s.Stage
	if cur == 0 {
		cur = Visitor
	}
	if cur == Excluded {
		return nil
	}
	e := r.newEvalCtx(s, atMs)
	if ok, reasons := evalCond(r.exclude, e); ok {
		return []Transition{{From: cur, To: Excluded, Reasons: reasons}}
	}
	if r.identify && !s.Identified {
		return nil
	}

	var out []Transition
	mqlOK, mqlReasons := evalCond(r.mql, e)
	sqlOK, sqlReasons := evalCond(r.sql, e)
	if cur < MQL && (mqlOK || sqlOK) {
		reasons := mqlReasons
		if !mqlOK {
			reasons = append([]string(nil), sqlReasons...)
		}
		out = append(out, Transition{From: cur, To: MQL, Reasons: reasons})
		cur = MQL
	}
	if cur < SQL && sqlOK {
		out = append(out, Transition{From: cur, To: SQL, Reasons: sqlReasons})
	}
	return out
}

// evalCond evaluates c; a missing condition never holds.
func evalCond(c cond, e *evalCtx) (bool, []string) {
	if c == nil {
		return false, nil
	}
	return c.eval(e)
}
