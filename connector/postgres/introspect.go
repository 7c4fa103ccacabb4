package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/vowprivacy/vow/connector"
	"github.com/vowprivacy/vow/connector/internal/order"
)

// tablesCTE selects the introspected tables: ordinary and partitioned
// tables (not partitions) outside the system schemas, with the name they
// are reported under.
const tablesCTE = `
WITH t AS (
	SELECT c.oid,
	       CASE WHEN n.nspname = 'public' THEN c.relname
	            ELSE n.nspname || '.' || c.relname END AS name
	FROM pg_catalog.pg_class c
	JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
	WHERE c.relkind IN ('r', 'p')
	  AND NOT c.relispartition
	  AND n.nspname <> 'information_schema'
	  AND n.nspname !~ '^pg_'
)
`

const (
	tablesQuery = tablesCTE + `SELECT t.name FROM t`

	columnsQuery = tablesCTE + `
SELECT t.name, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), NOT a.attnotnull
FROM t
JOIN pg_catalog.pg_attribute a ON a.attrelid = t.oid
WHERE a.attnum > 0 AND NOT a.attisdropped
ORDER BY t.name, a.attnum`

	primaryKeysQuery = tablesCTE + `
SELECT t.name, a.attname
FROM t
JOIN pg_catalog.pg_constraint con ON con.conrelid = t.oid AND con.contype = 'p'
CROSS JOIN LATERAL unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
ORDER BY t.name, k.ord`

	// conparentid = 0 leaves out the per-partition copies PostgreSQL makes
	// of a foreign key that references a partitioned table.
	foreignKeysQuery = tablesCTE + `
SELECT t.name, con.conname,
       CASE WHEN fn.nspname = 'public' THEN f.relname
            ELSE fn.nspname || '.' || f.relname END,
       a.attname, fa.attname
FROM t
JOIN pg_catalog.pg_constraint con ON con.conrelid = t.oid AND con.contype = 'f' AND con.conparentid = 0
JOIN pg_catalog.pg_class f ON f.oid = con.confrelid
JOIN pg_catalog.pg_namespace fn ON fn.oid = f.relnamespace
CROSS JOIN LATERAL unnest(con.conkey, con.confkey) WITH ORDINALITY AS k(attnum, fattnum, ord)
JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
JOIN pg_catalog.pg_attribute fa ON fa.attrelid = con.confrelid AND fa.attnum = k.fattnum
ORDER BY t.name, con.conname, k.ord`

	// Only key columns are listed (not INCLUDE columns); an expression
	// term is reported as its text.
	indexesQuery = tablesCTE + `
SELECT t.name, ic.relname, i.indisunique,
       COALESCE(a.attname, pg_catalog.pg_get_indexdef(i.indexrelid, k.ord, true))
FROM t
JOIN pg_catalog.pg_index i ON i.indrelid = t.oid AND NOT i.indisprimary
JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
CROSS JOIN LATERAL generate_series(1, i.indnkeyatts::int) AS k(ord)
LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[k.ord - 1] AND a.attnum > 0
ORDER BY t.name, ic.relname, k.ord`
)

// Introspect reads all base tables of the database, with their columns,
// primary keys, foreign keys and secondary indexes. The reads run in one
// read-only, repeatable-read transaction so that they see one snapshot.
func (c *Connector) Introspect(ctx context.Context) (*connector.Schema, error) {
	tx, err := c.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, c.target.translate(ctx, "introspect", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()

	tables := map[string]*connector.Table{}
	// lastKey identifies the constraint or index the previous row belonged
	// to; rows of one come together, in key order.
	var lastKey string
	steps := []struct {
		op    string
		query string
		scan  func(rows pgx.Rows) error
	}{
		{"list tables", tablesQuery, func(rows pgx.Rows) error {
			var name string
			if err := rows.Scan(&name); err != nil {
				return err
			}
			tables[name] = &connector.Table{Name: name}
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
			var table, name, refTable, column, refColumn string
			if err := rows.Scan(&table, &name, &refTable, &column, &refColumn); err != nil {
				return err
			}
			t := tables[table]
			if t == nil {
				return nil
			}
			if key := table + "\x00" + name; key != lastKey {
				lastKey = key
				t.ForeignKeys = append(t.ForeignKeys, connector.ForeignKey{RefTable: refTable})
			}
			fk := &t.ForeignKeys[len(t.ForeignKeys)-1]
			fk.Columns = append(fk.Columns, column)
			fk.RefColumns = append(fk.RefColumns, refColumn)
			return nil
		}},
		{"list indexes", indexesQuery, func(rows pgx.Rows) error {
			var table, name, column string
			var unique bool
			if err := rows.Scan(&table, &name, &unique, &column); err != nil {
				return err
			}
			t := tables[table]
			if t == nil {
				return nil
			}
			if key := table + "\x00" + name; key != lastKey {
				lastKey = key
				t.Indexes = append(t.Indexes, connector.Index{Name: name, Unique: unique})
			}
			idx := &t.Indexes[len(t.Indexes)-1]
			idx.Columns = append(idx.Columns, column)
			return nil
		}},
	}
	for _, step := range steps {
		lastKey = ""
		if err := query(ctx, tx, step.query, step.scan); err != nil {
			return nil, c.target.translate(ctx, "introspect: "+step.op, err)
		}
	}

	schema := &connector.Schema{Kind: Kind, Tables: make([]connector.Table, 0, len(tables))}
	for _, t := range tables {
		schema.Tables = append(schema.Tables, *t)
	}
	order.Schema(schema)
	return schema, nil
}

// query runs sql and calls scan for each row.
func query(ctx context.Context, tx pgx.Tx, sql string, scan func(pgx.Rows) error) error {
	rows, err := tx.Query(ctx, sql)
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
