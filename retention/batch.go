package retention

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vowprivacy/vow/connector"
)

// inChunk is the most values one IN list carries.
const inChunk = 1000

func (j *job) tbl() string { return j.d.Ident(j.table.Name) }

func (j *job) col(c string) string { return j.tbl() + "." + j.d.Column(c) }

// stamps opens the SET list of an UPDATE of t with the columns the server
// would stamp in UTC (connector.StampPrefix), but those in set: for rows
// where changed (with args) holds, "" for every row.
func (j *job) stamps(t *connector.Table, changed string, args []any, set ...string) (string, []any) {
	return connector.StampPrefix(j.d, t, j.stampZone, time.Now(), changed, args, set...)
}

// changed is the condition that anonymising a row changes its stored
// bytes (connector.Differs), for its stamps; macs are the pseudonyms of
// its hmac fields, in order (nil in a plan's text, for "?").
func (j *job) changed(macs []any) (string, []any) {
	var ors []string
	var args []any
	i := 0
	for _, f := range j.fields {
		quoted := j.d.Column(f.name)
		col := j.live.Column(f.name)
		if col == nil {
			col = &connector.Column{Name: f.name}
		}
		switch f.how {
		case "nullify":
			ors = append(ors, quoted+" IS NOT NULL")
		case "set":
			ors = append(ors, connector.Differs(col, quoted, "?"))
			args = append(args, f.value)
		case "hmac":
			ors = append(ors, connector.Differs(col, quoted, "?"))
			if i < len(macs) {
				args = append(args, macs[i])
			}
			i++
		}
	}
	return strings.Join(ors, " OR "), args
}

// childStamps opens the SET list of an UPDATE of a child's reference to
// value: stamped where the reference changes (a pseudonym may be the
// value it holds: its parent's key pseudonymised by an earlier erasure).
func (j *job) childStamps(ch child, value any) (string, []any) {
	col := ch.live.Column(ch.column)
	if col == nil {
		col = &connector.Column{Name: ch.column}
	}
	return j.stamps(ch.live, connector.Differs(col, j.d.Column(ch.column), "?"), []any{value}, ch.column)
}

// fieldNames are the columns the anonymised fields set.
func (j *job) fieldNames() []string {
	out := make([]string, len(j.fields))
	for i, f := range j.fields {
		out[i] = f.name
	}
	return out
}

func (j *job) pkList() string {
	cols := make([]string, len(j.pk))
	for i, c := range j.pk {
		cols[i] = j.col(c)
	}
	return strings.Join(cols, ", ")
}

// pkSelect is the key columns as a SELECT list whose values the run gives
// back to the database: each as the row holds it
// (connector.Dialect.AsStored).
func (j *job) pkSelect() string { return j.selectList(j.pk) }

func (j *job) selectList(cols []string) string {
	q := make([]string, len(cols))
	for i, c := range cols {
		q[i] = j.d.AsStored(j.col(c))
	}
	return strings.Join(q, ", ")
}

// selectBatch is the keyset query for the next batch of expired keys.
func (j *job) selectBatch(after []any, n int) (string, []any) {
	c := j.scope()
	q := "SELECT " + j.pkSelect() + " FROM " + j.tbl() + " WHERE " + c.sql
	args := slices.Clone(c.args)
	if after != nil {
		if len(j.pk) == 1 {
			q += " AND " + j.col(j.pk[0]) + " > ?"
		} else {
			q += " AND (" + j.pkList() + ") > (" + placeholders(len(j.pk)) + ")"
		}
		args = append(args, after...)
	}
	q += " ORDER BY " + j.pkList() + " LIMIT " + itoa(n)
	return q, args
}

// scope is the eligible condition bounded by the run's last key: rows that
// expire during the run with a higher key wait for the next run, and the
// last batch does not scan the live rows above the expired ones.
func (j *job) scope() cond {
	if j.maxKey == nil {
		return j.eligible
	}
	return and(j.eligible, j.keyCmp("<=", j.maxKey))
}

