package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/vowprivacy/vow/connector"
	"github.com/vowprivacy/vow/connector/internal/order"
	"github.com/vowprivacy/vow/connector/internal/sqltext"
)

const (
	// MariaDB reports system-versioned tables with their own type.
	tablesQuery = `
SELECT TABLE_NAME FROM information_schema.TABLES
WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED')`

	columnsQuery = `
SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE = 'YES', COALESCE(COLLATION_NAME, ''), LOWER(EXTRA) LIKE '%on update%'
FROM information_schema.COLUMNS
WHERE TABLE_SCHEMA = DATABASE()
ORDER BY TABLE_NAME, ORDINAL_POSITION`

	// A functional index part (MySQL 8) has no COLUMN_NAME.
	indexesQuery = `
SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE = 0, COALESCE(COLUMN_NAME, '(expression)')
FROM information_schema.STATISTICS
WHERE TABLE_SCHEMA = DATABASE()
ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX`

	// The delete rules are read on their own and matched to the foreign
	// keys here: joined to KEY_COLUMN_USAGE, REFERENTIAL_CONSTRAINTS was
	// read for every database on the server (EXPLAIN: "Scanned all
	// databases", each table opened), 4.8 ms of MariaDB's 8 ms
	// introspection on a server with six; alone it scans one database.
	deleteRulesQuery = `
SELECT TABLE_NAME, CONSTRAINT_NAME, DELETE_RULE
FROM information_schema.REFERENTIAL_CONSTRAINTS
WHERE CONSTRAINT_SCHEMA = DATABASE()`

	foreignKeysQuery = `
SELECT k.TABLE_NAME, k.CONSTRAINT_NAME, k.REFERENCED_TABLE_SCHEMA = DATABASE(),
       k.REFERENCED_TABLE_SCHEMA, k.REFERENCED_TABLE_NAME, k.COLUMN_NAME, k.REFERENCED_COLUMN_NAME
FROM information_schema.KEY_COLUMN_USAGE k
WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL
ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION`

	// checkColumnsQuery tells the servers' CHECK_CONSTRAINTS apart (or
	// finds none, before MariaDB 10.2 and MySQL 8.0.16, which enforce no
	// checks): MariaDB's names the table of a check.
	checkColumnsQuery = `
SELECT COLUMN_NAME FROM information_schema.COLUMNS
WHERE TABLE_SCHEMA = 'information_schema' AND TABLE_NAME = 'CHECK_CONSTRAINTS'`

	// MariaDB names a column's own check after the column, so check
	// names are unique per table only.
	mariaDBChecksQuery = `
SELECT TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE
FROM information_schema.CHECK_CONSTRAINTS
WHERE CONSTRAINT_SCHEMA = DATABASE()`

	// MySQL's check names are unique per database; TABLE_CONSTRAINTS
	// gives their table, and leaves out NOT ENFORCED checks, which bind
	// no write.
	mySQLChecksQuery = `
SELECT tc.TABLE_NAME, cc.CONSTRAINT_NAME, cc.CHECK_CLAUSE
FROM information_schema.TABLE_CONSTRAINTS tc
JOIN information_schema.CHECK_CONSTRAINTS cc
  ON cc.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA AND cc.CONSTRAINT_NAME = tc.CONSTRAINT_NAME
WHERE tc.TABLE_SCHEMA = DATABASE() AND tc.CONSTRAINT_TYPE = 'CHECK' AND tc.ENFORCED = 'YES'`

	// A subpartitioned table has one row per subpartition, so a partition
	// name repeats.
	partitionsQuery = `
SELECT TABLE_NAME, PARTITION_NAME, PARTITION_METHOD, COALESCE(PARTITION_EXPRESSION, '')
FROM information_schema.PARTITIONS
WHERE TABLE_SCHEMA = DATABASE() AND PARTITION_NAME IS NOT NULL
ORDER BY TABLE_NAME, PARTITION_ORDINAL_POSITION, SUBPARTITION_ORDINAL_POSITION`
)

// primaryIndex is the name MySQL gives the index of the primary key.
const primaryIndex = "PRIMARY"

