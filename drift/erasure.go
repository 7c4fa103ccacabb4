package drift

import (
	"fmt"
	"iter"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/vowprivacy/vow/connector"
	"github.com/vowprivacy/vow/identity"
	"github.com/vowprivacy/vow/keyring"
	"github.com/vowprivacy/vow/policy"
)

// The checks of this file read the policy's erasure and retention promises
// against the rules the database enforces itself (keys, NOT NULL, column
// types, CHECK constraints, ON DELETE rules, indexes), so that a promise
// the database would refuse, or keep in a way that harms someone else, is
// reported by `vow check --live` before any request or purge runs.

// erasureChecks runs the checks on one system.
func (c *comparer) erasureChecks() {
	e := &eraseChecker{comparer: c, own: c.p.Ownership(), dialect: connector.DialectOf(c.live.Kind), split: map[string]bool{}}
	e.compositeRelations() // before relationKeys: a split key is reported once, there
	e.relationKeys()
	e.keys()
	e.strategies()
	e.deleteRules()
	e.holdFrom()
	e.emailIndexes()
}

type eraseChecker struct {
	*comparer
	own     *policy.Ownership
	dialect connector.Dialect
	// split holds the paths of relations reported as one column of a
	// composite foreign key, and the live foreign keys concerned.
	split map[string]bool
}

// enforcesForeignKeys reports whether the database enforces foreign keys
// on Vow's own connections: all three do (the SQLite connector turns
// PRAGMA foreign_keys on), so the ON DELETE rules run on Vow's deletes and
// a masked value is checked against the referenced table everywhere.
func enforcesForeignKeys(kind string) bool { return true }

// tablePath is the policy path of a table of the system.
func (c *comparer) tablePath(t *policy.Table) string { return c.base + ".tables." + t.Name }

// ---------------------------------------------------------------------
// 1. Relations end at a unique key.

// relationKeys checks that every relation into this system ends at a
// unique key of the referenced table: a relation on a column that is
// unique only together with others matches the rows of everyone who
// shares its value, and erasure would follow it into their rows.
func (e *eraseChecker) relationKeys() {
	for _, r := range e.own.Relations {
		if r.ToSystem != e.sys.Name || e.split[r.Path] {
			continue
		}
		lt := e.live.Table(r.ToTable)
		if lt == nil {
			continue // missing-table
		}
		path := r.Path + ".references"
		missing := slices.DeleteFunc(slices.Clone(r.ToColumns), func(col string) bool { return lt.Column(col) != nil })
		if len(missing) > 0 {
			if strings.Contains(r.Path, ".foreign_keys[") { // a field's is reported by relations()
				e.add(policy.Error, path, "broken-relation", hint(lt),
					"relation %s → %s: column %s does not exist in %s:%s", r.From(), r.To(), strings.Join(missing, ", "), e.sys.Name, lt.Name)
			}
			continue
		}
		if ft := e.liveFrom(r); ft != nil {
			for i, col := range r.FromColumns {
				fc, tc := ft.Column(col), lt.Column(r.ToColumns[i])
				if fc != nil && tc != nil && !identity.Comparable(fc.Base(), tc.Base()) {
					e.add(policy.Error, path, "relation-type-mismatch", "reference a column of the same type, or remove the relation",
						"relation %s → %s compares %s (%s) with %s (%s): values of different types are converted before they are compared (MariaDB takes '1abc' for 1), so one person's reference could reach another's row",
						r.From(), r.To(), col, fc.Type, tc.Name, tc.Type)
				}
			}
		}
		if unique(lt, r.ToColumns) {
			continue
		}
		from := r.FromTable + "." + strings.Join(r.FromColumns, ", ")
		to := lt.Name + "." + strings.Join(r.ToColumns, ", ")
		if key := containingKey(lt, r.ToColumns); key != nil {
			extra := slices.DeleteFunc(slices.Clone(key), func(k string) bool { return containsFold(r.ToColumns, k) })
			e.add(policy.Error, path, "relation-not-unique", e.compositeHint(r, lt, key),
				"relation %s → %s: %s is unique only together with %s: matching on it alone reaches the rows of every %s that has the same %s",
				from, to, strings.Join(r.ToColumns, ", "), strings.Join(extra, ", "), strings.Join(extra, ", "), strings.Join(r.ToColumns, ", "))
			continue
		}
		why := ""
		if ix := partialUnique(lt, r.ToColumns); ix != "" {
			why = fmt.Sprintf(" (its unique index %s is partial: it covers only some rows)", ix)
		}
		fix := fmt.Sprintf("reference a unique key of %s", lt.Name)
		if len(lt.PrimaryKey) > 0 {
			fix += fmt.Sprintf(" (its primary key: %s.%s)", lt.Name, strings.Join(lt.PrimaryKey, ", "))
		}
		fix += fmt.Sprintf(", or make the column unique in the database: CREATE UNIQUE INDEX %s ON %s (%s)",
			indexName(lt.Name, r.ToColumns, "key"), e.sqlIdent(lt.Name), e.sqlColumns(r.ToColumns))
		e.add(policy.Error, path, "relation-not-unique", fix,
			"relation %s → %s: %s is not unique in the database%s: matching on it reaches every row of %s with the same value, and erasure would follow it into other people's rows",
			from, to, strings.Join(r.ToColumns, ", "), why, lt.Name)
	}
}

// compositeHint says how to declare the composite key key of lt that r
// should reference: the live foreign key that covers it, if there is one.
func (e *eraseChecker) compositeHint(r policy.Relation, lt *connector.Table, key []string) string {
	if r.FromSystem == e.sys.Name {
		if from := e.live.Table(r.FromTable); from != nil {
			for _, fk := range from.ForeignKeys {
				if strings.EqualFold(fk.RefTable, lt.Name) && sameSet(fk.RefColumns, key) && subsetFold(r.FromColumns, fk.Columns) {
					return "declare the composite key under foreign_keys of " + r.FromTable + ": " + fkEntry(fk) + " (and remove references: from its columns)"
				}
			}
		}
	}
	cols := make([]string, len(key))
	for i, k := range key {
		cols[i] = "<column holding " + k + ">"
		if j := slices.IndexFunc(r.ToColumns, func(c string) bool { return strings.EqualFold(c, k) }); j >= 0 {
			cols[i] = r.FromColumns[j]
		} else if from := e.live.Table(r.FromTable); r.FromSystem == e.sys.Name && from.Column(k) != nil {
			cols[i] = from.Column(k).Name // most likely: the same name
		}
	}
	return fmt.Sprintf("declare the composite key under foreign_keys of %s: {columns: [%s], references: \"%s (%s)\"} (and remove references: from its columns)",
		r.FromTable, strings.Join(cols, ", "), lt.Name, strings.Join(key, ", "))
}

// ---------------------------------------------------------------------
// 2. Composite foreign keys.

