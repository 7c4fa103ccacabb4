package dsr

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/vowprivacy/vow/connector"
	"github.com/vowprivacy/vow/keyring"
	"github.com/vowprivacy/vow/policy"
)

// TableRecord is what erasure did to one table: the evidence that goes
// into the certificate.
type TableRecord struct {
	System string `json:"system"`
	Table  string `json:"table"`
	// Action is "deleted", "masked", "kept" or "none".
	Action string `json:"action"`
	// Rows is the number of rows deleted (deleted), changed (masked) or
	// kept (kept).
	Rows   int64          `json:"rows"`
	Fields []FieldRecord  `json:"fields,omitempty"`
	Reason string         `json:"reason,omitempty"` // why rows were kept
	For    string         `json:"for,omitempty"`    // how long they are kept
	Extra  map[string]any `json:"-"`
}

// FieldRecord is what erasure did to one column.
type FieldRecord struct {
	Column string `json:"column"`
	Method string `json:"method"`
	Rows   int64  `json:"rows"`
	Reason string `json:"reason,omitempty"`
	For    string `json:"for,omitempty"`
}

// hmacBatch is how many rows are pseudonymised per read.
const hmacBatch = 1000

func (s *Service) erase(ctx context.Context, plan *Plan, r *Request, cs *conns, progress func(Progress)) (*Result, error) {
	started := s.now()
	if held, err := s.underHold(ctx, r); err != nil {
		return nil, err
	} else if held != "" {
		// A legal hold (litigation, an investigation) overrides the right
		// to erasure (GDPR art. 17(3)(e)): nothing is erased, and the
		// certificate says so.
		reason := "the subject is under a legal hold (" + held + "); nothing was erased — vow hold list"
		cert, err := s.certify(ctx, r, []TableRecord{{System: "vow", Table: "(all)", Action: "kept", Reason: reason}}, started)
		if err != nil {
			return nil, err
		}
		s.event(ctx, r, "request.held", map[string]any{"identity": held})
		return &Result{Found: true, Certificate: cert, Message: "kept: " + reason}, nil
	}
	var records []TableRecord
	syss := systems(plan)
	slices.Reverse(syss) // systems of the deepest steps first
	idx := 0
	for _, sys := range syss {
		key := "erase:" + sys
		data, done, err := s.stepDone(ctx, r.ID, key)
		if err != nil {
			return nil, err
		}
		if done {
			var recs []TableRecord
			if err := json.Unmarshal(data, &recs); err != nil {
				return nil, fmt.Errorf("dsr: request %s: stored step %s: %w", r.ID, key, err)
			}
			records = append(records, recs...)
			idx += len(recs)
			continue
		}
		recs, err := s.eraseSystem(ctx, plan, r, cs, sys, func(p Progress) { p.Index += idx; progress(p) })
		if err != nil {
			return nil, err
		}
		err = s.inTx(ctx, func(tx *sql.Tx) error {
			if err := s.markDoneIn(ctx, tx, r.ID, key, recs); err != nil {
				return err
			}
			return s.eventTx(ctx, tx, r.ID, "request.step_done", map[string]any{"step": key, "tables": len(recs)})
		})
		if err != nil {
			return nil, err
		}
		records = append(records, recs...)
		idx += len(recs)
		if err := s.pause(ctx); err != nil {
			return nil, err
		}
	}

	if len(plan.Services) > 0 {
		answers, err := s.callServices(ctx, plan, r, Erasure)
		if err != nil {
			return nil, err
		}
		records = append(records, serviceRecords(plan, answers)...)
	}
	if len(s.EraseHooks) > 0 {
		recs, err := s.runHooks(ctx, r)
		if err != nil {
			return nil, err
		}
		records = append(records, recs...)
	}

	progress(Progress{Step: "verify", Index: len(plan.Steps), Total: len(plan.Steps)})
	remaining, err := s.verifyErased(ctx, plan, r, cs)
	if err != nil {
		return nil, err
	}
	if len(remaining) > 0 {
		// Rows the application wrote for the subject during the erasure:
		// erase once more, then they must be gone.
		s.event(ctx, r, "request.erase_again", map[string]any{"remaining": remaining})
		for _, sys := range syss {
			if _, err := s.eraseSystem(ctx, plan, r, cs, sys, func(Progress) {}); err != nil {
				return nil, err
			}
		}
		if remaining, err = s.verifyErased(ctx, plan, r, cs); err != nil {
			return nil, err
		}
		if len(remaining) > 0 {
			return nil, fmt.Errorf("dsr: after erasure, erasable data remains in %s", strings.Join(remaining, ", "))
		}
	}
	cert, err := s.certify(ctx, r, records, started)
	if err != nil {
		return nil, err
	}
	res := &Result{Rows: map[string]int64{}, Certificate: cert}
	var deleted, masked, kept int64
	for _, rec := range records {
		res.Rows[rec.System+":"+rec.Table] = rec.Rows
		switch rec.Action {
		case "deleted":
			deleted += rec.Rows
		case "masked":
			masked += rec.Rows
		case "kept":
			kept += rec.Rows
		}
		res.Found = res.Found || rec.Rows > 0
	}
	if !res.Found {
		res.Message = "no data found for this subject; nothing was erased"
	} else {
		res.Message = fmt.Sprintf("erased: %d rows deleted, %d rows masked, %d rows kept under legal hold", deleted, masked, kept)
	}
	return res, nil
}

