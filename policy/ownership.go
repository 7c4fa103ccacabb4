package policy

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Ownership answers "whose data is this row?" for the whole policy: every
// relation with its role, declared or inferred, the subject kind of every
// table, and the places where the policy does not say and Vow will not
// guess.
//
// The model:
//   - A row of a table of subject kind K whose identity column matches a
//     request for a K is the subject's own row (a root).
//   - A relation with role owner makes the referencing rows belong to
//     whoever owns the referenced row (a post belongs to its author, a
//     comment to the post's owner), at any depth.
//   - A relation with role owns makes the referenced row belong to whoever
//     owns the referencing row (a customer's own address).
//   - A relation with role mention only names a person in a row that is
//     someone else's (the staff member who served a rental). Erasure
//     applies the mentioning column's own strategy; an access package shows
//     that column, never the rest of the row.
//
// Undeclared roles are inferred: a relation of a table to itself is a
// mention, so is one between tables of different subject kinds; of the
// remaining relations of a table, a single one is its owner. Two or more
// are ambiguous until the policy says which owns the rows.
type Ownership struct {
	// Relations are the policy's relations; Role is set on each except
	// those left ambiguous.
	Relations []Relation
	// Problems are what the policy must say before Vow acts on the tables
	// concerned.
	Problems []OwnershipProblem
	// Inferred holds the paths of relations whose role was inferred.
	Inferred map[string]bool
	kinds    map[string]string
}

// OwnershipProblem is an ambiguity or contradiction in who owns rows.
type OwnershipProblem struct {
	Path    string // policy key path, for file:line
	Table   string // "system:table" concerned
	Message string
	Hint    string
}

// Ownership resolves the policy's relations into their roles.
//
// Kinds and roles depend on each other: a table without a declared
// subject takes the kind of the table that owns it, and a relation
// between tables of different kinds is a mention. The inference is run
// again with the kinds it found until they settle, so that a store owned
// by a staff member (and so of the staff's kind) does not own customers.
func (p *Policy) Ownership() *Ownership {
	declared := map[string]string{} // "system:table" -> subject as declared
	for _, s := range p.Systems {
		for _, t := range s.Tables {
			declared[s.Name+":"+t.Name] = t.Subject
		}
	}
	kinds := declared
	var o *Ownership
	for range 8 {
		o = p.infer(kinds)
		o.inheritKinds(p, declared)
		if maps.Equal(o.kinds, kinds) {
			break
		}
		kinds = o.kinds
	}
	o.identityProblems(p)
	return o
}

// infer gives every relation whose role the policy does not declare one,
// given the tables' subject kinds.
func (p *Policy) infer(kinds map[string]string) *Ownership {
	o := &Ownership{Relations: p.Relations(), Inferred: map[string]bool{}, kinds: map[string]string{}}
	byTable := map[string][]int{}
	for i, r := range o.Relations {
		byTable[r.FromSystem+":"+r.FromTable] = append(byTable[r.FromSystem+":"+r.FromTable], i)
	}
	for _, s := range p.Systems {
		for _, t := range s.Tables {
			id := s.Name + ":" + t.Name
			var candidates []int
			hasOwner := false
			for _, i := range byTable[id] {
				r := &o.Relations[i]
				to := kinds[r.ToSystem+":"+r.ToTable]
				switch {
				case r.Role == RoleOwner:
					hasOwner = true
				case r.Role != "":
				case r.FromSystem == r.ToSystem && r.FromTable == r.ToTable:
					r.Role, o.Inferred[r.Path] = RoleMention, true
				case kinds[id] != "" && to != "" && to != kinds[id]:
					r.Role, o.Inferred[r.Path] = RoleMention, true
				default:
					candidates = append(candidates, i)
				}
			}
			switch {
			case hasOwner || len(candidates) == 0:
				for _, i := range candidates {
					o.Relations[i].Role, o.Inferred[o.Relations[i].Path] = RoleMention, true
				}
			case len(candidates) == 1:
				r := &o.Relations[candidates[0]]
				r.Role, o.Inferred[r.Path] = RoleOwner, true
			default:
				var ways []string
				for _, i := range candidates {
					r := o.Relations[i]
					ways = append(ways, fmt.Sprintf("%s (→ %s.%s)", strings.Join(r.FromColumns, ", "), r.ToTable, strings.Join(r.ToColumns, ", ")))
				}
				o.Problems = append(o.Problems, OwnershipProblem{
					Path:  "systems." + s.Name + ".tables." + t.Name,
					Table: id,
					Message: fmt.Sprintf("whose rows %s holds is ambiguous: a row may belong to someone through %s; Vow will not guess whose data it is",
						id, strings.Join(ways, " or through ")),
					Hint: "write relation: owner on the reference whose row owns these rows (the others become mentions: erasure applies their own strategy), or relation: owner on each if every row belongs to all of them",
				})
			}
		}
	}
	return o
}