// compositeRelations compares the database's foreign keys of several
// columns with the policy: one declared column by column matches each
// column on its own, which reaches other rows; one not declared at all
// is a relation erasure does not follow.
func (e *eraseChecker) compositeRelations() {
	for i := range e.live.Tables {
		lt := &e.live.Tables[i]
		t := tableFold(e.sys, lt.Name)
		if t == nil {
			continue
		}
		for _, fk := range lt.ForeignKeys {
			target := tableFold(e.sys, fk.RefTable)
			if len(fk.Columns) < 2 || target == nil || e.declared(lt.Name, fk) != nil {
				continue
			}
			refLive := e.live.Table(fk.RefTable)
			var parts []string // fields that declare one column of the key
			notUnique := false
			for j, col := range fk.Columns {
				f := fieldByFold(t, col)
				if f == nil || f.References == "" {
					continue
				}
				r, err := policy.ParseRef(f.References)
				if err != nil || (r.System != "" && r.System != e.sys.Name) || !strings.EqualFold(r.Table, fk.RefTable) || !strings.EqualFold(r.Column, fk.RefColumns[j]) {
					continue
				}
				parts = append(parts, f.Name)
				if !unique(refLive, []string{fk.RefColumns[j]}) {
					notUnique = true
				}
			}
			switch {
			case len(parts) == 0:
				e.add(policy.Warning, e.tablePath(t), "undeclared-relation", "declare it under "+t.Name+": foreign_keys: ["+fkEntry(fk)+"]",
					"the database links %s:%s (%s) to %s (%s) but the policy does not declare the relation; erasure would not follow it",
					e.sys.Name, lt.Name, strings.Join(fk.Columns, ", "), fk.RefTable, strings.Join(fk.RefColumns, ", "))
			case notUnique:
				path := e.tablePath(t) + ".fields." + parts[0]
				for _, p := range parts {
					e.split[e.tablePath(t)+".fields."+p] = true
				}
				e.split[fkID(lt.Name, fk)] = true
				e.add(policy.Error, path+".references", "split-relation",
					"declare the key as one relation under "+t.Name+": foreign_keys: ["+fkEntry(fk)+"], and remove references: from "+strings.Join(parts, ", "),
					"the database's foreign key %s (%s) → %s (%s) is declared column by column (%s): matching each column on its own reaches the rows of %s that share one value but not the others, which belong to other people",
					lt.Name, strings.Join(fk.Columns, ", "), fk.RefTable, strings.Join(fk.RefColumns, ", "), strings.Join(parts, ", "), fk.RefTable)
			}
		}
	}
}

// declared returns the policy's relation that a live foreign key of table
// from is (same columns, same referenced table), or nil.
func (e *eraseChecker) declared(from string, fk connector.ForeignKey) *policy.Relation {
	for i, r := range e.own.Relations {
		if r.FromSystem == e.sys.Name && r.ToSystem == e.sys.Name && strings.EqualFold(r.FromTable, from) &&
			strings.EqualFold(r.ToTable, fk.RefTable) && sameSet(r.FromColumns, fk.Columns) {
			return &e.own.Relations[i]
		}
	}
	return nil
}

// fkEntry writes a live foreign key as a foreign_keys entry of vow.yaml.
func fkEntry(fk connector.ForeignKey) string {
	return fmt.Sprintf("{columns: [%s], references: \"%s (%s)\"}", strings.Join(fk.Columns, ", "), fk.RefTable, strings.Join(fk.RefColumns, ", "))
}

func fkID(table string, fk connector.ForeignKey) string {
	return strings.ToLower(table + "(" + strings.Join(fk.Columns, ",") + ")→" + fk.RefTable)
}

// ---------------------------------------------------------------------
// 3. Keys.

// keys checks that every table erasure or retention changes has a key
// Vow can name rows by (it batches, resumes and verifies by it), and that
// a declared primary_key is one in the database.
func (e *eraseChecker) keys() {
	for _, t := range e.sys.Tables {
		lt := e.live.Table(t.Name)
		if lt == nil || len(lt.PrimaryKey) > 0 {
			continue // a declared key that differs is primary-key-mismatch
		}
		path := e.tablePath(t)
		if len(t.PrimaryKey) == 0 {
			if e.changes(t) {
				e.add(policy.Error, path, "no-key", e.keyHint(lt),
					"table %s:%s has no primary key, and %s changes its rows: erasure and retention are refused on a table without a key (Vow names rows by it to change, verify and resume in batches)", e.sys.Name, t.Name, e.changer(t))
			}
			continue
		}
		if slices.ContainsFunc(t.PrimaryKey, func(k string) bool { return lt.Column(k) == nil }) {
			continue // missing-column
		}
		if !unique(lt, t.PrimaryKey) {
			fix := fmt.Sprintf("make it unique in the database: CREATE UNIQUE INDEX %s ON %s (%s), or declare a key the database has",
				indexName(lt.Name, t.PrimaryKey, "key"), e.sqlIdent(lt.Name), e.sqlColumns(t.PrimaryKey))
			if other := e.candidateKey(lt); other != "" {
				fix = "declare a key the database has: " + other
			}
			e.add(policy.Error, path+".primary_key", "primary-key-not-unique", fix,
				"table %s:%s declares primary_key (%s), but the database has no primary key or unique index over those columns: two rows may share a key, and Vow would change both",
				e.sys.Name, t.Name, strings.Join(t.PrimaryKey, ", "))
			continue
		}
		var nullable []string
		for _, k := range t.PrimaryKey {
			if lt.Column(k).Nullable {
				nullable = append(nullable, k)
			}
		}
		if len(nullable) > 0 {
			e.add(policy.Error, path+".primary_key", "primary-key-nullable",
				fmt.Sprintf("make them NOT NULL (%s), or declare another key", e.nullability(lt, lt.Column(nullable[0]), false)),
				"table %s:%s declares primary_key (%s), but %s may be NULL: a row with a NULL key cannot be named, and a unique index lets many of them in",
				e.sys.Name, t.Name, strings.Join(t.PrimaryKey, ", "), strings.Join(nullable, ", "))
		}
	}
}

// keyHint suggests a key for a table without a primary key: a unique,
// non-partial index over NOT NULL columns it has, else adding one.
func (e *eraseChecker) keyHint(lt *connector.Table) string {
	if k := e.candidateKey(lt); k != "" {
		return "declare " + k
	}
	cols := "<column, …>"
	if lt.Column("id") != nil {
		cols = "id"
	}
	if e.live.Kind == "sqlite" { // SQLite cannot add a primary key to a table
		return fmt.Sprintf("declare primary_key: [col] (a UNIQUE NOT NULL column) and give it a unique index: CREATE UNIQUE INDEX %s ON %s (%s)",
			indexName(lt.Name, []string{strings.Trim(cols, "<>, …")}, "key"), e.sqlIdent(lt.Name), cols)
	}
	return fmt.Sprintf("declare primary_key: [col] (a UNIQUE NOT NULL column) or add one: ALTER TABLE %s ADD PRIMARY KEY (%s)", e.sqlIdent(lt.Name), cols)
}

