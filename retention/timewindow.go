package retention

import (
	"context"
)

// Windows of the rule's column. A key that is not one integer (a uuid, a
// text, several columns) says nothing about where the expired rows are:
// batches by key walk the key's index and test each row's date, and on a
// table with random keys that reads the whole table (500,000 expired of
// 2,000,000 rows, uuid keys: 5.0 s, against 0.29 s for one DELETE). When
// the rule's column is indexed, such a rule's batches go by windows of
// that column instead: each batch takes the eligible rows with
// lo < column <= hi, where hi is the column's value at the batch size's
// row after lo (read through the column's index, in the order the rows
// expired) and the next window starts after it. The bounds are values the
// database gave (read as the column stores them, like keys), so the
// windows leave no gap between them, and the statement re-checks the
// rule's whole condition. When more rows than fit a batch share the
// window's last value (a date column's day, a bulk import stamped with
// one instant), the window stops short of that value, and its rows go in
// batches by key (a tie) before the next window starts after it.

// windowed reports whether the rule's batches go by windows of its column.
// Not on MySQL/MariaDB: InnoDB keeps a table's rows in primary-key order,
// so walking the key is walking the table, and windows of a date visit
// its rows in random order (500,000 expired of 2,000,000 rows keyed by
// md5 texts, a buffer pool smaller than the table: 26.0 s by key, 102 s by
// windows, 22.4 s for one DELETE). PostgreSQL's heap and SQLite's rowid
// tables keep rows in about the order they were written.
func (j *job) windowed() bool {
	return j.d.Kind() != "mysql" && !j.intKey() && indexed(j.live, j.rule.From)
}

// windowBound returns the end of the next window after lo (nil: from
// the first row): the rule's column at the n-th eligible row after lo, in
// the column's order, or nil when fewer than n rows are left. tied is set
// when the row after the n-th has the same value: the window must then
// stop short of it, and that value's rows go by key.
func (j *job) windowBound(ctx context.Context, c *conn, lo any, n int) (hi any, tied bool, err error) {
	q, args := j.windowBoundQuery(lo, n)
	rows, err := queryRows(ctx, c.c.DB(), j.d.Kind(), q, args)
	if err != nil || len(rows) == 0 {
		return nil, false, err
	}
	return rows[0][0], len(rows) == 2 && text(rows[1][0]) == text(rows[0][0]), nil
}

func (j *job) windowBoundQuery(lo any, n int) (string, []any) {
	col := j.col(j.rule.From)
	w := and(j.eligible, j.window(lo, nil, false))
	return "SELECT " + j.d.AsStored(col) + " FROM " + j.tbl() + " WHERE " + w.sql + " ORDER BY " + col + " LIMIT 2 OFFSET " + itoa(n-1), w.args
}

// window is the condition lo < column <= hi, or < hi when short; a nil
// bound is left out.
func (j *job) window(lo, hi any, short bool) cond {
	col := j.col(j.rule.From)
	var cs []cond
	if lo != nil {
		cs = append(cs, cond{sql: col + " > ?", args: []any{lo}})
	}
	switch {
	case hi != nil && short:
		cs = append(cs, cond{sql: col + " < ?", args: []any{hi}})
	case hi != nil:
		cs = append(cs, cond{sql: col + " <= ?", args: []any{hi}})
	}
	return and(cs...)
}

// windowStatement deletes or anonymises the eligible rows of a window.
func (j *job) windowStatement(lo, hi any, short bool) (string, []any) {
	return j.rangeIn(and(j.eligible, j.window(lo, hi, short)))
}

// windowSelect selects the keys of a window's eligible rows, for a rule
// whose batches go key by key (children to handle first, keyed
// pseudonyms).
func (j *job) windowSelect(lo, hi any, short bool) (string, []any) {
	w := and(j.eligible, j.window(lo, hi, short))
	return "SELECT " + j.pkSelect() + " FROM " + j.tbl() + " WHERE " + w.sql, w.args
}

// tie is one value of the rule's column that more rows share than fit a
// batch; its rows go in batches by key, after the key last reached.
type tie struct {
	value any
	after []any
}

// onTie is j narrowed to the eligible rows of the tie's value, for the
// key batches of a tie (upperBound, rangeStatement, selectBatch). Rows
// with NULL in their key (SQLite allows it) are left out: a NULL key would
// end a batch that takes nothing and a tie whose keyed rows were not
// taken; the run's closing count reports them.
func (j *job) onTie(t *tie) *job {
	jt := *j
	cs := []cond{j.eligible, {sql: j.col(j.rule.From) + " = ?", args: []any{t.value}}}
	for _, k := range j.pk {
		cs = append(cs, cond{sql: j.col(k) + " IS NOT NULL"})
	}
	jt.eligible = and(cs...)
	jt.maxKey = nil
	return &jt
}
