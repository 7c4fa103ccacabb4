package postgres

import (
	"slices"
	"strings"

	"github.com/vowprivacy/vow/connector"
)

// inheritFromPartitions gives each partitioned table of tables (which
// holds the partitions too, by name) the foreign keys and indexes that all
// of its partitions declare and it does not. PostgreSQL lets them be
// declared per partition only, as schemas made before partitioned tables
// could carry them often are; each row still lives in some partition and
// is bound by, or can be found through, them. Partitions that are
// partitioned themselves inherit from theirs first.
func inheritFromPartitions(tables map[string]*connector.Table) {
	done := map[string]bool{}
	var inherit func(t *connector.Table)
	inherit = func(t *connector.Table) {
		if done[t.Name] || len(t.Partitions) == 0 {
			return
		}
		done[t.Name] = true
		// Sorted so that "the first partition" names inherited indexes
		// the same way every time.
		slices.Sort(t.Partitions)
		parts := make([]*connector.Table, len(t.Partitions))
		for i, name := range t.Partitions {
			p := tables[name]
			if p == nil {
				// A foreign table partition: it has no keys or indexes,
				// so no partition-wide one exists.
				return
			}
			inherit(p)
			parts[i] = p
		}
		t.ForeignKeys = append(t.ForeignKeys, commonForeignKeys(t, parts)...)
		t.Indexes = append(t.Indexes, commonIndexes(t, parts)...)
	}
	for _, t := range tables {
		inherit(t)
	}
}

// fkKey identifies a foreign key by its columns and what they reference.
func fkKey(fk connector.ForeignKey) string {
	return strings.Join(fk.Columns, "\x00") + "\x01" + fk.RefTable + "\x01" + strings.Join(fk.RefColumns, "\x00")
}

// commonForeignKeys returns, once each, the foreign keys that every one of
// parts declares and t does not. Their OnDelete is the partitions' common
// rule, or NO ACTION if they differ (see [connector.ForeignKey.OnDelete]).
func commonForeignKeys(t *connector.Table, parts []*connector.Table) []connector.ForeignKey {
	seen := map[string]bool{}
	for _, fk := range t.ForeignKeys {
		seen[fkKey(fk)] = true
	}
	var out []connector.ForeignKey
	for _, fk := range parts[0].ForeignKeys {
		key := fkKey(fk)
		if seen[key] {
			continue
		}
		seen[key] = true
		everywhere := true
		for _, p := range parts[1:] {
			i := slices.IndexFunc(p.ForeignKeys, func(o connector.ForeignKey) bool { return fkKey(o) == key })
			if i < 0 {
				everywhere = false
				break
			}
			if p.ForeignKeys[i].OnDelete != fk.OnDelete {
				fk.OnDelete = connector.ActionNoAction
			}
		}
		if everywhere {
			out = append(out, fk)
		}
	}
	return out
}

// commonIndexes returns, once each, an index for every list of key terms
// that each one of parts has an index on and t does not (its primary key
// included). It takes the name of the first partition's index, is Unique
// if the index is unique on every partition and covers t's partition key,
// and Partial if it is partial on some partition.
func commonIndexes(t *connector.Table, parts []*connector.Table) []connector.Index {
	seen := map[string]bool{}
	if t.PrimaryKey != nil {
		seen[strings.Join(t.PrimaryKey, "\x00")] = true
	}
	first := slices.Clone(parts[0].Indexes)
	slices.SortFunc(first, func(a, b connector.Index) int { return strings.Compare(a.Name, b.Name) })
	var out []connector.Index
	for _, ix := range first {
		key := strings.Join(ix.Columns, "\x00")
		if seen[key] {
			continue
		}
		seen[key] = true
		common := connector.Index{Columns: ix.Columns, Unique: true}
		everywhere := true
		for i, p := range parts {
			b, ok := bestIndex(p, ix.Columns)
			if !ok {
				everywhere = false
				break
			}
			if i == 0 {
				common.Name = b.Name
			}
			common.Unique = common.Unique && b.Unique
			common.Partial = common.Partial || b.Partial
		}
		common.Unique = common.Unique && covers(ix.Columns, t.PartitionKey)
		if everywhere && !slices.ContainsFunc(t.Indexes, func(o connector.Index) bool {
			return o.Unique == common.Unique && o.Partial == common.Partial && slices.Equal(o.Columns, common.Columns)
		}) {
			out = append(out, common)
		}
	}
	return out
}

// bestIndex returns the index of p on exactly the key terms cols that
// serves the most: a complete one before a partial one, then a unique one
// before another, then the first by name.
func bestIndex(p *connector.Table, cols []string) (connector.Index, bool) {
	var best connector.Index
	found := false
	for _, ix := range p.Indexes {
		if !slices.Equal(ix.Columns, cols) {
			continue
		}
		better := !found ||
			(best.Partial && !ix.Partial) ||
			(best.Partial == ix.Partial && !best.Unique && ix.Unique) ||
			(best.Partial == ix.Partial && best.Unique == ix.Unique && ix.Name < best.Name)
		if better {
			best, found = ix, true
		}
	}
	return best, found
}

// covers reports whether terms include every column of a non-empty
// partition key, which makes an index unique on each partition unique over
// the whole table: equal keys land in the same partition.
func covers(terms, key []string) bool {
	if len(key) == 0 {
		return false
	}
	for _, k := range key {
		if !slices.Contains(terms, k) {
			return false
		}
	}
	return true
}