// candidateKey writes, as primary_key: of vow.yaml, a unique non-partial
// index of lt over NOT NULL columns, or returns "".
func (e *eraseChecker) candidateKey(lt *connector.Table) string {
	for _, ix := range lt.Indexes {
		if ix.Unique && !ix.Partial && !slices.ContainsFunc(ix.Columns, func(col string) bool {
			c := lt.Column(col)
			return c == nil || c.Nullable
		}) {
			return fmt.Sprintf("primary_key: [%s] (its unique index %s over NOT NULL columns)", strings.Join(ix.Columns, ", "), ix.Name)
		}
	}
	return ""
}

// changes reports whether erasure or retention changes rows of t:
// deletes them, masks a column, deletes held rows whose period is over,
// or a retention rule names it.
func (c *comparer) changes(t *policy.Table) bool { return c.changer(t) != "" }

// changer names what changes rows of t, or "".
func (c *comparer) changer(t *policy.Table) string {
	if t.Erase != nil && (t.Erase.Method == policy.Delete || t.Erase.Method == policy.Hold && t.Erase.From != "") {
		return "erasure"
	}
	if slices.ContainsFunc(t.Fields, masks) {
		return "erasure"
	}
	for _, r := range c.p.Retention.Rules {
		if s, rt := c.p.LookupTable(policy.ParseTableRef(r.Table), nil); rt == t && s == c.sys {
			return fmt.Sprintf("retention rule %q", r.Name)
		}
	}
	return ""
}

// masks reports whether erasure writes a column: nullify, set or hmac.
func masks(f *policy.Field) bool {
	return f.Erase != nil && (f.Erase.Method == policy.Nullify || f.Erase.Method == policy.Set || f.Erase.Method == policy.HMAC)
}

// ---------------------------------------------------------------------
// 4. Strategies against the columns.

// strategies checks each column's erasure strategy against what the
// database lets the column hold.
func (e *eraseChecker) strategies() {
	for c := range e.columns() {
		t, lt, f, col := c.t, c.lt, c.f, c.col
		if !masks(f) {
			continue
		}
		path := e.tablePath(t) + ".fields." + f.Name + ".erase"
		id := e.sys.Name + ":" + t.Name + "." + f.Name
		switch f.Erase.Method {
		case policy.Nullify:
			if !col.Nullable {
				e.add(policy.Error, path, "nullify-not-null",
					fmt.Sprintf("write erase: {set: …} with a value the column accepts, or let the column be NULL (%s)", e.nullability(lt, col, true)),
					"%s is NOT NULL in the database, so erase: nullify fails on every row it applies to", id)
			}
		case policy.Set:
			if why := valueFits(f.Erase.Value, col.Base(), e.live.Kind != "sqlite"); why != "" {
				sev := policy.Error
				if e.live.Kind == "sqlite" { // stored anyway: SQLite columns take any value
					sev, why = policy.Warning, why+"; SQLite stores it anyway, but the application then reads it from a "+col.Type+" column"
				}
				e.add(sev, path, "set-value-type", "write erase: {set: …} with a value of the column's type, or erase: nullify",
					"erase: {set: %q} on %s: %s", f.Erase.Value, id, why)
			}
		case policy.HMAC:
			e.hmacColumn(path, id, col)
		}
		e.maskedKey(lt, f, path, id)
		e.maskChecks(lt, f, path, id)
	}
}

// columns yields each declared field of the system whose table and
// column exist in the database, with both.
func (e *eraseChecker) columns() iter.Seq[liveField] {
	return func(yield func(liveField) bool) {
		for _, t := range e.sys.Tables {
			lt := e.live.Table(t.Name)
			if lt == nil {
				continue
			}
			for _, f := range t.Fields {
				if col := lt.Column(f.Name); col != nil && !yield(liveField{t, lt, f, col}) {
					return
				}
			}
		}
	}
}

// liveField is a declared field with its table, in the policy and in the
// database.
type liveField struct {
	t   *policy.Table
	lt  *connector.Table
	f   *policy.Field
	col *connector.Column
}

// hmacColumn checks that a column can hold a pseudonym: a text of
// keyring.PseudonymLen characters (shortened down to
// keyring.MinPseudonymLen), or an integer pseudonym (a negative 32-bit
// number, see keyring.PseudonymInt).
func (e *eraseChecker) hmacColumn(path, id string, col *connector.Column) {
	fam := family(col.Base())
	switch fam {
	case famText:
		w := textWidth(col.Base())
		switch {
		case w == 0 || e.live.Kind == "sqlite" || w >= keyring.PseudonymLen:
		case w < keyring.MinPseudonymLen:
			e.add(policy.Error, path, "hmac-column-type", fmt.Sprintf("widen the column to at least %d characters (%d for a full pseudonym), or write erase: nullify", keyring.MinPseudonymLen, keyring.PseudonymLen),
				"erase: hmac on %s: the column is %s, narrower than the shortest pseudonym (%d characters)", id, col.Type, keyring.MinPseudonymLen)
		default:
			e.add(policy.Warning, path, "hmac-column-width", fmt.Sprintf("widen the column to %d characters for a full pseudonym", keyring.PseudonymLen),
				"erase: hmac on %s: the column is %s, so the pseudonym is shortened to %d of its 32 hex digits (more values may share one)", id, col.Type, w-len(keyring.PseudonymPrefix))
		}
		return
	case famInteger:
		if !smallInt(col.Base()) {
			return
		}
	case famBinary:
		return
	}
	sev := policy.Error
	msg := fmt.Sprintf("erase: hmac on %s: the column is %s, which cannot hold a pseudonym (text of %d characters, or an integer)", id, col.Type, keyring.PseudonymLen)
	if e.live.Kind == "sqlite" {
		sev, msg = policy.Warning, msg+"; SQLite stores it anyway, but the application then reads text from a "+col.Type+" column"
	}
	e.add(sev, path, "hmac-column-type", "write erase: nullify, or {set: …} with a value of the column's type", "%s", msg)
}

