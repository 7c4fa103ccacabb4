package dsr

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/vowprivacy/vow/connector"
	"github.com/vowprivacy/vow/identity"
	"github.com/vowprivacy/vow/keyring"
	"github.com/vowprivacy/vow/policy"
)

// CheckLive compares the plan with the live databases and returns what
// would make requests slow or fail: columns the plan matches on without an
// index (every request scans the table), and pseudonymised columns that
// cannot hold a pseudonym (not text, or too short).
func (pl *Plan) CheckLive(ctx context.Context, o Opener) ([]string, error) {
	var out []string
	schemas := map[string]*connector.Schema{}
	for _, st := range pl.Steps {
		sc, ok := schemas[st.System]
		if !ok {
			c, err := o.Open(ctx, pl.policy.System(st.System))
			if err != nil {
				return nil, fmt.Errorf("dsr: open system %s: %w", st.System, err)
			}
			sc, err = c.Introspect(ctx)
			c.Close()
			if err != nil {
				return nil, fmt.Errorf("dsr: read system %s: %w", st.System, err)
			}
			schemas[st.System] = sc
		}
		t := sc.Table(st.Table)
		if t == nil {
			out = append(out, fmt.Sprintf("%s: the table does not exist in the database (vow check --live)", st.ID()))
			continue
		}
		d := connector.DialectOf(st.Kind)
		for _, m := range st.Matches {
			col := m.Columns[0]
			if m.Identity != "" && identity.Indexed(t, st.Kind, m.Identity, col) || m.Identity == "" && t.IndexStartsWith(col) {
				continue
			}
			why, expr := "no index starts with this column", d.Column(col)
			if m.Identity != "" && identity.CaseInsensitive(m.Identity) && st.Kind != "mysql" {
				why = "no index on lower(" + col + ") (" + m.Identity + "s are matched whatever their case)"
				expr = identity.IndexTerm(st.Kind, m.Identity, d.Column(col))
			}
			out = append(out, fmt.Sprintf("%s.%s: %s, so every request reads the whole table (CREATE INDEX ON %s (%s))",
				st.ID(), strings.Join(m.Columns, ","), why, d.Ident(st.Table), expr))
		}
		for _, f := range st.Erase.Fields {
			if f.Method != policy.HMAC {
				continue
			}
			col := t.Column(f.Column)
			if col == nil {
				continue
			}
			if why := cannotHoldPseudonym(st.Kind, col.Base()); why != "" {
				out = append(out, fmt.Sprintf("%s.%s: hmac erasure writes a pseudonym of at least %d characters, but the column is %s (%s): erasure will fail; use nullify, or widen the column",
					st.ID(), f.Column, keyring.MinPseudonymLen, col.Type, why))
			}
		}
		if st.Role == RoleSubject && st.Erase.Delete {
			out = append(out, pl.onDelete(st, sc, t)...)
		}
	}
	return out, nil
}

// onDelete says what the database's own ON DELETE rules will do when the
// step's rows are deleted, for references the plan itself does not clear
// first: the certificate will count them; a cascade into other people's
// rows stops the erasure at the brake, a RESTRICT fails it.
func (pl *Plan) onDelete(st *Step, sc *connector.Schema, t *connector.Table) []string {
	var out []string
	for _, lt := range sc.Tables {
		for _, fk := range lt.ForeignKeys {
			if !strings.EqualFold(fk.RefTable, t.Name) || pl.clears(st, lt.Name, fk.Columns) {
				continue
			}
			ref := lt.Name + "." + strings.Join(fk.Columns, ", ")
			switch fk.OnDelete {
			case connector.ActionCascade:
				out = append(out, fmt.Sprintf("%s: deleting these rows makes the database delete the rows of %s that reference them (ON DELETE CASCADE); rows not the subject's stop the erasure at the brake", st.ID(), ref))
			case connector.ActionSetNull, connector.ActionSetDefault:
				out = append(out, fmt.Sprintf("%s: the database sets %s to %s in the rows that reference deleted rows (ON DELETE %s); the certificate counts them", st.ID(), ref, strings.TrimPrefix(fk.OnDelete, "SET "), fk.OnDelete))
			default:
				out = append(out, fmt.Sprintf("%s: %s references these rows and the database refuses to delete them while it does (ON DELETE %s): an erasure whose rows are referenced there fails; give the column erase: nullify, or declare the relation", st.ID(), ref, fk.OnDelete))
			}
		}
	}
	return out
}

// clears reports whether the plan deletes or clears, before st's rows go,
// the rows of table that reference them through cols.
func (pl *Plan) clears(st *Step, table string, cols []string) bool {
	for _, o := range pl.Steps {
		if !strings.EqualFold(o.Table, table) || o.System != st.System {
			continue
		}
		for _, m := range o.Matches {
			if m.Parent == st.ID() && slices.EqualFunc(m.Columns, cols, strings.EqualFold) && (o.Erase.Delete || o.nullsAll(m.Columns) || o.setsAll(m.Columns)) {
				return true
			}
		}
	}
	return false
}

var lengthRE = regexp.MustCompile(`\((\d+)\)`)

// cannotHoldPseudonym says why a column type cannot store a pseudonym, or
// "" if it can. SQLite stores text in any column.
func cannotHoldPseudonym(kind, typ string) string {
	if kind == "sqlite" {
		return ""
	}
	t := strings.ToLower(typ)
	switch {
	case strings.Contains(t, "char") || strings.Contains(t, "text") || strings.Contains(t, "clob"):
		if m := lengthRE.FindStringSubmatch(t); m != nil {
			if n, _ := strconv.Atoi(m[1]); n < keyring.MinPseudonymLen {
				return "too short"
			}
		}
		return ""
	case identity.ClassOf(t) == identity.Integer:
		return "" // a negative number (keyring.PseudonymInt)
	case strings.Contains(t, "numeric"), strings.Contains(t, "decimal"), strings.Contains(t, "float"), strings.Contains(t, "double"), strings.Contains(t, "real"):
		return "numbers cannot hold text"
	case strings.Contains(t, "inet"), strings.Contains(t, "uuid"), strings.Contains(t, "date"), strings.Contains(t, "time"), strings.Contains(t, "bool"):
		return "a typed column cannot hold text"
	}
	return ""
}
