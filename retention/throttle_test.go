package retention_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gomysql "github.com/go-sql-driver/mysql"

	"github.com/vowprivacy/vow/datastore"
	"github.com/vowprivacy/vow/internal/testdb"
	"github.com/vowprivacy/vow/policy"
	"github.com/vowprivacy/vow/retention"
	"github.com/vowprivacy/vow/state"
	"github.com/vowprivacy/vow/throttle"
)

const throttlePolicy = `version: 1
organization: {name: Acme, contacts: {privacy: p@acme.example}}
systems:
  app:
    kind: KIND
    connection: {env: APP_DSN}
    tables:
      events:
        primary_key: [id]
        fields:
          id: system.operations
          created_at: system.operations
          body: system.operations
retention:
  rules:
    - {name: events, table: app:events, from: created_at, keep: 30d}
`

// eventsScript creates table (events, or a qualified name) on a database of
// kind and fills it with rows events, the first expired of them 60 days
// old (past the rule's 30 days), the rest 10 days old.
func eventsScript(kind, table string, rows, expired int) string {
	ts := map[string]string{"postgres": "timestamp", "mysql": "datetime", "sqlite": "TIMESTAMP"}[kind]
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE %s (id bigint PRIMARY KEY, created_at %s NOT NULL, body varchar(40) NOT NULL);\n", table, ts)
	for id := 1; id <= rows; id++ {
		if id%1000 == 1 {
			fmt.Fprintf(&b, "INSERT INTO %s VALUES ", table)
		} else {
			b.WriteString(", ")
		}
		age := 60
		if id > expired {
			age = 10
		}
		fmt.Fprintf(&b, "(%d, '%s', 'event %d')", id, daysAgo(age), id)
		if id%1000 == 0 || id == rows {
			b.WriteString(";\n")
		}
	}
	return b.String()
}

// throttleFixture is a table of 12,000 events, the first 8,000 of them
// older than the rule's 30 days.
func throttleFixture(t *testing.T, kind string) *fixture {
	t.Helper()
	return newFixtureSchema(t, kind, eventsScript(kind, "events", 12000, 8000), throttlePolicy)

}

// TestBatchesFollowBatchTime: with room to spare, batches grow from the
// first 1,000 rows to the largest allowed, and a fixed --batch keeps its
// size; both remove every expired row and leave every other row as it was.
func TestBatchesFollowBatchTime(t *testing.T) {
	t.Parallel()
	forEachKind(t, func(t *testing.T, kind string) {
		tests := []struct {
			name       string
			opt        retention.Options
			maxBatches int64
			minBatches int64
			maxSize    int
		}{
			// Impact 50: a row costing four times the first batch's, as a
			// loaded test machine makes it, is not the backoff under test.
			{"adaptive", retention.Options{Throttle: throttle.Config{BatchTime: time.Minute, MaxBatch: 4000, Impact: 50}}, 4, 3, 4000},
			{"fixed", retention.Options{Batch: 1000, Throttle: throttle.Config{BatchTime: time.Minute, Impact: 50}}, 9, 8, 1000},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f := throttleFixture(t, kind)
				keep := `SELECT id, created_at, body FROM events WHERE id > 8000 ORDER BY id`
				before := testdb.Dump(t, f.db, keep)
				tt.opt.Approve = []string{"events"} // two thirds of the table: past the brake
				rep, err := f.engine.Run(context.Background(), tt.opt)
				if err != nil {
					t.Fatal(err)
				}
				r := resultOf(rep, "events")
				if r.Status != retention.StatusDone || r.Rows != 8000 {
					t.Fatalf("result %+v: want 8000 rows done", r)
				}
				if r.Batches < tt.minBatches || r.Batches > tt.maxBatches {
					t.Errorf("%d batches, want %d–%d", r.Batches, tt.minBatches, tt.maxBatches)
				}
				if r.Throttle == nil || r.Throttle.MaxSize != tt.maxSize || r.Throttle.Backoffs != 0 {
					t.Errorf("throttle %+v: want batches up to %d rows and no backoff", r.Throttle, tt.maxSize)
				}
				if n := f.count(t, `SELECT count(*) FROM events WHERE id <= 8000`); n != 0 {
					t.Errorf("%d expired rows left", n)
				}
				if after := testdb.Dump(t, f.db, keep); after != before {
					t.Errorf("live rows changed:\nbefore %s\nafter  %s", before, after)
				}
			})
		}
	})
}

