package throttle

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"
)

// ProberFor returns the prober for a database of kind ("postgres",
// "mysql"), reading through db; nil for kinds with nothing to read (SQLite
// has no other sessions to protect but the application's own, and no
// replicas).
func ProberFor(kind string, db *sql.DB) Prober {
	switch kind {
	case "postgres":
		return postgresProber{db}
	case "mysql":
		return mysqlProber{db}
	}
	return nil
}

type postgresProber struct{ db *sql.DB }

// postgresLoad counts the server's active client sessions other than this
// one, the sessions of this database waiting for a lock, and the largest
// replay lag among the replicas (visible to superusers and pg_monitor;
// NULL, read as none, otherwise).
const postgresLoad = `SELECT
  (SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND backend_type = 'client backend' AND pid <> pg_backend_pid()),
  (SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()),
  (SELECT COALESCE(EXTRACT(EPOCH FROM max(replay_lag)), 0)::float8 FROM pg_stat_replication)`

func (p postgresProber) Load(ctx context.Context) (Load, error) {
	var l Load
	var lag float64
	if err := p.db.QueryRowContext(ctx, postgresLoad).Scan(&l.ThreadsRunning, &l.LockWaits, &lag); err != nil {
		return Load{}, fmt.Errorf("throttle: read PostgreSQL load: %w", err)
	}
	l.Lag = time.Duration(lag * float64(time.Second))
	return l, nil
}

type mysqlProber struct{ db *sql.DB }

// mysqlLoad reads the server's status: statements running (less the one
// reading it), InnoDB row lock waits and its history list length.
const mysqlLoad = `SHOW GLOBAL STATUS WHERE Variable_name IN ('Threads_running', 'Innodb_row_lock_current_waits', 'Innodb_history_list_length')`

func (p mysqlProber) Load(ctx context.Context) (Load, error) {
	rows, err := p.db.QueryContext(ctx, mysqlLoad)
	if err != nil {
		return Load{}, fmt.Errorf("throttle: read MariaDB load: %w", err)
	}
	defer rows.Close()
	var l Load
	history := false
	for rows.Next() {
		var name, value string
		if err := rows.Scan(&name, &value); err != nil {
			return Load{}, fmt.Errorf("throttle: read MariaDB load: %w", err)
		}
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			return Load{}, fmt.Errorf("throttle: read MariaDB load: %s = %q: %w", name, value, err)
		}
		switch name {
		case "Threads_running":
			l.ThreadsRunning = max(int(n)-1, 0)
		case "Innodb_row_lock_current_waits":
			l.LockWaits = int(n)
		case "Innodb_history_list_length":
			l.HistoryLength, history = n, true
		}
	}
	if err := rows.Err(); err != nil {
		return Load{}, fmt.Errorf("throttle: read MariaDB load: %w", err)
	}
	if !history {
		// MySQL keeps the history length among InnoDB's metrics only.
		if err := p.db.QueryRowContext(ctx, `SELECT count FROM information_schema.INNODB_METRICS WHERE name = 'trx_rseg_history_len'`).Scan(&l.HistoryLength); err != nil {
			return Load{}, fmt.Errorf("throttle: read InnoDB history length: %w", err)
		}
	}
	return l, nil
}