// underHold returns the kind of the request's identity that is under an
// open legal hold ("email"), or "".
func (s *Service) underHold(ctx context.Context, r *Request) (string, error) {
	if s.Holds == nil {
		return "", nil
	}
	held, err := s.Holds.Subjects(ctx)
	if err != nil {
		return "", fmt.Errorf("dsr: read legal holds: %w", err)
	}
	for _, k := range kindsOf(r.Identities) {
		for _, v := range held[k] {
			if strings.EqualFold(strings.TrimSpace(v), strings.TrimSpace(r.Identities[k])) {
				return k, nil
			}
		}
	}
	return "", nil
}

// runHooks erases what Vow itself holds about the subject, once.
func (s *Service) runHooks(ctx context.Context, r *Request) ([]TableRecord, error) {
	const key = "erase:vow"
	data, done, err := s.stepDone(ctx, r.ID, key)
	if err != nil {
		return nil, err
	}
	var recs []TableRecord
	if done {
		if err := json.Unmarshal(data, &recs); err != nil {
			return nil, fmt.Errorf("dsr: request %s: stored step %s: %w", r.ID, key, err)
		}
		return recs, nil
	}
	for _, h := range s.EraseHooks {
		got, err := h(ctx, r.Identities)
		if err != nil {
			return nil, fmt.Errorf("dsr: erase Vow's own records: %w", err)
		}
		recs = append(recs, got...)
	}
	if err := s.markDone(ctx, r.ID, key, recs); err != nil {
		return nil, err
	}
	return recs, nil
}

// eraseSystem applies the erasure to every step of one system in one
// transaction, children before parents: either all of the system's data
// is erased or none is, and a rerun after a crash starts clean.
func (s *Service) eraseSystem(ctx context.Context, plan *Plan, r *Request, cs *conns, system string, progress func(Progress)) ([]TableRecord, error) {
	c, err := cs.get(ctx, system)
	if err != nil {
		return nil, err
	}
	tx, err := c.DB().BeginTx(ctx, nil)
	if err != nil {
		return nil, c.Translate(ctx, "begin erasure", err)
	}
	defer tx.Rollback()
	var recs []TableRecord
	n := 0
	for i := len(plan.Steps) - 1; i >= 0; i-- {
		st := plan.Steps[i]
		if st.System != system {
			continue
		}
		n++
		rec, err := s.eraseStep(ctx, tx, c, plan, st, r)
		if err != nil {
			return nil, err
		}
		progress(Progress{Step: st.ID(), Index: n, Total: len(plan.Steps), Rows: rec.Rows, Done: true})
		recs = append(recs, rec)
		if err := s.pause(ctx); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, c.Translate(ctx, "commit erasure", err)
	}
	return recs, nil
}

