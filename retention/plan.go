package retention

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vowprivacy/vow/connector"
	"github.com/vowprivacy/vow/policy"
)

// Plan is the dry run of every selected rule.
type Plan struct {
	At    time.Time  `json:"at"`
	Rules []RulePlan `json:"rules"`
}

// RulePlan is what one rule would do now.
type RulePlan struct {
	Rule   string    `json:"rule"`
	Table  string    `json:"table"` // system:table
	Action string    `json:"action"`
	From   string    `json:"from"`
	Keep   string    `json:"keep"`
	Where  string    `json:"where,omitempty"`
	Cutoff time.Time `json:"cutoff"`
	// Rows would be deleted or anonymised; Held are expired but kept under
	// a legal hold.
	Rows   int64  `json:"rows"`
	Held   int64  `json:"held"`
	Oldest string `json:"oldest,omitempty"`
	// Cascade counts the dependent rows deleted or changed with them.
	Cascade    []CascadeCount `json:"cascade,omitempty"`
	Statements []string       `json:"statements,omitempty"`
	Warnings   []string       `json:"warnings,omitempty"`
	// Brake says why a run would stop before removing anything: the rule
	// matches more of its table than the policy's brake allows.
	Brake string `json:"brake,omitempty"`
	// Partitions are dropped whole, each with every row it can hold
	// expired; the rows left are purged row by row.
	Partitions []string `json:"partitions,omitempty"`
	// Resume describes an unfinished earlier run the next run continues.
	Resume string `json:"resume,omitempty"`
	Error  string `json:"error,omitempty"`
}

// CascadeCount is a dependent table a delete reaches.
type CascadeCount struct {
	Table  string `json:"table"`
	Column string `json:"column"`
	Action string `json:"action"` // delete, nullify, set, hmac
	Rows   int64  `json:"rows"`
}

// Failed reports whether any rule could not be planned.
func (p *Plan) Failed() bool {
	return slices.ContainsFunc(p.Rules, func(r RulePlan) bool { return r.Error != "" })
}

// Plan computes, without changing anything, what a run would do now with
// the selected rules. A rule whose datastore is down or whose where the
// database rejects carries an Error; the others are planned regardless.
func (e *Engine) Plan(ctx context.Context, rules []string) (*Plan, error) {
	idx, err := e.selected(rules)
	if err != nil {
		return nil, err
	}
	holds, err := e.holds(ctx)
	if err != nil {
		return nil, err
	}
	cs := &conns{e: e, open: map[string]*conn{}}
	defer cs.close()
	now := e.now()
	p := &Plan{At: now}
	for _, i := range idx {
		r := e.Policy.Retention.Rules[i]
		// The cutoff as the rule says it, for a rule that fails before
		// its job has one (else the plan would show year 1).
		rp := RulePlan{Rule: r.Name, Table: r.Table, Action: ActionDelete, From: r.From, Keep: r.Keep.Human(), Where: r.Where, Cutoff: r.Keep.Before(now)}
		if r.Then == ActionAnonymise || r.Then == "anonymize" {
			rp.Action = ActionAnonymise
		}
		j, c, err := e.prepare(ctx, cs, i, now, time.Time{}, holds)
		if err == nil {
			err = j.count(ctx, c, &rp, nil)
		}
		if err == nil {
			rp.Brake, err = j.brake(ctx, c, rp.Rows)
		}
		if err != nil {
			rp.Error = oneLine(err)
		}
		if j != nil {
			rp.Cutoff = j.cutoff
			rp.Table = j.sys.Name + ":" + j.table.Name
			rp.Warnings = j.warnings
			rp.Statements = j.statements()
		}
		if err == nil && j != nil {
			parts, perr := j.wholePartitions(ctx, c)
			if perr != nil {
				rp.Error = oneLine(c.c.Translate(ctx, "list partitions of "+j.table.Name, perr))
			}
			for _, pt := range parts {
				rp.Partitions = append(rp.Partitions, pt.name)
				rp.Statements = append([]string{j.dropStatement(pt)}, rp.Statements...)
			}
			if why := j.wholePartitionsWhy(); why != "" && j.live.Partitioned {
				rp.Warnings = append(rp.Warnings, "partitions are not dropped whole: "+why+"; rows go one batch at a time")
			}
		}
		if e.Store != nil {
			if cp, err := e.loadCheckpoint(ctx, r.Name); err == nil && cp != nil {
				rp.Resume = fmt.Sprintf("run %s stopped after %d rows; the next run continues it with cutoff %s", cp.RunID, cp.Rows, cp.Cutoff.Format(time.RFC3339))
			}
		}
		p.Rules = append(p.Rules, rp)
	}
	return p, nil
}

func (e *Engine) holds(ctx context.Context) (map[string][]string, error) {
	if e.Holds == nil {
		return nil, nil
	}
	h, err := e.Holds.Subjects(ctx)
	if err != nil {
		return nil, fmt.Errorf("retention: legal holds: %w", err)
	}
	return h, nil
}

// prepare opens rule i's datastore, compiles the rule and has the database
// check its statements (EXPLAIN), so that a bad where is reported with the
// policy's file:line before anything runs.
func (e *Engine) prepare(ctx context.Context, cs *conns, i int, now, cutoff time.Time, holds map[string][]string) (*job, *conn, error) {
	r := e.Policy.Retention.Rules[i]
	if r.Keep.IsZero() {
		// Unset is not keep: 0d (which removes rows at once): a rule that
		// forgot its period must not purge the table.
		return nil, nil, e.ruleErr(i, "keep", "keep is missing: write how long rows are kept (e.g. 30d), or 0d to remove them as soon as the condition holds")
	}
	sys, t := e.Policy.LookupTable(policy.ParseTableRef(r.Table), nil)
	if t == nil {
		return nil, nil, e.ruleErr(i, "table", "table %q is not declared in the policy", r.Table)
	}
	c, err := cs.get(ctx, sys)
	if err != nil {
		return nil, nil, err
	}
	j, err := e.compile(ctx, i, c, now, cutoff, holds)
	if err != nil {
		return nil, nil, err
	}
	q, args := j.selectBatch(nil, 1)
	explain := "EXPLAIN "
	if j.d.Kind() == "sqlite" {
		explain = "EXPLAIN QUERY PLAN "
	}
	if _, err := queryRows(ctx, c.c.DB(), j.d.Kind(), explain+q, args); err != nil {
		key := "where"
		if r.Where == "" {
			key = "table"
		}
		return j, nil, e.ruleErr(i, key, "the database rejects the rule's condition: %s", oneLine(c.c.Translate(ctx, "check condition", err)))
	}
	return j, c, nil
}

