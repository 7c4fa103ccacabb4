package retention

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vowprivacy/vow/connector"
	"github.com/vowprivacy/vow/hold"
	"github.com/vowprivacy/vow/keyring"
	"github.com/vowprivacy/vow/policy"
)

// job is one rule compiled against its live datastore: the conditions and
// statements a plan shows and a run executes.
type job struct {
	e      *Engine
	index  int
	rule   *policy.Rule
	sys    *policy.System
	table  *policy.Table
	live   *connector.Table
	d      connector.Dialect
	action string
	// cutoff is when rows expire by the rule's keep; holdCutoff is earlier
	// when the table is declared under a hold longer than keep.
	cutoff, holdCutoff time.Time
	holdReason         string
	pk                 []string
	// expired selects rows past keep that the rule's where covers;
	// eligible adds every exclusion (holds, already anonymised).
	expired, eligible cond
	// maxKey bounds a run's batches: the highest eligible key at its start,
	// for every key type (see keys.go).
	maxKey []any
	// intKeys: the key is one integer column, keyMin…keyMax the expired
	// rows' key range; batches are then key windows (see keyWindow).
	intKeys        bool
	keyMin, keyMax int64
	countHint      int64 // eligible rows at the start
	// keptParts are the MySQL partitions wholePartitions did not list;
	// pgTimeType is the PostgreSQL type of the rule's column.
	keptParts  []string
	pgTimeType string
	// unheld is expired minus the rows a hold protects.
	unheld   cond
	children []child // same-system relations into this table
	owned    []ownedParent
	// holdCond: a subject's legal hold may keep some of the rows.
	holdCond bool
	// cutoffAt is the cutoff as the rule's column compares it.
	cutoffAt connector.Instant
	fields   []anonField
	// stampZone is the system's zone where a table the job updates has
	// columns the server stamps (connector.Stamped); nil where none has.
	stampZone *time.Location
	warnings  []string
}

// cond is a SQL condition with ? placeholders and its arguments.
type cond struct {
	sql  string
	args []any
}

func and(cs ...cond) cond {
	var parts []string
	var args []any
	for _, c := range cs {
		if c.sql == "" {
			continue
		}
		parts = append(parts, "("+c.sql+")")
		args = append(args, c.args...)
	}
	if len(parts) == 0 {
		return cond{sql: "1=1"}
	}
	return cond{sql: strings.Join(parts, " AND "), args: args}
}

// child is a relation from another table of the same system into the
// rule's table: what deleting a parent row does to the rows referencing it.
type child struct {
	table  *policy.Table
	live   *connector.Table
	column string // the referencing column in the child
	parent string // the referenced column in the parent
	// how: "delete" (rows owned by the parent go with it), "nullify",
	// "set", "hmac" (the column's own strategy), "hold" (rows kept under
	// a hold, and their parent with them), "db" (the database's own ON
	// DELETE SET NULL acts) or "keep" (a reference nothing says what to do
	// with: the parent is kept while it is referenced).
	how string
	// why explains a "hold" or "keep".
	why string
	// heldFrom and heldCut bound a hold by its period: only child rows
	// with heldFrom at or after heldCut still hold their parent.
	heldFrom string
	heldCut  connector.Instant
	value    string // for set
	sub      []child
}

// anonField is a field an anonymise rule rewrites.
type anonField struct {
	name   string
	how    policy.Method
	value  string
	intish bool // hmac into an integer column: a negative number
	width  int  // hmac into text: hex truncated to the column's width
}