// maskedKey reports a strategy that writes a new value into a column of
// a live foreign key: the value is no key of the referenced table, so
// the database refuses it (a pseudonym never is; a set value may be, if
// the application keeps a placeholder row).
func (e *eraseChecker) maskedKey(lt *connector.Table, f *policy.Field, path, id string) {
	if f.Erase.Method == policy.Nullify || !enforcesForeignKeys(e.live.Kind) {
		return
	}
	for _, fk := range lt.ForeignKeys {
		i := slices.IndexFunc(fk.Columns, func(c string) bool { return strings.EqualFold(c, f.Name) })
		if i < 0 {
			continue
		}
		ref := fk.RefTable + "." + fk.RefColumns[i]
		if f.Erase.Method == policy.HMAC {
			e.add(policy.Error, path, "masked-foreign-key", "write erase: nullify: the reference is removed, and the row stays",
				"erase: hmac on %s: the column is a foreign key to %s, and a pseudonym is no key of %s, so the database refuses it", id, ref, fk.RefTable)
		} else {
			e.add(policy.Warning, path, "masked-foreign-key", "write erase: nullify, unless the placeholder row exists in "+fk.RefTable,
				"erase: {set: %q} on %s: the column is a foreign key to %s, so the database refuses the value unless %s has a row with %s = %s",
				f.Erase.Value, id, ref, fk.RefTable, fk.RefColumns[i], f.Erase.Value)
		}
		return
	}
}

// maybeNull finds, in a CHECK expression, what can reject a NULL: a
// condition over a NULL column is unknown, which a CHECK lets pass, unless
// it tests for NULL itself or replaces it.
var maybeNull = regexp.MustCompile(`(?i)\bnull\b|coalesce|ifnull|\bnvl\b|nonnulls`)

// maskChecks reports CHECK constraints over a masked column: the masked
// value (NULL, the set value, a pseudonym) may break them.
func (e *eraseChecker) maskChecks(lt *connector.Table, f *policy.Field, path, id string) {
	for _, ck := range lt.Checks {
		if !containsFold(ck.Columns, f.Name) || (f.Erase.Method == policy.Nullify && !maybeNull.MatchString(ck.Expr)) {
			continue
		}
		name := ck.Name
		if name == "" {
			name = "(unnamed)"
		}
		e.add(policy.Warning, path, "check-refuses-mask", "make sure the masked value satisfies it, or choose a strategy that does ({set: …} with a value it allows, or nullify)",
			"%s is masked with %s, but CHECK constraint %s of %s requires %s: the database may refuse the masked value", id, describe(f.Erase), name, lt.Name, ck.Expr)
	}
}

func describe(er *policy.Erasure) string {
	if er.Method == policy.Set {
		return fmt.Sprintf("{set: %q}", er.Value)
	}
	return string(er.Method)
}

// ---------------------------------------------------------------------
// 5. ON DELETE rules against the ownership model.

// deleter is what deletes rows of a table: erasure (the table's erase:
// delete) or a retention rule.
type deleter struct {
	path    string // the policy key that deletes
	erasure bool
	rule    string
}

func (d deleter) String() string {
	if d.erasure {
		return "erasure"
	}
	return fmt.Sprintf("retention rule %q", d.rule)
}

// deleters lists what deletes rows of t, erasure first.
func (e *eraseChecker) deleters(t *policy.Table) []deleter {
	var out []deleter
	// Only a subject kind whose tables declare identities can be asked
	// for: an organization's rows no request erases.
	if t.Erase != nil && t.Erase.Method == policy.Delete && e.p.Offers("erasure") && slices.Contains(e.p.IdentityKinds(), e.own.Kind(e.sys.Name, t.Name)) {
		out = append(out, deleter{path: e.tablePath(t) + ".erase", erasure: true})
	}
	for i, r := range e.p.Retention.Rules {
		if r.Then != "" && r.Then != "delete" {
			continue
		}
		if s, rt := e.p.LookupTable(policy.ParseTableRef(r.Table), nil); rt == t && s == e.sys {
			out = append(out, deleter{path: fmt.Sprintf("retention.rules[%d]", i), rule: r.Name})
		}
	}
	return out
}

// deleteRules reads, for every table whose rows erasure or retention
// deletes, what the database does to the rows that reference them (its
// ON DELETE rules), against whose rows those are in the policy. Rows the
// database deletes in turn (ON DELETE CASCADE to the subject's own rows)
// are followed: what references them matters just the same.
func (e *eraseChecker) deleteRules() {
	if !enforcesForeignKeys(e.live.Kind) {
		return
	}
	reported := map[string]bool{} // code and path: a key reached twice is reported once
	for _, t := range e.sys.Tables {
		lt := e.live.Table(t.Name)
		dels := e.deleters(t)
		if lt == nil || len(dels) == 0 {
			continue
		}
		for _, d := range dels {
			e.walkDeletes(&deletion{d: d, root: t.Name}, lt, reported)
		}
	}
}

// walkDeletes judges the foreign keys into the rows dl deletes, root
// first, then the tables it reaches in turn.
func (e *eraseChecker) walkDeletes(dl *deletion, root *connector.Table, reported map[string]bool) {
	queue := []*connector.Table{root}
	reached := map[string][]string{strings.ToLower(root.Name): nil} // table -> the tables between root and it
	for len(queue) > 0 {
		into := queue[0]
		queue = queue[1:]
		dl.chain = reached[strings.ToLower(into.Name)]
		for i := range e.live.Tables {
			from := &e.live.Tables[i]
			for _, fk := range from.ForeignKeys {
				if !strings.EqualFold(fk.RefTable, into.Name) || e.split[fkID(from.Name, fk)] {
					continue
				}
				follow := e.deleteRule(dl, into, from, fk, reported)
				if _, seen := reached[strings.ToLower(from.Name)]; follow && !seen {
					reached[strings.ToLower(from.Name)] = append(slices.Clone(dl.chain), from.Name)
					queue = append(queue, from)
				}
			}
		}
	}
}

// deletion is what deletes the rows at hand: d deletes rows of root, and
// the database those of chain in turn (ON DELETE CASCADE).
type deletion struct {
	d     deleter
	root  string
	chain []string
}

// lead says what deletes rows of table, to start a message.
func (dl *deletion) lead(sys string) string {
	s := fmt.Sprintf("%s deletes rows of %s:%s", dl.d, sys, dl.root)
	switch {
	case len(dl.chain) > 0 && dl.d.erasure:
		s += fmt.Sprintf(", and the database with them (ON DELETE CASCADE) those of %s", strings.Join(dl.chain, " → "))
	case len(dl.chain) > 0:
		s += fmt.Sprintf(", and with them the rows they own in %s", strings.Join(dl.chain, " → "))
	}
	return s
}

