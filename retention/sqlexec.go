package retention

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vowprivacy/vow/connector"
)

// execer is what a batch runs its statements on: a transaction.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// tx is one batch's transaction.
type tx struct {
	execer
	commit, rollback func() error
}

// begin starts a short write transaction. On SQLite it is BEGIN IMMEDIATE
// on a dedicated connection: it takes the write lock up front, so the
// batch waits for the application's writers (busy timeout) instead of
// failing when its first read would have to be upgraded to a write.
func begin(ctx context.Context, db *sql.DB, kind string) (*tx, error) {
	if kind == "sqlite" {
		c, err := db.Conn(ctx)
		if err != nil {
			return nil, err
		}
		if _, err := c.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
			c.Close()
			return nil, err
		}
		done := false
		end := func(stmt string) error {
			if done {
				return nil
			}
			done = true
			_, err := c.ExecContext(context.WithoutCancel(ctx), stmt)
			c.Close()
			return err
		}
		return &tx{execer: c, commit: func() error { return end("COMMIT") }, rollback: func() error { return end("ROLLBACK") }}, nil
	}
	// MySQL's default REPEATABLE READ locks every row a DELETE examines,
	// matching or not (and the gaps between): the application's writes to
	// live rows next to expired ones would wait. READ COMMITTED locks only
	// the rows changed.
	var opts *sql.TxOptions
	if kind == "mysql" {
		opts = &sql.TxOptions{Isolation: sql.LevelReadCommitted}
	}
	t, err := db.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	if kind == "postgres" {
		// A batch need not wait for its WAL flush: its work is idempotent
		// and checkpointed after it, so if the server crashes before the
		// flush, the rows are simply found again by a later run. Without
		// the wait a purge of many short transactions costs about what
		// one long DELETE does.
		if _, err := t.ExecContext(ctx, "SET LOCAL synchronous_commit TO OFF"); err != nil {
			_ = t.Rollback()
			return nil, err
		}
	}
	return &tx{execer: t, commit: t.Commit, rollback: t.Rollback}, nil
}

// queryRows runs q and returns every row as values, with []byte turned
// into string so that values can be reused as parameters and checkpoints
// (MySQL returns text as bytes). Binary columns keep their bytes: a key
// such as BINARY(16) or bytea passed back as a string would be taken for
// text (PostgreSQL refuses it, SQLite sorts text before every blob).
func queryRows(ctx context.Context, ex execer, kind, q string, args []any) ([][]any, error) {
	rows, err := ex.QueryContext(ctx, connector.DialectOf(kind).Rebind(q), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	binary := make([]bool, len(cols))
	if types, err := rows.ColumnTypes(); err == nil {
		for i, ct := range types {
			// SQLite returns bytes only for blobs (text comes as string).
			binary[i] = kind == "sqlite" || binaryType(ct.DatabaseTypeName())
		}
	}
	var out [][]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		for i, v := range vals {
			if b, ok := v.([]byte); ok && !binary[i] {
				vals[i] = string(b)
			}
		}
		out = append(out, vals)
	}
	return out, rows.Err()
}

func exec(ctx context.Context, ex execer, kind, q string, args []any) (int64, error) {
	res, err := ex.ExecContext(ctx, connector.DialectOf(kind).Rebind(q), args...)
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// binaryType reports whether a driver's type name (ColumnType's
// DatabaseTypeName) is a binary string type.
func binaryType(name string) bool {
	switch strings.ToUpper(name) {
	case "BYTEA", "BINARY", "VARBINARY", "BLOB", "TINYBLOB", "MEDIUMBLOB", "LONGBLOB":
		return true
	}
	return false
}

// placeholders returns "?, ?, …" n times.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// chunks splits values into slices of at most n, to keep IN lists under
// every database's parameter limit.
func chunks[T any](xs []T, n int) [][]T {
	var out [][]T
	for len(xs) > n {
		out = append(out, xs[:n])
		xs = xs[n:]
	}
	if len(xs) > 0 {
		out = append(out, xs)
	}
	return out
}

// text renders a value for hashing and display.
func text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []byte:
		return string(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	}
	return fmt.Sprint(v)
}

// macValue is the hmac erasure of v: hex HMAC-SHA256 under the keyring's
// "erasure" key (truncated to the column's width), or for an integer column
// a negative number derived from it, so that an anonymised row is never
// taken for a real ID and is recognised as done.
func (j *job) macValue(v any, intish bool, width int) any {
	if v == nil {
		return nil
	}
	if intish {
		n, err := strconv.ParseInt(text(v), 10, 64)
		if err != nil {
			return v // not an integer after all: leave it for the check to report
		}
		return j.e.MAC.PseudonymInt(n)
	}
	return j.e.MAC.PseudonymFit(text(v), width)
}
