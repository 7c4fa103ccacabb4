// Package drift compares the data map a policy declares with the structure
// of the live datastores: declared tables, columns, keys and relations that
// do not exist (errors: enforcement would fail), and tables and columns the
// database has but the policy does not mention (warnings: personal data the
// policy may not cover).
//
// Findings are policy diagnostics, positioned at the policy key they concern,
// so `vow check --live` reports them the same way as static problems.
package drift

import (
	"fmt"
	"slices"
	"strings"

	"github.com/vowprivacy/vow/classify"
	"github.com/vowprivacy/vow/connector"
	"github.com/vowprivacy/vow/policy"
)

// Compare checks one system of p against the schema read from its datastore.
func Compare(p *policy.Policy, sys *policy.System, live *connector.Schema) policy.Diagnostics {
	c := &comparer{p: p, sys: sys, live: live, base: "systems." + sys.Name}
	c.tables()
	c.undeclared()
	c.erasureChecks()
	return c.diags
}

type comparer struct {
	p     *policy.Policy
	sys   *policy.System
	live  *connector.Schema
	base  string
	diags policy.Diagnostics
}

func (c *comparer) add(sev policy.Severity, path, code, hint, format string, args ...any) {
	c.diags = append(c.diags, policy.Diagnostic{File: c.p.File, Pos: c.p.PosOf(path), Severity: sev, Code: code, Path: path, Message: fmt.Sprintf(format, args...), Hint: hint})
}

func (c *comparer) tables() {
	for _, t := range c.sys.Tables {
		path := c.base + ".tables." + t.Name
		lt := c.live.Table(t.Name)
		if lt == nil {
			c.add(policy.Error, path, "missing-table", "fix the name, or remove the table from the policy if it was dropped",
				"table %s:%s is declared but does not exist in the database", c.sys.Name, t.Name)
			continue
		}
		for _, f := range t.Fields {
			if lt.Column(f.Name) == nil {
				c.add(policy.Error, path+".fields."+f.Name, "missing-column", hint(lt),
					"column %s:%s.%s is declared but does not exist in the database", c.sys.Name, t.Name, f.Name)
			}
		}
		for i, k := range t.PrimaryKey {
			if lt.Column(k) == nil {
				c.add(policy.Error, fmt.Sprintf("%s.primary_key[%d]", path, i), "missing-column", hint(lt),
					"primary key column %s:%s.%s does not exist in the database", c.sys.Name, t.Name, k)
			}
		}
		switch {
		case len(t.PrimaryKey) > 0 && len(lt.PrimaryKey) > 0 && !equalFold(t.PrimaryKey, lt.PrimaryKey):
			c.add(policy.Error, path+".primary_key", "primary-key-mismatch", "declare the database's primary key, or omit primary_key to read it from the database",
				"table %s:%s declares primary key (%s) but the database has (%s)", c.sys.Name, t.Name, strings.Join(t.PrimaryKey, ", "), strings.Join(lt.PrimaryKey, ", "))
		case len(t.PrimaryKey) == 0 && len(lt.PrimaryKey) == 0 && !c.changes(t): // else no-key, an error
			c.add(policy.Warning, path, "no-primary-key", "add a primary key (or declare a unique column set as primary_key); batched retention and resumable erasure need one",
				"table %s:%s has no primary key", c.sys.Name, t.Name)
		}
		c.relations(t, lt, path)
	}
}

// relations checks that relation targets in this system exist, and reports
// foreign keys the database has but the policy does not declare: erasure
// follows declared relations only, so an undeclared one leaves rows behind.
func (c *comparer) relations(t *policy.Table, lt *connector.Table, path string) {
	for _, f := range t.Fields {
		if f.References == "" {
			continue
		}
		r, err := policy.ParseRef(f.References)
		if err != nil || (r.System != "" && r.System != c.sys.Name) {
			continue // other systems are checked against their own schema
		}
		target := c.live.Table(r.Table)
		if target == nil || target.Column(r.Column) == nil {
			c.add(policy.Error, path+".fields."+f.Name+".references", "broken-relation", "fix the reference to name an existing table and column",
				"relation %s:%s.%s → %s does not exist in the database", c.sys.Name, t.Name, f.Name, f.References)
		}
	}
	for _, fk := range lt.ForeignKeys {
		if len(fk.Columns) != 1 || c.sys.Table(fk.RefTable) == nil {
			continue
		}
		f := t.Field(fk.Columns[0])
		if f != nil && f.References != "" {
			continue
		}
		c.add(policy.Warning, path, "undeclared-relation", fmt.Sprintf("declare it: %s: {references: %s.%s}", fk.Columns[0], fk.RefTable, fk.RefColumns[0]),
			"the database links %s:%s.%s to %s.%s but the policy does not declare the relation; erasure would not follow it",
			c.sys.Name, t.Name, fk.Columns[0], fk.RefTable, fk.RefColumns[0])
	}
}

// undeclared reports tables and columns of the database that the policy
// does not mention, with a guessed category.
func (c *comparer) undeclared() {
	for i := range c.live.Tables {
		lt := &c.live.Tables[i]
		if slices.ContainsFunc(c.sys.Ignore, func(s string) bool { return strings.EqualFold(s, lt.Name) }) {
			continue
		}
		t := tableFold(c.sys, lt.Name)
		if t == nil {
			var personal []string
			for _, col := range lt.Columns {
				g := classify.Column(col.Name, col.Base(), classify.PersonTable(lt.Name))
				if strings.HasPrefix(g.Category, "user.") {
					personal = append(personal, col.Name+" ("+g.Category+")")
				}
			}
			msg := fmt.Sprintf("table %s:%s exists in the database but the policy does not declare it", c.sys.Name, lt.Name)
			if len(personal) > 0 {
				msg += "; it looks personal: " + strings.Join(personal, ", ")
			}
			c.add(policy.Warning, c.base+".tables", "undeclared-table", "declare it under tables:, or list it under ignore: if it holds no personal data", "%s", msg)
			continue
		}
		for _, col := range lt.Columns {
			if t.HasColumn(col.Name) || fieldFold(t, col.Name) {
				continue
			}
			g := classify.Column(col.Name, col.Base(), classify.PersonTable(lt.Name))
			c.add(policy.Warning, c.base+".tables."+t.Name, "undeclared-column", fmt.Sprintf("declare it: %s: %s", col.Name, g.Category),
				"column %s:%s.%s (%s) exists in the database but the policy does not declare it; it looks like %s", c.sys.Name, t.Name, col.Name, col.Type, g.Category)
		}
	}
}

func hint(lt *connector.Table) string {
	names := make([]string, len(lt.Columns))
	for i, col := range lt.Columns {
		names[i] = col.Name
	}
	return "the table has: " + strings.Join(names, ", ")
}

func tableFold(s *policy.System, name string) *policy.Table {
	return byName(s.Tables, name, func(t *policy.Table) string { return t.Name })
}

func fieldFold(t *policy.Table, name string) bool {
	return slices.ContainsFunc(t.Fields, func(f *policy.Field) bool { return strings.EqualFold(f.Name, name) })
}

func equalFold(a, b []string) bool {
	return slices.EqualFunc(a, b, strings.EqualFold)
}
