package connector

import (
	"context"
	"database/sql"
	"errors"
)

// Querier runs a query for one row: a *sql.DB, *sql.Tx or *sql.Conn.
type Querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// exactBelow is the estimate under which RowCount counts exactly: a
// count(*) of a small table costs little, and the statistics of a small
// or fresh table are the least reliable.
const exactBelow = 100_000

// RowCount returns the number of rows of a table: the database's own
// estimate for a large table (PostgreSQL's reltuples, InnoDB's
// TABLE_ROWS) — counting ten million rows to decide whether one erasure
// or purge is plausible would cost more than the erasure — and an exact
// count for a small one, or where there is no estimate (SQLite). It
// reads through q: c's pool, or a transaction of it — a check that runs
// in a transaction asks there, rather than have the pool open a second
// connection (a dial and a new server session) beside it.
func RowCount(ctx context.Context, c SQL, q Querier, table string) (int64, error) {
	d := c.Dialect()
	var est sql.NullInt64
	var err error
	switch d.Kind() {
	case "postgres":
		// A partitioned table's own reltuples is set only by an ANALYZE of
		// the parent, which autovacuum never runs: sum its partitions'.
		err = q.QueryRowContext(ctx, `SELECT CASE WHEN c.relkind = 'p' THEN (SELECT CASE WHEN min(k.reltuples) < 0 THEN -1 ELSE sum(k.reltuples) END FROM pg_inherits i JOIN pg_class k ON k.oid = i.inhrelid WHERE i.inhparent = c.oid)::bigint ELSE c.reltuples::bigint END
FROM pg_class c WHERE c.oid = to_regclass($1)`, d.Ident(table)).Scan(&est)
	case "mysql":
		err = q.QueryRowContext(ctx, "SELECT TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?", table).Scan(&est)
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, c.Translate(ctx, "estimate rows of "+table, err)
	}
	if est.Valid && est.Int64 >= exactBelow {
		return est.Int64, nil
	}
	var n int64
	if err := q.QueryRowContext(ctx, "SELECT count(*) FROM "+d.Ident(table)).Scan(&n); err != nil {
		return 0, c.Translate(ctx, "count rows of "+table, err)
	}
	return n, nil
}