// compile resolves rule i against the live schema of its system.
func (e *Engine) compile(ctx context.Context, i int, c *conn, now, cutoff time.Time, holds map[string][]string) (*job, error) {
	r := e.Policy.Retention.Rules[i]
	sys, t := e.Policy.LookupTable(policy.ParseTableRef(r.Table), nil)
	if t == nil {
		return nil, e.ruleErr(i, "table", "table %q is not declared in the policy", r.Table)
	}
	j := &job{e: e, index: i, rule: r, sys: sys, table: t, d: c.c.Dialect(), action: ActionDelete}
	switch r.Then {
	case "", ActionDelete:
	case ActionAnonymise, "anonymize":
		j.action = ActionAnonymise
	default:
		return nil, e.ruleErr(i, "then", "then must be delete or anonymise, not %q", r.Then)
	}
	j.live = c.schema.Table(t.Name)
	if j.live == nil {
		return nil, e.ruleErr(i, "table", "table %s does not exist in system %s", t.Name, sys.Name)
	}
	if j.live.Column(r.From) == nil {
		return nil, e.ruleErr(i, "from", "column %s.%s does not exist in the database", t.Name, r.From)
	}
	if err := policy.CheckCondition(r.Where); err != nil {
		return nil, e.ruleErr(i, "where", "the condition cannot be used: %v", err)
	}
	if clock := policy.ClockFunctions(r.Where); slices.Contains(clock, "'localtime'") || slices.Contains(clock, "'utc'") {
		return nil, e.ruleErr(i, "where", "the condition converts times with 'localtime' or 'utc', in the zone of the machine Vow runs on, not the database's or the application's; count the time with from and keep instead")
	} else if len(clock) > 0 {
		if err := c.clockAgrees(ctx); err != nil {
			return nil, e.ruleErr(i, "where", "the condition reads the clock (%s): %v", strings.Join(clock, ", "), err)
		}
	}
	j.pk = t.PrimaryKey
	if len(j.pk) == 0 {
		j.pk = j.live.PrimaryKey
	}
	if len(j.pk) == 0 {
		return nil, e.ruleErr(i, "table", "table %s has no primary key, which batched execution needs (declare primary_key or add one)", t.Name)
	}
	j.cutoff = r.Keep.Before(now)
	if !cutoff.IsZero() {
		j.cutoff = cutoff // a resumed run keeps the cutoff it started with
	}
	j.holdCutoff = j.cutoff
	// A held table's rows are kept until their hold ends, measured from
	// the hold's own column when it names one, else the rule's.
	holdCol := r.From
	if t.Erase != nil && t.Erase.Method == policy.Hold && !t.Erase.For.IsZero() {
		if t.Erase.From != "" && j.live.Column(t.Erase.From) != nil {
			holdCol = t.Erase.From
		}
		if hc := t.Erase.For.Before(now); hc.Before(j.cutoff) || holdCol != r.From {
			j.holdCutoff, j.holdReason = hc, t.Erase.Reason
			j.warnings = append(j.warnings, fmt.Sprintf("%s:%s is held for %s from %s (%s): rows are kept that long, whatever the rule's %s", sys.Name, t.Name, t.Erase.For.Human(), holdCol, t.Erase.Reason, r.Keep.Human()))
		}
	}
	if !indexed(j.live, r.From) {
		j.warnings = append(j.warnings, fmt.Sprintf("no index on %s.%s: every batch scans the table; add one (CREATE INDEX %s_%s ON %s (%s))", t.Name, r.From, strings.ReplaceAll(t.Name, ".", "_"), r.From, t.Name, r.From))
	}
	from := j.d.Ident(t.Name) + "." + j.d.Column(r.From)
	fromType := j.live.Column(r.From).Base()
	cutoffAt, err := c.instant(ctx, t.Name, r.From, fromType, j.cutoff)
	if err != nil {
		return nil, e.ruleErr(i, "from", "%v", err)
	}
	j.cutoffAt = cutoffAt
	j.expired = and(cond{sql: from + " < " + j.cutoffAt.Param, args: []any{j.cutoffAt.Arg}}, cond{sql: r.Where})
	excl := []cond{j.expired}
	if j.holdCutoff.Before(j.cutoff) || holdCol != r.From {
		hcol := j.d.Ident(t.Name) + "." + j.d.Column(holdCol)
		htype := j.live.Column(holdCol).Base()
		hc, err := c.instant(ctx, t.Name, holdCol, htype, j.holdCutoff)
		if err != nil {
			return nil, e.ruleErr(i, "table", "the table's hold period: %v", err)
		}
		excl = append(excl, cond{sql: hcol + " < " + hc.Param, args: []any{hc.Arg}})
	}
	if hc, ha := hold.Condition(e.Policy, j.d, sys.Name, t.Name, j.d.Ident(t.Name), holds, c.schema); hc != "" {
		j.holdCond = true
		// IS NOT TRUE: a row whose identity columns are NULL is not held.
		excl = append(excl, cond{sql: "(" + hc + ") IS NOT TRUE", args: ha})
	}
	switch j.action {
	case ActionDelete:
		children, err := e.children(ctx, sys, t, c, now, map[string]bool{t.Name: true}, &j.warnings)
		if err != nil {
			return nil, e.ruleErr(i, "table", "%v", err)
		}
		j.children = children
		if bc := e.blocked(sys, j.children, j.d, j.d.Ident(t.Name), holds, c.schema, 0); bc.sql != "" {
			excl = append(excl, cond{sql: "(" + bc.sql + ") IS NOT TRUE", args: bc.args})
		}
		for _, ch := range j.children {
			if ch.how == "hold" || ch.how == "keep" {
				j.warnings = append(j.warnings, fmt.Sprintf("rows referenced by %s:%s.%s are kept: %s", sys.Name, ch.table.Name, ch.column, ch.why))
				if j.holdReason == "" {
					j.holdReason = ch.why
				}
			}
		}
		j.owned = e.ownedParents(sys, t, c.schema)
		e.undeclaredFKs(sys, t, c.schema, &j.warnings)
	case ActionAnonymise:
		j.unheld = and(excl...)
		var notDone []cond
		for _, f := range t.Fields {
			if f.Erase == nil || f.Erase.Method == policy.Hold || f.Erase.Method == policy.Delete {
				continue
			}
			af := anonField{name: f.Name, how: f.Erase.Method, value: f.Erase.Value}
			col := j.d.Ident(t.Name) + "." + j.d.Column(f.Name)
			lc := j.live.Column(f.Name)
			if lc == nil {
				return nil, e.ruleErr(i, "table", "column %s.%s (erase: %s) does not exist in the database", t.Name, f.Name, f.Erase.Method)
			}
			switch af.how {
			case policy.Nullify:
				notDone = append(notDone, cond{sql: col + " IS NOT NULL"})
			case policy.Set:
				notDone = append(notDone, cond{sql: col + " IS NULL OR " + col + " <> ?", args: []any{af.value}})
			case policy.HMAC:
				if e.MAC == nil {
					return nil, e.ruleErr(i, "then", "field %s is erased with hmac, which needs Vow's keyring", f.Name)
				}
				af.intish = isInt(lc.Base())
				if af.intish {
					notDone = append(notDone, cond{sql: col + " >= 0"})
				} else {
					// Masked already (by a request or an earlier run) is
					// decided by the pseudonym's format, not its length.
					af.width = textWidth(lc.Base())
					notDone = append(notDone, cond{sql: col + " IS NOT NULL AND " + col + " NOT LIKE ?", args: []any{keyring.PseudonymPrefix + "%"}})
				}
			}
			j.fields = append(j.fields, af)
		}
		if len(j.fields) == 0 {
			return nil, e.ruleErr(i, "then", "anonymise needs fields of %s with erase: nullify, hmac or {set: …}", t.Name)
		}
		var ors []string
		var args []any
		for _, c := range notDone {
			ors = append(ors, "("+c.sql+")")
			args = append(args, c.args...)
		}
		excl = append(excl, cond{sql: strings.Join(ors, " OR "), args: args})
	}
	j.eligible = and(excl...)
	if j.action == ActionDelete {
		j.unheld = j.eligible
	}
	if err := j.resolveStampZone(ctx, c); err != nil {
		return nil, e.ruleErr(i, "table", "%v", err)
	}
	return j, nil
}

