package throttle_test

import (
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
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
			db := openDB(t, driver, dsn)
			testdb.Exec(t, kind, dsn, `CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t VALUES (1, 0)`)
			p := throttle.ProberFor(kind, db)
			idle, err := p.Load(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if idle.ThreadsRunning < 0 || idle.LockWaits < 0 || idle.HistoryLength < 0 || idle.Lag < 0 {
				t.Fatalf("idle load %+v", idle)
			}

			testdb.LockWait(t, db, kind, `UPDATE t SET v = 1 WHERE id = 1`)
			l, err := p.Load(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if l.LockWaits < 1 || l.ThreadsRunning < 1 {
				t.Fatalf("load %+v while a session waits for a row lock: want lock_waits ≥ 1 and threads_running ≥ 1", l)
			}
		})
	}
}

func TestNoProberForSQLite(t *testing.T) {
	if p := throttle.ProberFor("sqlite", nil); p != nil {
		t.Errorf("ProberFor(sqlite) = %T, want nil", p)
	}
}

// TestMariaDBReplicaLag runs a real primary and replica: a replica that
// applies changes three seconds late shows a lag once the primary writes,
// back to none when it has caught up; a replica whose SQL thread stopped
// shows LagUnknown, which the limits name.
func TestMariaDBReplicaLag(t *testing.T) {
	t.Parallel()
	primaryDSN, replicaDSN := testdb.MariaDBReplica(t)
	ctx := t.Context()
	primary := openDB(t, "mysql", primaryDSN)
	replica := openDB(t, "mysql", replicaDSN)
	p := throttle.ProberFor("mysql", primary, replica)
	if l, err := p.Load(ctx); err != nil || l.Lag != 0 {
		t.Fatalf("idle: load %+v, %v; want no lag", l, err)
	}
	if _, err := replica.ExecContext(ctx, "STOP SLAVE; CHANGE MASTER TO MASTER_DELAY = 3; START SLAVE"); err != nil {
		t.Fatal(err)
	}
	if _, err := primary.ExecContext(ctx, "CREATE DATABASE app; CREATE TABLE app.t (id int PRIMARY KEY); INSERT INTO app.t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	lagged := false
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		l, err := p.Load(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if l.Lag >= time.Second && l.Lag != throttle.LagUnknown {
			lagged = true
		}
		var n int
		if lagged && replica.QueryRowContext(ctx, "SELECT count(*) FROM app.t").Scan(&n) == nil && n == 1 {
			if l, err := p.Load(ctx); err != nil || l.Lag != 0 {
				t.Errorf("caught up: load %+v, %v; want no lag", l, err)
			}
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !lagged {
		t.Fatal("a replica three seconds behind never showed a lag")
	}
	if _, err := replica.ExecContext(ctx, "STOP SLAVE SQL_THREAD"); err != nil {
		t.Fatal(err)
	}
	l, err := p.Load(ctx)
	if err != nil || l.Lag != throttle.LagUnknown {
		t.Fatalf("SQL thread stopped: load %+v, %v; want LagUnknown", l, err)
	}
	// A throttle with the default limits waits for it, and says why.
	th := throttle.New(throttle.Config{ProbeEvery: time.Millisecond, CriticalWait: time.Millisecond}, p)
	if err := th.Before(ctx); !errors.Is(err, throttle.ErrCritical) || !strings.Contains(err.Error(), "a replica is not replicating, or does not answer") {
		t.Errorf("Before = %v; want ErrCritical naming the stopped replica", err)
	}
	// Not a replica at all, or not answering: a lag nobody knows, not
	// zero; the primary's own numbers are kept.
	if l, err := throttle.ProberFor("mysql", primary, primary).Load(ctx); err != nil || l.Lag != throttle.LagUnknown {
		t.Errorf("the primary given as its own replica: load %+v, %v; want LagUnknown", l, err)
	}
}

// TestPostgresStandbyLag runs a real primary and streaming standby: a
// standby that applies WAL three seconds late shows its lag on the
// primary once the primary writes; a role that may not read the standbys'
// lag gets an error that says to grant pg_monitor, not a lag of zero.
func TestPostgresStandbyLag(t *testing.T) {
	t.Parallel()
	primaryURL, replicaURL := testdb.PostgresReplica(t)
	ctx := t.Context()
	primary := openDB(t, "pgx", primaryURL)
	replica := openDB(t, "pgx", replicaURL)
	p := throttle.ProberFor("postgres", primary)
	if l, err := p.Load(ctx); err != nil || l.Lag >= time.Second {
		t.Fatalf("idle: load %+v, %v; want no lag", l, err)
	}
	for _, q := range []string{"ALTER SYSTEM SET recovery_min_apply_delay = '3s'", "SELECT pg_reload_conf()"} {
		if _, err := replica.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	lagged := false
	deadline := time.Now().Add(20 * time.Second)
	for i := 0; time.Now().Before(deadline) && !lagged; i++ {
		if _, err := primary.ExecContext(ctx, fmt.Sprintf("CREATE TABLE t%d (id int)", i)); err != nil {
			t.Fatal(err)
		}
		l, err := p.Load(ctx)
		if err != nil {
			t.Fatal(err)
		}
		lagged = l.Lag >= 2*time.Second
		time.Sleep(200 * time.Millisecond)
	}
	if !lagged {
		t.Fatal("a standby three seconds behind never showed a lag on the primary")
	}
	if _, err := primary.ExecContext(ctx, "CREATE ROLE plain LOGIN"); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(primaryURL)
	u.User = url.User("plain")
	plain := openDB(t, "pgx", u.String())
	if _, err := throttle.ProberFor("postgres", plain).Load(ctx); !errors.Is(err, throttle.ErrReplicasHidden) {
		t.Errorf("a role without pg_monitor: err = %v, want ErrReplicasHidden", err)
	}
	if _, err := primary.ExecContext(ctx, "GRANT pg_monitor TO plain"); err != nil {
		t.Fatal(err)
	}
	if _, err := throttle.ProberFor("postgres", plain).Load(ctx); err != nil {
		t.Errorf("with pg_monitor: %v", err)
	}
}

// openDB opens a connection pool for the test, closed when it ends.
func openDB(t *testing.T, driver, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestQueryCanary times a point read on a real server, on one connection
// it holds until Close, and says when the query fails.
func TestQueryCanary(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"postgres", "mysql"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			dsn := testdb.New(t, kind)
			db := openDB(t, map[string]string{"postgres": "pgx", "mysql": "mysql"}[kind], dsn)
			testdb.Exec(t, kind, dsn, `CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t VALUES (1, 0)`)
			arg := map[string]string{"postgres": "$1", "mysql": "?"}[kind]
			c := throttle.NewQueryCanary(db, "SELECT id FROM t WHERE id = "+arg, 1)
			for range 3 {
				if d, err := c.Time(t.Context()); err != nil || d <= 0 {
					t.Fatalf("Time: %v, %v", d, err)
				}
			}
			if n := db.Stats().InUse; n != 1 {
				t.Errorf("%d connections in use while the canary runs, want its one", n)
			}
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			if n := db.Stats().InUse; n != 0 {
				t.Errorf("%d connections in use after Close", n)
			}
			bad := throttle.NewQueryCanary(db, "SELECT id FROM missing WHERE id = "+arg, 1)
			defer bad.Close()
			if _, err := bad.Time(t.Context()); err == nil || !strings.Contains(err.Error(), "canary") {
				t.Errorf("a failing canary: %v", err)
			}
		})
	}
}