// deleteRule judges one foreign key of table from into table into, whose
// rows dl deletes, and reports whether the database deletes the
// referencing rows in turn as the subject's own, so that what references
// them is to be judged too.
func (e *eraseChecker) deleteRule(dl *deletion, into, from *connector.Table, fk connector.ForeignKey, reported map[string]bool) (follow bool) {
	add := func(sev policy.Severity, path, code, hint, format string, args ...any) {
		if !reported[code+" "+path] {
			reported[code+" "+path] = true
			e.add(sev, path, code, hint, "%s; "+format, append([]any{dl.lead(e.sys.Name)}, args...)...)
		}
	}
	action := fk.OnDelete
	if action == "" {
		action = connector.ActionNoAction
	}
	restrict := action == connector.ActionRestrict || action == connector.ActionNoAction
	cascade := action == connector.ActionCascade
	d := dl.d
	rel := e.declared(from.Name, fk)
	ft := tableFold(e.sys, from.Name)
	cols := strings.Join(fk.Columns, ", ")
	where := fmt.Sprintf("%s:%s.%s", e.sys.Name, from.Name, cols)
	// nullable says whether erase: nullify can clear the reference.
	nullable := !slices.ContainsFunc(fk.Columns, func(c string) bool { col := from.Column(c); return col != nil && !col.Nullable })
	switch {
	case rel == nil:
		declare := fmt.Sprintf("declare %s under tables: with %s", from.Name, e.relationEntry(fk))
		if ft != nil {
			declare = fmt.Sprintf("declare the relation under %s: %s", ft.Name, e.relationEntry(fk))
		}
		switch {
		case cascade:
			add(policy.Error, d.path, "cascade-undeclared", declare+" (relation: owner if those rows are the subject's, else a mention with erase: nullify)",
				"the database then deletes the rows of %s that reference those of %s (ON DELETE CASCADE), a relation the policy does not declare: rows Vow does not know about would be deleted, whoever they belong to",
				where, into.Name)
		case restrict:
			add(policy.Error, d.path, "restrict-blocks-erasure", declare+", with erase: nullify on it or relation: owner (and the table erase: delete)",
				"the database refuses while rows of %s reference those of %s (ON DELETE %s), a relation the policy does not declare: %s fails for every row so referenced",
				where, into.Name, action, d)
		default:
			add(policy.Warning, d.path, "set-null-undeclared", declare,
				"the database then sets %s to NULL in the rows that reference those of %s (ON DELETE %s), a relation the policy does not declare",
				where, into.Name, action)
		}
	case rel.Role == policy.RoleMention:
		if ft == nil || e.masksAll(ft, fk.Columns) {
			return false
		}
		field := ft.Name + "." + cols
		fix := fmt.Sprintf("give %s erase: nullify (erasure clears the mention before deleting), or declare relation: owner on it if those rows are the subject's", field)
		if !nullable {
			fix = fmt.Sprintf("declare relation: owner on %s if those rows go with the %s rows (erase: nullify cannot clear it: the column is NOT NULL)", field, into.Name)
		}
		// A mention of rows that are themselves owned (an equipment's
		// ticket, whose team owns both) usually names rows of the same
		// owner: whose they are depends on the data, so it is a warning.
		// A mention of the owner's own table names someone else by design.
		if same := e.sameOwner(ft.Name, into.Name); same != "" {
			deleted := ft.Erase != nil && ft.Erase.Method == policy.Delete
			switch {
			case cascade:
				add(policy.Warning, rel.Path, "cascade-reaches-others", fix,
					"%s names those %s rows (a mention, with no erasure strategy), and the database deletes the rows of %s with them (ON DELETE CASCADE): they are the subject's own only where they belong to the same %s, and other people's rows would be deleted",
					where, into.Name, ft.Name, same)
			case restrict && deleted:
				add(policy.Warning, rel.Path, "restrict-blocks-erasure", fix,
					"%s names those %s rows (a mention, with no erasure strategy), and the database refuses while they are referenced (ON DELETE %s): erasure deletes the subject's own rows of %s first, so it fails only where rows of another %s name them",
					where, into.Name, action, ft.Name, same)
			case restrict:
				add(policy.Error, rel.Path, "restrict-blocks-erasure", fix,
					"%s names those %s rows (a mention, with no erasure strategy), and the database refuses while they are referenced (ON DELETE %s): %s",
					where, into.Name, action, fails(d, into.Name))
			}
			return false
		}
		switch {
		case cascade:
			harm := ""
			if d.erasure && len(dl.chain) == 0 {
				harm = ": Vow's brake stops each such erasure"
			}
			add(policy.Error, rel.Path, "cascade-reaches-others", fix,
				"%s names those %s rows (a mention, with no erasure strategy), and the database would delete other people's rows of %s with them (ON DELETE CASCADE)%s",
				where, into.Name, ft.Name, harm)
		case restrict:
			add(policy.Error, rel.Path, "restrict-blocks-erasure", fix,
				"%s names those %s rows (a mention, with no erasure strategy), and the database refuses while they are referenced (ON DELETE %s): %s",
				where, into.Name, action, fails(d, into.Name))
		}
	case rel.Role == policy.RoleOwner || rel.Role == policy.RoleOwns:
		// The referencing rows are the subject's own. Erasure deletes them
		// itself, first, when their table is deleted too; retention
		// cascades to them itself (holding back the parents of held rows),
		// so what references them is what matters.
		if ft == nil || e.masksAll(ft, fk.Columns) {
			return false
		}
		held := ft.Erase != nil && ft.Erase.Method == policy.Hold
		deleted := ft.Erase != nil && ft.Erase.Method == policy.Delete
		if !d.erasure {
			return !held
		}
		if deleted {
			return false // its own erasure judges what references it
		}
		field := ft.Name + "." + cols
		unlink := fmt.Sprintf("give %s erase: nullify (the held rows stay, without the link), or hold %s too: erase: {hold: …}", field, into.Name)
		if !nullable {
			unlink = fmt.Sprintf("hold %s too: erase: {hold: …}, or let %s be NULL and give it erase: nullify", into.Name, field)
		}
		switch {
		case restrict && held:
			add(policy.Error, rel.Path, "held-references-deleted", unlink,
				"the subject's rows of %s:%s, which are held (%s), reference them through %s (ON DELETE %s): a table under hold references rows erasure deletes: every erasure fails with a foreign-key error (%s)",
				e.sys.Name, from.Name, ft.Erase.Reason, cols, action, e.fkError())
		case restrict:
			add(policy.Error, rel.Path, "kept-references-deleted", fmt.Sprintf("give %s erase: delete, or %s erase: nullify", ft.Name, field),
				"the subject's rows of %s:%s, which erasure keeps, reference them through %s (ON DELETE %s): every erasure fails with a foreign-key error (%s)",
				e.sys.Name, from.Name, cols, action, e.fkError())
		case cascade && held:
			add(policy.Error, rel.Path, "cascade-deletes-held", fmt.Sprintf("make the foreign key ON DELETE SET NULL and give %s erase: nullify, or hold %s too: erase: {hold: …}", field, into.Name),
				"the database then deletes the subject's rows of %s:%s that reference them through %s (ON DELETE CASCADE), which the policy holds (%s): held rows would be deleted",
				e.sys.Name, from.Name, cols, ft.Erase.Reason)
		case cascade && e.roleDeclared(rel):
			// The policy says in so many words that these rows go with
			// their owner (relation: owner): the database's cascade does
			// what it says, and the certificate reports it.
			return true
		case cascade:
			keeps := "which erasure keeps"
			if slices.ContainsFunc(ft.Fields, masks) {
				keeps = "which erasure keeps and only masks"
			}
			add(policy.Warning, rel.Path, "cascade-deletes-kept", fmt.Sprintf("give %s erase: delete if that is meant, or make the foreign key ON DELETE SET NULL", ft.Name),
				"the database then deletes the subject's rows of %s:%s that reference them through %s (ON DELETE CASCADE), %s",
				e.sys.Name, from.Name, cols, keeps)
			return true
		}
	}
	return false
}

