package dsr

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/vowprivacy/vow/connector"
	"github.com/vowprivacy/vow/policy"
)

// Identities are what a request knows about its subject, by identity kind
// ("email", "user_id", …, the kinds a policy field may declare). The
// planner matches each against the fields that declare that kind.
type Identities map[string]string

// Plan is the traversal of a subject's data across systems: which tables
// hold it, how each is found, in which order they are read and erased, and
// what erasure does to each. Build it with [NewPlan]; it is a pure function
// of the policy and the identity kinds, so it can be shown before running.
type Plan struct {
	// Steps are in read order: every step comes after the steps it
	// depends on. Erasure runs them in reverse, children before parents.
	Steps []*Step
	// Services are the webhook systems asked to export or erase the
	// subject, after the databases.
	Services []*ServiceStep
	// Warnings are problems the plan can see before touching a database,
	// such as rows the erasure deletes while their children are kept.
	Warnings []string
	policy   *policy.Policy
}

// ServiceStep is a webhook system the request is sent to.
type ServiceStep struct {
	System string
	URL    string
	// Identities are the identity kinds of the request the service
	// accepts; only those are sent to it.
	Identities   []string
	Categories   []string
	Erase        bool
	AllowPrivate bool
}

// Step is one table of the traversal.
type Step struct {
	System string
	Table  string
	// Kind is the datastore kind of System, for its SQL dialect.
	Kind string
	// Matches are the ways a row of this table belongs to the subject; a
	// row matching any of them is the subject's.
	Matches []Match
	// Owned reports that the table's rows are the subject's own: they are
	// deleted by erasure, and the traversal continues to the tables that
	// reference them. Other tables are leaves: their rows are exported and
	// their declared fields masked, but they lead no further, because a
	// row that merely mentions the subject (a scan the subject triggered)
	// does not make the rows below it (the scan's findings) the subject's.
	Owned bool
	// Erase is what erasure does to the table.
	Erase TableErasure
	// PrimaryKey is the table's declared primary key, if any.
	PrimaryKey []string
	// Collect lists columns whose values a later step in another system
	// needs (cross-database relations); the executor gathers them.
	Collect []string
	// Detach lists columns of this same table that reference its rows
	// (users.invited_by) and that erasure sets to NULL in other people's
	// rows before deleting the subject's, as the policy's nullify says.
	Detach []Match
}

// ID names the step: "system:table".
func (s *Step) ID() string { return s.System + ":" + s.Table }

// Match is one way a row belongs to the subject: either an identity column
// equals an identity of the request, or a column references a column of a
// row found by an earlier step.
type Match struct {
	// Column of this table.
	Column string
	// Identity is the identity kind matched (for an identity match).
	Identity string
	// Parent is the ID of the earlier step (for a relation match), and
	// ParentColumn the column of the parent the Column references.
	Parent       string
	ParentColumn string
}

// CrossSystem reports whether a relation match points into another
// system, so its values must be carried over rather than joined.
func (m Match) CrossSystem(s *Step) bool {
	return m.Parent != "" && !strings.HasPrefix(m.Parent, s.System+":")
}

// TableErasure is what erasure does to one table.
type TableErasure struct {
	// Delete removes the subject's rows.
	Delete bool
	// Hold keeps the rows, for Reason, for the period For.
	Hold   bool
	Reason string
	For    string
	// Fields are the per-column strategies applied when rows are kept.
	Fields []FieldErasure
}

// FieldErasure is the strategy for one column.
type FieldErasure struct {
	Column string
	Method policy.Method
	Value  string // for set
	Reason string // for hold
	For    string // for hold
}

// Acts reports whether erasure changes anything in the table.
func (e TableErasure) Acts() bool {
	if e.Delete {
		return true
	}
	if e.Hold {
		return false
	}
	for _, f := range e.Fields {
		if f.Method != policy.Hold {
			return true
		}
	}
	return false
}

