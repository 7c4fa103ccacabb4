package testdb

import (
	"context"
	"database/sql"
	"testing"
	"time"
)

// LockWait makes a session wait for a row lock on db, a PostgreSQL or
// MySQL database: one transaction runs stmt (an UPDATE of one row) and
// keeps its lock, a second session runs stmt too and waits. It returns
// once the server shows the wait, and registers the release (the holder
// rolls back, the waiter finishes); calling the returned func releases it
// earlier.
func LockWait(t testing.TB, db *sql.DB, kind, stmt string) (release func()) {
	t.Helper()
	ctx := context.Background()
	holder, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := holder.ExecContext(ctx, stmt); err != nil {
		_ = holder.Rollback()
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() {
		_, err := db.ExecContext(ctx, stmt)
		waited <- err
	}()
	released := false
	release = func() {
		if released {
			return
		}
		released = true
		_ = holder.Rollback()
		if err := <-waited; err != nil {
			t.Errorf("testdb: the waiting session: %v", err)
		}
	}
	t.Cleanup(release)
	q := "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
	if kind == "mysql" {
		q = "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'INNODB_ROW_LOCK_CURRENT_WAITS'"
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var n int
		if err := db.QueryRowContext(ctx, q).Scan(&n); err != nil {
			t.Fatalf("testdb: lock waits: %v", err)
		}
		if n >= 1 {
			return release
		}
		if time.Now().After(deadline) {
			t.Fatal("testdb: the second session never showed as waiting for the lock")
		}
	}
}
