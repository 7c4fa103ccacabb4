package throttle

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// ProberFor returns the prober for a database of kind ("postgres",
// "mysql"), reading through db and, on MySQL/MariaDB, through connections
// to its replicas for their lag (a PostgreSQL primary reports its standbys
// itself, so replicas are not asked); nil for kinds with nothing to read
// (SQLite has no other sessions to protect but the application's own, and
// no replicas).
func ProberFor(kind string, db *sql.DB, replicas ...*sql.DB) Prober {
	switch kind {
	case "postgres":
		return postgresProber{db}
	case "mysql":
		return mysqlProber{db, replicas}
	}
	return nil
}

// LagUnknown is the lag of a replica that is not replicating (MariaDB's
// Seconds_Behind_Master is NULL): past any limit, so that a run waits for
// it as pt-archiver does, and named as such.
const LagUnknown = time.Duration(1<<63 - 1)

type postgresProber struct{ db *sql.DB }

// postgresLoad counts the server's active client sessions other than this
// one, the sessions of this database waiting for a lock, and reads the
// largest replay lag among the standbys — PostgreSQL's own measure: the
// time a standby took to apply recent WAL, NULL once it has caught up and
// nothing new comes — and how many standbys it cannot see (a role without
// pg_monitor sees their rows with the columns hidden).
const postgresLoad = `SELECT
  (SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND backend_type = 'client backend' AND pid <> pg_backend_pid()),
  (SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()),
  (SELECT COALESCE(EXTRACT(EPOCH FROM max(replay_lag)), 0)::float8 FROM pg_stat_replication),
  (SELECT count(*) FROM pg_stat_replication WHERE state IS NULL)`

// ErrReplicasHidden: the database has standbys whose lag Vow's role may
// not read.
var ErrReplicasHidden = errors.New("throttle: the standbys' lag is hidden from this role: grant it pg_monitor (GRANT pg_monitor TO …) so that purges can slow down when standbys fall behind")

func (p postgresProber) Load(ctx context.Context) (Load, error) {
	var l Load
	var lag float64
	var hidden int
	if err := p.db.QueryRowContext(ctx, postgresLoad).Scan(&l.ThreadsRunning, &l.LockWaits, &lag, &hidden); err != nil {
		return Load{}, fmt.Errorf("throttle: read PostgreSQL load: %w", err)
	}
	if hidden > 0 {
		return Load{}, ErrReplicasHidden
	}
	l.Lag = time.Duration(lag * float64(time.Second))
	return l, nil
}

type mysqlProber struct {
	db       *sql.DB
	replicas []*sql.DB
}

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
	for _, r := range p.replicas {
		// A replica that does not answer is one whose lag nobody knows:
		// past every limit, with the primary's own numbers kept.
		lag, err := mysqlReplicaLag(ctx, r)
		if err != nil {
			lag = LagUnknown
		}
		l.Lag = max(l.Lag, lag)
	}
	return l, nil
}

// mysqlReplicaLag reads a replica's Seconds_Behind_Master (MariaDB, older
// MySQL) or Seconds_Behind_Source (MySQL 8); NULL — not replicating — is
// LagUnknown. A server that replicates from several sources reports the
// largest.
func mysqlReplicaLag(ctx context.Context, db *sql.DB) (time.Duration, error) {
	rows, err := db.QueryContext(ctx, "SHOW SLAVE STATUS")
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, err
	}
	at := -1
	for i, c := range cols {
		if c == "Seconds_Behind_Master" || c == "Seconds_Behind_Source" {
			at = i
		}
	}
	if at < 0 {
		return 0, fmt.Errorf("SHOW SLAVE STATUS has no Seconds_Behind_Master column")
	}
	var lag time.Duration
	seen := false
	for rows.Next() {
		vals := make([]sql.NullInt64, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		// Text columns do not scan into integers: read them as raw bytes.
		for i := range ptrs {
			if i != at {
				ptrs[i] = new(sql.RawBytes)
			}
		}
		if err := rows.Scan(ptrs...); err != nil {
			return 0, err
		}
		seen = true
		if !vals[at].Valid {
			lag = LagUnknown
			continue
		}
		lag = max(lag, time.Duration(vals[at].Int64)*time.Second)
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if !seen {
		return 0, fmt.Errorf("the server is not a replica (SHOW SLAVE STATUS is empty)")
	}
	return lag, nil
}