// NewPlan builds the plan for a subject known by the given identity kinds
// (the values are not needed to plan). It returns ErrNoMatch when no field
// of the policy declares any of the kinds.
func NewPlan(p *policy.Policy, kinds []string) (*Plan, error) {
	pl := &Plan{policy: p}
	byID := map[string]*Step{}
	add := func(sys *policy.System, t *policy.Table) *Step {
		id := sys.Name + ":" + t.Name
		if s := byID[id]; s != nil {
			return s
		}
		s := &Step{System: sys.Name, Table: t.Name, Kind: sys.Kind, PrimaryKey: t.PrimaryKey, Erase: tableErasure(t)}
		s.Owned = s.Erase.Delete
		byID[id] = s
		return s
	}
	var queue []*Step
	for _, sys := range p.Systems {
		for _, t := range sys.Tables {
			for _, f := range t.Fields {
				if f.Identity == "" || !slices.Contains(kinds, f.Identity) {
					continue
				}
				s := add(sys, t)
				s.Matches = append(s.Matches, Match{Column: f.Name, Identity: f.Identity})
				// A table found by identity is the subject's own entry
				// point: its rows lead on even when erasure masks them.
				if !slices.Contains(queue, s) {
					s.Owned = true
					queue = append(queue, s)
				}
			}
		}
	}
	for _, sys := range p.Systems {
		if sys.Kind != "webhook" || sys.Webhook == nil {
			continue
		}
		var accepted []string
		for _, k := range sys.Webhook.Identities {
			if slices.Contains(kinds, k) {
				accepted = append(accepted, k)
			}
		}
		if len(accepted) > 0 {
			pl.Services = append(pl.Services, &ServiceStep{System: sys.Name, URL: sys.Webhook.URL, Identities: accepted,
				Categories: sys.Webhook.Categories, Erase: sys.Webhook.Erase, AllowPrivate: sys.Webhook.AllowPrivate})
		}
	}
	if len(queue) == 0 && len(pl.Services) == 0 {
		return nil, fmt.Errorf("%w: no field of the policy declares identity %s (declared: %s)",
			ErrNoMatch, strings.Join(kinds, ", "), strings.Join(declaredIdentities(p), ", "))
	}
	rels := p.Relations()
	// Breadth-first from the identity tables along relations that point at
	// an owned table: the referencing rows hang off the subject's rows.
	for i := 0; i < len(queue); i++ {
		parent := queue[i]
		if !parent.Owned {
			continue
		}
		for _, r := range rels {
			if r.ToSystem != parent.System || r.ToTable != parent.Table {
				continue
			}
			if r.FromSystem == r.ToSystem && r.FromTable == r.ToTable {
				// A self-reference (invited_by) points at other people:
				// their rows are not the subject's, but must let go of the
				// subject's rows before those are deleted.
				if f := p.System(r.FromSystem).Table(r.FromTable).Field(r.FromColumn); f.Erase != nil && f.Erase.Method == policy.Nullify {
					m := Match{Column: r.FromColumn, Parent: parent.ID(), ParentColumn: r.ToColumn}
					if !slices.Contains(parent.Detach, m) {
						parent.Detach = append(parent.Detach, m)
					}
				}
				continue
			}
			sys := p.System(r.FromSystem)
			t := sys.Table(r.FromTable)
			child := add(sys, t)
			m := Match{Column: r.FromColumn, Parent: parent.ID(), ParentColumn: r.ToColumn}
			if !slices.Contains(child.Matches, m) {
				child.Matches = append(child.Matches, m)
			}
			if r.FromSystem != r.ToSystem && !slices.Contains(parent.Collect, r.ToColumn) {
				parent.Collect = append(parent.Collect, r.ToColumn)
			}
			if !slices.Contains(queue, child) {
				queue = append(queue, child)
			}
		}
	}
	pl.Steps = order(queue)
	pl.Warnings = warnings(pl, rels)
	return pl, nil
}

// order sorts steps so that each comes after the parents it matches on;
// ties keep discovery order. Cycles between owned tables (rare: two tables
// referencing each other) are broken by discovery order.
func order(steps []*Step) []*Step {
	pos := map[string]int{}
	for i, s := range steps {
		pos[s.ID()] = i
	}
	depth := map[string]int{}
	var visit func(s *Step, seen map[string]bool) int
	visit = func(s *Step, seen map[string]bool) int {
		if d, ok := depth[s.ID()]; ok {
			return d
		}
		seen[s.ID()] = true
		d := 0
		for _, m := range s.Matches {
			if m.Parent == "" || seen[m.Parent] {
				continue
			}
			if pd := visit(steps[pos[m.Parent]], seen) + 1; pd > d {
				d = pd
			}
		}
		delete(seen, s.ID())
		depth[s.ID()] = d
		return d
	}
	for _, s := range steps {
		visit(s, map[string]bool{})
	}
	out := slices.Clone(steps)
	sort.SliceStable(out, func(i, j int) bool { return depth[out[i].ID()] < depth[out[j].ID()] })
	return out
}

