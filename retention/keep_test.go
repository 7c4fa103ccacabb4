package retention_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vowprivacy/vow/policy"
	"github.com/vowprivacy/vow/retention"
)

// TestKeepZero: keep: 0d removes the rows the where matches as soon as
// their from is past, however recent (delete at termination).
func TestKeepZero(t *testing.T) {
	t.Parallel()
	forEachKind(t, func(t *testing.T, kind string) {
		const rule = "    - name: deleted users\n      table: app:users\n      where: deleted_at IS NOT NULL\n      from: deleted_at\n      keep: "
		if !strings.Contains(testPolicy, rule+"30d") {
			t.Fatal("testPolicy changed: no deleted users rule")
		}
		f := newFixtureWith(t, kind, strings.Replace(testPolicy, rule+"30d", rule+"0d", 1))
		f.seed(t)
		// Deleted a minute ago: expired under keep 0d.
		f.exec(t, `UPDATE users SET deleted_at = ? WHERE id = 25`, ts(now.Add(-time.Minute)))
		ctx := context.Background()
		p, err := f.engine.Plan(ctx, []string{"deleted users"})
		if err != nil {
			t.Fatal(err)
		}
		// Users 11-20 (60 days ago), 23-24 (5 days ago) and 25.
		if got := planOf(p, "deleted users"); got.Error != "" || got.Rows != 13 || got.Keep != "0 days" || !got.Cutoff.Equal(now) {
			t.Errorf("plan: %+v; want 13 rows, keep 0 days, cutoff %v", got, now)
		}
		rep, err := f.engine.Run(ctx, retention.Options{Rules: []string{"deleted users"}, Batch: 4})
		if err != nil {
			t.Fatal(err)
		}
		if r := resultOf(rep, "deleted users"); r.Status != retention.StatusDone || r.Rows != 13 {
			t.Errorf("run: %+v", r)
		}
		if n := f.count(t, `SELECT count(*) FROM users WHERE deleted_at IS NOT NULL`); n != 0 {
			t.Errorf("%d deleted users left", n)
		}
		if n := f.count(t, `SELECT count(*) FROM users`); n != 27 {
			t.Errorf("%d users left, want the 27 not deleted", n)
		}
	})
}

// TestKeepUnset: a rule without keep (a policy built in code) is refused
// rather than taken for keep 0d.
func TestKeepUnset(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "sqlite")
	f.seed(t)
	f.policy.Retention.Rules[1].Keep = policy.Duration{}
	p, err := f.engine.Plan(context.Background(), []string{"deleted users"})
	if err != nil {
		t.Fatal(err)
	}
	if got := planOf(p, "deleted users"); !strings.Contains(got.Error, "keep is missing") {
		t.Errorf("plan error %q, want keep is missing", got.Error)
	}
}
