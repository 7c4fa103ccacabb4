package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"

	"github.com/vowprivacy/vow/connector"
	"github.com/vowprivacy/vow/connector/internal/order"
)

const (
	// MariaDB reports system-versioned tables with their own type.
	tablesQuery = `
SELECT TABLE_NAME FROM information_schema.TABLES
WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED')`

	columnsQuery = `
SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE = 'YES'
FROM information_schema.COLUMNS
WHERE TABLE_SCHEMA = DATABASE()
ORDER BY TABLE_NAME, ORDINAL_POSITION`

	// A functional index part (MySQL 8) has no COLUMN_NAME.
	indexesQuery = `
SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE = 0, COALESCE(COLUMN_NAME, '(expression)')
FROM information_schema.STATISTICS
WHERE TABLE_SCHEMA = DATABASE()
ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX`

	foreignKeysQuery = `
SELECT TABLE_NAME, CONSTRAINT_NAME, REFERENCED_TABLE_SCHEMA = DATABASE(),
       REFERENCED_TABLE_SCHEMA, REFERENCED_TABLE_NAME, COLUMN_NAME, REFERENCED_COLUMN_NAME
FROM information_schema.KEY_COLUMN_USAGE
WHERE TABLE_SCHEMA = DATABASE() AND REFERENCED_TABLE_NAME IS NOT NULL
ORDER BY TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION`
)

// primaryIndex is the name MySQL gives the index of the primary key.
const primaryIndex = "PRIMARY"

// Introspect reads all base tables of the current database, with their
// columns, primary keys, foreign keys and secondary indexes. Foreign keys
// to tables of another database name them "database.table".
func (c *Connector) Introspect(ctx context.Context) (*connector.Schema, error) {
	conn, err := c.db.Conn(ctx)
	if err != nil {
		return nil, c.translate(ctx, "introspect", err)
	}
	defer conn.Close()

	tables := map[string]*connector.Table{}
	// lastKey identifies the constraint or index the previous row belonged
	// to; the rows of one come together, in key order.
	var lastKey string
	steps := []struct {
		op    string
		query string
		scan  func(*sql.Rows) error
	}{
		{"list tables", tablesQuery, func(rows *sql.Rows) error {
			var name string
			if err := rows.Scan(&name); err != nil {
				return err
			}
			tables[name] = &connector.Table{Name: name}
			return nil
		}},
		{"list columns", columnsQuery, func(rows *sql.Rows) error {
			var table string
			var col connector.Column
			if err := rows.Scan(&table, &col.Name, &col.Type, &col.Nullable); err != nil {
				return err
			}
			col.Type = normalizeType(col.Type)
			if t := tables[table]; t != nil {
				t.Columns = append(t.Columns, col)
			}
			return nil
		}},
		{"list indexes", indexesQuery, func(rows *sql.Rows) error {
			var table, name, column string
			var unique bool
			if err := rows.Scan(&table, &name, &unique, &column); err != nil {
				return err
			}
			t := tables[table]
			switch {
			case t == nil:
			case name == primaryIndex:
				t.PrimaryKey = append(t.PrimaryKey, column)
			default:
				if key := table + "\x00" + name; key != lastKey {
					lastKey = key
					t.Indexes = append(t.Indexes, connector.Index{Name: name, Unique: unique})
				}
				idx := &t.Indexes[len(t.Indexes)-1]
				idx.Columns = append(idx.Columns, column)
			}
			return nil
		}},
		{"list foreign keys", foreignKeysQuery, func(rows *sql.Rows) error {
			var table, name, refSchema, refTable, column, refColumn string
			var sameSchema bool
			if err := rows.Scan(&table, &name, &sameSchema, &refSchema, &refTable, &column, &refColumn); err != nil {
				return err
			}
			t := tables[table]
			if t == nil {
				return nil
			}
			if key := table + "\x00" + name; key != lastKey {
				lastKey = key
				if !sameSchema {
					refTable = refSchema + "." + refTable
				}
				t.ForeignKeys = append(t.ForeignKeys, connector.ForeignKey{RefTable: refTable})
			}
			fk := &t.ForeignKeys[len(t.ForeignKeys)-1]
			fk.Columns = append(fk.Columns, column)
			fk.RefColumns = append(fk.RefColumns, refColumn)
			return nil
		}},
	}
	for _, step := range steps {
		lastKey = ""
		if err := query(ctx, conn, step.query, step.scan); err != nil {
			return nil, c.translate(ctx, "introspect: "+step.op, err)
		}
	}

	schema := &connector.Schema{Kind: Kind, Tables: make([]connector.Table, 0, len(tables))}
	for _, t := range tables {
		schema.Tables = append(schema.Tables, *t)
	}
	order.Schema(schema)
	return schema, nil
}

// query runs sqlText and calls scan for each row.
func query(ctx context.Context, conn *sql.Conn, sqlText string, scan func(*sql.Rows) error) error {
	rows, err := conn.QueryContext(ctx, sqlText)
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

// intWidth matches the display width of an integer type, "int(11)".
var intWidth = regexp.MustCompile(`^(tinyint|smallint|mediumint|int|bigint)\((\d+)\)`)

// normalizeType lower-cases a COLUMN_TYPE and drops the display width of
// integer types other than tinyint(1), so that MariaDB and MySQL 8 agree.
func normalizeType(t string) string {
	t = strings.ToLower(strings.TrimSpace(t))
	m := intWidth.FindStringSubmatch(t)
	if m == nil || (m[1] == "tinyint" && m[2] == "1") {
		return t
	}
	return m[1] + t[len(m[0]):]
}