// TestCanaryIsTimed: with a latency budget the run times a canary query
// (a commit, a point read) while its batches run (the baseline before the first)
// and reports both; the purge itself is unchanged.
func TestCanaryIsTimed(t *testing.T) {
	t.Parallel()
	forEachKind(t, func(t *testing.T, kind string) {
		f := throttleFixture(t, kind)
		keep := `SELECT id, created_at, body FROM events WHERE id > 8000 ORDER BY id`
		before := testdb.Dump(t, f.db, keep)
		opt := retention.Options{Approve: []string{"events"}, Batch: 500,
			// A baseline taken again before every batch: the pauses for
			// it must not lose or add a row.
			Throttle: throttle.Config{Latency: 1000, CanaryEvery: time.Millisecond, Rebaseline: time.Nanosecond}}
		rep, err := f.engine.Run(context.Background(), opt)
		if err != nil {
			t.Fatal(err)
		}
		r := resultOf(rep, "events")
		if r.Status != retention.StatusDone || r.Rows != 8000 {
			t.Fatalf("result %+v: want 8000 rows done", r)
		}
		if r.Throttle == nil || r.Throttle.LatencyBase <= 0 || r.Throttle.Rebaselines == 0 || r.Throttle.ProbeErrors != 0 {
			t.Fatalf("throttle %+v: want the canary's baseline, taken again, and no errors", r.Throttle)
		}
		if n := f.count(t, `SELECT count(*) FROM events WHERE id <= 8000`); n != 0 {
			t.Errorf("%d expired rows left", n)
		}
		if after := testdb.Dump(t, f.db, keep); after != before {
			t.Errorf("live rows changed:\nbefore %s\nafter  %s", before, after)
		}
	})
}

// TestCriticalLoadStopsTheRun: while a session waits for a row lock (the
// application is stuck behind another), a run whose critical load is one
// lock wait waits, then stops as partial without touching a row; once
// the lock is released the next run purges.
func TestCriticalLoadStopsTheRun(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"postgres", "mysql"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			f := throttleFixture(t, kind)
			ctx := context.Background()
			all := `SELECT id, created_at, body FROM events ORDER BY id`
			before := testdb.Dump(t, f.db, all)

			release := testdb.LockWait(t, f.db, kind, `UPDATE events SET body = body WHERE id = 12000`)

			stuck := throttle.Limits{LockWaits: 1}
			opt := retention.Options{Approve: []string{"events"},
				Throttle: throttle.Config{Max: stuck, Critical: stuck, CriticalWait: 1500 * time.Millisecond, ProbeEvery: time.Millisecond}}
			rep, err := f.engine.Run(ctx, opt)
			if err != nil {
				t.Fatal(err)
			}
			r := resultOf(rep, "events")
			if r.Status != retention.StatusPartial || rep.Status != "partial" || r.Rows != 0 || !strings.Contains(r.Error, "lock_waits") {
				t.Fatalf("result %+v (run %s): want partial, no rows, stopped for lock_waits", r, rep.Status)
			}
			if r.Throttle == nil || r.Throttle.Waited < time.Second {
				t.Errorf("throttle %+v: want a wait of about 1.5 s", r.Throttle)
			}
			if after := testdb.Dump(t, f.db, all); after != before {
				t.Fatal("a run stopped for the database's load changed rows")
			}

			release()
			// Lock waits are counted across the server (MariaDB): tests
			// beside this one may wait on locks of their own. The resumed
			// run is not what is tested here; it runs without the limits.
			opt.Throttle = throttle.Config{}
			rep, err = f.engine.Run(ctx, opt)
			if err != nil {
				t.Fatal(err)
			}
			if r := resultOf(rep, "events"); r.Status != retention.StatusDone || r.Rows != 8000 {
				t.Fatalf("after the lock was released: %+v", r)
			}
		})
	}
}