func tableErasure(t *policy.Table) TableErasure {
	var e TableErasure
	if t.Erase != nil {
		switch t.Erase.Method {
		case policy.Delete:
			e.Delete = true
		case policy.Hold:
			e.Hold, e.Reason, e.For = true, t.Erase.Reason, t.Erase.For.String()
		}
	}
	for _, f := range t.Fields {
		if f.Erase == nil {
			continue
		}
		fe := FieldErasure{Column: f.Name, Method: f.Erase.Method, Value: f.Erase.Value}
		if f.Erase.Method == policy.Hold {
			fe.Reason, fe.For = f.Erase.Reason, f.Erase.For.String()
		}
		e.Fields = append(e.Fields, fe)
	}
	return e
}

// warnings finds what would make an erasure fail or leave data behind.
func warnings(pl *Plan, rels []policy.Relation) []string {
	var out []string
	steps := map[string]*Step{}
	for _, s := range pl.Steps {
		steps[s.ID()] = s
	}
	for _, r := range rels {
		parent := steps[r.ToSystem+":"+r.ToTable]
		child := steps[r.FromSystem+":"+r.FromTable]
		if parent == nil || !parent.Erase.Delete || child == nil {
			continue
		}
		if parent == child {
			if !child.nulls(r.FromColumn) {
				out = append(out, fmt.Sprintf("%s: erasure deletes rows that other rows of the table reference through %s; "+
					"a foreign key there makes the erasure fail: give %s.%s erase: nullify", parent.ID(), r.FromColumn, child.Table, r.FromColumn))
			}
			continue
		}
		if child.Erase.Delete || child.nulls(r.FromColumn) {
			continue
		}
		why := "keeps its rows"
		if child.Erase.Hold {
			why = "is held (" + child.Erase.Reason + ")"
		}
		out = append(out, fmt.Sprintf("%s: erasure deletes rows that %s.%s references, but %s %s; "+
			"a foreign key there makes the erasure fail: give %s.%s erase: nullify, or the table erase: delete",
			parent.ID(), child.ID(), r.FromColumn, child.ID(), why, child.Table, r.FromColumn))
	}
	sort.Strings(out)
	return out
}

// nulls reports whether erasure sets column to NULL.
func (s *Step) nulls(column string) bool {
	for _, f := range s.Erase.Fields {
		if f.Column == column && f.Method == policy.Nullify {
			return true
		}
	}
	return false
}