// count fills the plan's row counts.
func (j *job) count(ctx context.Context, c *conn, rp *RulePlan, drop []partition) error {
	kind := j.d.Kind()
	from := j.col(j.rule.From)
	sel := "SELECT count(*), min(" + from + ")"
	if j.intKey() {
		// The run bounds its batches by the highest key it has to reach;
		// for an integer key it comes with the count, from the same scan.
		sel += ", max(" + j.col(j.pk[0]) + "), min(" + j.col(j.pk[0]) + ")"
	}
	// The rows of partitions about to be dropped are not counted (see
	// dropPartition); what is left is.
	src, cs := j.outside(drop, j.eligible, and(j.expired))
	if src == "" {
		// Every partition goes whole: nothing is left to count, and no
		// key bounds a batch.
		rp.Rows, rp.Oldest, j.countHint = 0, "", 0
		j.maxKey, j.intKeys = nil, false
		return nil
	}
	eligible, expiredC := cs[0], cs[1]
	rows, err := queryRows(ctx, c.c.DB(), kind, sel+" FROM "+src+" WHERE "+eligible.sql, eligible.args)
	if err != nil {
		return c.c.Translate(ctx, "count expired rows of "+j.table.Name, err)
	}
	rp.Rows = toInt(rows[0][0])
	j.countHint = rp.Rows
	rp.Oldest = timeText(rows[0][1])
	switch {
	case j.windowed():
		// Windows of the rule's column end at the cutoff: no key bounds
		// them.
	case j.intKey() && rows[0][2] != nil:
		j.maxKey = []any{rows[0][2]}
		lo, okLo := rows[0][3].(int64)
		hi, okHi := rows[0][2].(int64)
		if okLo && okHi && rp.Rows > 0 {
			j.intKeys, j.keyMin, j.keyMax = true, lo, hi
		}
	case !j.intKey() && rp.Rows > 0:
		// Other keys (uuid, text, several columns) have no max: the
		// highest key is the first in descending order.
		if j.maxKey, err = j.lastKey(ctx, c); err != nil {
			return c.c.Translate(ctx, "find the last expired key of "+j.table.Name, err)
		}
	}
	expired := rp.Rows
	if eligible.sql != expiredC.sql {
		rows, err = queryRows(ctx, c.c.DB(), kind, "SELECT count(*) FROM "+src+" WHERE "+expiredC.sql, expiredC.args)
		if err != nil {
			return c.c.Translate(ctx, "count expired rows of "+j.table.Name, err)
		}
		expired = toInt(rows[0][0])
	}
	unheld := rp.Rows
	if j.action == ActionAnonymise {
		// Rows anonymised by an earlier run are neither pending nor held.
		rows, err = queryRows(ctx, c.c.DB(), kind, "SELECT count(*) FROM "+j.tbl()+" WHERE "+j.unheld.sql, j.unheld.args)
		if err != nil {
			return c.c.Translate(ctx, "count rows of "+j.table.Name, err)
		}
		unheld = toInt(rows[0][0])
	}
	rp.Held = expired - unheld
	// Dependent rows: children of the eligible rows, recursively.
	if j.action == ActionDelete && rp.Rows > 0 {
		parent := func(col string) cond {
			return cond{sql: "SELECT " + j.col(col) + " FROM " + j.tbl() + " WHERE " + j.eligible.sql, args: j.eligible.args}
		}
		var walk func(ch child, vals cond) error
		walk = func(ch child, vals cond) error {
			if ch.how == "hold" || ch.how == "keep" {
				return nil // their parents are not eligible
			}
			ct := j.d.Ident(ch.table.Name)
			where := ct + "." + j.d.Column(ch.column) + " IN (" + vals.sql + ")"
			got, err := queryRows(ctx, c.c.DB(), kind, "SELECT count(*) FROM "+ct+" WHERE "+where, vals.args)
			if err != nil {
				return c.c.Translate(ctx, "count rows of "+ch.table.Name, err)
			}
			rp.Cascade = append(rp.Cascade, CascadeCount{Table: j.sys.Name + ":" + ch.table.Name, Column: ch.column, Action: ch.how, Rows: toInt(got[0][0])})
			for _, sub := range ch.sub {
				if err := walk(sub, cond{sql: "SELECT " + ct + "." + j.d.Column(sub.parent) + " FROM " + ct + " WHERE " + where, args: vals.args}); err != nil {
					return err
				}
			}
			return nil
		}
		for _, ch := range j.children {
			if err := walk(ch, parent(ch.parent)); err != nil {
				return err
			}
		}
		for _, op := range j.owned {
			ot := j.d.Ident(op.table)
			got, err := queryRows(ctx, c.c.DB(), kind, "SELECT count(*) FROM "+ot+" WHERE "+ot+"."+j.d.Column(op.key)+" IN ("+parent(op.column).sql+")", j.eligible.args)
			if err != nil {
				return c.c.Translate(ctx, "count rows of "+op.table, err)
			}
			rp.Cascade = append(rp.Cascade, CascadeCount{Table: j.sys.Name + ":" + op.table, Column: op.key, Action: "delete owned (unless referenced elsewhere)", Rows: toInt(got[0][0])})
		}
	}
	if rp.Held > 0 {
		reason := "a legal hold"
		if j.holdReason != "" {
			reason = j.holdReason
		}
		j.warnings = append(j.warnings, fmt.Sprintf("%d expired rows are under legal hold (%s) and will be kept", rp.Held, reason))
	}
	return nil
}

// brake says why the rule must not run unapproved, or "": it would remove
// more of its table than the policy's brake allows (a where that suddenly
// matches most of the table).
func (j *job) brake(ctx context.Context, c *conn, rows int64) (string, error) {
	b := j.e.Policy.RetentionBrake(j.rule)
	if rows <= int64(b.Rows) {
		return "", nil // below the floor: no need to count the table
	}
	total, err := connector.RowCount(ctx, c.c, c.c.DB(), j.table.Name)
	if err != nil {
		return "", err
	}
	if !b.Trips(rows, total) {
		return "", nil
	}
	return fmt.Sprintf("the rule would %s %d of the %d rows of %s, more than its brake allows (over %s and over %d rows); if that is right, run it with --approve %q",
		j.action, rows, total, j.table.Name, b.Share, b.Rows, j.rule.Name), nil
}

func toInt(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case int32:
		return int64(x)
	case int:
		return int64(x)
	case float64:
		return int64(x)
	case string:
		n, _ := strconv.ParseInt(x, 10, 64)
		return n
	}
	return 0
}

func itoa(n int) string { return strconv.Itoa(n) }

// oneLine folds an error message onto one line.
func oneLine(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }

// timeText shows a timestamp read from a datastore in one form, whatever
// the database returned (a time, or SQLite's text).
func timeText(v any) string {
	if t, ok := v.(time.Time); ok {
		return t.UTC().Format("2006-01-02 15:04:05 MST")
	}
	s := text(v)
	for _, layout := range []string{"2006-01-02 15:04:05.999999999 -0700 MST", time.RFC3339Nano, "2006-01-02 15:04:05.999999999-07:00", "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC().Format("2006-01-02 15:04:05 MST")
		}
	}
	return s
}