// TestRunWatchesReplicas: a rule on a MariaDB primary whose declared
// replica has stopped applying changes waits, then stops as partial
// without touching a row; once the replica runs again the purge goes
// through, and reaches the replica.
func TestRunWatchesReplicas(t *testing.T) {
	t.Parallel()
	primaryAdmin, replicaAdmin := testdb.MariaDBReplica(t)
	ctx := context.Background()
	cfg, err := gomysql.ParseDSN(primaryAdmin)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := sql.Open("mysql", primaryAdmin)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE app;\n"+eventsScript("mysql", "app.events", 3000, 2000)); err != nil {
		t.Fatal(err)
	}
	cfg.DBName = "app"
	appDSN := cfg.FormatDSN()
	rcfg, err := gomysql.ParseDSN(replicaAdmin)
	if err != nil {
		t.Fatal(err)
	}
	rcfg.DBName = "app"
	replicaDSN := rcfg.FormatDSN()
	src := strings.Replace(strings.ReplaceAll(throttlePolicy, "KIND", "mysql"), "    connection: {env: APP_DSN}\n", "    connection: {env: APP_DSN}\n    replicas: [{env: REPLICA_DSN}]\n", 1)
	p, ds := policy.Parse(filepath.Join(t.TempDir(), "vow.yaml"), []byte(src))
	if p == nil || ds.HasErrors() {
		t.Fatalf("policy: %v", ds)
	}
	store, err := state.Open(ctx, filepath.Join(t.TempDir(), "state.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	e := &retention.Engine{Policy: p, Store: store, Now: func() time.Time { return now },
		Datastores: datastore.Resolver{LookupEnv: func(k string) (string, bool) {
			return map[string]string{"APP_DSN": appDSN, "REPLICA_DSN": replicaDSN}[k], true
		}}}
	replica, err := sql.Open("mysql", replicaAdmin)
	if err != nil {
		t.Fatal(err)
	}
	defer replica.Close()
	// The replica has the table before it stops.
	waitFor(t, func() bool {
		var n int
		return replica.QueryRowContext(ctx, "SELECT count(*) FROM app.events").Scan(&n) == nil && n == 3000
	})
	if _, err := replica.ExecContext(ctx, "STOP SLAVE SQL_THREAD"); err != nil {
		t.Fatal(err)
	}
	opt := retention.Options{Approve: []string{"events"}, Throttle: throttle.Config{CriticalWait: time.Second, ProbeEvery: time.Millisecond}}
	rep, err := e.Run(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	if r := resultOf(rep, "events"); r.Status != retention.StatusPartial || r.Rows != 0 || !strings.Contains(r.Error, "a replica is not replicating") {
		t.Fatalf("with the replica stopped: %+v", r)
	}
	var n int
	if err := admin.QueryRowContext(ctx, "SELECT count(*) FROM app.events").Scan(&n); err != nil || n != 3000 {
		t.Fatalf("rows after a stopped run: %d, %v; want all 3000", n, err)
	}
	if _, err := replica.ExecContext(ctx, "START SLAVE SQL_THREAD"); err != nil {
		t.Fatal(err)
	}
	rep, err = e.Run(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	if r := resultOf(rep, "events"); r.Status != retention.StatusDone || r.Rows != 2000 {
		t.Fatalf("with the replica running: %+v", r)
	}
	waitFor(t, func() bool {
		var n int
		return replica.QueryRowContext(ctx, "SELECT count(*) FROM app.events").Scan(&n) == nil && n == 1000
	})
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting for the replica")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
