package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/vowprivacy/vow/connector"
	"github.com/vowprivacy/vow/connector/internal/order"
	"github.com/vowprivacy/vow/connector/internal/sqltext"
)

// tablesCTE selects the introspected relations, ordinary and partitioned
// tables outside the system schemas, with the name they are reported
// under. Partitions are selected too (part is true), for what their
// partitioned table inherits from them; they are not reported as tables.
const tablesCTE = `
WITH t AS (
	SELECT c.oid, c.relkind = 'p' AS partitioned, c.relispartition AS part,
	       CASE WHEN n.nspname = 'public' THEN c.relname
	            ELSE n.nspname || '.' || c.relname END AS name
	FROM pg_catalog.pg_class c
	JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
	WHERE c.relkind IN ('r', 'p')
	  AND n.nspname <> 'information_schema'
	  AND n.nspname !~ '^pg_'
)
`

const (
	tablesQuery = tablesCTE + `SELECT t.name, t.partitioned, t.part FROM t`

	columnsQuery = tablesCTE + `
SELECT t.name, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), NOT a.attnotnull
FROM t
JOIN pg_catalog.pg_attribute a ON a.attrelid = t.oid
WHERE a.attnum > 0 AND NOT a.attisdropped AND NOT t.part
ORDER BY t.name, a.attnum`

	// Column and table names are looked up in scalar subqueries rather
	// than joined here and in foreignKeysQuery: on a new server session
	// planning the joins was most of the introspection's time (the
	// foreign keys' eight-way join alone took 15–20 ms to plan with the
	// catalogs' caches cold, 5 ms as it is now), and a subquery by
	// primary key costs no more to run, on 3,000 tables too.
	primaryKeysQuery = tablesCTE + `
SELECT t.name, (SELECT a.attname FROM pg_catalog.pg_attribute a WHERE a.attrelid = con.conrelid AND a.attnum = k.attnum)
FROM t
JOIN pg_catalog.pg_constraint con ON con.conrelid = t.oid AND con.contype = 'p'
CROSS JOIN LATERAL unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
WHERE NOT t.part
ORDER BY t.name, k.ord`

	// conparentid = 0 leaves out the copies PostgreSQL makes of a foreign
	// key: on each partition of the table that declares it, and per
	// partition of a partitioned table it references. A partition's rows
	// are thus only its own declarations.
	foreignKeysQuery = tablesCTE + `
SELECT t.name, con.conname,
       (SELECT CASE WHEN fn.nspname = 'public' THEN f.relname ELSE fn.nspname || '.' || f.relname END
        FROM pg_catalog.pg_class f JOIN pg_catalog.pg_namespace fn ON fn.oid = f.relnamespace
        WHERE f.oid = con.confrelid),
       CASE con.confdeltype WHEN 'a' THEN 'NO ACTION' WHEN 'r' THEN 'RESTRICT' WHEN 'c' THEN 'CASCADE'
            WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN 'SET DEFAULT' ELSE con.confdeltype::text END,
       (SELECT a.attname FROM pg_catalog.pg_attribute a WHERE a.attrelid = con.conrelid AND a.attnum = k.attnum),
       (SELECT fa.attname FROM pg_catalog.pg_attribute fa WHERE fa.attrelid = con.confrelid AND fa.attnum = k.fattnum)
FROM t
JOIN pg_catalog.pg_constraint con ON con.conrelid = t.oid AND con.contype = 'f' AND con.conparentid = 0
CROSS JOIN LATERAL unnest(con.conkey, con.confkey) WITH ORDINALITY AS k(attnum, fattnum, ord)
ORDER BY t.name, con.conname, k.ord`

	// Only key columns are listed (not INCLUDE columns); an expression
	// term is reported as its text. A partition's primary key index is
	// listed with its other indexes: the partitioned table can inherit it
	// as an index (see inheritFromPartitions).
	indexesQuery = tablesCTE + `
SELECT t.name, ic.relname, i.indisunique, i.indpred IS NOT NULL, a.attname IS NULL,
       COALESCE(a.attname, pg_catalog.pg_get_indexdef(i.indexrelid, k.ord, true))
FROM t
JOIN pg_catalog.pg_index i ON i.indrelid = t.oid AND (t.part OR NOT i.indisprimary)
JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
CROSS JOIN LATERAL generate_series(1, i.indnkeyatts::int) AS k(ord)
LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[k.ord - 1] AND a.attnum > 0
ORDER BY t.name, ic.relname, k.ord`

	// pg_get_expr gives the bare condition; pg_get_constraintdef would
	// wrap it in CHECK (…) and may append NOT VALID, to be parsed off
	// again. NOT VALID checks are listed: they bind every new write, so
	// an erasure that breaks one fails all the same. A check without
	// columns (CHECK (false)) gives one row with an empty column name.
	checksQuery = tablesCTE + `
SELECT t.name, con.conname, pg_catalog.pg_get_expr(con.conbin, con.conrelid, true), COALESCE(a.attname, '')
FROM t
JOIN pg_catalog.pg_constraint con ON con.conrelid = t.oid AND con.contype = 'c'
LEFT JOIN LATERAL unnest(con.conkey) AS k(attnum) ON true
LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
WHERE NOT t.part
ORDER BY t.name, con.conname, a.attnum`

	// A partition key term that is an expression has attnum 0, so no
	// column name.
	partitionKeysQuery = tablesCTE + `
SELECT t.name, COALESCE(a.attname, '')
FROM t
JOIN pg_catalog.pg_partitioned_table pt ON pt.partrelid = t.oid
CROSS JOIN LATERAL generate_series(1, pt.partnatts::int) AS k(ord)
LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = t.oid AND a.attnum = pt.partattrs[k.ord - 1] AND a.attnum > 0
ORDER BY t.name, k.ord`

	// Each domain with the type it is over at the end of its chain (a
	// domain over a domain over timestamp is a timestamp), by the names
	// format_type gives them. One query for all of them, not a lookup per
	// column: the introspection runs on cold catalogue caches.
	domainsQuery = `
WITH RECURSIVE d(oid, base, typmod) AS (
	SELECT oid, typbasetype, typtypmod FROM pg_catalog.pg_type WHERE typtype = 'd'
	UNION ALL
	SELECT d.oid, b.typbasetype, b.typtypmod FROM d JOIN pg_catalog.pg_type b ON b.oid = d.base WHERE b.typtype = 'd'
)
SELECT pg_catalog.format_type(d.oid, NULL), pg_catalog.format_type(d.base, d.typmod)
FROM d JOIN pg_catalog.pg_type b ON b.oid = d.base
WHERE b.typtype <> 'd'`

	// domainChecksQuery lists, for each domain, the CHECK constraints
	// (VALUE standing for the column) and the NOT NULL of every domain in
	// its chain, which bind a column typed by it as the table's own would:
	// a masked value breaks them the same way. A NOT NULL is a row with
	// no constraint name.
	domainChecksQuery = `
WITH RECURSIVE d(oid, dom) AS (
	SELECT oid, oid FROM pg_catalog.pg_type WHERE typtype = 'd'
	UNION ALL
	SELECT d.oid, t.typbasetype FROM d JOIN pg_catalog.pg_type t ON t.oid = d.dom
	JOIN pg_catalog.pg_type b ON b.oid = t.typbasetype WHERE b.typtype = 'd'
)
SELECT pg_catalog.format_type(d.oid, NULL), c.conname, pg_catalog.pg_get_expr(c.conbin, 0)
FROM d JOIN pg_catalog.pg_constraint c ON c.contypid = d.dom AND c.contype = 'c'
UNION ALL
SELECT pg_catalog.format_type(d.oid, NULL), NULL, NULL
FROM d JOIN pg_catalog.pg_type t ON t.oid = d.dom WHERE t.typnotnull
ORDER BY 1, 2`

	// Partitions are named here rather than taken from t, so that foreign
	// tables, which can be partitions too, are listed.
	partitionsQuery = tablesCTE + `
SELECT p.name, CASE WHEN n.nspname = 'public' THEN c.relname
                    ELSE n.nspname || '.' || c.relname END
FROM pg_catalog.pg_inherits i
JOIN t p ON p.oid = i.inhparent AND p.partitioned
JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid AND c.relispartition
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
ORDER BY 1, 2`
)