func (s *Service) eraseStep(ctx context.Context, tx *sql.Tx, c connector.SQL, plan *Plan, st *Step, r *Request) (TableRecord, error) {
	d := c.Dialect()
	table := d.Ident(st.Table)
	keys, err := s.inlineParents(ctx, tx, c, plan, st, r)
	if err != nil {
		return TableRecord{}, err
	}
	where, args := plan.Where(st, r.Identities, keys)
	rec := TableRecord{System: st.System, Table: st.Table, Action: "none"}
	exec := func(op, q string, args ...any) (int64, error) {
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return 0, c.Translate(ctx, op+" "+st.ID(), err)
		}
		n, _ := res.RowsAffected()
		return n, nil
	}
	count := func(extra string, xargs ...any) (int64, error) {
		var n int64
		q := "SELECT count(*) FROM " + table + " WHERE " + where + extra
		if err := tx.QueryRowContext(ctx, q, append(slices.Clone(args), xargs...)...).Scan(&n); err != nil {
			return 0, c.Translate(ctx, "count "+st.ID(), err)
		}
		return n, nil
	}
	switch {
	case st.Erase.Delete:
		for _, m := range st.Detach {
			// The subquery is wrapped in a derived table because MySQL
			// refuses to read the table an UPDATE changes otherwise.
			col := d.Column(m.Column)
			if _, err := exec("detach", "UPDATE "+table+" SET "+col+" = NULL WHERE "+col+" IN (SELECT "+d.Column(m.ParentColumn)+
				" FROM (SELECT "+d.Column(m.ParentColumn)+" FROM "+table+" WHERE "+where+") vow_subject)", args...); err != nil {
				return rec, err
			}
		}
		n, err := exec("delete from", "DELETE FROM "+table+" WHERE "+where, args...)
		rec.Action, rec.Rows = "deleted", n
		return rec, err
	case st.Erase.Hold:
		n, err := count("")
		rec.Action, rec.Rows, rec.Reason, rec.For = "kept", n, st.Erase.Reason, st.Erase.For
		return rec, err
	}
	// Count first: the UPDATEs below may null the very column that ties
	// the rows to the subject.
	var sums []string
	var sumArgs []any
	var sets assignments
	var masked []int // indexes into rec.Fields counted by sums
	lastHMAC := -1
	for i, f := range st.Erase.Fields {
		col := d.Column(f.Column)
		fr := FieldRecord{Column: f.Column, Method: string(f.Method)}
		switch f.Method {
		case policy.HMAC:
			lastHMAC = i
		case policy.Hold:
			n, err := count(" AND " + col + " IS NOT NULL")
			if err != nil {
				return rec, err
			}
			fr.Rows, fr.Reason, fr.For = n, f.Reason, f.For
		case policy.Nullify:
			sums = append(sums, "SUM(CASE WHEN "+col+" IS NOT NULL THEN 1 ELSE 0 END)")
			sets = append(sets, assignment{column: col, null: true})
			masked = append(masked, len(rec.Fields))
		case policy.Set:
			sumArgs = append(sumArgs, f.Value)
			sums = append(sums, "SUM(CASE WHEN "+col+" IS NOT NULL AND "+col+" <> "+d.Param(len(sumArgs))+" THEN 1 ELSE 0 END)")
			sets = append(sets, assignment{column: col, value: f.Value})
			masked = append(masked, len(rec.Fields))
		}
		rec.Fields = append(rec.Fields, fr)
	}
	if len(sums) > 0 {
		w, a := plan.WhereAfter(st, r.Identities, keys, sumArgs)
		counts := make([]sql.NullInt64, len(sums))
		ptrs := make([]any, len(sums))
		for i := range counts {
			ptrs[i] = &counts[i]
		}
		if err := tx.QueryRowContext(ctx, "SELECT "+strings.Join(sums, ", ")+" FROM "+table+" WHERE "+w, a...).Scan(ptrs...); err != nil {
			return rec, c.Translate(ctx, "count "+st.ID(), err)
		}
		for i, fi := range masked {
			rec.Fields[fi].Rows = counts[i].Int64
		}
	}
	// The other columns' assignments ride along with the last pseudonym
	// column's UPDATEs, so rows with a value there are written once, not
	// twice (an audit log's 27,000 rows); the closing UPDATE reaches only
	// the rest (rows with no value to pseudonymise).
	for i, f := range st.Erase.Fields {
		if f.Method != policy.HMAC {
			continue
		}
		var along assignments
		if i == lastHMAC {
			along = sets
		}
		n, err := s.pseudonymise(ctx, tx, c, plan, st, r, keys, f.Column, along)
		if err != nil {
			return rec, err
		}
		rec.Fields[i].Rows = n
	}
	if len(sets) > 0 {
		set, a := sets.sql(d, 0)
		w, a := plan.WhereAfter(st, r.Identities, keys, a)
		if lastHMAC >= 0 {
			// Rows with a value there were written with it, above.
			w += " AND " + d.Column(st.Erase.Fields[lastHMAC].Column) + " IS NULL"
		}
		if _, err := exec("mask", "UPDATE "+table+" SET "+set+" WHERE "+w, a...); err != nil {
			return rec, err
		}
	}
	for _, fr := range rec.Fields {
		if fr.Method != string(policy.Hold) && fr.Rows > rec.Rows {
			rec.Rows = fr.Rows
		}
	}
	if len(rec.Fields) > 0 {
		rec.Action = "masked"
	}
	return rec, nil
}