// resolveStampZone reads the system's zone when a table the job updates
// (the rule's, anonymised; a child whose reference is nullified, set or
// pseudonymised) has columns the server stamps on update: rows Vow
// changes get the application's time there, not UTC's. Where the zone is
// not known the rule fails before it changes anything.
func (j *job) resolveStampZone(ctx context.Context, c *conn) error {
	var tables []*connector.Table
	if j.action == ActionAnonymise {
		tables = append(tables, j.live)
	}
	var walk func([]child)
	walk = func(chs []child) {
		for _, ch := range chs {
			switch ch.how {
			case "nullify", "set", "hmac":
				tables = append(tables, ch.live)
			}
			walk(ch.sub)
		}
	}
	walk(j.children)
	for _, t := range tables {
		if cols := connector.Stamped(j.d.Kind(), t); len(cols) > 0 {
			zone, err := c.wallZone(ctx)
			if err != nil {
				return fmt.Errorf("%s.%s is a DATETIME the server sets ON UPDATE CURRENT_TIMESTAMP in the session's zone, and Vow's sessions are on UTC; to stamp the rows it changes with the application's time Vow needs the zone: %w", t.Name, cols[0].Name, err)
			}
			j.stampZone = zone
			return nil
		}
	}
	return nil
}

// children lists the same-system tables whose rows reference t's rows,
// and what deleting a row of t does to them, by the policy's ownership:
// rows it owns go with it (recursively); a mention gets its column's own
// strategy, or what the database's ON DELETE rule does — and when neither
// says (RESTRICT, or CASCADE that would delete someone else's rows), the
// parent is kept while it is referenced. Relations from other systems
// cannot be cascaded in one transaction: they are reported as warnings.
func (e *Engine) children(ctx context.Context, sys *policy.System, t *policy.Table, c *conn, now time.Time, path map[string]bool, warnings *[]string) ([]child, error) {
	schema := c.schema
	var out []child
	own := e.Policy.Ownership()
	for _, rel := range own.Into(sys.Name, t.Name) {
		if rel.Role == policy.RoleOwns {
			continue // t's rows are owned by the referencing rows, not the reverse
		}
		if rel.FromSystem != sys.Name {
			*warnings = append(*warnings, fmt.Sprintf("%s references these rows from another system: those rows are not removed with them", rel.From()))
			continue
		}
		if len(rel.FromColumns) != 1 {
			return nil, fmt.Errorf("%s references %s:%s over several columns; retention cannot yet cascade such a relation: purge %s with its own rule first, or declare the relation a mention with erase: nullify", rel.From(), sys.Name, t.Name, rel.FromTable)
		}
		ct := sys.Table(rel.FromTable)
		ch := child{table: ct, live: schema.Table(ct.Name), column: rel.FromColumns[0], parent: rel.ToColumns[0]}
		f := ct.Field(ch.column)
		strategy := ""
		if f != nil && f.Erase != nil {
			strategy = string(f.Erase.Method)
			ch.value = f.Erase.Value
			if f.Erase.Method == policy.Hold {
				ch.why = f.Erase.Reason
			}
		}
		switch {
		case strategy != "":
			ch.how = strategy
		case rel.Role == policy.RoleOwner && ct.Erase != nil && ct.Erase.Method == policy.Hold:
			ch.how, ch.why = "hold", ct.Erase.Reason
			if lc := ch.live.Column(ct.Erase.From); ct.Erase.From != "" && !ct.Erase.For.IsZero() && lc != nil {
				// Rows past their hold period no longer hold the parent.
				ch.heldFrom = ct.Erase.From
				held, err := c.instant(ctx, ct.Name, ct.Erase.From, lc.Base(), ct.Erase.For.Before(now))
				if err != nil {
					return nil, fmt.Errorf("%s's hold period: %w", ct.Name, err)
				}
				ch.heldCut = held
			}
		case rel.Role == policy.RoleOwner && own.Inferred[rel.Path] && isSetNull(onDelete(schema, ct.Name, ch.column, t.Name)):
			// Nothing in the policy says the rows go with their parent,
			// and the schema says they stay: the database nulls the
			// reference (a support ticket outlives its account).
			ch.how = "db"
		case rel.Role == policy.RoleOwner:
			ch.how = "delete"
		case rel.Role == "":
			ch.how, ch.why = "keep", "whose rows "+ct.Name+" holds is ambiguous (vow check)"
		default:
			switch {
			case isSetNull(onDelete(schema, ct.Name, ch.column, t.Name)):
				ch.how = "db"
			default:
				ch.how, ch.why = "keep", fmt.Sprintf("%s.%s names these rows' person in rows that are not theirs and has no erasure strategy (give it erase: nullify)", ct.Name, ch.column)
			}
		}
		// A held child whose hold runs from a date is deleted with its
		// parent once past its period: what it owns goes with it, and
		// what holds those rows keeps the parent too.
		if ch.how == "delete" || ch.how == "hold" && ch.heldFrom != "" {
			if path[ct.Name] {
				*warnings = append(*warnings, fmt.Sprintf("%s:%s references itself through %s: rows in the cycle are not cascaded", sys.Name, ct.Name, ch.column))
				continue
			}
			if ch.how == "delete" && !e.covered(sys.Name, ct.Name) {
				*warnings = append(*warnings, fmt.Sprintf("deleting these rows also deletes the rows of %s:%s that reference them (%s.%s); no rule of its own covers %s", sys.Name, ct.Name, ct.Name, ch.column, ct.Name))
			}
			path[ct.Name] = true
			sub, err := e.children(ctx, sys, ct, c, now, path, warnings)
			delete(path, ct.Name)
			if err != nil {
				return nil, err
			}
			ch.sub = sub
		}
		out = append(out, ch)
	}
	return out, nil
}