// sameOwner returns the table whose rows own both the rows of table and
// those of into, when into's rows are owned (through relations with role
// owner or owns, at any depth), or "".
func (e *eraseChecker) sameOwner(table, into string) string {
	up := e.roots(into)
	if len(up) == 1 && strings.EqualFold(up[0], into) {
		return "" // into owns itself: a mention of it names another owner
	}
	for _, r := range e.roots(table) {
		if containsFold(up, r) {
			return r
		}
	}
	return ""
}

// roots returns the tables at the top of the ownership of table's rows:
// those that own it, at any depth, and are owned by none; table itself if
// nothing owns it.
func (e *eraseChecker) roots(table string) []string {
	var out []string
	seen := map[string]bool{}
	var walk func(t string)
	walk = func(t string) {
		if seen[strings.ToLower(t)] {
			return
		}
		seen[strings.ToLower(t)] = true
		top := true
		for _, r := range e.own.Relations {
			if r.FromSystem != e.sys.Name || r.ToSystem != e.sys.Name || strings.EqualFold(r.FromTable, r.ToTable) {
				continue
			}
			switch {
			case r.Role == policy.RoleOwner && strings.EqualFold(r.FromTable, t):
				top = false
				walk(r.ToTable)
			case r.Role == policy.RoleOwns && strings.EqualFold(r.ToTable, t):
				top = false
				walk(r.FromTable)
			}
		}
		if top {
			out = append(out, t)
		}
	}
	walk(table)
	return out
}

// fails says what a refused delete means for d.
func fails(d deleter, table string) string {
	if d.erasure {
		return "every erasure of a subject whose " + table + " rows are referenced will fail"
	}
	return "the rule fails on every referenced row"
}

// fkError names the error the database gives a delete its foreign keys
// forbid.
func (e *eraseChecker) fkError() string {
	switch e.live.Kind {
	case "mysql":
		return "MySQL 1451"
	case "sqlite":
		return "SQLite: FOREIGN KEY constraint failed"
	}
	return "SQLSTATE 23503"
}

// masksAll reports whether t's erasure writes every one of cols (nullify,
// set or hmac): erasure clears the reference before the referenced rows go.
//
// For a key of several columns, nulling any one of them is enough: a
// foreign key with a NULL in it references nothing (MATCH SIMPLE).
func (e *eraseChecker) masksAll(t *policy.Table, cols []string) bool {
	if len(cols) > 1 {
		for _, c := range cols {
			if f := fieldByFold(t, c); f != nil && f.Erase != nil && f.Erase.Method == policy.Nullify {
				return true
			}
		}
	}
	for _, c := range cols {
		f := fieldByFold(t, c)
		if f == nil || !masks(f) {
			return false
		}
	}
	return true
}

// relationEntry writes a live foreign key as the policy declares it: a
// field's references: for one column, a foreign_keys entry for several.
func (e *eraseChecker) relationEntry(fk connector.ForeignKey) string {
	if len(fk.Columns) == 1 {
		return fmt.Sprintf("%s: {references: %s.%s}", fk.Columns[0], fk.RefTable, fk.RefColumns[0])
	}
	return "foreign_keys: [" + fkEntry(fk) + "]"
}

// holdFrom checks that a hold's from: column exists and holds instants.
func (e *eraseChecker) holdFrom() {
	for _, t := range e.sys.Tables {
		lt := e.live.Table(t.Name)
		if lt == nil {
			continue
		}
		check := func(path string, er *policy.Erasure) {
			if er == nil || er.Method != policy.Hold || er.From == "" {
				return
			}
			col := lt.Column(er.From)
			switch {
			case col == nil:
				e.add(policy.Error, path+".erase.from", "hold-from", hint(lt),
					"the hold on %s:%s runs from column %s, which does not exist in the database: the hold never ends", e.sys.Name, t.Name, er.From)
			case !e.timeType(col.Base()):
				e.add(policy.Error, path+".erase.from", "hold-from", "name a date or timestamp column (such as created_at)",
					"the hold on %s:%s runs from column %s, which is %s, not a date or time", e.sys.Name, t.Name, er.From, col.Type)
			}
		}
		check(e.tablePath(t), t.Erase)
		for _, f := range t.Fields {
			check(e.tablePath(t)+".fields."+f.Name, f.Erase)
		}
	}
}

// timeType reports whether a column type holds instants. SQLite keeps
// them as text, integers or reals; only a blob or boolean cannot be one.
func (e *eraseChecker) timeType(typ string) bool {
	fam := family(typ)
	if e.live.Kind == "sqlite" {
		return fam != famBinary && fam != famBool
	}
	return fam == famDate || fam == famTime
}

// ---------------------------------------------------------------------
// 6. Identity columns.

// emailIndexes checks that every email identity column can be found by
// an index: requests match emails case-insensitively, as lower(column)
// on PostgreSQL and SQLite, which an index on the bare column cannot
// serve; without one, every request reads the whole table.
func (e *eraseChecker) emailIndexes() {
	if e.live.Kind != "postgres" && e.live.Kind != "sqlite" {
		return // MySQL's collations compare case-insensitively: the column's index serves
	}
	for c := range e.columns() {
		t, lt, f, col := c.t, c.lt, c.f, c.col
		if f.Identity != identity.Email {
			continue
		}
		term := identity.IndexTerm(e.live.Kind, identity.Email, col.Name)
		// PostgreSQL writes lower() of a varchar column with a cast to
		// text, the type lower() takes.
		if lt.IndexStartsWith(term) || e.live.Kind == "postgres" && lt.IndexStartsWith("lower("+col.Name+"::text)") {
			continue
		}
		create := fmt.Sprintf("CREATE INDEX %s ON %s (lower(%s))", indexName(lt.Name, []string{col.Name}, "lower_idx"), e.sqlIdent(lt.Name), e.sqlColumn(col.Name))
		path := e.tablePath(t) + ".fields." + f.Name + ".identity"
		if lt.IndexStartsWith(col.Name) {
			e.add(policy.Warning, path, "email-index", "add an index on lower("+col.Name+"): "+create,
				"%s:%s.%s is an email identity: requests match it case-insensitively, as lower(%s), which its index on the plain column does not serve: every request reads the whole table",
				e.sys.Name, t.Name, f.Name, col.Name)
			continue
		}
		e.add(policy.Warning, path, "email-index", "add one: "+create,
			"%s:%s.%s is an email identity but has no index on lower(%s): every request reads the whole table",
			e.sys.Name, t.Name, f.Name, col.Name)
	}
}

