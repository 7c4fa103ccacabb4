package dsr

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrKeysReused is returned when a key a request resolved for the subject
// now names a row that is not theirs: the database handed a deleted
// row's key to a new row (SQLite reuses the largest rowid, an application
// may reuse a username). The request's saved keys can no longer tell the
// subject's rows from the new owner's, so the request stops.
var ErrKeysReused = errors.New("keys reused")

// checkReuse makes sure that the keys r resolved before anything changed
// still name only the subject's rows, where rows exist: for each table
// whose keys were saved (its resolved primary keys, or the parent values
// its children are matched on), rows carrying one of those keys must
// still be found by the plan's own conditions. Erasure calls it when
// verification, which matches by saved keys too, finds rows remaining —
// before the second pass erases them — and every request does when it
// resumes with keys resolved by an earlier run.
// Tables whose rows are only masked keep their keys and are skipped when
// onlyDeleted is set.
func (s *Service) checkReuse(ctx context.Context, plan *Plan, r *Request, cs *conns, onlyDeleted bool) error {
	if r.keys == nil {
		return nil
	}
	type saved struct {
		cols []string
		vals []any
	}
	byStep := map[string][]saved{}
	for id, vals := range r.keys.Roots {
		if st := plan.Step(id); st != nil && len(st.PrimaryKey) == 1 {
			byStep[id] = append(byStep[id], saved{st.PrimaryKey[:1], vals})
		}
	}
	// Saved values are keyed "parentStepID.columns"; a step ID may hold
	// dots itself (app:crm.Customers), so the keys are read back through
	// the plan's own matches.
	seen := map[string]bool{}
	for _, st := range plan.Steps {
		for _, m := range st.Matches {
			key := m.carriedKey()
			vals, ok := r.keys.Saved[key]
			if m.Parent == "" || m.Carried(st) || !ok || seen[key] {
				continue
			}
			seen[key] = true
			byStep[m.Parent] = append(byStep[m.Parent], saved{m.ParentColumns, vals})
		}
	}
	for _, st := range plan.Steps {
		list := byStep[st.ID()]
		if len(list) == 0 || (onlyDeleted && !st.Erase.Delete) {
			continue
		}
		c, err := cs.get(ctx, st.System)
		if err != nil {
			return err
		}
		d := c.Dialect()
		for _, sv := range list {
			if len(sv.vals) == 0 || slices.ContainsFunc(sv.cols, func(c string) bool { return c == "" }) {
				continue
			}
			// The plan's condition for the step, by live rows only: a row
			// that carries a saved key and is not the subject's now.
			var args []any
			in := inValues(d, sv.cols, sv.vals, &args)
			where, args := plan.WhereAfter(st, r.Identities, r.keys, args)
			q := "SELECT " + keyList(d, sv.cols) + " FROM " + d.Ident(st.Table) + " WHERE " + in + " AND (" + where + ") IS NOT TRUE"
			found, err := tuples(ctx, c.DB(), c, "check saved keys of "+st.ID(), q+" LIMIT 1", args, len(sv.cols))
			if err != nil {
				return err
			}
			if len(found) > 0 {
				// The key itself is the new owner's: it stays out of the
				// message, which is stored and logged.
				return fmt.Errorf("dsr: request %s: %s has a row that is not the subject's under a key (%s) the subject's rows had when the request started: the database reused it. Vow cannot tell the subject's remaining rows from the new owner's by that key and stops; find the rows that reference it, erase what is the subject's by hand, and cancel the request: %w",
					r.ID, st.ID(), strings.Join(sv.cols, ", "), ErrKeysReused)
			}
		}
	}
	return nil
}
