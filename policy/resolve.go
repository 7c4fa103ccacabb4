package policy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/vowprivacy/vow/taxonomy"
)

// System returns the system with the given name, or nil.
func (p *Policy) System(name string) *System {
	for _, s := range p.Systems {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Table returns the table with the given name, or nil.
func (s *System) Table(name string) *Table {
	for _, t := range s.Tables {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// Field returns the field with the given name, or nil.
func (t *Table) Field(name string) *Field {
	for _, f := range t.Fields {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// Purpose returns the purpose with the given key, or nil.
func (p *Policy) Purpose(key string) *Purpose {
	for _, x := range p.Purposes {
		if x.Name == key {
			return x
		}
	}
	return nil
}

// Category returns a category by key, from the policy's own declarations
// first, then the built-in taxonomy.
func (p *Policy) Category(key string) (taxonomy.Category, bool) {
	for _, c := range p.Categories {
		if c.Name == key {
			personal := taxonomy.Within(key, "user")
			if c.Personal != nil {
				personal = *c.Personal
			}
			return taxonomy.Category{Key: key, Name: c.Title, Description: c.Description, Personal: personal, Sensitive: c.Sensitive}, true
		}
	}
	return taxonomy.Lookup(key)
}

// CategoryKeys returns every category key the policy may use.
func (p *Policy) CategoryKeys() []string {
	keys := taxonomy.Keys()
	for _, c := range p.Categories {
		keys = append(keys, c.Name)
	}
	return keys
}

// Personal reports whether the field holds personal data.
func (p *Policy) Personal(f *Field) bool {
	c, ok := p.Category(f.Category)
	return ok && c.Personal
}

// DeadlineDays is the number of days to answer a request.
func (p *Policy) DeadlineDays() int {
	if p.Rights.DeadlineDays > 0 {
		return p.Rights.DeadlineDays
	}
	return 30
}

// Offers reports whether the policy offers a right.
func (p *Policy) Offers(right string) bool {
	for _, r := range p.Rights.Offered {
		if r == right {
			return true
		}
	}
	return false
}

// Ref is a reference to a column: [system:]table.column. Table names may
// themselves contain a dot (schema.table): the column is after the last dot.
type Ref struct {
	System string
	Table  string
	Column string
}

func (r Ref) String() string {
	s := r.Table + "." + r.Column
	if r.System != "" {
		s = r.System + ":" + s
	}
	return s
}

// ParseRef parses "[system:]table.column".
func ParseRef(s string) (Ref, error) {
	var r Ref
	if i := strings.IndexByte(s, ':'); i >= 0 {
		r.System, s = s[:i], s[i+1:]
	}
	i := strings.LastIndexByte(s, '.')
	if i <= 0 || i == len(s)-1 {
		return Ref{}, fmt.Errorf("reference %q must be table.column or system:table.column", s)
	}
	r.Table, r.Column = s[:i], s[i+1:]
	return r, nil
}

// TableRef is a reference to a table: [system:]table.
type TableRef struct {
	System string
	Table  string
}

func (r TableRef) String() string {
	if r.System == "" {
		return r.Table
	}
	return r.System + ":" + r.Table
}

// ParseTableRef parses "[system:]table".
func ParseTableRef(s string) TableRef {
	if i := strings.IndexByte(s, ':'); i >= 0 {
		return TableRef{System: s[:i], Table: s[i+1:]}
	}
	return TableRef{Table: s}
}

// LookupTable resolves a table reference. With no system named, the table
// is looked up in within (if given), else in the only system that has it.
func (p *Policy) LookupTable(r TableRef, within *System) (*System, *Table) {
	if r.System != "" {
		s := p.System(r.System)
		if s == nil {
			return nil, nil
		}
		return s, s.Table(r.Table)
	}
	if within != nil {
		return within, within.Table(r.Table)
	}
	var fs *System
	var ft *Table
	for _, s := range p.Systems {
		if t := s.Table(r.Table); t != nil {
			if ft != nil {
				return nil, nil // ambiguous
			}
			fs, ft = s, t
		}
	}
	return fs, ft
}

// HasColumn reports whether a table declares a column, as a field or in its
// primary key.
func (t *Table) HasColumn(name string) bool {
	if t.Field(name) != nil {
		return true
	}
	for _, c := range t.PrimaryKey {
		if c == name {
			return true
		}
	}
	return false
}

// Relation roles: whose rows the referencing rows are. See
// [Field.Relation].
const (
	RoleOwner   = "owner"
	RoleMention = "mention"
	RoleOwns    = "owns"
)

// RelationRoles lists the values of relation:.
var RelationRoles = []string{RoleOwner, RoleMention, RoleOwns}

// Relation is a resolved edge between two tables: From's columns reference
// To's columns, one to one (several for a composite key).
type Relation struct {
	FromSystem, FromTable string
	FromColumns           []string
	ToSystem, ToTable     string
	ToColumns             []string
	// Role is the relation: written in the policy, or "" to be inferred
	// (package ownership decides).
	Role string
	// Path is the policy key path that declares the relation, for
	// diagnostics at file:line.
	Path string
}

// From names the referencing side, "system:table.column" (columns joined
// by "," for a composite key).
func (r Relation) From() string {
	return r.FromSystem + ":" + r.FromTable + "." + strings.Join(r.FromColumns, ",")
}

// To names the referenced side, like [Relation.From].
func (r Relation) To() string {
	return r.ToSystem + ":" + r.ToTable + "." + strings.Join(r.ToColumns, ",")
}

// Relations returns every resolvable relation the policy declares: one per
// field with references, and one per entry of a table's foreign_keys.
func (p *Policy) Relations() []Relation {
	var out []Relation
	for _, s := range p.Systems {
		for _, t := range s.Tables {
			for _, f := range t.Fields {
				if f.References == "" {
					continue
				}
				r, err := ParseRef(f.References)
				if err != nil {
					continue
				}
				ts, tt := p.LookupTable(TableRef{System: r.System, Table: r.Table}, sysIf(r.System == "", s))
				if tt == nil {
					continue
				}
				out = append(out, Relation{FromSystem: s.Name, FromTable: t.Name, FromColumns: []string{f.Name},
					ToSystem: ts.Name, ToTable: tt.Name, ToColumns: []string{r.Column}, Role: f.Relation,
					Path: "systems." + s.Name + ".tables." + t.Name + ".fields." + f.Name})
			}
			for i, fk := range t.ForeignKeys {
				ref, cols, err := ParseKeyRef(fk.References)
				if err != nil || len(cols) != len(fk.Columns) || len(cols) == 0 {
					continue
				}
				ts, tt := p.LookupTable(ref, sysIf(ref.System == "", s))
				if tt == nil {
					continue
				}
				out = append(out, Relation{FromSystem: s.Name, FromTable: t.Name, FromColumns: fk.Columns,
					ToSystem: ts.Name, ToTable: tt.Name, ToColumns: cols, Role: fk.Relation,
					Path: fmt.Sprintf("systems.%s.tables.%s.foreign_keys[%d]", s.Name, t.Name, i)})
			}
		}
	}
	return out
}

// ParseKeyRef parses the referenced key of a foreign_keys entry,
// "[system:]table (column, …)".
func ParseKeyRef(s string) (TableRef, []string, error) {
	open := strings.IndexByte(s, '(')
	if open < 0 || !strings.HasSuffix(strings.TrimSpace(s), ")") {
		return TableRef{}, nil, fmt.Errorf("key %q must be written table (column, …), e.g. team_members (team_id, member_no)", s)
	}
	ref := ParseTableRef(strings.TrimSpace(s[:open]))
	inner := strings.TrimSuffix(strings.TrimSpace(s[open+1:]), ")")
	var cols []string
	for _, c := range strings.Split(inner, ",") {
		c = strings.TrimSpace(c)
		if c == "" {
			return TableRef{}, nil, fmt.Errorf("key %q has an empty column name", s)
		}
		cols = append(cols, c)
	}
	if ref.Table == "" {
		return TableRef{}, nil, fmt.Errorf("key %q names no table", s)
	}
	return ref, cols, nil
}

func sysIf(cond bool, s *System) *System {
	if cond {
		return s
	}
	return nil
}

// IdentityKinds returns the subject kinds whose tables declare an identity
// column: the kinds a request can be for, in the file's order.
func (p *Policy) IdentityKinds() []string {
	var out []string
	for _, s := range p.Systems {
		for _, t := range s.Tables {
			if t.Subject == "" || slices.Contains(out, t.Subject) {
				continue
			}
			if slices.ContainsFunc(t.Fields, func(f *Field) bool { return f.Identity != "" }) {
				out = append(out, t.Subject)
			}
		}
	}
	return out
}

// IsForbidden reports whether category is one the policy promises never to
// hold: listed under forbidden:, or below one that is.
func (p *Policy) IsForbidden(category string) bool {
	for _, f := range p.Forbidden {
		if taxonomy.Within(category, f) {
			return true
		}
	}
	return false
}
