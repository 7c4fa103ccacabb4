package policy

import (
	"fmt"
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

// Relation is a resolved edge between two tables: From.column references
// To.column.
type Relation struct {
	FromSystem, FromTable, FromColumn string
	ToSystem, ToTable, ToColumn       string
}

// Relations returns every resolvable relation the policy declares.
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
				out = append(out, Relation{s.Name, t.Name, f.Name, ts.Name, tt.Name, r.Column})
			}
		}
	}
	return out
}

func sysIf(cond bool, s *System) *System {
	if cond {
		return s
	}
	return nil
}
