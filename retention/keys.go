package retention

import (
	"context"
	"strings"

	"github.com/vowprivacy/vow/throttle"
)

// Keys. Batches follow the primary key: rows are taken in key order and a
// batch ends at a key, compared with ">"/"<=" and ORDER BY, which every
// key type has (integers, text, uuid, binary, several columns as a row
// value). Aggregates are another matter: PostgreSQL has no max(uuid), and
// max over several columns is not a row. So only a single integer key takes
// its range from min/max, with the count, and gets key windows; every other
// key finds its last key with ORDER BY … DESC LIMIT 1.

// intKey reports whether the key is one integer column: the fast path.
func (j *job) intKey() bool {
	if len(j.pk) != 1 || j.live == nil {
		return false
	}
	c := j.live.Column(j.pk[0])
	return c != nil && intType(c.Base())
}

// intType reports whether a column type is an integer type of PostgreSQL,
// MySQL/MariaDB or SQLite ("integer", "bigint(20) unsigned", "int8",
// "bigserial"). Unlike isInt it does not match every type containing
// "int" ("point", "interval"): a wrong yes here would ask the database for
// an aggregate the type lacks.
func intType(typ string) bool {
	t := strings.ToLower(strings.TrimSpace(typ))
	if i := strings.IndexByte(t, '('); i >= 0 {
		if k := strings.IndexByte(t[i:], ')'); k >= 0 {
			t = t[:i] + t[i+k+1:]
		}
	}
	t = strings.Join(strings.Fields(strings.NewReplacer("unsigned", " ", "zerofill", " ").Replace(t)), " ")
	switch t {
	case "int", "integer", "tinyint", "smallint", "mediumint", "bigint", "int2", "int4", "int8",
		"serial", "smallserial", "bigserial", "serial2", "serial4", "serial8", "big int":
		return true
	}
	return false
}

// keyDesc is the key's columns in descending order, for ORDER BY.
func (j *job) keyDesc() string {
	cols := make([]string, len(j.pk))
	for i, c := range j.pk {
		cols[i] = j.col(c) + " DESC"
	}
	return strings.Join(cols, ", ")
}

// canary is the query the throttle times while batches run (see
// throttle.Watch): a point read by primary key of the table's highest key
// — a recent row, the kind an application reads most; nil when the table
// is empty. (A commit canary on PostgreSQL, txid_current() in its own
// transaction, was tried: it burns a transaction id per sample, and it
// saw the purge no better than the read.)
func (j *job) canary(ctx context.Context, c *conn) (*throttle.QueryCanary, error) {
	rows, err := queryRows(ctx, c.c.DB(), j.d.Kind(), "SELECT "+j.pkSelect()+" FROM "+j.tbl()+" ORDER BY "+j.keyDesc()+" LIMIT 1", nil)
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	w := j.keyCmp("=", rows[0])
	q := "SELECT " + j.pkSelect() + " FROM " + j.tbl() + " WHERE " + w.sql
	return throttle.NewQueryCanary(c.c.DB(), j.d.Rebind(q), w.args...), nil
}

// lastKey returns the highest key of the eligible rows (nil when there
// are none), for keys without a max aggregate: the run's upper bound.
func (j *job) lastKey(ctx context.Context, c *conn) ([]any, error) {
	q := "SELECT " + j.pkSelect() + " FROM " + j.tbl() + " WHERE " + j.eligible.sql + " ORDER BY " + j.keyDesc() + " LIMIT 1"
	rows, err := queryRows(ctx, c.c.DB(), j.d.Kind(), q, j.eligible.args)
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	return rows[0], nil
}