func isSetNull(rule string) bool {
	return rule == connector.ActionSetNull || rule == connector.ActionSetDefault
}

// onDelete returns the ON DELETE rule of the live foreign key from
// table.column to ref, or "" when the database has none.
func onDelete(schema *connector.Schema, table, column, ref string) string {
	lt := schema.Table(table)
	if lt == nil {
		return ""
	}
	for _, fk := range lt.ForeignKeys {
		if len(fk.Columns) == 1 && strings.EqualFold(fk.Columns[0], column) && strings.EqualFold(fk.RefTable, ref) {
			return fk.OnDelete
		}
	}
	return ""
}

// blocked returns a condition true of the parent rows (named ref) that
// must stay: a child row (at any depth of the rows deleted with them) is
// held — by a legal hold on its person, or by its table's hold while its
// period runs — or references them where nothing says what to do.
func (e *Engine) blocked(sys *policy.System, children []child, d connector.Dialect, ref string, holds map[string][]string, live *connector.Schema, depth int) cond {
	var ors []string
	var args []any
	for k, ch := range children {
		alias := "vow_c" + strconv.Itoa(depth) + "_" + strconv.Itoa(k)
		exists := "SELECT 1 FROM " + d.Ident(ch.table.Name) + " " + alias + " WHERE " + alias + "." + d.Column(ch.column) + " = " + ref + "." + d.Column(ch.parent)
		switch ch.how {
		case "keep":
			ors = append(ors, "EXISTS ("+exists+")")
		case "hold", "delete":
			if ch.how == "hold" && ch.heldFrom == "" {
				ors = append(ors, "EXISTS ("+exists+")") // held with no end
				continue
			}
			var inner []string
			var innerArgs []any
			if ch.how == "hold" {
				// Still in its period (no date: not past it).
				from := alias + "." + d.Column(ch.heldFrom)
				inner, innerArgs = append(inner, from+" >= "+ch.heldCut.Param+" OR "+from+" IS NULL"), append(innerArgs, ch.heldCut.Arg)
			}
			// Past its period, or deleted with the parent: a legal hold on
			// its person, or on the rows it owns, still keeps it.
			if hc, ha := hold.Condition(e.Policy, d, sys.Name, ch.table.Name, alias, holds, live); hc != "" {
				inner, innerArgs = append(inner, hc), append(innerArgs, ha...)
			}
			if sub := e.blocked(sys, ch.sub, d, alias, holds, live, depth+1); sub.sql != "" {
				inner, innerArgs = append(inner, sub.sql), append(innerArgs, sub.args...)
			}
			if len(inner) > 0 {
				ors = append(ors, "EXISTS ("+exists+" AND ("+strings.Join(inner, " OR ")+"))")
				args = append(args, innerArgs...)
			}
		}
	}
	return cond{sql: strings.Join(ors, " OR "), args: args}
}

