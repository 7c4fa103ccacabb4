// Package order puts an introspected [connector.Schema] into the canonical
// order every driver reports: tables by name, and within each table
// foreign keys by their columns, indexes by name, checks by name and
// expression, and partitions by name. Column and key column order is
// significant and left alone.
package order

import (
	"cmp"
	"slices"

	"github.com/vowprivacy/vow/connector"
)

// Schema sorts s in place into canonical order.
func Schema(s *connector.Schema) {
	slices.SortFunc(s.Tables, func(a, b connector.Table) int { return cmp.Compare(a.Name, b.Name) })
	for i := range s.Tables {
		t := &s.Tables[i]
		slices.SortStableFunc(t.ForeignKeys, func(a, b connector.ForeignKey) int {
			return cmp.Or(
				slices.Compare(a.Columns, b.Columns),
				cmp.Compare(a.RefTable, b.RefTable),
				slices.Compare(a.RefColumns, b.RefColumns),
			)
		})
		slices.SortStableFunc(t.Indexes, func(a, b connector.Index) int { return cmp.Compare(a.Name, b.Name) })
		slices.SortStableFunc(t.Checks, func(a, b connector.Check) int {
			return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Expr, b.Expr))
		})
		slices.Sort(t.Partitions)
	}
}