// remaining counts the rows still eligible after a run: past the run's
// cutoff, not held, not yet anonymised. Not bounded by the highest key
// the batches went to: a key Vow read in another form than the row's
// (the bug this is here to catch) bounds wrongly too.
func (j *job) remaining(ctx context.Context, c *conn) (int64, error) {
	return j.countWhere(ctx, c, j.eligible)
}

// nullKeys counts the eligible rows with a NULL in their key: SQLite lets
// a primary key other than an INTEGER one hold NULL, and batches that go
// by key never reach such rows.
func (j *job) nullKeys(ctx context.Context, c *conn) (int64, error) {
	nulls := make([]string, len(j.pk))
	for i, col := range j.pk {
		nulls[i] = j.col(col) + " IS NULL"
	}
	return j.countWhere(ctx, c, and(j.eligible, cond{sql: strings.Join(nulls, " OR ")}))
}

// countWhere counts the rule's table's rows matching w.
func (j *job) countWhere(ctx context.Context, c *conn, w cond) (int64, error) {
	rows, err := queryRows(ctx, c.c.DB(), j.d.Kind(), "SELECT count(*) FROM "+j.tbl()+" WHERE "+w.sql, w.args)
	if err != nil {
		return 0, err
	}
	return toInt(rows[0][0]), nil
}

// ranged reports whether batches may be taken as key ranges: one
// statement that deletes (or rewrites) the eligible rows between two keys,
// with the database re-checking the condition itself. That holds when no
// dependent row has to be handled first and no value is computed per row.
func (j *job) ranged() bool {
	if j.action == ActionDelete {
		for _, ch := range j.children {
			// A condition on the rule's own table (a self-reference that
			// keeps its rows) cannot be in a DELETE of that table on MySQL
			// (error 1093): those go key by key.
			if !ch.passive() || ch.table == j.table {
				return false
			}
		}
		return len(j.owned) == 0
	}
	for _, f := range j.fields {
		if f.how == "hmac" {
			return false
		}
	}
	return true
}

// keyCmp is the condition pk op (values), for one or several key columns.
func (j *job) keyCmp(op string, key []any) cond {
	if len(j.pk) == 1 {
		return cond{sql: j.col(j.pk[0]) + " " + op + " ?", args: slices.Clone(key)}
	}
	return cond{sql: "(" + j.pkList() + ") " + op + " (" + placeholders(len(j.pk)) + ")", args: slices.Clone(key)}
}

// upperBound returns the key of the n-th eligible row after after, or nil
// when fewer than n are left: the end of the next ranged batch.
func (j *job) upperBound(ctx context.Context, c *conn, after []any, n int) ([]any, error) {
	cs := []cond{j.scope()}
	if after != nil {
		cs = append(cs, j.keyCmp(">", after))
	}
	w := and(cs...)
	q := "SELECT " + j.pkSelect() + " FROM " + j.tbl() + " WHERE " + w.sql + " ORDER BY " + j.pkList() + " LIMIT 1 OFFSET " + itoa(n-1)
	rows, err := queryRows(ctx, c.c.DB(), j.d.Kind(), q, w.args)
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	return rows[0], nil
}

// rangeStatement deletes or anonymises the eligible rows with after < key
// <= hi (either bound may be nil).
func (j *job) rangeStatement(after, hi []any) (string, []any) {
	cs := []cond{j.scope()}
	if after != nil {
		cs = append(cs, j.keyCmp(">", after))
	}
	if hi != nil {
		cs = append(cs, j.keyCmp("<=", hi))
	}
	return j.rangeIn(and(cs...))
}

// rangeIn deletes or anonymises the rows matching w, in one statement.
func (j *job) rangeIn(w cond) (string, []any) {
	if j.action == ActionDelete {
		return "DELETE FROM " + j.tbl() + " WHERE " + w.sql, w.args
	}
	var sets []string
	var args []any
	for _, f := range j.fields {
		switch f.how {
		case "nullify":
			sets = append(sets, j.d.Column(f.name)+" = NULL")
		case "set":
			sets = append(sets, j.d.Column(f.name)+" = ?")
			args = append(args, f.value)
		}
	}
	// Rows a rule reaches have a field not yet rewritten, but perhaps no
	// byte to change ({set} to a value the column rounds): stamped where
	// they change.
	changed, cargs := j.changed(nil)
	stamps, sargs := j.stamps(j.live, changed, cargs, j.fieldNames()...)
	return "UPDATE " + j.tbl() + " SET " + stamps + strings.Join(sets, ", ") + " WHERE " + w.sql, slices.Concat(sargs, args, w.args)
}

