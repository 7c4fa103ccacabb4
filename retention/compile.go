package retention

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vowprivacy/vow/connector"
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
	// unheld is expired minus the rows a hold protects.
	unheld   cond
	children []child // same-system relations into this table
	fields   []anonField
	warnings []string
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
	// how: "delete" (cascade), "nullify", "set", "hmac" or "hold".
	how   string
	value string // for set
	sub   []child
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
func (e *Engine) compile(i int, c *conn, now, cutoff time.Time, holds map[string][]string) (*job, error) {
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
	if t.Erase != nil && t.Erase.Method == policy.Hold && !t.Erase.For.IsZero() {
		if hc := t.Erase.For.Before(now); hc.Before(j.cutoff) {
			j.holdCutoff, j.holdReason = hc, t.Erase.Reason
			j.warnings = append(j.warnings, fmt.Sprintf("%s:%s is held for %s (%s): rows are kept that long, longer than the rule's %s", sys.Name, t.Name, t.Erase.For.Human(), t.Erase.Reason, r.Keep.Human()))
		}
	}
	if !indexed(j.live, r.From) {
		j.warnings = append(j.warnings, fmt.Sprintf("no index on %s.%s: every batch scans the table; add one (CREATE INDEX %s_%s ON %s (%s))", t.Name, r.From, strings.ReplaceAll(t.Name, ".", "_"), r.From, t.Name, r.From))
	}
	from := j.d.Ident(t.Name) + "." + j.d.Column(r.From)
	j.expired = and(cond{sql: from + " < ?", args: []any{timeArg(j.d.Kind(), j.live.Column(r.From).Type, c.sample(t.Name, r.From), j.cutoff)}}, cond{sql: r.Where})
	excl := []cond{j.expired}
	if j.holdCutoff.Before(j.cutoff) {
		excl = append(excl, cond{sql: from + " < ?", args: []any{timeArg(j.d.Kind(), j.live.Column(r.From).Type, c.sample(t.Name, r.From), j.holdCutoff)}})
	}
	if hc := e.heldCond(sys, t, j.d, j.d.Ident(t.Name), holds); hc.sql != "" {
		excl = append(excl, cond{sql: "NOT (" + hc.sql + ")", args: hc.args})
	}
	switch j.action {
	case ActionDelete:
		j.children = e.children(sys, t, c.schema, map[string]bool{t.Name: true}, &j.warnings)
		for k, ch := range j.children {
			alias := "vow_c" + strconv.Itoa(k)
			ref := j.d.Ident(t.Name) + "." + j.d.Column(ch.parent)
			exists := "SELECT 1 FROM " + j.d.Ident(ch.table.Name) + " " + alias + " WHERE " + alias + "." + j.d.Column(ch.column) + " = " + ref
			if ch.how == "hold" {
				excl = append(excl, cond{sql: "NOT EXISTS (" + exists + ")"})
				reason := holdReasonOf(ch.table, ch.column)
				j.warnings = append(j.warnings, fmt.Sprintf("rows referenced by %s:%s are kept: %s", sys.Name, ch.table.Name, reason))
				if j.holdReason == "" {
					j.holdReason = reason
				}
				continue
			}
			if ch.how == "delete" {
				if hc := e.heldCond(sys, ch.table, j.d, alias, holds); hc.sql != "" {
					excl = append(excl, cond{sql: "NOT EXISTS (" + exists + " AND (" + hc.sql + "))", args: hc.args})
				}
			}
		}
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
				af.intish = isInt(lc.Type)
				if af.intish {
					notDone = append(notDone, cond{sql: col + " >= 0"})
				} else {
					af.width = textWidth(lc.Type)
					notDone = append(notDone, cond{sql: col + " IS NOT NULL AND " + lengthFn(j.d.Kind()) + "(" + col + ") <> " + strconv.Itoa(af.width)})
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
	return j, nil
}

// children lists the same-system tables whose declared relations point at
// t, recursively for rows that are deleted with their parent. Relations
// from other systems cannot be cascaded in one transaction: they are
// reported as warnings.
func (e *Engine) children(sys *policy.System, t *policy.Table, schema *connector.Schema, path map[string]bool, warnings *[]string) []child {
	var out []child
	for _, rel := range e.Policy.Relations() {
		if rel.ToSystem != sys.Name || rel.ToTable != t.Name {
			continue
		}
		if rel.FromSystem != sys.Name {
			*warnings = append(*warnings, fmt.Sprintf("%s:%s.%s references these rows from another system: those rows are not removed with them", rel.FromSystem, rel.FromTable, rel.FromColumns[0]))
			continue
		}
		ct := sys.Table(rel.FromTable)
		ch := child{table: ct, live: schema.Table(ct.Name), column: rel.FromColumns[0], parent: rel.ToColumns[0], how: "delete"}
		if f := ct.Field(rel.FromColumns[0]); f != nil && f.Erase != nil {
			switch f.Erase.Method {
			case policy.Nullify, policy.HMAC, policy.Hold:
				ch.how = string(f.Erase.Method)
			case policy.Set:
				ch.how, ch.value = "set", f.Erase.Value
			}
		}
		if ch.how == "delete" && ct.Erase != nil && ct.Erase.Method == policy.Hold {
			ch.how = "hold"
		}
		if ch.how == "delete" {
			if path[ct.Name] {
				*warnings = append(*warnings, fmt.Sprintf("%s:%s references itself through %s: rows in the cycle are not cascaded", sys.Name, ct.Name, rel.FromColumns[0]))
				continue
			}
			if !e.covered(sys.Name, ct.Name) {
				*warnings = append(*warnings, fmt.Sprintf("deleting these rows also deletes the rows of %s:%s that reference them (%s.%s); no rule of its own covers %s", sys.Name, ct.Name, ct.Name, rel.FromColumns[0], ct.Name))
			}
			path[ct.Name] = true
			ch.sub = e.children(sys, ct, schema, path, warnings)
			delete(path, ct.Name)
		}
		out = append(out, ch)
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

func holdReasonOf(t *policy.Table, column string) string {
	if f := t.Field(column); f != nil && f.Erase != nil && f.Erase.Method == policy.Hold {
		return f.Erase.Reason
	}
	if t.Erase != nil {
		return t.Erase.Reason
	}
	return "legal hold"
}

// heldCond returns a condition true of the rows of t (named ref in the
// statement) that belong to a subject under an open hold: t's own identity
// columns, or a column referencing a table that has identity columns (an
// audit log's actor_id → users.id, users.email).
func (e *Engine) heldCond(sys *policy.System, t *policy.Table, d connector.Dialect, ref string, holds map[string][]string) cond {
	if len(holds) == 0 {
		return cond{}
	}
	var ors []string
	var args []any
	in := func(col string, values []string) {
		ors = append(ors, col+" IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(values)), ", ")+")")
		for _, v := range values {
			args = append(args, v)
		}
	}
	for _, f := range t.Fields {
		if vs := holds[f.Identity]; f.Identity != "" && len(vs) > 0 {
			in(ref+"."+d.Column(f.Name), vs)
		}
	}
	for n, f := range t.Fields {
		if f.References == "" {
			continue
		}
		r, err := policy.ParseRef(f.References)
		if err != nil {
			continue
		}
		rs, rt := e.Policy.LookupTable(policy.TableRef{System: r.System, Table: r.Table}, sysOr(r.System, sys))
		if rt == nil || rs.Name != sys.Name {
			continue
		}
		alias := "vow_h" + strconv.Itoa(n)
		var sub []string
		var subArgs []any
		for _, rf := range rt.Fields {
			if vs := holds[rf.Identity]; rf.Identity != "" && len(vs) > 0 {
				sub = append(sub, alias+"."+d.Column(rf.Name)+" IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(vs)), ", ")+")")
				for _, v := range vs {
					subArgs = append(subArgs, v)
				}
			}
		}
		if len(sub) == 0 {
			continue
		}
		ors = append(ors, "EXISTS (SELECT 1 FROM "+d.Ident(rt.Name)+" "+alias+" WHERE "+alias+"."+d.Column(r.Column)+" = "+ref+"."+d.Column(f.Name)+" AND ("+strings.Join(sub, " OR ")+"))")
		args = append(args, subArgs...)
	}
	if len(ors) == 0 {
		return cond{}
	}
	return cond{sql: strings.Join(ors, " OR "), args: args}
}

func sysOr(name string, s *policy.System) *policy.System {
	if name == "" {
		return s
	}
	return nil
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

// textWidth is how many hex digits of an HMAC fit the column: 64, or less
// for a narrower varchar.
func textWidth(typ string) int {
	if i := strings.IndexByte(typ, '('); i >= 0 {
		if j := strings.IndexByte(typ[i:], ')'); j > 0 {
			if n, err := strconv.Atoi(typ[i+1 : i+j]); err == nil && n < 64 && n > 0 {
				return n
			}
		}
	}
	return 64
}

func lengthFn(kind string) string {
	if kind == "mysql" {
		return "CHAR_LENGTH"
	}
	return "length"
}