// inheritKinds gives a table without a declared subject the kind of the
// table that owns its rows.
func (o *Ownership) inheritKinds(p *Policy, declared map[string]string) {
	for id, k := range declared {
		o.kinds[id] = k
	}
	for changed := true; changed; {
		changed = false
		for _, r := range o.Relations {
			var child, parent string
			switch r.Role {
			case RoleOwner:
				child, parent = r.FromSystem+":"+r.FromTable, r.ToSystem+":"+r.ToTable
			case RoleOwns:
				child, parent = r.ToSystem+":"+r.ToTable, r.FromSystem+":"+r.FromTable
			default:
				continue
			}
			if o.kinds[child] == "" && o.kinds[parent] != "" {
				o.kinds[child], changed = o.kinds[parent], true
			}
		}
	}
}

// identityProblems reports identity columns that identify someone other
// than the rows' subject: an identity that is also a reference to a table
// of another subject kind (a rental's staff_id declared identity: user_id
// would make a request for staff member 7 a request for every customer
// they served).
func (o *Ownership) identityProblems(p *Policy) {
	for _, r := range o.Relations {
		if len(r.FromColumns) != 1 {
			continue
		}
		s := p.System(r.FromSystem)
		t := s.Table(r.FromTable)
		f := t.Field(r.FromColumns[0])
		if f == nil || f.Identity == "" {
			continue
		}
		from, to := o.Kind(r.FromSystem, r.FromTable), o.Kind(r.ToSystem, r.ToTable)
		if from != "" && to != "" && from != to {
			o.Problems = append(o.Problems, OwnershipProblem{
				Path:  r.Path + ".identity",
				Table: r.FromSystem + ":" + r.FromTable,
				Message: fmt.Sprintf("%s.%s is declared an identity of %s's subject (%s) but references %s, whose rows are of subject %s",
					r.FromTable, f.Name, r.FromTable, from, r.ToTable, to),
				Hint: "remove identity: it names another person; the reference makes it a mention",
			})
		}
	}
}

// Kind returns the subject kind of a table: declared, or inherited from
// the table that owns its rows; "" when neither.
func (o *Ownership) Kind(system, table string) string { return o.kinds[system+":"+table] }

// From returns the relations declared on a table (it references others).
func (o *Ownership) From(system, table string) []Relation {
	var out []Relation
	for _, r := range o.Relations {
		if r.FromSystem == system && r.FromTable == table {
			out = append(out, r)
		}
	}
	return out
}

// Into returns the relations that reference a table.
func (o *Ownership) Into(system, table string) []Relation {
	var out []Relation
	for _, r := range o.Relations {
		if r.ToSystem == system && r.ToTable == table {
			out = append(out, r)
		}
	}
	return out
}

// Problem returns the problem concerning a table, if any.
func (o *Ownership) Problem(system, table string) *OwnershipProblem {
	i := slices.IndexFunc(o.Problems, func(pr OwnershipProblem) bool { return pr.Table == system+":"+table })
	if i < 0 {
		return nil
	}
	return &o.Problems[i]
}
