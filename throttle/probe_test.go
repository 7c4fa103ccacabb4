package throttle_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/vowprivacy/vow/internal/testdb"
	"github.com/vowprivacy/vow/throttle"
)

// TestProbersSeeLockWaits reads each server's load idle, then while one
// session waits for a row another holds: the waiting session must show.
func TestProbersSeeLockWaits(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"postgres", "mysql"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			dsn := testdb.New(t, kind)
			driver := map[string]string{"postgres": "pgx", "mysql": "mysql"}[kind]
			db, err := sql.Open(driver, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			testdb.Exec(t, kind, dsn, `CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t VALUES (1, 0)`)
			p := throttle.ProberFor(kind, db)
			idle, err := p.Load(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if idle.ThreadsRunning < 0 || idle.LockWaits < 0 || idle.HistoryLength < 0 || idle.Lag < 0 {
				t.Fatalf("idle load %+v", idle)
			}

			holder, err := db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer holder.Rollback()
			if _, err := holder.ExecContext(ctx, `UPDATE t SET v = 1 WHERE id = 1`); err != nil {
				t.Fatal(err)
			}
			waiter := make(chan error, 1)
			wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			defer cancel()
			go func() {
				_, err := db.ExecContext(wctx, `UPDATE t SET v = 2 WHERE id = 1`)
				waiter <- err
			}()
			deadline := time.Now().Add(10 * time.Second)
			var l throttle.Load
			for time.Now().Before(deadline) {
				if l, err = p.Load(ctx); err != nil {
					t.Fatal(err)
				}
				if l.LockWaits >= 1 && l.ThreadsRunning >= 1 {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			if l.LockWaits < 1 || l.ThreadsRunning < 1 {
				t.Fatalf("load %+v while a session waits for a row lock: want lock_waits ≥ 1 and threads_running ≥ 1", l)
			}
			_ = holder.Rollback()
			if err := <-waiter; err != nil {
				t.Fatalf("the waiting update: %v", err)
			}
		})
	}
}

func TestNoProberForSQLite(t *testing.T) {
	if p := throttle.ProberFor("sqlite", nil); p != nil {
		t.Errorf("ProberFor(sqlite) = %T, want nil", p)
	}
}
