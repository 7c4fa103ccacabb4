package breach

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/vowprivacy/vow/connector"
	"github.com/vowprivacy/vow/policy"
	"github.com/vowprivacy/vow/taxonomy"
)

// Affected is what an incident touched, counted from the systems the
// policy declares: the "approximate number of data subjects concerned
// and of personal data records concerned" of Art. 33(3)(a).
type Affected struct {
	CountedAt time.Time `json:"counted_at"`
	// Subjects counts the people of each subject kind whose data sits in
	// an affected table: the rows of that kind's identity table (the
	// largest, where several systems hold one), an upper bound.
	Subjects      []KindCount `json:"subjects"`
	TotalSubjects int64       `json:"total_subjects"`
	// Records counts the rows of the affected tables.
	Records int64        `json:"records"`
	Tables  []TableCount `json:"tables"`
	// Unknown names what could not be counted, and why: services that
	// are not databases, databases that did not answer.
	Unknown []string `json:"unknown,omitempty"`
}

// KindCount is the number of subjects of one kind.
type KindCount struct {
	Kind  string `json:"kind"`
	Count int64  `json:"count"`
	// Table is the identity table counted, as system:table.
	Table string `json:"table"`
}

// TableCount is an affected table: its rows and the affected categories
// it holds.
type TableCount struct {
	System     string   `json:"system"`
	Table      string   `json:"table"`
	Kind       string   `json:"kind,omitempty"`
	Rows       int64    `json:"rows"`
	Categories []string `json:"categories"`
}

// target is an affected table before it is counted.
type target struct {
	sys        *policy.System
	table      *policy.Table
	kind       string
	categories []string
}

// targets are the tables of the incident's systems holding its
// categories (any personal data when it names none).
func (r *Register) targets(inc *Incident) []target {
	own := r.Policy.Ownership()
	var out []target
	for _, name := range inc.Systems {
		sys := r.Policy.System(name)
		if sys == nil {
			continue
		}
		for _, t := range sys.Tables {
			var cats []string
			for _, f := range t.Fields {
				if f.Category == "" || !r.Policy.Personal(f) {
					continue
				}
				if len(inc.Categories) == 0 || slices.ContainsFunc(inc.Categories, func(c string) bool { return taxonomy.Within(f.Category, c) }) {
					cats = append(cats, f.Category)
				}
			}
			if len(cats) > 0 {
				out = append(out, target{sys: sys, table: t, kind: own.Kind(sys.Name, t.Name), categories: slices.Compact(slices.Sorted(slices.Values(cats)))})
			}
		}
	}
	return out
}

// identityTables are the tables of sys that identify subjects of kind.
func identityTables(sys *policy.System, kind string) []*policy.Table {
	var out []*policy.Table
	for _, t := range sys.Tables {
		if t.Subject == kind && slices.ContainsFunc(t.Fields, func(f *policy.Field) bool { return f.Identity != "" }) {
			out = append(out, t)
		}
	}
	return out
}

// Assess counts the subjects and records an incident touched, keeps the
// count with the incident and records it in the audit log.
func (r *Register) Assess(ctx context.Context, id, by string) (*Incident, error) {
	inc, err := r.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	a := r.count(ctx, inc)
	return r.move(ctx, id, by, func(cur *Incident) (string, map[string]any, error) {
		if cur.Status == Closed {
			return "", nil, fmt.Errorf("%w: incident %s is closed", ErrState, id)
		}
		cur.Affected = a
		return "incident.assessed", map[string]any{"total_subjects": a.TotalSubjects, "records": a.Records, "tables": len(a.Tables), "unknown": a.Unknown}, nil
	})
}