// pkIn is a condition selecting the rows with the given keys.
func (j *job) pkIn(keys [][]any) cond {
	var args []any
	if len(j.pk) == 1 {
		for _, k := range keys {
			args = append(args, k[0])
		}
		return cond{sql: j.col(j.pk[0]) + " IN (" + placeholders(len(keys)) + ")", args: args}
	}
	if types, ok := j.pkTypes(); ok {
		if lits, ok := columnArrays(keys, len(j.pk)); ok {
			// PostgreSQL plans an OR of a thousand composite keys in about
			// 70 ms; the keys as one array per column, zipped by unnest, in
			// about 10. Each array is a literal the server reads with the
			// column's type, which pgx need not know (citext, an enum).
			cols := make([]string, len(j.pk))
			for n := range j.pk {
				args = append(args, lits[n])
				cols[n] = "?::" + types[n] + "[]"
			}
			return cond{sql: "(" + j.pkList() + ") IN (SELECT * FROM unnest(" + strings.Join(cols, ", ") + "))", args: args}
		}
	}
	if j.d.Kind() == "mysql" {
		// Not a list of row values, which MariaDB compares wrongly in a
		// column whose character set is not the connection's, nor an OR
		// of a thousand pairs, each row checked against all of them.
		cols := make([]string, len(j.pk))
		for i, c := range j.pk {
			cols[i] = j.col(c)
		}
		// The condition first: it binds args as it goes.
		sql := connector.TupleIn(cols, keys, func(v any) string { args = append(args, v); return "?" })
		return cond{sql: sql, args: args}
	}
	if j.d.Kind() == "sqlite" {
		// SQLite parses an OR of a thousand keys into an expression tree
		// deeper than it allows (1,000); a list of row values is flat.
		tuple := "(" + placeholders(len(j.pk)) + ")"
		for _, k := range keys {
			args = append(args, k...)
		}
		return cond{sql: "(" + j.pkList() + ") IN (VALUES " + strings.TrimSuffix(strings.Repeat(tuple+", ", len(keys)), ", ") + ")", args: args}
	}
	parts := make([]string, len(keys))
	for i, k := range keys {
		eq := make([]string, len(j.pk))
		for n, c := range j.pk {
			eq[n] = j.col(c) + " = ?"
		}
		parts[i] = "(" + strings.Join(eq, " AND ") + ")"
		args = append(args, k...)
	}
	return cond{sql: strings.Join(parts, " OR "), args: args}
}

// columnArrays writes the n columns of keys as PostgreSQL array
// literals, one per column; false for a value ArrayLiteral does not write.
func columnArrays(keys [][]any, n int) ([]string, bool) {
	out := make([]string, n)
	col := make([]any, len(keys))
	for c := range n {
		for i, k := range keys {
			col[i] = k[c]
		}
		lit, ok := connector.ArrayLiteral(col)
		if !ok {
			return nil, false
		}
		out[c] = lit
	}
	return out, true
}

// pkTypes returns the PostgreSQL types of a composite key's columns, as
// the live schema writes them, for casting arrays of their values; false
// elsewhere, and where a type is unknown.
func (j *job) pkTypes() ([]string, bool) {
	if j.d.Kind() != "postgres" || len(j.pk) < 2 {
		return nil, false
	}
	types := make([]string, len(j.pk))
	for i, c := range j.pk {
		col := j.live.Column(c)
		if col == nil || col.Base() == "" {
			return nil, false
		}
		types[i] = col.Base()
	}
	return types, true
}

