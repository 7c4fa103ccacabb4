package retention_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/vowprivacy/vow/retention"
)

// TestWhereCannotWiden: a where that closes Vow's parenthesis ("…) OR
// (1=1") would select every row; it is refused before anything runs, with
// the policy's line and the offset of the parenthesis, and nothing is
// deleted.
func TestWhereCannotWiden(t *testing.T) {
	t.Parallel()
	forEachKind(t, func(t *testing.T, kind string) {
		const attack = `deleted_at IS NOT NULL) OR (1=1`
		src := strings.Replace(testPolicy, "where: deleted_at IS NOT NULL\n      from: deleted_at\n      keep: 30d\n    - name: deleted users",
			"where: \""+attack+"\"\n      from: deleted_at\n      keep: 30d\n    - name: deleted users", 1)
		f := newFixtureWith(t, kind, src)
		f.seed(t)
		ctx := context.Background()
		line := f.policy.PosOf("retention.rules[0].where").Line
		want := []string{fmt.Sprintf("vow.yaml:%d:", line), `"closed orgs"`, "byte offset 22", "never opened"}
		p, err := f.engine.Plan(ctx, []string{"closed orgs"})
		if err != nil {
			t.Fatal(err)
		}
		if got := planOf(p, "closed orgs"); got.Rows != 0 || !containsAll(got.Error, want) {
			t.Errorf("plan: rows %d, error %q; want an error with %q", got.Rows, got.Error, want)
		}
		rep, err := f.engine.Run(ctx, retention.Options{Rules: []string{"closed orgs"}})
		if err != nil {
			t.Fatal(err)
		}
		if r := resultOf(rep, "closed orgs"); r.Status != retention.StatusFailed || r.Rows != 0 || !containsAll(r.Error, want) {
			t.Errorf("run: %+v; want failed with %q", r, want)
		}
		for table, n := range map[string]int{"orgs": 10, "users": 40, "scans": 100, "findings": 1000} {
			if got := f.count(t, `SELECT count(*) FROM `+table); got != n {
				t.Errorf("%s: %d rows left, want all %d", table, got, n)
			}
		}
	})
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
