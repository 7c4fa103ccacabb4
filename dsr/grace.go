package dsr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/vowprivacy/vow/policy"
)

// scheduled is returned by execute when an erasure enters or is still in
// its grace period.
type scheduled struct{ until time.Time }

func (s *scheduled) Error() string { return "erasure scheduled for " + s.until.Format(time.RFC3339) }

// grace starts or checks the policy's grace period of an erasure: the
// first run marks the subject's rows (soft delete) and schedules the
// erasure for the end of the period; a run after it lets the erasure go on.
func (s *Service) grace(ctx context.Context, plan *Plan, r *Request, cs *conns, g *policy.Grace) error {
	data, done, err := s.stepDone(ctx, r.ID, "grace")
	if err != nil {
		return err
	}
	if done {
		var st struct {
			Until time.Time `json:"until"`
		}
		if err := json.Unmarshal(data, &st); err != nil {
			return fmt.Errorf("dsr: request %s: stored grace: %w", r.ID, err)
		}
		if s.now().Before(st.Until) {
			return &scheduled{st.Until}
		}
		return nil
	}
	if _, err := s.applyUpdates(ctx, plan, r, cs, "mark", s.marks(plan, g, false), func(Progress) {}); err != nil {
		return err
	}
	until := g.Period.After(s.now())
	if err := s.markDone(ctx, r.ID, "grace", map[string]any{"until": until}); err != nil {
		return err
	}
	s.event(ctx, r, "request.scheduled", map[string]any{"until": ts(until), "grace": g.Period.String()})
	return &scheduled{until}
}

// marks turns the grace period's mark columns into updates: "now" is the
// current time; clear sets NULL, to recover the account.
func (s *Service) marks(plan *Plan, g *policy.Grace, clear bool) map[string][]update {
	out := map[string][]update{}
	for _, a := range g.Mark {
		ref, err := policy.ParseRef(a.Set)
		if err != nil {
			continue // vow check refuses such a policy
		}
		sys, t := s.Policy.LookupTable(policy.TableRef{System: ref.System, Table: ref.Table}, nil)
		if t == nil {
			continue
		}
		st := plan.Step(sys.Name + ":" + t.Name)
		if st == nil {
			continue
		}
		var v any = a.Value
		switch {
		case clear:
			v = nil
		case a.Value == "now":
			v = s.now()
		}
		out[sys.Name] = append(out[sys.Name], update{st, ref.Column, v})
	}
	return out
}

// recover clears the grace marks of an erasure being cancelled in its
// grace period, so the account is as it was.
func (s *Service) recover(ctx context.Context, r *Request) error {
	g := s.Policy.Rights.ErasureGrace
	if g == nil || len(g.Mark) == 0 || r.keys == nil {
		return nil
	}
	plan, err := NewPlan(s.Policy, r.Subject, kindsOf(r.Identities))
	if errors.Is(err, ErrNoMatch) {
		return nil
	}
	if err != nil {
		return err
	}
	cs := &conns{s: s, open: map[string]connectorSQL{}}
	defer cs.close()
	if _, err := s.applyUpdates(ctx, plan, r, cs, "unmark", s.marks(plan, g, true), func(Progress) {}); err != nil {
		return err
	}
	s.event(ctx, r, "request.recovered", nil)
	return nil
}