// ownedParent is a row a purged row owns (relation: owns): a customer's
// address, deleted after the customer when no other row references it.
type ownedParent struct {
	table  string   // the owned table
	key    string   // its referenced column
	column string   // the purged table's column that references it
	refs   []string // "table.column" that reference the owned table, kept rows' guard
}

// ownedParents lists the rows t's rows own through owns relations.
func (e *Engine) ownedParents(sys *policy.System, t *policy.Table, schema *connector.Schema) []ownedParent {
	var out []ownedParent
	for _, rel := range e.Policy.Ownership().From(sys.Name, t.Name) {
		if rel.Role != policy.RoleOwns || rel.ToSystem != sys.Name || len(rel.FromColumns) != 1 {
			continue
		}
		op := ownedParent{table: rel.ToTable, key: rel.ToColumns[0], column: rel.FromColumns[0]}
		for _, lt := range schema.Tables {
			for _, fk := range lt.ForeignKeys {
				if len(fk.Columns) == 1 && strings.EqualFold(fk.RefTable, rel.ToTable) {
					op.refs = append(op.refs, lt.Name+"."+fk.Columns[0])
				}
			}
		}
		for _, r := range e.Policy.Relations() {
			if r.ToSystem == sys.Name && r.ToTable == rel.ToTable && len(r.FromColumns) == 1 && !slices.Contains(op.refs, r.FromTable+"."+r.FromColumns[0]) {
				op.refs = append(op.refs, r.FromTable+"."+r.FromColumns[0])
			}
		}
		out = append(out, op)
	}
	return out
}