// Introspect reads all base tables of the current database, with their
// columns, primary keys, foreign keys, secondary indexes, checks and
// partitioning. Foreign keys to tables of another database name them
// "database.table".
func (c *Connector) Introspect(ctx context.Context) (*connector.Schema, error) {
	conn, err := c.db.Conn(ctx)
	if err != nil {
		return nil, c.translate(ctx, "introspect", err)
	}
	defer conn.Close()
	checksQuery, err := checksQueryFor(ctx, conn)
	if err != nil {
		return nil, c.translate(ctx, "introspect: find checks", err)
	}

	tables := map[string]*connector.Table{}
	// deleteRules are the foreign keys' ON DELETE rules by table and
	// constraint name.
	deleteRules := map[string]string{}
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
			if err := rows.Scan(&table, &col.Name, &col.Type, &col.Nullable, &col.Collation, &col.OnUpdateNow); err != nil {
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
		{"list delete rules", deleteRulesQuery, func(rows *sql.Rows) error {
			var table, name, onDelete string
			if err := rows.Scan(&table, &name, &onDelete); err != nil {
				return err
			}
			deleteRules[table+"\x00"+name] = onDelete
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
				onDelete, ok := deleteRules[key]
				if !ok {
					// Added between the two reads: what it does on delete
					// is not known, so the schema is not either.
					return fmt.Errorf("foreign key %s of %s has no delete rule (was it added just now? read again)", name, table)
				}
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
		{"list checks", checksQuery, func(rows *sql.Rows) error {
			var table, name, clause string
			if err := rows.Scan(&table, &name, &clause); err != nil {
				return err
			}
			if t := tables[table]; t != nil {
				t.Checks = append(t.Checks, check(t, name, clause))
			}
			return nil
		}},
		{"list partitions", partitionsQuery, func(rows *sql.Rows) error {
			var table, name, method, expr string
			if err := rows.Scan(&table, &name, &method, &expr); err != nil {
				return err
			}
			t := tables[table]
			switch {
			case t == nil:
			case !t.Partitioned:
				t.Partitioned = true
				t.PartitionKey = partitionKey(t, method, expr)
				t.Partitions = append(t.Partitions, name)
			case t.Partitions[len(t.Partitions)-1] != name:
				t.Partitions = append(t.Partitions, name)
			}
			return nil
		}},
	}
	for _, step := range steps {
		if step.query == "" {
			continue // no checks on this server
		}
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

// checksQueryFor returns the query that lists the checks on the server of
// conn, or "" if the server keeps none.
func checksQueryFor(ctx context.Context, conn *sql.Conn) (string, error) {
	var cols []string
	err := query(ctx, conn, checkColumnsQuery, func(rows *sql.Rows) error {
		var col string
		if err := rows.Scan(&col); err != nil {
			return err
		}
		cols = append(cols, strings.ToUpper(col))
		return nil
	})
	switch {
	case err != nil:
		return "", err
	case slices.Contains(cols, "TABLE_NAME"):
		return mariaDBChecksQuery, nil
	case slices.Contains(cols, "CHECK_CLAUSE"):
		return mySQLChecksQuery, nil
	}
	return "", nil
}

// check returns the check name on t with the condition clause, as
// CHECK_CLAUSE writes it ("`a` > 0"). Its columns are those the clause
// names as identifiers.
func check(t *connector.Table, name, clause string) connector.Check {
	cols := t.ColumnNames()
	return connector.Check{
		Name:    name,
		Expr:    sqltext.Normalize(clause, sqltext.MySQL, sqltext.Names(cols)),
		Columns: sqltext.Columns(sqltext.Tokenize(clause, sqltext.MySQL), cols),
	}
}

// partitionKey returns the columns t is partitioned by, given its
// PARTITION_METHOD and PARTITION_EXPRESSION ("`a`,`b`" for RANGE COLUMNS,
// "year(`at`)" for a RANGE expression), or nil if the expression is more
// than plain columns. KEY () with no columns partitions by the primary key.
func partitionKey(t *connector.Table, method, expr string) []string {
	toks := sqltext.Tokenize(expr, sqltext.MySQL)
	if len(toks) == 0 {
		if strings.HasSuffix(method, "KEY") { // KEY and LINEAR KEY
			return slices.Clone(t.PrimaryKey)
		}
		return nil
	}
	var key []string
	for _, term := range sqltext.Split(toks) {
		if len(term) != 1 || !term[0].IsName() {
			return nil
		}
		col := t.Column(term[0].Text)
		if col == nil {
			return nil
		}
		key = append(key, col.Name)
	}
	return key
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