// count connects to each affected system and counts.
func (r *Register) count(ctx context.Context, inc *Incident) *Affected {
	a := &Affected{CountedAt: r.now().Truncate(time.Microsecond), Subjects: []KindCount{}, Tables: []TableCount{}}
	bySystem := map[string][]target{}
	var order []string
	for _, t := range r.targets(inc) {
		if _, ok := bySystem[t.sys.Name]; !ok {
			order = append(order, t.sys.Name)
		}
		bySystem[t.sys.Name] = append(bySystem[t.sys.Name], t)
	}
	for _, name := range inc.Systems {
		if sys := r.Policy.System(name); sys != nil && sys.Kind == "webhook" {
			a.Unknown = append(a.Unknown, name+": a service, not a database: ask it for its own count")
		}
	}
	kinds := map[string]KindCount{}
	for _, name := range order {
		ts := bySystem[name]
		sys := ts[0].sys
		c, err := r.Datastores.Open(ctx, sys)
		if err != nil {
			a.Unknown = append(a.Unknown, fmt.Sprintf("%s: %v", name, oneLine(err)))
			continue
		}
		for _, t := range ts {
			n, err := connector.RowCount(ctx, c, c.DB(), t.table.Name)
			if err != nil {
				a.Unknown = append(a.Unknown, fmt.Sprintf("%s:%s: %v", name, t.table.Name, oneLine(err)))
				continue
			}
			a.Tables = append(a.Tables, TableCount{System: name, Table: t.table.Name, Kind: t.kind, Rows: n, Categories: t.categories})
			a.Records += n
			if t.kind == "" {
				continue
			}
			for _, it := range identityTables(sys, t.kind) {
				n, err := connector.RowCount(ctx, c, c.DB(), it.Name)
				if err != nil {
					a.Unknown = append(a.Unknown, fmt.Sprintf("%s:%s: %v", name, it.Name, oneLine(err)))
					continue
				}
				if cur, ok := kinds[t.kind]; !ok || n > cur.Count {
					kinds[t.kind] = KindCount{Kind: t.kind, Count: n, Table: name + ":" + it.Name}
				}
			}
		}
		_ = c.Close()
	}
	for _, k := range slices.Sorted(maps.Keys(kinds)) {
		a.Subjects = append(a.Subjects, kinds[k])
		a.TotalSubjects += kinds[k].Count
	}
	return a
}

// Subject is one person an incident may have touched, for the notice to
// subjects.
type Subject struct {
	Kind string `json:"kind"`
	// Table is the identity table read, as system:table.
	Table string `json:"table"`
	// Identities are the row's identity columns by identity kind (email,
	// user_id, …).
	Identities map[string]string `json:"identities"`
}

// EachSubject calls fn with every subject an incident may have touched:
// each row of the identity tables of the subject kinds whose data sits in
// an affected table. The listing is recorded in the audit log (its count,
// never the identities). It returns how many it listed.
func (r *Register) EachSubject(ctx context.Context, id, by string, fn func(Subject) error) (int64, error) {
	inc, err := r.Get(ctx, id)
	if err != nil {
		return 0, err
	}
	seen := map[string]bool{}
	var n int64
	for _, t := range r.targets(inc) {
		if t.kind == "" {
			continue
		}
		for _, it := range identityTables(t.sys, t.kind) {
			key := t.sys.Name + ":" + it.Name
			if seen[key] {
				continue
			}
			seen[key] = true
			k, err := r.listTable(ctx, t.sys, it, t.kind, fn)
			n += k
			if err != nil {
				return n, err
			}
		}
	}
	err = r.inTx(ctx, func(tx *sql.Tx) error {
		return r.event(ctx, tx, id, "incident.subjects_listed", by, map[string]any{"subjects": n})
	})
	return n, err
}

func (r *Register) listTable(ctx context.Context, sys *policy.System, t *policy.Table, kind string, fn func(Subject) error) (int64, error) {
	c, err := r.Datastores.Open(ctx, sys)
	if err != nil {
		return 0, fmt.Errorf("breach: list subjects of %s: %w", sys.Name, err)
	}
	defer c.Close()
	d := c.Dialect()
	var cols, kinds []string
	for _, f := range t.Fields {
		if f.Identity != "" {
			cols = append(cols, d.Ident(f.Name))
			kinds = append(kinds, f.Identity)
		}
	}
	rows, err := c.DB().QueryContext(ctx, "SELECT "+strings.Join(cols, ", ")+" FROM "+d.Ident(t.Name))
	if err != nil {
		return 0, c.Translate(ctx, "list subjects of "+t.Name, err)
	}
	defer rows.Close()
	var n int64
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, c.Translate(ctx, "list subjects of "+t.Name, err)
		}
		s := Subject{Kind: kind, Table: sys.Name + ":" + t.Name, Identities: map[string]string{}}
		for i, v := range vals {
			if v.Valid && v.String != "" {
				s.Identities[kinds[i]] = v.String
			}
		}
		if len(s.Identities) == 0 {
			continue
		}
		n++
		if err := fn(s); err != nil {
			return n, err
		}
	}
	return n, rows.Err()
}

func oneLine(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }
