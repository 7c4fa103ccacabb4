package retention

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vowprivacy/vow/state"
)

// Scheduler runs every rule of an engine's policy once per Interval. When
// several Vow instances share one PostgreSQL state store, a lease row per
// rule (taken with one conditional upsert, renewed while the rule runs,
// expiring if its holder dies) lets only one instance run a rule at a time;
// the others see the recorded run and wait for the next interval.
type Scheduler struct {
	// Engine runs the rules; its Store holds the leases.
	Engine *Engine
	// Interval is how often each rule runs; 24h when 0.
	Interval time.Duration
	// Tick is how often rules are checked for being due; a minute when 0.
	Tick time.Duration
	// LeaseTTL is how long a lease lasts without renewal: how long a rule
	// stays blocked after its instance died. 5 minutes when 0.
	LeaseTTL time.Duration
	// Holder names this instance in the leases; host-pid-random when empty.
	Holder string
	// Options tune each run (batch, pause, budget); Rules and DryRun are
	// ignored.
	Options Options
	// OnRun, when set, is called with every run's report.
	OnRun func(*Report)
}

func (s *Scheduler) defaults() {
	if s.Interval <= 0 {
		s.Interval = 24 * time.Hour
	}
	if s.Tick <= 0 {
		s.Tick = time.Minute
	}
	if s.LeaseTTL <= 0 {
		s.LeaseTTL = 5 * time.Minute
	}
	if s.Holder == "" {
		s.Holder = state.NewHolder()
	}
}

// Run checks the rules every Tick and runs those that are due, until ctx
// is done; then it returns nil. Errors of one rule are logged and retried
// at the next tick; only a broken state store stops Run.
func (s *Scheduler) Run(ctx context.Context) error {
	s.defaults()
	e := s.Engine
	if e == nil || e.Store == nil {
		return fmt.Errorf("retention: scheduler needs an engine with a state store")
	}
	log := e.logger().With("holder", s.Holder)
	for {
		for _, r := range e.Policy.Retention.Rules {
			if ctx.Err() != nil {
				return nil
			}
			if err := s.tryRule(ctx, r.Name); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				log.Warn("retention: scheduled rule", "rule", r.Name, "error", err)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(s.Tick):
		}
	}
}

// tryRule runs one rule if it is due and this instance wins its lease.
func (s *Scheduler) tryRule(ctx context.Context, rule string) error {
	e := s.Engine
	// The rule's lease — the one state.Hold that requests and manual runs
	// take too — ends runCtx if another instance takes it over (ours
	// expired while we were paused); the checkpoint lets it continue.
	runCtx, release, err := e.Store.Hold(ctx, state.Lease{Name: LeaseName(rule), Holder: s.Holder, TTL: s.LeaseTTL, Now: e.now})
	if errors.Is(err, state.ErrLeaseHeld) {
		return nil // another instance runs it
	}
	if err != nil {
		return err
	}
	defer release()
	// Due is checked under the lease: another instance may have finished
	// the rule between our last look and our lease.
	last, err := e.lastFinished(runCtx, rule)
	if err != nil {
		return err
	}
	if cp, err := e.loadCheckpoint(runCtx, rule); err != nil {
		return err
	} else if cp == nil && !last.IsZero() && e.now().Sub(last) < s.Interval {
		return nil
	}
	opt := s.Options
	opt.Rules, opt.DryRun = []string{rule}, false
	if opt.Actor == "" {
		opt.Actor = "vow scheduler " + s.Holder
	}
	opt.leased = true
	rep, err := e.Run(runCtx, opt)
	if err != nil {
		return err
	}
	if s.OnRun != nil {
		s.OnRun(rep)
	}
	return nil
}
