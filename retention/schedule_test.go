package retention_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vowprivacy/vow/internal/testdb"
	"github.com/vowprivacy/vow/retention"
	"github.com/vowprivacy/vow/state"
)

// TestTwoSchedulersOneStore runs two schedulers against one PostgreSQL
// state store: every rule runs exactly once, by one of them.
func TestTwoSchedulersOneStore(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "sqlite")
	f.seed(t)
	url := testdb.Postgres(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var (
		mu      sync.Mutex
		runs    = map[string][]string{} // rule → holders that ran it
		total   int
		allDone = make(chan struct{})
		wg      sync.WaitGroup
	)
	for _, holder := range []string{"a", "b"} {
		store, err := state.Open(ctx, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		e := *f.engine
		e.Store = store
		s := &retention.Scheduler{Engine: &e, Interval: time.Hour, Tick: 20 * time.Millisecond, LeaseTTL: time.Minute, Holder: holder,
			OnRun: func(r *retention.Report) {
				mu.Lock()
				defer mu.Unlock()
				for _, rr := range r.Rules {
					runs[rr.Rule] = append(runs[rr.Rule], holder)
					if total++; total == len(f.policy.Retention.Rules) {
						close(allDone)
					}
				}
			}}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Run(ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	select {
	case <-allDone:
		// Let both keep ticking a while: a second run of any rule would
		// show up now.
		time.Sleep(300 * time.Millisecond)
	case <-ctx.Done():
	}
	cancel()
	wg.Wait()
	for _, r := range f.policy.Retention.Rules {
		if got := runs[r.Name]; len(got) != 1 {
			t.Errorf("rule %q ran %d times (%v), want once", r.Name, len(got), got)
		}
	}
	if n := f.count(t, expiredFindings, daysAgo(30)); n != 0 {
		t.Errorf("%d expired findings left", n)
	}
}

// TestSchedulerRespectsForeignLease checks the lease itself: no rule runs
// while another instance holds its lease, and all run once it is gone.
func TestSchedulerRespectsForeignLease(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "sqlite")
	f.seed(t)
	ctx := context.Background()
	// Another instance holds every lease far into the future.
	for _, r := range f.policy.Retention.Rules {
		if _, err := f.store.DB().ExecContext(ctx, `INSERT INTO leases (name, holder, expires_at) VALUES (?, 'other', '2999-01-01T00:00:00.000000Z')`, retention.LeaseName(r.Name)); err != nil {
			t.Fatal(err)
		}
	}
	runCtx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	ran := 0
	s := &retention.Scheduler{Engine: f.engine, Tick: 10 * time.Millisecond, OnRun: func(*retention.Report) { ran++ }}
	if err := s.Run(runCtx); err != nil {
		t.Fatal(err)
	}
	if ran != 0 {
		t.Errorf("ran %d rules under another instance's lease", ran)
	}
	// A run from the command line waits its turn too.
	rep, err := f.engine.Run(ctx, retention.Options{Actor: "cli"})
	if err != nil {
		t.Fatal(err)
	}
	for _, rr := range rep.Rules {
		if rr.Status != retention.StatusFailed || rr.Rows != 0 || !strings.Contains(rr.Error, "another run holds this rule") {
			t.Errorf("a manual run beside the lease holder: %+v", rr)
		}
	}
	if _, err := f.store.DB().ExecContext(ctx, `DELETE FROM leases`); err != nil {
		t.Fatal(err)
	}
	runCtx2, cancel2 := context.WithTimeout(ctx, 30*time.Second)
	defer cancel2()
	s.OnRun = func(*retention.Report) {
		if ran++; ran == len(f.policy.Retention.Rules) {
			cancel2()
		}
	}
	if err := s.Run(runCtx2); err != nil {
		t.Fatal(err)
	}
	if ran != len(f.policy.Retention.Rules) {
		t.Errorf("ran %d rules after the leases were gone, want %d", ran, len(f.policy.Retention.Rules))
	}
}