// maxInline caps how many parent values are inlined into one statement.
const maxInline = 20000

// inlineParents reads, on MySQL/MariaDB, the parent values a step's
// statements match on, so that its UPDATE and DELETE say col IN (values)
// instead of col IN (SELECT …): MariaDB runs the latter as a scan of the
// whole table, row by row, whatever the indexes. PostgreSQL and SQLite
// plan the subqueries well and keep them. Parents are read inside the
// erasure's transaction, before they change (children go first).
func (s *Service) inlineParents(ctx context.Context, tx *sql.Tx, c connector.SQL, plan *Plan, st *Step, r *Request) (*Keys, error) {
	if c.Dialect().Kind() != "mysql" {
		return r.keys, nil
	}
	d := c.Dialect()
	vals := map[string][]any{}
	for _, m := range st.Matches {
		if m.Parent == "" || m.CrossSystem(st) {
			continue
		}
		parent := plan.Step(m.Parent)
		if _, ok := r.keys.rootsFor(parent, m.ParentColumn); ok {
			continue // already a list of values
		}
		where, args := plan.Where(parent, r.Identities, r.keys)
		list, err := column(ctx, tx, c, "read "+parent.ID(), "SELECT DISTINCT "+d.Column(m.ParentColumn)+" FROM "+d.Ident(parent.Table)+" WHERE "+where+" AND "+d.Column(m.ParentColumn)+" IS NOT NULL", args)
		if err != nil {
			return nil, err
		}
		if len(list) <= maxInline {
			vals[m.Parent+"."+m.ParentColumn] = list
		}
	}
	if len(vals) == 0 {
		return r.keys, nil
	}
	return r.keys.withInline(vals), nil
}

// pseudonymise replaces each value of column by its keyed pseudonym. The
// pseudonym depends only on the value, so there is one UPDATE per distinct
// value (an audit log's 27,000 rows of one email are one statement), read
// in batches so memory stays flat however many values there are. Values
// already pseudonymised are left alone, so a rerun changes nothing.
func (s *Service) pseudonymise(ctx context.Context, tx *sql.Tx, c connector.SQL, plan *Plan, st *Step, r *Request, keys *Keys, field string, along assignments) (int64, error) {
	d := c.Dialect()
	col, table := d.Column(field), d.Ident(st.Table)
	var (
		last    any
		changed int64
	)
	for {
		where, args := plan.Where(st, r.Identities, keys)
		q := "SELECT DISTINCT " + col + " FROM " + table + " WHERE " + where + " AND " + col + " IS NOT NULL"
		if last != nil {
			args = append(args, last)
			q += " AND " + col + " > " + d.Param(len(args))
		}
		q += fmt.Sprintf(" ORDER BY %s LIMIT %d", col, hmacBatch)
		batch, err := column(ctx, tx, c, "read "+st.ID(), q, args)
		if err != nil {
			return changed, err
		}
		for _, v := range batch {
			text := fmt.Sprint(v)
			var set string
			var a []any
			switch {
			case !strings.HasPrefix(text, keyring.PseudonymPrefix):
				set, a = col+" = "+d.Param(1), []any{s.Keys.Pseudonym(text)}
				if len(along) > 0 {
					more, margs := along.sql(d, 1)
					set, a = set+", "+more, append(a, margs...)
				}
			case len(along) > 0:
				// Pseudonymised already (an earlier erasure): the value
				// stays, the other columns are still set here.
				set, a = along.sql(d, 0)
			default:
				continue
			}
			w, a := plan.WhereAfter(st, r.Identities, keys, a)
			a = append(a, v)
			res, err := tx.ExecContext(ctx, "UPDATE "+table+" SET "+set+" WHERE "+w+" AND "+col+" = "+d.Param(len(a)), a...)
			if err != nil {
				return changed, c.Translate(ctx, "pseudonymise "+st.ID()+"."+field, err)
			}
			if !strings.HasPrefix(text, keyring.PseudonymPrefix) {
				n, _ := res.RowsAffected()
				changed += n
			}
		}
		if len(batch) < hmacBatch {
			return changed, nil
		}
		last = batch[len(batch)-1]
	}
}