// lockCols are the columns the lock query reads: the key, then the columns
// children reference (or the hmac fields, for anonymise).
func (j *job) lockCols() []string {
	cols := slices.Clone(j.pk)
	if j.action == ActionDelete {
		for _, ch := range j.children {
			if !ch.passive() && !slices.Contains(cols, ch.parent) {
				cols = append(cols, ch.parent)
			}
		}
		for _, op := range j.owned {
			if !slices.Contains(cols, op.column) {
				cols = append(cols, op.column)
			}
		}
	} else {
		for _, f := range j.fields {
			if f.how == "hmac" && !slices.Contains(cols, f.name) {
				cols = append(cols, f.name)
			}
		}
	}
	return cols
}

// lockQuery re-reads the batch's rows under lock, keeping only those still
// eligible: a row the application changed since the batch was selected
// (undeleted, touched, put under hold) is left alone.
func (j *job) lockQuery(keys [][]any) (string, []any) {
	in := j.pkIn(keys)
	c := and(in, j.eligible)
	q := "SELECT " + j.selectList(j.lockCols()) + " FROM " + j.tbl() + " WHERE " + c.sql
	if j.d.Kind() != "sqlite" {
		q += " FOR UPDATE"
	}
	return q, c.args
}

// runBatch deletes or anonymises the rows with the given keys (and
// cascades to their children) in one transaction. It returns the rows of
// the rule's table done and the child rows deleted or changed.
func (j *job) runBatch(ctx context.Context, c *conn, keys [][]any) (rows, cascaded int64, err error) {
	kind := j.d.Kind()
	t, err := begin(ctx, c.c.DB(), kind)
	if err != nil {
		return 0, 0, err
	}
	defer func() {
		if err != nil {
			_ = t.rollback()
		}
	}()
	// The batch may be larger than one statement's parameters can key.
	var locked [][]any
	for _, part := range chunks(keys, inChunk) {
		q, args := j.lockQuery(part)
		got, err := queryRows(ctx, t, kind, q, args)
		if err != nil {
			return 0, 0, err
		}
		locked = append(locked, got...)
	}
	if len(locked) == 0 {
		return 0, 0, t.commit()
	}
	cols := j.lockCols()
	lk := make([][]any, len(locked))
	for i, r := range locked {
		lk[i] = r[:len(j.pk)]
	}
	switch j.action {
	case ActionDelete:
		for _, ch := range j.children {
			if ch.passive() {
				continue
			}
			ci := slices.Index(cols, ch.parent)
			vals := distinct(locked, ci)
			n, err := j.applyChild(ctx, t, ch, vals)
			if err != nil {
				return 0, 0, err
			}
			cascaded += n
		}
		for _, part := range chunks(lk, inChunk) {
			in := j.pkIn(part)
			n, err := exec(ctx, t, kind, "DELETE FROM "+j.tbl()+" WHERE "+in.sql, in.args)
			if err != nil {
				return 0, 0, err
			}
			rows += n
		}
		// Rows the purged rows owned (an address), once nothing else
		// references them; after the rows that referenced them are gone.
		for _, op := range j.owned {
			n, err := j.deleteOwned(ctx, t, op, distinct(locked, slices.Index(cols, op.column)))
			if err != nil {
				return 0, 0, err
			}
			cascaded += n
		}
	case ActionAnonymise:
		if n, err := j.anonymise(ctx, t, cols, locked); err != nil {
			return 0, 0, err
		} else {
			rows = n
		}
	}
	return rows, cascaded, t.commit()
}

// passive reports whether a child needs no statement of Vow's: its rows
// keep their parent (hold, keep), or the database itself nulls the
// reference (db).
//
// A held child whose hold runs from a date is not passive: its rows still
// held keep their parent out of the batch, and the rest — past their
// hold — go with it.
func (ch child) passive() bool {
	return ch.how == "hold" && ch.heldFrom == "" || ch.how == "keep" || ch.how == "db"
}