// covered reports whether a rule of the policy names the table.
func (e *Engine) covered(system, table string) bool {
	for _, r := range e.Policy.Retention.Rules {
		if s, t := e.Policy.LookupTable(policy.ParseTableRef(r.Table), nil); t != nil && s.Name == system && t.Name == table {
			return true
		}
	}
	return false
}

// undeclaredFKs warns about foreign keys in the database into t that the
// policy does not declare: deleting a parent would fail on them.
func (e *Engine) undeclaredFKs(sys *policy.System, t *policy.Table, schema *connector.Schema, warnings *[]string) {
	for _, lt := range schema.Tables {
		for _, fk := range lt.ForeignKeys {
			if !strings.EqualFold(fk.RefTable, t.Name) || len(fk.Columns) != 1 {
				continue
			}
			declared := slices.ContainsFunc(e.Policy.Relations(), func(r policy.Relation) bool {
				return r.FromSystem == sys.Name && strings.EqualFold(r.FromTable, lt.Name) && strings.EqualFold(r.FromColumns[0], fk.Columns[0]) && r.ToTable == t.Name
			})
			if !declared {
				*warnings = append(*warnings, fmt.Sprintf("the database has a foreign key %s.%s → %s that the policy does not declare: deleting a referenced row will fail (declare references: %s.%s)", lt.Name, fk.Columns[0], t.Name, t.Name, fk.RefColumns[0]))
			}
		}
	}
}

// indexed reports whether some index (or the primary key) starts with col.
func indexed(t *connector.Table, col string) bool {
	if len(t.PrimaryKey) > 0 && strings.EqualFold(t.PrimaryKey[0], col) {
		return true
	}
	for _, ix := range t.Indexes {
		if len(ix.Columns) > 0 && strings.EqualFold(ix.Columns[0], col) {
			return true
		}
	}
	return false
}

func isInt(typ string) bool {
	typ = strings.ToLower(typ)
	return strings.Contains(typ, "int") || strings.Contains(typ, "serial")
}

// textWidth is the width of a text column ("varchar(20)" → 20), or 0 when
// it has none: a pseudonym is shortened to fit.
func textWidth(typ string) int {
	if i := strings.IndexByte(typ, '('); i >= 0 {
		if j := strings.IndexByte(typ[i:], ')'); j > 0 {
			if n, err := strconv.Atoi(typ[i+1 : i+j]); err == nil && n > 0 {
				return n
			}
		}
	}
	return 0
}