// assignment is the SET clause of a nullify or set field.
type assignment struct {
	column string // quoted
	null   bool
	value  any
}

type assignments []assignment

// sql renders the assignments with their parameters numbered after the
// first n of the statement.
func (as assignments) sql(d connector.Dialect, n int) (string, []any) {
	out := make([]string, len(as))
	var args []any
	for i, a := range as {
		if a.null {
			out[i] = a.column + " = NULL"
			continue
		}
		args = append(args, a.value)
		out[i] = a.column + " = " + d.Param(n+len(args))
	}
	return strings.Join(out, ", "), args
}

// verifyErased re-reads the subject's rows and returns the tables that
// still hold data the erasure should have removed.
func (s *Service) verifyErased(ctx context.Context, plan *Plan, r *Request, cs *conns) ([]string, error) {
	var out []string
	for _, st := range plan.Steps {
		if !st.Erase.Acts() {
			continue
		}
		c, err := cs.get(ctx, st.System)
		if err != nil {
			return nil, err
		}
		d := c.Dialect()
		where, args := plan.Where(st, r.Identities, r.keys)
		base := "SELECT count(*) FROM " + d.Ident(st.Table) + " WHERE " + where
		var checks []string
		var xargs [][]any
		if st.Erase.Delete {
			checks, xargs = append(checks, ""), append(xargs, nil)
		} else {
			for _, f := range st.Erase.Fields {
				col := d.Column(f.Column)
				switch f.Method {
				case policy.Nullify:
					checks, xargs = append(checks, " AND "+col+" IS NOT NULL"), append(xargs, nil)
				case policy.Set:
					// The value follows the condition's own parameters.
					checks, xargs = append(checks, " AND "+col+" IS NOT NULL AND "+col+" <> "+d.Param(len(args)+1)), append(xargs, []any{f.Value})
				case policy.HMAC:
					n, err := s.unpseudonymised(ctx, c, st, where, args, f.Column)
					if err != nil {
						return nil, err
					}
					if n > 0 {
						out = append(out, fmt.Sprintf("%s.%s (%d rows)", st.ID(), f.Column, n))
					}
				}
			}
		}
		for i, chk := range checks {
			var n int64
			if err := c.DB().QueryRowContext(ctx, base+chk, append(slices.Clone(args), xargs[i]...)...).Scan(&n); err != nil {
				return nil, c.Translate(ctx, "verify "+st.ID(), err)
			}
			if n > 0 {
				out = append(out, fmt.Sprintf("%s (%d rows)", st.ID(), n))
			}
		}
	}
	return out, nil
}

func (s *Service) unpseudonymised(ctx context.Context, c connector.SQL, st *Step, where string, args []any, column string) (int64, error) {
	d := c.Dialect()
	rows, err := c.DB().QueryContext(ctx, "SELECT "+d.Column(column)+" FROM "+d.Ident(st.Table)+" WHERE "+where+" AND "+d.Column(column)+" IS NOT NULL", args...)
	if err != nil {
		return 0, c.Translate(ctx, "verify "+st.ID(), err)
	}
	defer rows.Close()
	var n int64
	for rows.Next() {
		var v any
		if err := rows.Scan(&v); err != nil {
			return 0, c.Translate(ctx, "verify "+st.ID(), err)
		}
		if !strings.HasPrefix(fmt.Sprint(keyValue(v)), keyring.PseudonymPrefix) {
			n++
		}
	}
	return n, rows.Err()
}
