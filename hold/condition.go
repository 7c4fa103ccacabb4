package hold

import (
	"slices"
	"strconv"
	"strings"

	"github.com/vowprivacy/vow/connector"
	"github.com/vowprivacy/vow/identity"
	"github.com/vowprivacy/vow/policy"
)

// maxDepth bounds how far up the owners of a row Condition looks; a
// policy's ownership chains are a handful of tables long.
const maxDepth = 8

// Condition returns a SQL condition (with ? placeholders, and its
// arguments) that is true of the rows of a table, named ref in the
// statement, that belong to a subject under an open hold: the row carries
// a held identity in one of its identity columns, or a row that owns it —
// through the policy's owner and owns relations, at any depth within the
// system — does. held maps identity kinds to held values, normalised by
// package identity; emails match whatever their case in the database.
//
// live, when not nil, is the system's schema: a held value its column
// cannot hold is not compared there (a hold on user_id:usr_9 against a
// bigint key would fail the statement on PostgreSQL, and match user 9 on
// MariaDB), and a MariaDB column's collation is honoured as requests
// honour it.
//
// It returns "" when no row of the table can be held. Relations into
// another system cannot be followed in one statement and are not.
func Condition(p *policy.Policy, d connector.Dialect, system, table, ref string, held map[string][]string, live *connector.Schema) (string, []any) {
	if len(held) == 0 {
		return "", nil
	}
	c := &condBuilder{p: p, own: p.Ownership(), d: d, held: held, live: live}
	return c.build(system, table, ref, nil), c.args
}

type condBuilder struct {
	p    *policy.Policy
	own  *policy.Ownership
	d    connector.Dialect
	held map[string][]string
	live *connector.Schema
	args []any
	n    int // aliases used
}

func (c *condBuilder) build(system, table, ref string, path []string) string {
	id := system + ":" + table
	if slices.Contains(path, id) || len(path) > maxDepth {
		return ""
	}
	path = append(path, id)
	t := c.p.System(system).Table(table)
	if t == nil {
		return ""
	}
	var ors []string
	for _, f := range t.Fields {
		vs := c.held[f.Identity]
		if f.Identity == "" || len(vs) == 0 {
			continue
		}
		var lc *connector.Column
		if c.live != nil {
			lc = c.live.Table(table).Column(f.Name)
		}
		for _, v := range vs {
			// Holds placed before values were normalised are matched
			// the same way as new ones.
			if n, err := identity.Normalize(f.Identity, v); err == nil {
				v = n
			}
			collation := ""
			if lc != nil {
				if identity.Fits(v, lc.Base()) != nil {
					continue // this column cannot hold the value: not its person
				}
				collation = lc.Collation
			}
			ors = append(ors, "("+identity.Match(c.d.Kind(), f.Identity, ref+"."+c.d.Column(f.Name), collation, v, func() string {
				c.args = append(c.args, v)
				return "?"
			})+")")
		}
	}
	// Owners of the row: the rows it references through an owner
	// relation, and the rows that reference it through an owns relation.
	for _, r := range c.own.Relations {
		var owner string
		var mine, theirs []string
		switch {
		case r.Role == policy.RoleOwner && r.FromSystem == system && r.FromTable == table && r.ToSystem == system:
			owner, mine, theirs = r.ToTable, r.FromColumns, r.ToColumns
		case r.Role == policy.RoleOwns && r.ToSystem == system && r.ToTable == table && r.FromSystem == system:
			owner, mine, theirs = r.FromTable, r.ToColumns, r.FromColumns
		default:
			continue
		}
		c.n++
		alias := "vow_h" + strconv.Itoa(c.n)
		mark := len(c.args)
		inner := c.build(system, owner, alias, path)
		if inner == "" {
			c.args = c.args[:mark]
			continue
		}
		join := make([]string, len(mine))
		for i := range mine {
			join[i] = alias + "." + c.d.Column(theirs[i]) + " = " + ref + "." + c.d.Column(mine[i])
		}
		ors = append(ors, "EXISTS (SELECT 1 FROM "+c.d.Ident(owner)+" "+alias+" WHERE "+strings.Join(join, " AND ")+" AND ("+inner+"))")
	}
	return strings.Join(ors, " OR ")
}