// Introspect reads all base tables of the database, with their columns,
// primary keys, foreign keys, secondary indexes, checks and partitioning.
// The reads run in one read-only, repeatable-read transaction so that they
// see one snapshot.
func (c *Connector) Introspect(ctx context.Context) (*connector.Schema, error) {
	tx, err := c.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, c.target.translate(ctx, "introspect", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()

	// tables holds the partitions too, which parts marks.
	tables := map[string]*connector.Table{}
	parts := map[string]bool{}
	// exprKey marks the tables partitioned by an expression.
	exprKey := map[string]bool{}
	// domains maps a domain's name to the type at the end of its chain.
	domains := map[string]string{}
	// domainChecks and domainNotNull bind the columns typed by a domain.
	domainChecks := map[string][]connector.Check{}
	domainNotNull := map[string]bool{}
	// lastKey identifies the constraint or index the previous row belonged
	// to; rows of one come together, in key order.
	var lastKey string
	// next reports whether a row of table with the constraint or index
	// name starts a new one.
	next := func(table, name string) bool {
		key := table + "\x00" + name
		if key == lastKey {
			return false
		}
		lastKey = key
		return true
	}
	steps := []struct {
		op    string
		query string
		scan  func(rows pgx.Rows) error
	}{
		{"list tables", tablesQuery, func(rows pgx.Rows) error {
			var name string
			var partitioned, part bool
			if err := rows.Scan(&name, &partitioned, &part); err != nil {
				return err
			}
			tables[name] = &connector.Table{Name: name, Partitioned: partitioned}
			parts[name] = part
			return nil
		}},
		{"list columns", columnsQuery, func(rows pgx.Rows) error {
			var table string
			var col connector.Column
			if err := rows.Scan(&table, &col.Name, &col.Type, &col.Nullable); err != nil {
				return err
			}
			if t := tables[table]; t != nil {
				t.Columns = append(t.Columns, col)
			}
			return nil
		}},
		{"list primary keys", primaryKeysQuery, func(rows pgx.Rows) error {
			var table, column string
			if err := rows.Scan(&table, &column); err != nil {
				return err
			}
			if t := tables[table]; t != nil {
				t.PrimaryKey = append(t.PrimaryKey, column)
			}
			return nil
		}},
		{"list foreign keys", foreignKeysQuery, func(rows pgx.Rows) error {
			var table, name, refTable, onDelete, column, refColumn string
			if err := rows.Scan(&table, &name, &refTable, &onDelete, &column, &refColumn); err != nil {
				return err
			}
			t := tables[table]
			if t == nil {
				return nil
			}
			if next(table, name) {
				action, ok := sqltext.Action(onDelete)
				if !ok {
					return fmt.Errorf("foreign key %s of %s: unknown delete rule %q", name, table, onDelete)
				}
				t.ForeignKeys = append(t.ForeignKeys, connector.ForeignKey{RefTable: refTable, OnDelete: action})
			}
			fk := &t.ForeignKeys[len(t.ForeignKeys)-1]
			fk.Columns = append(fk.Columns, column)
			fk.RefColumns = append(fk.RefColumns, refColumn)
			return nil
		}},
		{"list indexes", indexesQuery, func(rows pgx.Rows) error {
			var table, name, term string
			var unique, partial, expr bool
			if err := rows.Scan(&table, &name, &unique, &partial, &expr, &term); err != nil {
				return err
			}
			t := tables[table]
			if t == nil {
				return nil
			}
			if next(table, name) {
				t.Indexes = append(t.Indexes, connector.Index{Name: name, Unique: unique, Partial: partial})
			}
			if expr {
				term = sqltext.Normalize(term, sqltext.Postgres, nil)
			}
			idx := &t.Indexes[len(t.Indexes)-1]
			idx.Columns = append(idx.Columns, term)
			return nil
		}},
		{"list checks", checksQuery, func(rows pgx.Rows) error {
			var table, name, expr, column string
			if err := rows.Scan(&table, &name, &expr, &column); err != nil {
				return err
			}
			t := tables[table]
			if t == nil {
				return nil
			}
			if next(table, name) {
				t.Checks = append(t.Checks, connector.Check{Name: name, Expr: sqltext.Normalize(expr, sqltext.Postgres, nil)})
			}
			if column != "" {
				ck := &t.Checks[len(t.Checks)-1]
				ck.Columns = append(ck.Columns, column)
			}
			return nil
		}},
		{"list partition keys", partitionKeysQuery, func(rows pgx.Rows) error {
			var table, column string
			if err := rows.Scan(&table, &column); err != nil {
				return err
			}
			t := tables[table]
			switch {
			case t == nil || exprKey[table]:
			case column == "":
				exprKey[table] = true
				t.PartitionKey = nil
			default:
				t.PartitionKey = append(t.PartitionKey, column)
			}
			return nil
		}},
		{"list domains", domainsQuery, func(rows pgx.Rows) error {
			var name, base string
			if err := rows.Scan(&name, &base); err != nil {
				return err
			}
			domains[name] = base
			return nil
		}},
		{"list domain checks", domainChecksQuery, func(rows pgx.Rows) error {
			var domain string
			var name, expr *string
			if err := rows.Scan(&domain, &name, &expr); err != nil {
				return err
			}
			if name == nil {
				domainNotNull[domain] = true
			} else {
				domainChecks[domain] = append(domainChecks[domain], connector.Check{Name: *name, Expr: *expr})
			}
			return nil
		}},
		{"list partitions", partitionsQuery, func(rows pgx.Rows) error {
			var parent, partition string
			if err := rows.Scan(&parent, &partition); err != nil {
				return err
			}
			if t := tables[parent]; t != nil {
				t.Partitions = append(t.Partitions, partition)
			}
			return nil
		}},
	}
	// One round trip for all the reads, read in order: on a new server
	// session (a one-shot command's) each query's first touch of the
	// catalogs is slow, and waiting for each before sending the next
	// added about a third to the introspection.
	batch := &pgx.Batch{}
	for _, step := range steps {
		batch.Queue(step.query)
	}
	results := tx.SendBatch(ctx, batch)
	for _, step := range steps {
		lastKey = ""
		if err := scanAll(results, step.scan); err != nil {
			_ = results.Close()
			return nil, c.target.translate(ctx, "introspect: "+step.op, err)
		}
	}
	if err := results.Close(); err != nil {
		return nil, c.target.translate(ctx, "introspect", err)
	}
	inheritFromPartitions(tables)
	for _, t := range tables {
		for i := range t.Columns {
			col := &t.Columns[i]
			if base, ok := domains[col.Type]; ok {
				col.Domain = base
				if domainNotNull[col.Type] {
					col.Nullable = false
				}
				for _, ck := range domainChecks[col.Type] {
					value := func(name string) (string, bool) { return col.Name, strings.EqualFold(name, "value") }
					t.Checks = append(t.Checks, connector.Check{Name: ck.Name, Expr: sqltext.Normalize(ck.Expr, sqltext.Postgres, value), Columns: []string{col.Name}})
				}
			} else if elem, ok := strings.CutSuffix(col.Type, "[]"); ok && domains[elem] != "" {
				// An array of a domain: an array of its base.
				col.Domain = domains[elem] + "[]"
			}
		}
	}

	schema := &connector.Schema{Kind: Kind, Tables: make([]connector.Table, 0, len(tables))}
	for name, t := range tables {
		if !parts[name] {
			schema.Tables = append(schema.Tables, *t)
		}
	}
	order.Schema(schema)
	return schema, nil
}

// scanAll reads the next result of a batch and calls scan for each row.
func scanAll(results pgx.BatchResults, scan func(pgx.Rows) error) error {
	rows, err := results.Query()
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return fmt.Errorf("scan: %w", err)
		}
	}
	return rows.Err()
}