func declaredIdentities(p *policy.Policy) []string {
	var out []string
	for _, sys := range p.Systems {
		for _, t := range sys.Tables {
			for _, f := range t.Fields {
				if f.Identity != "" && !slices.Contains(out, f.Identity) {
					out = append(out, f.Identity)
				}
			}
		}
		if sys.Webhook != nil {
			for _, k := range sys.Webhook.Identities {
				if !slices.Contains(out, k) {
					out = append(out, k)
				}
			}
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		return []string{"none"}
	}
	return out
}

// Step returns the step with the given ID, or nil.
func (pl *Plan) Step(id string) *Step {
	for _, s := range pl.Steps {
		if s.ID() == id {
			return s
		}
	}
	return nil
}

// Keys carries values found at run time into the SQL of later steps:
// the primary keys of identity tables, resolved once at the start of a
// request so that later runs still find rows whose identity columns the
// erasure has masked, and columns collected for cross-system relations.
type Keys struct {
	// Roots maps a step ID to the primary-key values of its rows found by
	// identity. A step with no entry is matched by identity directly.
	Roots map[string][]any `json:"roots,omitempty"`
	// Cross maps "stepID.column" to the values collected from that step.
	Cross map[string][]any `json:"cross,omitempty"`
	// inline holds parent values read just before a statement, in place of
	// a subquery; never stored.
	inline map[string][]any
}

// withInline returns a copy of k that uses vals for the parent columns
// they name ("stepID.column").
func (k *Keys) withInline(vals map[string][]any) *Keys {
	c := &Keys{}
	if k != nil {
		c.Roots, c.Cross = k.Roots, k.Cross
	}
	c.inline = vals
	return c
}

// Where returns the WHERE condition that selects the subject's rows of
// step s, and its arguments. Parents in the same system are joined as
// subqueries, so no key set is ever held in memory; parents in another
// system contribute the values collected from them in keys.
func (pl *Plan) Where(s *Step, ids Identities, keys *Keys) (string, []any) {
	return pl.WhereAfter(s, ids, keys, nil)
}

// WhereAfter is [Plan.Where] for a statement that already has parameters
// before its WHERE clause (UPDATE … SET col = $1): the condition's
// parameters are numbered after them and appended to args.
func (pl *Plan) WhereAfter(s *Step, ids Identities, keys *Keys, args []any) (string, []any) {
	args = slices.Clone(args)
	d := connector.DialectOf(s.Kind)
	cond := pl.where(d, s, ids, keys, &args, 0)
	return cond, args
}

func (pl *Plan) where(d connector.Dialect, s *Step, ids Identities, keys *Keys, args *[]any, depth int) string {
	if depth > len(pl.Steps) {
		return "1 = 0" // a cycle: cannot happen for an ordered plan
	}
	param := func(v any) string {
		*args = append(*args, v)
		return d.Param(len(*args))
	}
	in := func(col string, vals []any) string {
		if len(vals) == 0 {
			return "1 = 0"
		}
		ps := make([]string, len(vals))
		for i, v := range vals {
			ps[i] = param(v)
		}
		return d.Column(col) + " IN (" + strings.Join(ps, ", ") + ")"
	}
	var ors []string
	hasSub := false // an arm with a subquery, not a list of values
	useRoots := s.usesRoots(keys)
	if useRoots {
		roots, _ := keys.root(s.ID())
		ors = append(ors, in(s.PrimaryKey[0], roots))
	}
	for _, m := range s.Matches {
		switch {
		case m.Identity != "":
			if useRoots {
				continue // resolved to primary keys above
			}
			v, ok := ids[m.Identity]
			if !ok {
				continue
			}
			ors = append(ors, d.Column(m.Column)+" = "+param(v))
		case m.CrossSystem(s):
			ors = append(ors, in(m.Column, keys.cross(m.Parent, m.ParentColumn)))
		default:
			parent := pl.Step(m.Parent)
			if vals, ok := keys.materialized(m.Parent, m.ParentColumn); ok {
				ors = append(ors, in(m.Column, vals))
				continue
			}
			if roots, ok := keys.rootsFor(parent, m.ParentColumn); ok {
				// The parent's rows are exactly its resolved keys: no
				// subquery (MariaDB runs UPDATE/DELETE … IN (SELECT …) as a
				// scan of the whole table).
				ors = append(ors, in(m.Column, roots))
				continue
			}
			sub := "SELECT " + d.Column(m.ParentColumn) + " FROM " + d.Ident(parent.Table) + " WHERE " + pl.where(d, parent, ids, keys, args, depth+1)
			if d.Kind() == "postgres" {
				// PostgreSQL plans "col IN (SELECT …)" for the parent values
				// it estimates from statistics, and for a heavy subject it
				// may pick a hash join over the whole child table (the
				// attachments of 11,000 comments: 144 ms against 7 ms).
				// The subquery as an array is computed once (an InitPlan)
				// before the child is read, which then goes by its index —
				// and with several ways in, each arm is an index condition
				// of one BitmapOr, where "IN (SELECT …) OR …" scans the
				// whole table. A parent set of millions would make a large
				// array; a subject's rows are far fewer.
				ors = append(ors, d.Column(m.Column)+" = ANY(ARRAY("+sub+"))")
				continue
			}
			hasSub = true
			ors = append(ors, d.Column(m.Column)+" IN ("+sub+")")
		}
	}
	switch len(ors) {
	case 0:
		return "1 = 0"
	case 1:
		return ors[0]
	}
	if d.Kind() == "mysql" && hasSub && len(s.PrimaryKey) == 1 {
		// MariaDB scans the whole table for an OR with a subquery in it.
		// The union of the arms' keys, each arm read through its own index,
		// then picks the rows by primary key; the derived table (vow_arms)
		// also lets an UPDATE or DELETE name its own table in the condition.
		pk := d.Column(s.PrimaryKey[0])
		arms := make([]string, len(ors))
		for i, o := range ors {
			arms[i] = "SELECT " + pk + " FROM " + d.Ident(s.Table) + " WHERE " + o
		}
		return pk + " IN (SELECT " + pk + " FROM (" + strings.Join(arms, " UNION ") + ") vow_arms)"
	}
	return "(" + strings.Join(ors, " OR ") + ")"
}

// maxRootsInline caps the resolved keys written into a child's condition
// in place of a subquery on its parent.
const maxRootsInline = 1000

// usesRoots reports whether the step finds its rows by its resolved
// primary keys rather than by identity. Only a table whose erasure masks
// rows needs that — a resumed or verifying run must still find rows whose
// identity columns were changed; rows that are deleted go with their
// system's transaction, so matching them by identity stays exact, and an
// indexed identity lookup beats a long list of keys.
func (s *Step) usesRoots(keys *Keys) bool {
	_, ok := keys.root(s.ID())
	return ok && len(s.PrimaryKey) == 1 && !s.Erase.Delete
}

// onlyRoots reports whether the step's rows are exactly its resolved
// primary keys (it is found by identity alone) and col is that key.
func (s *Step) onlyRoots(col string) bool {
	if len(s.PrimaryKey) != 1 || s.PrimaryKey[0] != col {
		return false
	}
	for _, m := range s.Matches {
		if m.Identity == "" {
			return false
		}
	}
	return true
}

// rootsFor returns the parent's resolved keys when a child may match on
// them directly instead of a subquery: the parent is found by identity
// alone, col is its key, and the list is short enough to write out.
func (k *Keys) rootsFor(parent *Step, col string) ([]any, bool) {
	roots, ok := k.root(parent.ID())
	if !ok || !parent.onlyRoots(col) || len(roots) > maxRootsInline {
		return nil, false
	}
	return roots, true
}

// materialized returns values of a parent's column read in advance for
// this statement (see Keys.Materialize), if any.
func (k *Keys) materialized(id, col string) ([]any, bool) {
	if k == nil || k.inline == nil {
		return nil, false
	}
	v, ok := k.inline[id+"."+col]
	return v, ok
}

func (k *Keys) root(id string) ([]any, bool) {
	if k == nil || k.Roots == nil {
		return nil, false
	}
	v, ok := k.Roots[id]
	return v, ok
}

func (k *Keys) cross(id, col string) []any {
	if k == nil {
		return nil
	}
	return k.Cross[id+"."+col]
}

// WriteText prints the plan for a person: each step in order, how its rows
// are found, and what erasure does to them.
func (pl *Plan) WriteText(w io.Writer, ids Identities) error {
	var b strings.Builder
	for i, s := range pl.Steps {
		where, args := pl.Where(s, ids, nil)
		fmt.Fprintf(&b, "%2d. %s  (%s)\n", i+1, s.ID(), s.Kind)
		fmt.Fprintf(&b, "    read:  SELECT * FROM %s WHERE %s", connector.DialectOf(s.Kind).Ident(s.Table), where)
		if len(args) > 0 {
			fmt.Fprintf(&b, "  -- %s", formatArgs(args))
		}
		b.WriteString("\n")
		fmt.Fprintf(&b, "    erase: %s\n", s.Erase.Describe())
	}
	for i, sv := range pl.Services {
		fmt.Fprintf(&b, "%2d. %s  (webhook)\n", len(pl.Steps)+i+1, sv.System)
		fmt.Fprintf(&b, "    read:  POST %s  {\"type\": \"access\", identities: %s}\n", sv.URL, strings.Join(sv.Identities, ", "))
		if sv.Erase {
			fmt.Fprintf(&b, "    erase: POST %s  {\"type\": \"erasure\"}; the service erases and reports\n", sv.URL)
		} else {
			b.WriteString("    erase: nothing (the service is only asked for exports)\n")
		}
	}
	if len(pl.Warnings) > 0 {
		b.WriteString("\nWarnings:\n")
		for _, w := range pl.Warnings {
			fmt.Fprintf(&b, "  ! %s\n", w)
		}
	}
	b.WriteString("\nErasure runs the steps bottom-up (children before parents), one transaction per system.\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func formatArgs(args []any) string {
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = fmt.Sprintf("$%d = %q", i+1, fmt.Sprint(a))
	}
	return strings.Join(parts, ", ")
}

// Describe says in a few words what erasure does to the table.
func (e TableErasure) Describe() string {
	switch {
	case e.Delete:
		return "delete rows"
	case e.Hold:
		return fmt.Sprintf("keep rows for %s: %s", e.For, e.Reason)
	case len(e.Fields) == 0:
		return "nothing (no erasure strategy; nothing personal to erase)"
	}
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		switch f.Method {
		case policy.Set:
			parts[i] = fmt.Sprintf("%s set to %q", f.Column, f.Value)
		case policy.Hold:
			parts[i] = fmt.Sprintf("%s kept for %s (%s)", f.Column, f.For, f.Reason)
		default:
			parts[i] = f.Column + " " + string(f.Method)
		}
	}
	return strings.Join(parts, ", ")
}
