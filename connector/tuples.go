package connector

import (
	"fmt"
	"strings"
)

// TupleIn writes "(cols) IN (tuples)" without a list of row values, for
// MariaDB, which compares such a list wrongly when a column's character
// set is not the connection's (('JÈ', 1) in a latin1 column missed 'JÈ'
// and matched the bytes of its UTF-8 read as latin1); equality and a
// scalar IN list compare as they should. cols are the columns as SQL
// (quoted, perhaps qualified), every tuple has one value per column, and
// param binds a value and returns its placeholder, called in the order
// the placeholders appear.
//
// The tuples are grouped by every column but the one with the most
// distinct values, which goes in an IN list per group: (shop = ? AND no
// IN (?, ?, …)) OR …. An OR of one equality per column and tuple would
// be right too, but MariaDB checks each row it reads against the whole
// OR: 10,000 pairs took seconds, a few groups of IN lists milliseconds.
// Tuples that share no value still make an arm each, as slow as that OR.
func TupleIn(cols []string, tuples [][]any, param func(any) string) string {
	// id writes a value so that two values have the same id only when the
	// database is given the same parameter for them; ids are joined with
	// their lengths, so that text holding a separator cannot make two
	// prefixes one.
	id := func(v any) string { return fmt.Sprintf("%T:%v", v, v) }
	in, most := 0, -1
	for j := range cols {
		seen := map[string]bool{}
		for _, t := range tuples {
			seen[id(t[j])] = true
		}
		if len(seen) > most {
			in, most = j, len(seen)
		}
	}
	type group struct {
		prefix []any
		vals   []any
	}
	var groups []*group
	byPrefix := map[string]*group{}
	for _, t := range tuples {
		var key strings.Builder
		var prefix []any
		for j, v := range t {
			if j != in {
				s := id(v)
				fmt.Fprintf(&key, "%d:%s", len(s), s)
				prefix = append(prefix, v)
			}
		}
		g := byPrefix[key.String()]
		if g == nil {
			g = &group{prefix: prefix}
			byPrefix[key.String()] = g
			groups = append(groups, g)
		}
		g.vals = append(g.vals, t[in])
	}
	arms := make([]string, len(groups))
	for i, g := range groups {
		var eq []string
		k := 0
		for j, c := range cols {
			if j != in {
				eq = append(eq, c+" = "+param(g.prefix[k]))
				k++
			}
		}
		ps := make([]string, len(g.vals))
		for n, v := range g.vals {
			ps[n] = param(v)
		}
		eq = append(eq, cols[in]+" IN ("+strings.Join(ps, ", ")+")")
		arms[i] = "(" + strings.Join(eq, " AND ") + ")"
	}
	return "(" + strings.Join(arms, " OR ") + ")"
}