// deleteOwned deletes the owned rows with the given keys that no row
// references any more.
func (j *job) deleteOwned(ctx context.Context, t *tx, op ownedParent, vals []any) (int64, error) {
	ot := j.d.Ident(op.table)
	var guards []string
	for i, r := range op.refs {
		tbl, col, _ := strings.Cut(r, ".")
		alias := "vow_o" + itoa(i)
		guards = append(guards, "NOT EXISTS (SELECT 1 FROM "+j.d.Ident(tbl)+" "+alias+" WHERE "+alias+"."+j.d.Column(col)+" = "+ot+"."+j.d.Column(op.key)+")")
	}
	var total int64
	for _, part := range chunks(vals, inChunk) {
		q := "DELETE FROM " + ot + " WHERE " + ot + "." + j.d.Column(op.key) + " IN (" + placeholders(len(part)) + ")"
		if len(guards) > 0 {
			q += " AND " + strings.Join(guards, " AND ")
		}
		n, err := exec(ctx, t, j.d.Kind(), q, part)
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

func distinct(rows [][]any, i int) []any {
	seen := map[string]bool{}
	var out []any
	for _, r := range rows {
		v := r[i]
		if v == nil {
			continue
		}
		k := text(v)
		if !seen[k] {
			seen[k] = true
			out = append(out, v)
		}
	}
	return out
}

// applyChild does to the rows of ch that reference vals what their
// declared erasure says: delete them (their own children first), or
// nullify, set or hmac the referencing column.
func (j *job) applyChild(ctx context.Context, t *tx, ch child, vals []any) (int64, error) {
	kind := j.d.Kind()
	ct := j.d.Ident(ch.table.Name)
	col := ct + "." + j.d.Column(ch.column)
	var total int64
	for _, part := range chunks(vals, inChunk) {
		in := col + " IN (" + placeholders(len(part)) + ")"
		switch ch.how {
		case "nullify", "set":
			var set any
			if ch.how == "set" {
				set = ch.value
			}
			stamps, sargs := j.childStamps(ch, set)
			n, err := exec(ctx, t, kind, "UPDATE "+ct+" SET "+stamps+j.d.Column(ch.column)+" = ? WHERE "+in, slices.Concat(sargs, []any{set}, part))
			if err != nil {
				return 0, err
			}
			total += n
		case "hmac":
			intish, width := false, 64
			if ch.live != nil {
				if lc := ch.live.Column(ch.column); lc != nil {
					intish, width = isInt(lc.Base()), textWidth(lc.Base())
				}
			}
			for _, v := range part {
				mac := j.macValue(v, intish, width)
				stamps, sargs := j.childStamps(ch, mac)
				n, err := exec(ctx, t, kind, "UPDATE "+ct+" SET "+stamps+j.d.Column(ch.column)+" = ? WHERE "+col+" = ?", slices.Concat(sargs, []any{mac, v}))
				if err != nil {
					return 0, err
				}
				total += n
			}
		case "delete", "hold":
			// A held child is here only when its hold runs from a date:
			// parents with rows still held are excluded from the batch,
			// and what references the others is past its period.
			for _, sub := range ch.sub {
				q := "SELECT DISTINCT " + j.d.AsStored(ct+"."+j.d.Column(sub.parent)) + " FROM " + ct + " WHERE " + in
				rows, err := queryRows(ctx, t, kind, q, part)
				if err != nil {
					return 0, err
				}
				n, err := j.applyChild(ctx, t, sub, distinct(rows, 0))
				if err != nil {
					return 0, err
				}
				total += n
			}
			n, err := exec(ctx, t, kind, "DELETE FROM "+ct+" WHERE "+in, part)
			if err != nil {
				return 0, err
			}
			total += n
		}
	}
	return total, nil
}

// anonymise rewrites the declared fields of the locked rows.
func (j *job) anonymise(ctx context.Context, t *tx, cols []string, locked [][]any) (int64, error) {
	kind := j.d.Kind()
	var sets []string
	var fixed []any
	hasMAC := false
	for _, f := range j.fields {
		switch f.how {
		case "nullify":
			sets = append(sets, j.d.Column(f.name)+" = NULL")
		case "set":
			sets = append(sets, j.d.Column(f.name)+" = ?")
			fixed = append(fixed, f.value)
		case "hmac":
			hasMAC = true
		}
	}
	// Rows get the same keyed pseudonyms when their values are the same
	// (an audit log's thousands of rows of one actor): one UPDATE per
	// distinct set of pseudonyms, for its rows' keys, rather than one per
	// row. Without keyed pseudonyms every row takes the same values.
	type group struct {
		vals []any
		keys [][]any
	}
	var groups []*group
	byVals := map[string]*group{}
	for _, r := range locked {
		var vals []any
		var id strings.Builder
		if hasMAC {
			for _, f := range j.fields {
				if f.how == "hmac" {
					v := j.macValue(r[slices.Index(cols, f.name)], f.intish, f.width)
					vals = append(vals, v)
					s := fmt.Sprintf("%T:%v", v, v)
					fmt.Fprintf(&id, "%d:%s", len(s), s) // with its length: no text can make two values one
				}
			}
		}
		g := byVals[id.String()]
		if g == nil {
			g = &group{vals: vals}
			byVals[id.String()] = g
			groups = append(groups, g)
		}
		g.keys = append(g.keys, r[:len(j.pk)])
	}
	var total int64
	for _, g := range groups {
		s := slices.Clone(sets)
		args := slices.Clone(fixed)
		i := 0
		for _, f := range j.fields {
			if f.how == "hmac" {
				s = append(s, j.d.Column(f.name)+" = ?")
				args = append(args, g.vals[i])
				i++
			}
		}
		for _, part := range chunks(g.keys, inChunk) {
			in := j.pkIn(part)
			changed, cargs := j.changed(g.vals)
			stamps, sargs := j.stamps(j.live, changed, cargs, j.fieldNames()...)
			n, err := exec(ctx, t, kind, "UPDATE "+j.tbl()+" SET "+stamps+strings.Join(s, ", ")+" WHERE "+in.sql, slices.Concat(sargs, args, in.args))
			if err != nil {
				return 0, err
			}
			total += n
		}
	}
	return total, nil
}

func (j *job) upperBoundText() (string, []any) {
	w := and(j.eligible, j.keyCmp(">", make([]any, len(j.pk))))
	return "SELECT " + j.pkSelect() + " FROM " + j.tbl() + " WHERE " + w.sql + " ORDER BY " + j.pkList() + " LIMIT 1 OFFSET " + itoa(DefaultBatch-1), w.args
}

// statements are the statements a run executes per batch, for the plan.
func (j *job) statements() []string {
	// Windows of the rule's column, as the plan shows them.
	lo, hi := any("…"), any("…")
	if j.ranged() {
		if j.windowed() {
			ub, _ := j.windowBoundQuery(lo, DefaultBatch)
			st, _ := j.windowStatement(lo, hi, false)
			return []string{ub, st}
		}
		after := make([]any, len(j.pk))
		ub, _ := j.upperBoundText()
		st, _ := j.rangeStatement(after, after)
		return []string{ub, st}
	}
	sel, _ := j.selectBatch([]any{"…"}, DefaultBatch)
	if j.windowed() {
		ub, _ := j.windowBoundQuery(lo, DefaultBatch)
		sel, _ = j.windowSelect(lo, hi, false)
		sel = ub + ";\n" + sel
	}
	lock, _ := j.lockQuery([][]any{make([]any, len(j.pk))})
	out := []string{sel, lock}
	var walk func(ch child, depth int)
	walk = func(ch child, depth int) {
		ct := j.d.Ident(ch.table.Name)
		in := ct + "." + j.d.Column(ch.column) + " IN (…)"
		switch ch.how {
		case "db":
			out = append(out, "-- the database sets "+ct+"."+j.d.Column(ch.column)+" to NULL (ON DELETE SET NULL)")
		case "nullify", "set":
			stamps, _ := j.childStamps(ch, nil)
			out = append(out, "UPDATE "+ct+" SET "+stamps+j.d.Column(ch.column)+" = ? WHERE "+in)
		case "hmac":
			stamps, _ := j.childStamps(ch, nil)
			out = append(out, "UPDATE "+ct+" SET "+stamps+j.d.Column(ch.column)+" = hmac(value) WHERE "+ct+"."+j.d.Column(ch.column)+" = ?")
		case "delete", "hold":
			// A held child is here only when its hold runs from a date:
			// parents with rows still held are excluded from the batch,
			// and what references the others is past its period.
			for _, sub := range ch.sub {
				walk(sub, depth+1)
			}
			out = append(out, "DELETE FROM "+ct+" WHERE "+in)
		}
	}
	if j.action == ActionDelete {
		for _, ch := range j.children {
			walk(ch, 0)
		}
		out = append(out, "DELETE FROM "+j.tbl()+" WHERE "+j.pkIn([][]any{make([]any, len(j.pk))}).sql)
		for _, op := range j.owned {
			out = append(out, "DELETE FROM "+j.d.Ident(op.table)+" WHERE "+j.d.Column(op.key)+" IN (…) AND no other row references it")
		}
	} else {
		var sets []string
		for _, f := range j.fields {
			switch f.how {
			case "nullify":
				sets = append(sets, j.d.Column(f.name)+" = NULL")
			case "set":
				sets = append(sets, j.d.Column(f.name)+" = ?")
			case "hmac":
				sets = append(sets, j.d.Column(f.name)+" = hmac("+j.d.Column(f.name)+")")
			}
		}
		changed, _ := j.changed(nil)
		stamps, _ := j.stamps(j.live, changed, nil, j.fieldNames()...)
		out = append(out, "UPDATE "+j.tbl()+" SET "+stamps+strings.Join(sets, ", ")+" WHERE "+j.pkIn([][]any{make([]any, len(j.pk))}).sql)
	}
	for i, s := range out {
		out[i] = strings.ReplaceAll(s, "IN (?)", "IN (…)")
	}
	return out
}

// execRetried runs execRange, again after a deadlock or serialization
// failure with the application's writes (twice at most): the statement's
// transaction was rolled back.
func (j *job) execRetried(ctx context.Context, c *conn, q string, args []any) (n int64, err error) {
	for attempt := 0; ; attempt++ {
		n, err = j.execRange(ctx, c, q, args)
		if err == nil || attempt == 2 || ctx.Err() != nil {
			return n, err
		}
		j.e.logger().Debug("retention: batch retried", "rule", j.rule.Name, "error", err)
		time.Sleep(time.Duration(50*(attempt+1)) * time.Millisecond)
	}
}

// keyBatch selects a batch's keys with q and runs the batch on them: the
// select's error in selErr, the batch's in err.
func (j *job) keyBatch(ctx context.Context, c *conn, q string, args []any) (keys [][]any, rows, cascaded int64, selErr, err error) {
	if keys, selErr = queryRows(ctx, c.c.DB(), j.d.Kind(), q, args); selErr != nil || len(keys) == 0 {
		return keys, 0, 0, selErr, nil
	}
	rows, cascaded, err = j.runBatchRetried(ctx, c, keys)
	return keys, rows, cascaded, nil, err
}

// runBatchRetried is runBatch, retried as execRetried is.
func (j *job) runBatchRetried(ctx context.Context, c *conn, keys [][]any) (rows, cascaded int64, err error) {
	for attempt := 0; ; attempt++ {
		rows, cascaded, err = j.runBatch(ctx, c, keys)
		if err == nil || attempt == 2 || ctx.Err() != nil {
			return rows, cascaded, err
		}
		j.e.logger().Debug("retention: batch retried", "rule", j.rule.Name, "error", err)
		time.Sleep(time.Duration(50*(attempt+1)) * time.Millisecond)
	}
}

// execRange runs one ranged statement in its own short transaction.
func (j *job) execRange(ctx context.Context, c *conn, q string, args []any) (n int64, err error) {
	t, err := begin(ctx, c.c.DB(), j.d.Kind())
	if err != nil {
		return 0, err
	}
	if n, err = exec(ctx, t, j.d.Kind(), q, args); err != nil {
		_ = t.rollback()
		return 0, err
	}
	return n, t.commit()
}