// identityTypes compares, across all systems read, the types of the
// columns that declare one identity kind for one subject kind: a request
// carries one value per kind, and a value that is an integer in one table
// and a UUID or a text in another names different people, or no one.
func identityTypes(p *policy.Policy, results []SystemResult) policy.Diagnostics {
	own := p.Ownership()
	groups := map[string][]identityUse{} // subject kind + identity kind
	var order []string
	for _, res := range results {
		sys := p.System(res.System)
		if sys == nil || res.Schema == nil {
			continue
		}
		for _, t := range sys.Tables {
			lt := res.Schema.Table(t.Name)
			kind := own.Kind(sys.Name, t.Name)
			if lt == nil || kind == "" {
				continue
			}
			for _, f := range t.Fields {
				col := lt.Column(f.Name)
				if f.Identity == "" || col == nil {
					continue
				}
				key := kind + "\x00" + f.Identity
				if _, ok := groups[key]; !ok {
					order = append(order, key)
				}
				groups[key] = append(groups[key], identityUse{
					path:  "systems." + sys.Name + ".tables." + t.Name + ".fields." + f.Name + ".identity",
					where: sys.Name + ":" + t.Name + "." + f.Name, typ: col.Type, class: identityClass(col.Base())})
			}
		}
	}
	var out policy.Diagnostics
	for _, key := range order {
		uses := groups[key]
		if !slices.ContainsFunc(uses, func(u identityUse) bool { return u.class != uses[0].class }) {
			continue
		}
		subject, kind, _ := strings.Cut(key, "\x00")
		for _, u := range uses {
			var others []string
			for _, o := range uses {
				if o.class != u.class {
					others = append(others, fmt.Sprintf("%s (%s)", o.where, o.typ))
				}
			}
			out = append(out, policy.Diagnostic{File: p.File, Pos: p.PosOf(u.path), Severity: policy.Error, Code: "identity-type-mismatch", Path: u.path,
				Message: fmt.Sprintf("identity %s of subject %s is %s in %s but %s in %s: one request's value cannot name the same person in both",
					kind, subject, u.class, u.where, othersClass(uses, u.class), strings.Join(others, ", ")),
				Hint: "declare identity: " + kind + " only on columns that hold the same values; another system's id is external_id, or no identity (a reference to the table that holds it)"})
		}
	}
	return out
}

// identityClass groups column types by the values they hold: an integer
// and a number hold the same ids, a text may hold a UUID.
func identityClass(typ string) string {
	switch identity.ClassOf(typ) {
	case identity.Integer, identity.Number:
		return "a number"
	case identity.UUID:
		return "a uuid"
	case identity.Binary:
		return "binary"
	}
	return "text"
}

// identityUse is a column declaring an identity kind.
type identityUse struct {
	path, where, typ string
	class            string // of identityClass
}

// othersClass lists the classes of uses other than not.
func othersClass(uses []identityUse, not string) string {
	var cs []string
	for _, u := range uses {
		if u.class != not && !slices.Contains(cs, u.class) {
			cs = append(cs, u.class)
		}
	}
	return strings.Join(cs, " or ")
}

// ---------------------------------------------------------------------
// Keys and types of the live schema.

// unique reports whether cols are unique in lt: its primary key or a
// unique, non-partial index lies within them (a key over fewer of the
// columns makes them all the more unique).
func unique(lt *connector.Table, cols []string) bool { return lt.Unique(cols) }

// containingKey returns the smallest unique key of lt (its primary key or
// a unique, non-partial index) that contains all of cols, or nil.
func containingKey(lt *connector.Table, cols []string) []string {
	var best []string
	try := func(key []string) {
		if len(key) > 0 && subsetFold(cols, key) && (best == nil || len(key) < len(best)) {
			best = key
		}
	}
	try(lt.PrimaryKey)
	for _, ix := range lt.Indexes {
		if ix.Unique && !ix.Partial {
			try(ix.Columns)
		}
	}
	return best
}

// partialUnique names a partial unique index over exactly cols, or "".
func partialUnique(lt *connector.Table, cols []string) string {
	for _, ix := range lt.Indexes {
		if ix.Unique && ix.Partial && sameSet(ix.Columns, cols) {
			return ix.Name
		}
	}
	return ""
}

// Type families of column types, for the values erasure writes.
const (
	famText = iota
	famInteger
	famNumber
	famBool
	famDate
	famTime
	famUUID
	famNet
	famJSON
	famBinary
	famEnum
)

// family classifies a column type as the connectors report it.
func family(typ string) int {
	t := strings.ToLower(strings.TrimSpace(typ))
	switch {
	case t == "tinyint(1)" || t == "boolean" || t == "bool":
		return famBool
	case strings.HasPrefix(t, "enum("):
		return famEnum
	case t == "uuid":
		return famUUID
	case strings.Contains(t, "timestamp") || strings.Contains(t, "datetime"):
		return famTime
	case t == "date":
		return famDate
	case t == "inet" || t == "cidr" || strings.HasPrefix(t, "macaddr"):
		return famNet
	case strings.HasPrefix(t, "json"):
		return famJSON
	}
	switch identity.ClassOf(t) {
	case identity.Integer:
		return famInteger
	case identity.Number:
		return famNumber
	case identity.Binary:
		return famBinary
	}
	if strings.HasPrefix(t, "time") || strings.HasPrefix(t, "interval") || t == "year" {
		return famTime
	}
	return famText
}

// smallInt reports whether an integer type is narrower than 32 bits, too
// narrow for an integer pseudonym.
func smallInt(typ string) bool {
	t := strings.ToLower(typ)
	return strings.HasPrefix(t, "smallint") || strings.HasPrefix(t, "tinyint") || strings.HasPrefix(t, "mediumint") || t == "int2"
}

// textWidth returns the declared width of a character type
// ("varchar(32)" is 32), or 0 for none.
func textWidth(typ string) int {
	t := strings.ToLower(typ)
	if !strings.Contains(t, "char") {
		return 0
	}
	open, close := strings.IndexByte(t, '('), strings.IndexByte(t, ')')
	if open < 0 || close < open {
		return 0
	}
	n, err := strconv.Atoi(strings.TrimSpace(t[open+1 : close]))
	if err != nil {
		return 0
	}
	return n
}

var enumValue = regexp.MustCompile(`'((?:[^']|'')*)'`)

