package dsr

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/vowprivacy/vow/connector"
	"github.com/vowprivacy/vow/policy"
)

// update sets one column of the subject's rows in one table.
type update struct {
	step   *Step
	column string
	value  any
}

// rectify writes the request's changes into the subject's rows, one
// transaction per system. Only declared fields of the subject's own tables
// can be changed (checked when the request was made).
func (s *Service) rectify(ctx context.Context, plan *Plan, r *Request, cs *conns, progress func(Progress)) (*Result, error) {
	bySystem := map[string][]update{}
	keys := make([]string, 0, len(r.Changes))
	for k := range r.Changes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, ref := range s.changeTargets(k) {
			st := plan.Step(ref.System + ":" + ref.Table)
			if st == nil {
				continue
			}
			bySystem[ref.System] = append(bySystem[ref.System], update{st, ref.Column, r.Changes[k]})
		}
	}
	res, err := s.applyUpdates(ctx, plan, r, cs, "rectify", bySystem, progress)
	if err != nil {
		return nil, err
	}
	if res.Found {
		res.Message = fmt.Sprintf("rectified %d field value(s)", sumRows(res.Rows))
	} else {
		res.Message = "no data found for this subject; nothing was changed"
	}
	return res, nil
}

// rightActions returns the policy's columns that record a restriction or
// an objection.
func (s *Service) rightActions(t Type) []*policy.RightAction {
	switch t {
	case Restriction:
		return s.Policy.Rights.Restriction
	case Objection:
		return s.Policy.Rights.Objection
	}
	return nil
}

// record carries out a restriction or objection: it sets the columns the
// policy names on the subject's rows.
func (s *Service) record(ctx context.Context, plan *Plan, r *Request, cs *conns, progress func(Progress)) (*Result, error) {
	bySystem := map[string][]update{}
	for _, a := range s.rightActions(r.Type) {
		ref, err := policy.ParseRef(a.Set)
		if err != nil {
			return nil, fmt.Errorf("dsr: rights.%s: %w", r.Type, err)
		}
		sys, t := s.Policy.LookupTable(policy.TableRef{System: ref.System, Table: ref.Table}, nil)
		if t == nil {
			return nil, fmt.Errorf("dsr: rights.%s: table %s is not in the policy", r.Type, ref.Table)
		}
		if st := plan.Step(sys.Name + ":" + t.Name); st != nil {
			bySystem[sys.Name] = append(bySystem[sys.Name], update{st, ref.Column, a.Value})
		}
	}
	res, err := s.applyUpdates(ctx, plan, r, cs, string(r.Type), bySystem, progress)
	if err != nil {
		return nil, err
	}
	if res.Found {
		res.Message = fmt.Sprintf("%s recorded on %d row(s)", r.Type, sumRows(res.Rows))
	} else {
		res.Message = "no data found for this subject; nothing to record the " + string(r.Type) + " on"
	}
	return res, nil
}

