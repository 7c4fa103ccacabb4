package dsr

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vowprivacy/vow/connector"
	"github.com/vowprivacy/vow/identity"
	"github.com/vowprivacy/vow/policy"
)

// Identities are what a request knows about its subject, by identity kind
// ("email", "user_id", …, the kinds a policy field may declare). The
// planner matches each against the fields that declare that kind.
type Identities map[string]string

// Plan is the traversal of a subject's data across systems: which tables
// hold it, how each is found, in which order they are read and erased, and
// what erasure does to each. Build it with [NewPlan]; it is a pure function
// of the policy, the subject kind and the identity kinds, so it can be
// shown before running.
//
// Whose rows are whose follows the policy's ownership model (see
// [policy.Ownership]): the subject's own rows are found by identity in
// tables of the request's subject kind and through relations that own
// rows (at any depth, whatever erasure does to the parent); rows of other
// people that merely mention the subject are separate mention steps, whose
// erasure touches only the mentioning column and whose export shows only
// that column.
type Plan struct {
	// Subject is the subject kind the request is for.
	Subject string
	// Steps are in read order: every step comes after the steps it
	// matches on.
	Steps []*Step
	// EraseOrder is the order erasure visits the steps: every step before
	// the steps whose rows its rows reference (children before parents,
	// a customer before the address it owns), so that no foreign key
	// ever points at a deleted row.
	EraseOrder []*Step
	// Services are the webhook systems asked to export or erase the
	// subject, after the databases.
	Services []*ServiceStep
	// Warnings are problems the plan can see before touching a database,
	// such as rows the erasure deletes while their children are kept.
	Warnings []string
	policy   *policy.Policy
	// own is the policy's ownership, inferred once for the plan: the
	// inference walks every relation, and the request's steps ask it
	// again and again.
	own *policy.Ownership
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

// Step roles.
const (
	// RoleSubject: the rows are the subject's own.
	RoleSubject = "subject"
	// RoleMention: the rows are someone else's and name the subject in
	// the step's Mention columns.
	RoleMention = "mention"
)

// Step is one table of the traversal (or, for a mention, one way a table
// names the subject).
type Step struct {
	System string
	Table  string
	// Kind is the datastore kind of System, for its SQL dialect.
	Kind string
	// Role is RoleSubject or RoleMention.
	Role string
	// Mention lists the columns that name the subject, for a mention step.
	Mention []string
	// Matches are the ways a row of this step belongs to the subject (or,
	// for a mention, names them); a row matching any of them is one.
	Matches []Match
	// Erase is what erasure does to the step's rows: the table's
	// strategy for the subject's rows, the mentioning columns' own
	// strategies for a mention.
	Erase TableErasure
	// PrimaryKey is the table's declared primary key, if any.
	PrimaryKey []string
	// Collect lists column groups whose values a later step needs before
	// anything changes (a relation into another system, or an address
	// this table's rows own); they are read when the request starts.
	Collect [][]string
	// unshared, for rows owned through owns (an address), is the live
	// condition that no one else's row references them: shared rows stay.
	unshared string
	// fromType, fromSample and fromZone describe a held table's from
	// column, so that instants compare the way the column stores them
	// (SQLite keeps text, Unix seconds or Julian days; wall times are in
	// a zone).
	fromType   string
	fromSample [2]string
	fromZone   *time.Location
}

// ID names the step: "system:table" for the subject's rows,
// "system:table#column" for a mention.
func (s *Step) ID() string {
	if s.Role == RoleMention {
		return s.System + ":" + s.Table + "#" + strings.Join(s.Mention, ",")
	}
	return s.System + ":" + s.Table
}

// Match is one way a row belongs to (or names) the subject: either an
// identity column equals an identity of the request, or columns
// reference columns of a row found by an earlier step.
type Match struct {
	// Columns of this table: one for an identity, the key's columns for
	// a relation.
	Columns []string
	// Identity is the identity kind matched (for an identity match).
	Identity string
	// Parent is the ID of the step the columns match, and ParentColumns
	// the columns of the parent's rows they equal.
	Parent        string
	ParentColumns []string
	// Owned marks the inverse of a relation: the parent's rows reference
	// this table's rows and own them (a customer's address); the values
	// are read before anything is erased, and a row is erased only when
	// no one else references it.
	Owned bool
}

// Column is the single column of an identity or single-column match.
func (m Match) Column() string { return m.Columns[0] }

// Carried reports whether the match compares with values read before
// the request ran (a parent in another system, or an owned row), rather
// than with a subquery on the parent.
func (m Match) Carried(s *Step) bool {
	return m.Parent != "" && (m.Owned || !strings.HasPrefix(m.Parent, s.System+":"))
}

// carriedKey names the values of a carried match in [Keys].Cross.
func (m Match) carriedKey() string { return m.Parent + "." + strings.Join(m.ParentColumns, ",") }

// TableErasure is what erasure does to one table.
type TableErasure struct {
	// Delete removes the subject's rows.
	Delete bool
	// Hold keeps the rows, for Reason, for the period For, measured from
	// the column From when the policy names one.
	Hold   bool
	Reason string
	For    string
	From   string
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

// Acts reports whether erasure changes anything in the table: deletes
// rows, or changes a column (also in rows kept under a hold: a reference
// the policy says to detach).
func (e TableErasure) Acts() bool {
	if e.Delete {
		return true
	}
	for _, f := range e.Fields {
		if f.Method != policy.Hold {
			return true
		}
	}
	return false
}

// Errors of [NewPlan] callers branch on.
var (
	// ErrSubjectKind: the request names no subject kind and the policy
	// has several, or names one no table declares.
	ErrSubjectKind = errors.New("subject kind")
	// ErrAmbiguous: the request reaches a table whose ownership the
	// policy leaves open; Vow does not guess with someone's data.
	ErrAmbiguous = errors.New("ownership is ambiguous")
)

// SubjectKind resolves the subject kind of a request: the one given,
// which must be a kind whose tables declare identities, or the policy's
// only such kind.
func SubjectKind(p *policy.Policy, kind string) (string, error) {
	kinds := p.IdentityKinds()
	switch {
	case kind != "" && slices.Contains(kinds, kind):
		return kind, nil
	case kind != "":
		return "", fmt.Errorf("%w: no table of subject %q declares an identity (subjects with identities: %s)", ErrSubjectKind, kind, orNone(kinds))
	case len(kinds) == 1:
		return kinds[0], nil
	case len(kinds) == 0:
		return "", nil // only webhook systems, or nothing to find
	}
	return "", fmt.Errorf("%w: the policy has several subjects with identities (%s); say which the request is for", ErrSubjectKind, strings.Join(kinds, ", "))
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// NewPlan builds the plan for a subject of the given kind ("" for the
// policy's only one), known by the given identity kinds (the values are
// not needed to plan). It returns ErrNoMatch when no table of that kind
// declares any of the identity kinds and no service accepts them,
// ErrSubjectKind when the kind is missing or unknown, and ErrAmbiguous
// when the traversal reaches a table whose owner the policy leaves open.
func NewPlan(p *policy.Policy, kind string, kinds []string) (*Plan, error) {
	kind, err := SubjectKind(p, kind)
	if err != nil {
		return nil, err
	}
	own := p.Ownership()
	pl := &Plan{Subject: kind, policy: p, own: own}
	byID := map[string]*Step{}
	step := func(sys *policy.System, t *policy.Table, role string, mention []string) *Step {
		s := &Step{System: sys.Name, Table: t.Name, Kind: sys.Kind, Role: role, Mention: mention, PrimaryKey: t.PrimaryKey}
		if have := byID[s.ID()]; have != nil {
			return have
		}
		if role == RoleSubject {
			s.Erase = tableErasure(t)
		} else {
			s.Erase = mentionErasure(t, mention)
		}
		byID[s.ID()] = s
		return s
	}
	var subjects, mentions []*Step
	for _, sys := range p.Systems {
		for _, t := range sys.Tables {
			for _, f := range t.Fields {
				if f.Identity == "" || !slices.Contains(kinds, f.Identity) {
					continue
				}
				m := Match{Columns: []string{f.Name}, Identity: f.Identity}
				if kind != "" && own.Kind(sys.Name, t.Name) == kind {
					s := step(sys, t, RoleSubject, nil)
					s.Matches = append(s.Matches, m)
					if !slices.Contains(subjects, s) {
						subjects = append(subjects, s)
					}
					continue
				}
				// An identity in a table of another subject names the
				// person in someone else's row (a commit's author email in
				// a customer's pipeline run) — when its value names one
				// person everywhere: user_id 7 of the customers is not
				// employee 7.
				if !identity.Global(f.Identity) {
					continue
				}
				s := step(sys, t, RoleMention, []string{f.Name})
				s.Matches = append(s.Matches, m)
				mentions = append(mentions, s)
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
	if len(subjects) == 0 && len(pl.Services) == 0 {
		why := fmt.Sprintf("no table of subject %s declares identity %s", orNone([]string{kind}), strings.Join(kinds, ", "))
		return nil, fmt.Errorf("%w: %s (declared: %s)", ErrNoMatch, why, strings.Join(declaredIdentities(p, kind), ", "))
	}
	// Breadth-first from the identity tables: rows owned through a
	// relation are the subject's too, whatever erasure does to the rows
	// that own them; mentions are recorded and lead no further.
	for i := 0; i < len(subjects); i++ {
		parent := subjects[i]
		for _, r := range own.Into(parent.System, parent.Table) {
			sys := p.System(r.FromSystem)
			t := sys.Table(r.FromTable)
			m := Match{Columns: r.FromColumns, Parent: parent.ID(), ParentColumns: r.ToColumns}
			var s *Step
			switch r.Role {
			case policy.RoleOwner:
				if r.FromSystem == r.ToSystem && r.FromTable == r.ToTable {
					return nil, fmt.Errorf("%w: %s owns its own rows through %s, which would reach any depth; declare relation: mention",
						ErrAmbiguous, parent.ID(), strings.Join(r.FromColumns, ", "))
				}
				s = step(sys, t, RoleSubject, nil)
				if !slices.Contains(subjects, s) {
					subjects = append(subjects, s)
				}
			case policy.RoleMention:
				s = step(sys, t, RoleMention, r.FromColumns)
				if !slices.Contains(mentions, s) {
					mentions = append(mentions, s)
				}
			case policy.RoleOwns:
				continue // the referencing table owns this one, not the reverse
			default:
				why := "the policy does not say whose they are"
				if pr := own.Problem(r.FromSystem, r.FromTable); pr != nil {
					why = pr.Message
				}
				return nil, fmt.Errorf("%w: the subject's rows of %s are referenced by %s: %s", ErrAmbiguous, parent.ID(), r.From(), why)
			}
			if !slices.ContainsFunc(s.Matches, func(x Match) bool { return x.Parent == m.Parent && slices.Equal(x.Columns, m.Columns) }) {
				s.Matches = append(s.Matches, m)
			}
			if r.FromSystem != r.ToSystem {
				parent.collect(r.ToColumns)
			}
		}
		// Rows this table's rows own: an address a customer row points at.
		for _, r := range own.From(parent.System, parent.Table) {
			if r.Role != policy.RoleOwns {
				continue
			}
			sys := p.System(r.ToSystem)
			t := sys.Table(r.ToTable)
			s := step(sys, t, RoleSubject, nil)
			m := Match{Columns: r.ToColumns, Parent: parent.ID(), ParentColumns: r.FromColumns, Owned: true}
			if !slices.ContainsFunc(s.Matches, func(x Match) bool { return x.Parent == m.Parent && slices.Equal(x.Columns, m.Columns) }) {
				s.Matches = append(s.Matches, m)
			}
			parent.collect(r.FromColumns)
			if !slices.Contains(subjects, s) {
				subjects = append(subjects, s)
			}
		}
	}
	all := append(subjects, mentions...)
	if pl.Steps, err = order(all); err != nil {
		return nil, err
	}
	pl.EraseOrder = eraseOrder(pl.Steps)
	pl.Warnings = warnings(pl, own)
	return pl, nil
}

func (s *Step) collect(cols []string) {
	if !slices.ContainsFunc(s.Collect, func(c []string) bool { return slices.Equal(c, cols) }) {
		s.Collect = append(s.Collect, cols)
	}
}

// order sorts steps so that each comes after the steps it matches on;
// ties keep discovery order. A cycle of ownership (two tables owning each
// other) has no order in which rows can be found: it is refused.
func order(steps []*Step) ([]*Step, error) {
	pos := map[string]int{}
	for i, s := range steps {
		pos[s.ID()] = i
	}
	depth := map[string]int{}
	var visit func(s *Step, path []string) (int, error)
	visit = func(s *Step, path []string) (int, error) {
		if d, ok := depth[s.ID()]; ok {
			return d, nil
		}
		if slices.Contains(path, s.ID()) {
			return 0, fmt.Errorf("%w: ownership goes round in a circle (%s → %s); declare one of the relations a mention", ErrAmbiguous, strings.Join(path, " → "), s.ID())
		}
		path = append(path, s.ID())
		d := 0
		for _, m := range s.Matches {
			if m.Parent == "" {
				continue
			}
			pd, err := visit(steps[pos[m.Parent]], path)
			if err != nil {
				return 0, err
			}
			d = max(d, pd+1)
		}
		depth[s.ID()] = d
		return d, nil
	}
	for _, s := range steps {
		if _, err := visit(s, nil); err != nil {
			return nil, err
		}
	}
	out := slices.Clone(steps)
	sort.SliceStable(out, func(i, j int) bool { return depth[out[i].ID()] < depth[out[j].ID()] })
	return out, nil
}

// eraseOrder puts every step before the steps its rows reference: a
// child before the parent it matches on, a mention before the rows it
// names, and a customer before the address it owns. Steps of one table
// (its subject rows and its mentions) keep mentions first.
func eraseOrder(steps []*Step) []*Step {
	// refs[a] lists the steps that must come after a.
	after := map[*Step][]*Step{}
	byID := map[string]*Step{}
	for _, s := range steps {
		byID[s.ID()] = s
	}
	for _, s := range steps {
		for _, m := range s.Matches {
			p := byID[m.Parent]
			if p == nil {
				continue
			}
			if m.Owned {
				after[p] = append(after[p], s) // the owner's row goes first
			} else {
				after[s] = append(after[s], p)
			}
		}
	}
	var out []*Step
	done := map[*Step]bool{}
	visiting := map[*Step]bool{}
	// Depth-first on the reversed read order, so that without
	// constraints the deepest steps still come first.
	var visit func(s *Step)
	visit = func(s *Step) {
		if done[s] || visiting[s] {
			return
		}
		visiting[s] = true
		// Everything that must precede s: steps whose after-list holds s.
		for i := len(steps) - 1; i >= 0; i-- {
			if slices.Contains(after[steps[i]], s) {
				visit(steps[i])
			}
		}
		visiting[s] = false
		done[s] = true
		out = append(out, s)
	}
	for i := len(steps) - 1; i >= 0; i-- {
		visit(steps[i])
	}
	return out
}

func tableErasure(t *policy.Table) TableErasure {
	var e TableErasure
	if t.Erase != nil {
		switch t.Erase.Method {
		case policy.Delete:
			e.Delete = true
		case policy.Hold:
			e.Hold, e.Reason, e.For, e.From = true, t.Erase.Reason, t.Erase.For.String(), t.Erase.From
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

// mentionErasure is what erasure does to rows that name the subject in
// columns: each column's own strategy, nothing else of the row.
func mentionErasure(t *policy.Table, columns []string) TableErasure {
	var e TableErasure
	for _, f := range tableErasure(t).Fields {
		if slices.Contains(columns, f.Column) {
			e.Fields = append(e.Fields, f)
		}
	}
	return e
}

// warnings finds what would make an erasure fail or leave data behind.
func warnings(pl *Plan, own *policy.Ownership) []string {
	var out []string
	steps := map[string]*Step{}
	for _, s := range pl.Steps {
		steps[s.ID()] = s
	}
	for _, c := range pl.Steps {
		for _, m := range c.Matches {
			parent := steps[m.Parent]
			switch {
			case m.Identity != "" && c.Role == RoleMention && !c.Erase.Acts():
				out = append(out, fmt.Sprintf("%s.%s names the subject (%s) in rows of another subject and has no erasure strategy: erasure leaves it; give it erase: hmac or nullify",
					c.System+":"+c.Table, m.Column(), m.Identity))
			case parent == nil:
			case m.Owned:
				if !parent.Erase.Delete {
					out = append(out, fmt.Sprintf("%s: its rows belong to the subject through %s.%s, and are deleted with the rows that own them; %s keeps its rows, so they stay",
						c.ID(), parent.Table, strings.Join(m.ParentColumns, ", "), parent.ID()))
				}
			case !parent.Erase.Delete || c.Erase.Delete || c.nullsAll(m.Columns):
			case c.Role == RoleMention:
				out = append(out, fmt.Sprintf("%s.%s names the subject in other people's rows and has no erasure strategy; when %s's rows are deleted the database decides what becomes of them (its ON DELETE rule, which vow check --live reads): give it erase: nullify",
					c.System+":"+c.Table, strings.Join(m.Columns, ", "), parent.ID()))
			default:
				why := "keeps its rows"
				if c.Erase.Hold {
					why = "is held (" + c.Erase.Reason + ")"
				}
				out = append(out, fmt.Sprintf("%s: erasure deletes rows that %s.%s references, but %s %s; "+
					"a foreign key there makes the erasure fail: give %s.%s erase: nullify, or the table erase: delete",
					parent.ID(), c.ID(), strings.Join(m.Columns, ", "), c.ID(), why, c.Table, strings.Join(m.Columns, ", ")))
			}
		}
		if c.Role == RoleSubject && c.Erase.Hold && c.Erase.From == "" {
			out = append(out, fmt.Sprintf("%s is held for %s but names no column the period runs from: its rows are kept however old they are; write {hold: …, for: %s, from: <timestamp column>}",
				c.ID(), c.Erase.For, c.Erase.For))
		}
	}
	_ = own
	sort.Strings(out)
	return slices.Compact(out)
}

// nullsAll reports whether erasure clears the reference through columns:
// sets the one column to NULL, or, for a key of several columns, any one
// of them (a foreign key with a NULL in it references nothing).
func (s *Step) nullsAll(columns []string) bool {
	nulls := func(c string) bool {
		return slices.ContainsFunc(s.Erase.Fields, func(f FieldErasure) bool { return f.Column == c && f.Method == policy.Nullify })
	}
	if len(columns) > 1 {
		return slices.ContainsFunc(columns, nulls)
	}
	return len(columns) == 1 && nulls(columns[0])
}

// declaredIdentities lists the identity kinds declared by tables of the
// subject kind (every table when kind is "") and by webhook systems.
func declaredIdentities(p *policy.Policy, kind string) []string {
	var out []string
	own := p.Ownership()
	for _, sys := range p.Systems {
		for _, t := range sys.Tables {
			if kind != "" && own.Kind(sys.Name, t.Name) != kind {
				continue
			}
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

// SubjectStep returns the step of the subject's own rows of a table, or
// nil.
func (pl *Plan) SubjectStep(system, table string) *Step { return pl.Step(system + ":" + table) }

// Keys carries values found at run time into the SQL of later steps:
// the primary keys of identity tables, resolved once at the start of a
// request so that later runs still find rows whose identity columns the
// erasure has masked, and values carried across systems or to owned rows.
type Keys struct {
	// Roots maps a step ID to the primary-key values of its rows found by
	// identity. A step with no entry is matched by identity directly.
	Roots map[string][]any `json:"roots,omitempty"`
	// Cross maps "stepID.column[,column…]" to the values read from that
	// step: single values for one column, tuples for several.
	Cross map[string][]any `json:"cross,omitempty"`
	// Saved maps "stepID.column[,column…]" to the values of a parent's
	// columns that same-system children match on, read before anything
	// changed: verification finds the children by them once the parents
	// are gone.
	Saved map[string][]any `json:"saved,omitempty"`
	// Unfit lists identity matches ("stepID.column") whose column cannot
	// hold the request's value (a text where the column is an integer):
	// they are left out, never compared with a value the database would
	// convert.
	Unfit []string `json:"unfit,omitempty"`
	// Collations holds the collations of identity columns whose
	// comparisons must not rely on the column's own ("stepID.column":
	// a MariaDB email column collated …_bin compares case-sensitively).
	Collations map[string]string `json:"collations,omitempty"`
	// UTC records that the keys were read on MySQL sessions on UTC, where
	// a TIMESTAMP has one text; keys stored by an earlier version of Vow
	// hold a TIMESTAMP as the server's local time (keysBeforeUTC).
	UTC bool `json:"utc,omitempty"`
	// inline holds parent values read just before a statement, in place of
	// a subquery; never stored.
	inline map[string][]any
	// useSaved makes statements match parents by their Saved values as
	// well as by the live parents (a subquery, or inline values): for
	// verification, and for erasing what it found.
	useSaved bool
}

// withInline returns a copy of k that uses vals for the parent columns
// they name ("stepID.column").
func (k *Keys) withInline(vals map[string][]any) *Keys {
	c := &Keys{}
	if k != nil {
		c.Roots, c.Cross, c.Saved, c.Unfit, c.Collations, c.useSaved = k.Roots, k.Cross, k.Saved, k.Unfit, k.Collations, k.useSaved
	}
	c.inline = vals
	return c
}

// lacks reports whether the plan needs values k does not hold: a step's
// collected columns, or a parent's saved ones — the plan of a policy that
// changed since k was resolved.
func (k *Keys) lacks(pl *Plan) bool {
	for _, st := range pl.Steps {
		for _, cols := range st.Collect {
			if _, ok := k.Cross[st.ID()+"."+strings.Join(cols, ",")]; !ok {
				return true
			}
		}
		for _, m := range st.Matches {
			if m.Parent == "" || m.Carried(st) {
				continue
			}
			if _, ok := k.Saved[m.carriedKey()]; !ok {
				return true
			}
		}
	}
	return false
}

// merge returns k with the entries of fresh it does not hold: what k
// resolved first stands (its rows may be masked or gone since).
func (k *Keys) merge(fresh *Keys) *Keys {
	out := *k
	fill := func(dst *map[string][]any, src map[string][]any) {
		if *dst == nil {
			*dst = map[string][]any{}
		} else {
			*dst = maps.Clone(*dst)
		}
		for key, v := range src {
			if _, ok := (*dst)[key]; !ok {
				(*dst)[key] = v
			}
		}
	}
	fill(&out.Roots, fresh.Roots)
	fill(&out.Cross, fresh.Cross)
	fill(&out.Saved, fresh.Saved)
	for _, u := range fresh.Unfit {
		if !slices.Contains(out.Unfit, u) {
			out.Unfit = append(out.Unfit, u)
		}
	}
	if len(fresh.Collations) > 0 {
		out.Collations = maps.Clone(out.Collations)
		if out.Collations == nil {
			out.Collations = map[string]string{}
		}
		for key, v := range fresh.Collations {
			out.Collations[key] = v
		}
	}
	return &out
}

// withSaved returns a copy of k whose statements match parents by the
// values saved before anything was erased.
func (k *Keys) withSaved() *Keys {
	var inline map[string][]any
	if k != nil {
		inline = k.inline
	}
	c := k.withInline(inline)
	c.useSaved = true
	return c
}

func (k *Keys) collation(s *Step, col string) string {
	if k == nil {
		return ""
	}
	return k.Collations[s.ID()+"."+col]
}

func (k *Keys) unfit(s *Step, col string) bool {
	return k != nil && slices.Contains(k.Unfit, s.ID()+"."+col)
}

// Where returns the WHERE condition that selects the subject's rows of
// step s (for a mention, the rows that name the subject), and its
// arguments. Parents in the same system are joined as subqueries, so no
// key set is ever held in memory; carried values come from keys.
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

// MatchWhere is the condition of one match of a step alone: the rows
// that one mention column names the subject in.
func (pl *Plan) MatchWhere(s *Step, m Match, ids Identities, keys *Keys, args []any) (string, []any) {
	one := *s
	one.Matches = []Match{m}
	return pl.WhereAfter(&one, ids, keys, args)
}

func (pl *Plan) where(d connector.Dialect, s *Step, ids Identities, keys *Keys, args *[]any, depth int) string {
	if depth > len(pl.Steps) {
		return "1 = 0" // a cycle: NewPlan refuses them
	}
	cols := func(cs []string) string { return colTuple(d, cs) }
	in := func(cs []string, vals []any) string { return inValues(d, cs, vals, args) }
	param := func(v any) string {
		*args = append(*args, v)
		return d.Param(len(*args))
	}
	var ors []string
	hasSub := false // an arm with a subquery, not a list of values
	useRoots := s.usesRoots(keys)
	if useRoots {
		roots, _ := keys.root(s.ID())
		ors = append(ors, in(s.PrimaryKey[:1], roots))
	}
	for _, m := range s.Matches {
		switch {
		case m.Identity != "":
			if useRoots {
				continue // resolved to primary keys above
			}
			v, ok := ids[m.Identity]
			if !ok || keys.unfit(s, m.Column()) {
				continue
			}
			ors = append(ors, "("+identity.Match(d.Kind(), m.Identity, d.Column(m.Column()), keys.collation(s, m.Column()), v, func() string { return param(v) })+")")
		case m.Carried(s) && keys == nil:
			// Shown before a request runs (vow request plan): the values
			// are read when it starts.
			ors = append(ors, cols(m.Columns)+" IN (/* "+m.carriedKey()+" of the rows above, read when the request starts */)")
		case m.Carried(s):
			ors = append(ors, in(m.Columns, keys.cross(m.carriedKey())))
		default:
			parent := pl.Step(m.Parent)
			if vals, ok := keys.inlined(m.carriedKey()); ok {
				ors = append(ors, in(m.Columns, vals))
				continue
			}
			if vals, ok := keys.saved(m.carriedKey()); ok {
				// The parents as they were before anything was erased, as
				// well as the live ones below: a child whose parent is gone
				// is found by the former, one written since by the latter.
				ors = append(ors, in(m.Columns, vals))
			}
			if len(m.Columns) == 1 {
				if roots, ok := keys.rootsFor(parent, m.ParentColumns[0]); ok {
					// The parent's rows are exactly its resolved keys: no
					// subquery (MariaDB runs UPDATE/DELETE … IN (SELECT …)
					// as a scan of the whole table).
					ors = append(ors, in(m.Columns, roots))
					continue
				}
			}
			sub := "SELECT " + strings.Trim(cols(m.ParentColumns), "()") + " FROM " + d.Ident(parent.Table) + " WHERE " + pl.where(d, parent, ids, keys, args, depth+1)
			if d.Kind() == "postgres" && len(m.Columns) == 1 {
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
				ors = append(ors, d.Column(m.Column())+" = ANY(ARRAY("+sub+"))")
				continue
			}
			hasSub = true
			ors = append(ors, cols(m.Columns)+" IN ("+sub+")")
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

// colTuple quotes columns as an SQL row value: "a", or ("a", "b").
func colTuple(d connector.Dialect, cs []string) string {
	if len(cs) == 1 {
		return d.Column(cs[0])
	}
	return "(" + colList(d, cs) + ")"
}

// inValues renders "cols IN (values)" with the values as parameters
// appended to args: single values for one column, tuples for several.
func inValues(d connector.Dialect, cs []string, vals []any, args *[]any) string {
	if len(vals) == 0 {
		return "1 = 0"
	}
	if len(cs) == 1 && len(vals) > longList {
		if cond, ok := inLongList(d, cs[0], vals, args); ok {
			return cond
		}
	}
	param := func(v any) string {
		*args = append(*args, v)
		return d.Param(len(*args))
	}
	if len(cs) == 1 {
		ps := make([]string, len(vals))
		for i, v := range vals {
			ps[i] = param(v)
		}
		return d.Column(cs[0]) + " IN (" + strings.Join(ps, ", ") + ")"
	}
	for _, v := range vals {
		if tuple, _ := v.([]any); len(tuple) != len(cs) {
			return "1 = 0" // a stored tuple of another shape: match nothing rather than guess (and bind nothing)
		}
	}
	if d.Kind() == "mysql" {
		// Equality and scalar IN lists: MariaDB compares a list of row
		// values wrongly when a column's character set is not the
		// connection's.
		cols := make([]string, len(cs))
		for i, c := range cs {
			cols[i] = d.Column(c)
		}
		tuples := make([][]any, len(vals))
		for i, v := range vals {
			tuples[i] = v.([]any)
		}
		return connector.TupleIn(cols, tuples, param)
	}
	tuples := make([][]string, len(vals))
	for i, v := range vals {
		tuple := v.([]any)
		tuples[i] = make([]string, len(tuple))
		for j, x := range tuple {
			tuples[i][j] = param(x)
		}
	}
	ps := make([]string, len(tuples))
	for i, t := range tuples {
		ps[i] = "(" + strings.Join(t, ", ") + ")"
	}
	if d.Kind() == "sqlite" {
		// SQLite takes a list of row values only as VALUES (where
		// PostgreSQL would type the parameters as text).
		return colTuple(d, cs) + " IN (VALUES " + strings.Join(ps, ", ") + ")"
	}
	return colTuple(d, cs) + " IN (" + strings.Join(ps, ", ") + ")"
}

// longList is the length from which a list of values of one column is
// not written as one parameter per value. A statement carries at most
// 65,535 parameters on PostgreSQL and MariaDB and 32,766 on SQLite, and a
// heavy subject's keys (the saved keys of 70,000 tickets, the resolved
// keys of a masked log) pass that; PostgreSQL also spends tens of
// milliseconds binding twenty thousand parameters it would take as one
// array.
const longList = 1000

// inLongList writes "col IN (vals)" for a long list as what the dialect
// takes in one parameter, or none: PostgreSQL compares with an array
// (col = ANY($n), the form PostgreSQL turns an IN list into itself),
// written as a literal it reads with the column's type
// (connector.ArrayLiteral); SQLite reads a JSON array with json_each;
// MariaDB, which has no array, takes integers written into the statement
// (formatted here, never text from outside). It reports false for values
// it cannot pass that way (text and binary keys on MariaDB, binary keys
// and text that is not UTF-8 on SQLite): they stay parameters.
func inLongList(d connector.Dialect, col string, vals []any, args *[]any) (string, bool) {
	switch d.Kind() {
	case "postgres":
		lit, ok := connector.ArrayLiteral(vals)
		if !ok {
			return "", false
		}
		*args = append(*args, lit)
		return d.Column(col) + " = ANY(" + d.Param(len(*args)) + ")", true
	case "sqlite":
		for _, v := range vals {
			switch x := v.(type) {
			case int64:
			case string:
				if !utf8.ValidString(x) {
					return "", false // JSON would write U+FFFD for its bytes
				}
			default:
				return "", false
			}
		}
		b, err := json.Marshal(vals)
		if err != nil {
			return "", false
		}
		*args = append(*args, string(b))
		return d.Column(col) + " IN (SELECT value FROM json_each(" + d.Param(len(*args)) + "))", true
	case "mysql":
		var b strings.Builder
		for i, v := range vals {
			n, ok := v.(int64)
			if !ok {
				return "", false
			}
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(strconv.FormatInt(n, 10))
		}
		return d.Column(col) + " IN (" + b.String() + ")", true
	}
	return "", false
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

// inlined returns values of a parent's columns read in advance for this
// statement (see inlineParents), if any, with the saved ones when k
// matches by them; key is "stepID.columns".
func (k *Keys) inlined(key string) ([]any, bool) {
	if k == nil {
		return nil, false
	}
	v, ok := k.inline[key]
	if sv, has := k.Saved[key]; ok && k.useSaved && has {
		v = append(slices.Clone(v), sv...)
	}
	return v, ok
}

// saved returns the parent values saved before the erasure, when k is to
// match by them (withSaved) and no inline values stand in for the parent.
func (k *Keys) saved(key string) ([]any, bool) {
	if k == nil || !k.useSaved {
		return nil, false
	}
	v, ok := k.Saved[key]
	return v, ok
}

func (k *Keys) root(id string) ([]any, bool) {
	if k == nil || k.Roots == nil {
		return nil, false
	}
	v, ok := k.Roots[id]
	return v, ok
}

func (k *Keys) cross(key string) []any {
	if k == nil {
		return nil
	}
	return k.Cross[key]
}

// WriteText prints the plan for a person: each step in order, how its rows
// are found, and what erasure does to them.
func (pl *Plan) WriteText(w io.Writer, ids Identities) error {
	var b strings.Builder
	for i, s := range pl.Steps {
		where, args := pl.Where(s, ids, nil)
		d := connector.DialectOf(s.Kind)
		sel := "*"
		fmt.Fprintf(&b, "%2d. %s  (%s)", i+1, s.ID(), s.Kind)
		if s.Role == RoleMention {
			// Someone else's rows: only the mentioning columns are read.
			cols := make([]string, len(s.Mention))
			for i, c := range s.Mention {
				cols[i] = d.Column(c)
			}
			sel = strings.Join(cols, ", ")
			fmt.Fprintf(&b, "  mentions the subject in others' rows")
		}
		b.WriteString("\n")
		fmt.Fprintf(&b, "    read:  SELECT %s FROM %s WHERE %s", sel, d.Ident(s.Table), where)
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
	b.WriteString("\nErasure runs the steps in this order, one transaction per system: ")
	for i, s := range pl.EraseOrder {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(s.ID())
	}
	b.WriteString(" (rows before the rows they reference).\n")
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
		out := fmt.Sprintf("keep rows for %s: %s", e.For, e.Reason)
		if e.From != "" {
			out = fmt.Sprintf("keep rows for %s from %s (older ones are deleted): %s", e.For, e.From, e.Reason)
		}
		for _, f := range e.Fields {
			if f.Method != policy.Hold {
				out += "; " + (TableErasure{Fields: []FieldErasure{f}}).Describe()
			}
		}
		return out
	case len(e.Fields) == 0:
		return "nothing (no erasure strategy)"
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

// keptWith returns the condition true of st's rows that stay because they
// belong to held rows — rows owned by a table under hold (an invoice's
// lines), at any depth, and while the hold's period runs — or nil when no
// row of st can be. An invoice kept for the tax office keeps its lines.
func (pl *Plan) keptWith(d connector.Dialect, st *Step, ids Identities, keys *Keys, now time.Time, depth int) whereFn {
	if st.Role != RoleSubject || depth > len(pl.Steps) {
		return nil
	}
	var arms []whereFn
	for _, m := range st.Matches {
		if m.Parent == "" || m.Owned || m.Carried(st) {
			continue
		}
		parent := pl.Step(m.Parent)
		if parent == nil || parent.Role != RoleSubject {
			continue
		}
		var held whereFn // which of the parent's rows are held
		switch {
		case parent.Erase.Hold:
			held = func(pre []any) (string, []any) {
				w, a := pl.WhereAfter(parent, ids, keys, pre)
				if cut, ok := holdCutoff(parent, now); ok {
					// A row with no date is not past its hold.
					at := instant(parent, cut)
					a = append(a, at.Arg)
					from := d.Column(parent.Erase.From)
					w += " AND (" + from + " >= " + numbered(d, at.Param, len(a)) + " OR " + from + " IS NULL)"
				}
				return w, a
			}
		default:
			inner := pl.keptWith(d, parent, ids, keys, now, depth+1)
			if inner == nil {
				continue
			}
			held = func(pre []any) (string, []any) {
				w, a := pl.WhereAfter(parent, ids, keys, pre)
				w2, a2 := inner(a)
				return w + " AND (" + w2 + ")", a2
			}
		}
		m, held := m, held
		arms = append(arms, func(pre []any) (string, []any) {
			w, a := held(pre)
			cols := make([]string, len(m.Columns))
			for i, c := range m.Columns {
				cols[i] = d.Column(c)
			}
			lhs := strings.Join(cols, ", ")
			if len(cols) > 1 {
				lhs = "(" + lhs + ")"
			}
			pcols := make([]string, len(m.ParentColumns))
			for i, c := range m.ParentColumns {
				pcols[i] = d.Column(c)
			}
			// The derived table lets MySQL read a table the statement
			// also changes.
			return lhs + " IN (SELECT * FROM (SELECT " + strings.Join(pcols, ", ") + " FROM " + d.Ident(parent.Table) + " WHERE " + w + ") vow_held)", a
		})
	}
	if len(arms) == 0 {
		return nil
	}
	return func(pre []any) (string, []any) {
		var ors []string
		a := pre
		for _, arm := range arms {
			var w string
			w, a = arm(a)
			ors = append(ors, "("+w+")")
		}
		return strings.Join(ors, " OR "), a
	}
}

// holdCutoff returns the instant before which a held step's rows are no
// longer held, when its hold runs from a column.
func holdCutoff(st *Step, now time.Time) (time.Time, bool) {
	if st.Erase.From == "" || st.Erase.For == "" {
		return time.Time{}, false
	}
	dur, err := policy.ParseDuration(st.Erase.For)
	if err != nil {
		return time.Time{}, false
	}
	return dur.Before(now), true
}