// valueFits returns why a set value cannot be stored in a column of type
// typ, or "" if it can. widths says whether the database enforces the
// width of character types (SQLite does not).
// decimalScale finds the scale of a numeric(p,s) or decimal(p,s) type.
var decimalScale = regexp.MustCompile(`^(?:numeric|decimal)\(\s*\d+\s*,\s*(\d+)\s*\)`)

func valueFits(v, typ string, widths bool) string {
	switch family(typ) {
	case famInteger:
		if _, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err != nil {
			return "the column is " + typ + ", and the value is not an integer"
		}
	case famNumber:
		if _, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err != nil {
			return "the column is " + typ + ", and the value is not a number"
		}
		// A value the column rounds is never stored as written: a rule
		// that anonymises would find the row not yet anonymised on every
		// run.
		if m := decimalScale.FindStringSubmatch(typ); widths && m != nil { // SQLite stores the value as written
			scale, _ := strconv.Atoi(m[1])
			if _, frac, ok := strings.Cut(strings.TrimSpace(v), "."); ok && len(strings.TrimRight(frac, "0")) > scale {
				return fmt.Sprintf("the column is %s, which keeps %d decimals: the value would be stored rounded", typ, scale)
			}
		}
	case famBool:
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true", "false", "t", "f", "yes", "no", "on", "off", "1", "0":
		default:
			return "the column is " + typ + ", and the value is not a boolean"
		}
	case famUUID:
		if identity.Fits(v, "uuid") != nil {
			return "the column is uuid, and the value is not a UUID"
		}
	case famDate, famTime:
		return "the column is " + typ + ": write a date or time it accepts, or erase: nullify"
	case famNet:
		return "the column is " + typ + ", and the value is not a network address"
	case famJSON:
		if !strings.HasPrefix(strings.TrimSpace(v), "{") && !strings.HasPrefix(strings.TrimSpace(v), "[") && !strings.HasPrefix(strings.TrimSpace(v), "\"") {
			return "the column is " + typ + ", and the value is not JSON"
		}
	case famEnum:
		for _, m := range enumValue.FindAllStringSubmatch(typ, -1) {
			if strings.EqualFold(strings.ReplaceAll(m[1], "''", "'"), v) {
				return ""
			}
		}
		return "the column is " + typ + ", and the value is not one of its values"
	case famText:
		if w := textWidth(typ); widths && w > 0 && len([]rune(v)) > w {
			return fmt.Sprintf("the column is %s, and the value is %d characters long", typ, len([]rune(v)))
		}
	}
	return ""
}

// ---------------------------------------------------------------------
// SQL in hints.

// plainName is an identifier no dialect needs quoted.
var plainName = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// reserved are words that cannot be an unquoted name in some dialect.
var reserved = map[string]bool{"user": true, "order": true, "group": true, "table": true, "select": true, "from": true, "where": true,
	"check": true, "default": true, "references": true, "primary": true, "key": true, "index": true, "column": true, "limit": true, "to": true}

// sqlColumn writes a column name for a statement in a hint, quoted only
// when it must be (mixed case, other characters, a reserved word).
func (e *eraseChecker) sqlColumn(name string) string {
	if plainName.MatchString(name) && !reserved[name] {
		return name
	}
	return e.dialect.Column(name)
}

// sqlIdent writes a table name ("schema.table" part by part) like
// sqlColumn.
func (e *eraseChecker) sqlIdent(name string) string {
	parts := strings.Split(name, ".")
	for i, p := range parts {
		parts[i] = e.sqlColumn(p)
	}
	return strings.Join(parts, ".")
}

func (e *eraseChecker) sqlColumns(cols []string) string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = e.sqlColumn(c)
	}
	return strings.Join(out, ", ")
}

// nullability writes the statement that lets col of lt be NULL (null)
// or not.
func (e *eraseChecker) nullability(lt *connector.Table, col *connector.Column, null bool) string {
	table, name := e.sqlIdent(lt.Name), e.sqlColumn(col.Name)
	switch e.live.Kind {
	case "mysql":
		if null {
			return fmt.Sprintf("ALTER TABLE %s MODIFY %s %s NULL", table, name, col.Type)
		}
		return fmt.Sprintf("ALTER TABLE %s MODIFY %s %s NOT NULL", table, name, col.Type)
	case "postgres":
		if null {
			return fmt.Sprintf("ALTER TABLE %s ALTER COLUMN %s DROP NOT NULL", table, name)
		}
		return fmt.Sprintf("ALTER TABLE %s ALTER COLUMN %s SET NOT NULL", table, name)
	}
	return "SQLite cannot alter a column: rebuild " + lt.Name + " with the new definition of " + col.Name
}

// indexName makes an index name from a table, its columns and a suffix:
// lower case, only letters, digits and underscores, at most 63
// characters (PostgreSQL's limit).
func indexName(table string, cols []string, suffix string) string {
	raw := strings.ToLower(strings.ReplaceAll(table, ".", "_") + "_" + strings.Join(cols, "_") + "_" + suffix)
	b := []byte(raw)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			b[i] = '_'
		}
	}
	if len(b) > 63 {
		b = b[:63]
	}
	return string(b)
}

// ---------------------------------------------------------------------
// Name sets.

func containsFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, s) })
}

// subsetFold reports whether every name of a is in b.
func subsetFold(a, b []string) bool {
	for _, x := range a {
		if !containsFold(b, x) {
			return false
		}
	}
	return true
}

// sameSet reports whether a and b name the same columns, in any order.
func sameSet(a, b []string) bool { return len(a) == len(b) && subsetFold(a, b) && subsetFold(b, a) }

// fieldByFold returns the field called name, like [byName].
func fieldByFold(t *policy.Table, name string) *policy.Field {
	return byName(t.Fields, name, func(f *policy.Field) string { return f.Name })
}

// byName returns the item called name: an exact match first, else the
// first whose name differs only in case (databases fold unquoted names,
// policies are written by hand); the zero value if there is none.
func byName[T any](items []T, name string, nameOf func(T) string) T {
	if i := slices.IndexFunc(items, func(x T) bool { return nameOf(x) == name }); i >= 0 {
		return items[i]
	}
	if i := slices.IndexFunc(items, func(x T) bool { return strings.EqualFold(nameOf(x), name) }); i >= 0 {
		return items[i]
	}
	var zero T
	return zero
}

// liveFrom returns the live referencing table of a relation in this
// system, or nil (another system's, or missing).
func (e *eraseChecker) liveFrom(r policy.Relation) *connector.Table {
	if r.FromSystem != e.sys.Name {
		return nil
	}
	return e.live.Table(r.FromTable)
}

// roleDeclared reports whether the policy states the relation's role
// itself, rather than leaving Vow to infer it.
func (e *eraseChecker) roleDeclared(rel *policy.Relation) bool { return !e.own.Inferred[rel.Path] }