func sumRows(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// timeValues writes each update's time (a grace mark's "now") as its
// column compares it: a MariaDB TIMESTAMP as an instant (a time would be
// read in the session's time zone), a wall time in the system's zone,
// SQLite in the form the column's values take. The result is parallel to
// bySystem; nil where the value is not a time.
func (s *Service) timeValues(ctx context.Context, cs *conns, bySystem map[string][]update) (map[string][]*connector.Instant, error) {
	out := map[string][]*connector.Instant{}
	for sys, ups := range bySystem {
		for i, u := range ups {
			t, ok := u.value.(time.Time)
			if !ok {
				continue
			}
			c, err := cs.get(ctx, sys)
			if err != nil {
				return nil, err
			}
			sc, err := s.schema(ctx, sys, c)
			if err != nil {
				return nil, err
			}
			lc := sc.Table(u.step.Table).Column(u.column)
			if lc == nil {
				continue
			}
			sample, zone, err := cs.timeForm(ctx, sys, u.step.Table, lc)
			if err != nil {
				return nil, fmt.Errorf("dsr: mark %s.%s: %w", u.step.ID(), u.column, err)
			}
			if out[sys] == nil {
				out[sys] = make([]*connector.Instant, len(ups))
			}
			at := connector.ValueOf(c.Dialect().Kind(), lc.Base(), sample, zone, t)
			out[sys][i] = &at
		}
	}
	return out, nil
}

// applyUpdates runs updates one transaction per system, recording each
// system as a step named kind:system.
func (s *Service) applyUpdates(ctx context.Context, plan *Plan, r *Request, cs *conns, kind string, bySystem map[string][]update, progress func(Progress)) (*Result, error) {
	res := &Result{Rows: map[string]int64{}}
	// Times are written as their columns compare them, each read before
	// the first system changes: a column whose zone is not known stops
	// the request with nothing written.
	pending := map[string][]update{}
	for sys, ups := range bySystem {
		if _, done, err := s.stepDone(ctx, r.ID, kind+":"+sys); err != nil {
			return nil, err
		} else if !done {
			pending[sys] = ups
		}
	}
	times, err := s.timeValues(ctx, cs, pending)
	if err != nil {
		return nil, err
	}
	// The zones of the columns the server stamps, likewise.
	stampZones := map[[2]string]*time.Location{}
	for sys, ups := range pending {
		for _, u := range ups {
			if stampZones[[2]string{sys, u.step.Table}], err = s.stampZone(ctx, cs, sys, u.step.Table); err != nil {
				return nil, err
			}
		}
	}
	for _, sys := range systems(plan) {
		ups := bySystem[sys]
		if len(ups) == 0 {
			continue
		}
		key := kind + ":" + sys
		if data, done, err := s.stepDone(ctx, r.ID, key); err != nil {
			return nil, err
		} else if done {
			var rows map[string]int64
			_ = json.Unmarshal(data, &rows)
			for k, v := range rows {
				res.Rows[k] += v
			}
			continue
		}
		c, err := cs.get(ctx, sys)
		if err != nil {
			return nil, err
		}
		tx, err := c.DB().BeginTx(ctx, nil)
		if err != nil {
			return nil, c.Translate(ctx, "begin "+kind, err)
		}
		rows := map[string]int64{}
		for i, u := range ups {
			d := c.Dialect()
			value, param := u.value, d.Param(1)
			if ts := times[sys]; ts != nil && ts[i] != nil {
				at := ts[i]
				value, param = at.Arg, numbered(d, at.Param, 1)
			}
			where, args := plan.WhereAfter(u.step, r.Identities, r.keys, []any{value})
			set := d.Column(u.column) + " = " + param
			if zone := stampZones[[2]string{sys, u.step.Table}]; zone != nil {
				lt, err := s.liveTable(ctx, cs, sys, u.step.Table)
				if err != nil {
					tx.Rollback()
					return nil, err
				}
				// Stamped where the value changes (on MySQL only: the
				// parameters are all ?).
				var changed string
				if lc := lt.Column(u.column); lc != nil {
					changed = connector.Differs(lc, d.Column(u.column), param)
				}
				stamps, sargs := newStamper(d, lt, zone, u.column).prefix(changed, []any{value})
				set, args = stamps+set, append(sargs, args...)
			}
			q := "UPDATE " + d.Ident(u.step.Table) + " SET " + set + " WHERE " + where
			out, err := tx.ExecContext(ctx, q, args...)
			if err != nil {
				tx.Rollback()
				return nil, c.Translate(ctx, kind+" "+u.step.ID()+"."+u.column, err)
			}
			n, _ := out.RowsAffected()
			rows[u.step.ID()+"."+u.column] = n
			progress(Progress{Step: u.step.ID(), Index: i + 1, Total: len(ups), Rows: n, Done: true})
		}
		if err := tx.Commit(); err != nil {
			return nil, c.Translate(ctx, "commit "+kind, err)
		}
		if err := s.markDone(ctx, r.ID, key, rows); err != nil {
			return nil, err
		}
		for k, v := range rows {
			res.Rows[k] += v
		}
	}
	res.Found = sumRows(res.Rows) > 0
	return res, nil
}
