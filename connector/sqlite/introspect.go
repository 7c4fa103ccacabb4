package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/vowprivacy/vow/connector"
	"github.com/vowprivacy/vow/connector/internal/order"
	"github.com/vowprivacy/vow/connector/internal/sqltext"
)

// expressionColumn stands for an index term that is an expression, whose
// text SQLite's pragmas do not report, when it cannot be read from the
// CREATE INDEX statement either.
const expressionColumn = "(expression)"

// Introspect reads all tables of the main database, with their columns,
// primary keys, foreign keys, secondary indexes and checks, inside one read
// transaction. Indexes SQLite creates for a PRIMARY KEY constraint are not
// listed; those for UNIQUE constraints are.
func (c *Connector) Introspect(ctx context.Context) (*connector.Schema, error) {
	tx, err := c.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, c.translate(ctx, "introspect", err)
	}
	defer func() { _ = tx.Rollback() }()

	in := introspector{ctx: ctx, tx: tx}
	schema, err := in.schema()
	if err != nil {
		return nil, c.translate(ctx, "introspect", err)
	}
	return schema, nil
}

// introspector runs the introspection queries of one transaction.
type introspector struct {
	ctx context.Context
	tx  *sql.Tx
	// names maps lower-cased table names to their declared spelling, to
	// report foreign key targets the way the tables are named.
	names map[string]string
}

func (in *introspector) schema() (*connector.Schema, error) {
	var names []string
	// creates holds the CREATE TABLE statement of each table, by name.
	creates := map[string]string{}
	err := in.query(func(rows *sql.Rows) error {
		var name string
		var create sql.NullString
		if err := rows.Scan(&name, &create); err != nil {
			return err
		}
		names = append(names, name)
		creates[name] = create.String
		return nil
	}, `SELECT name, sql FROM sqlite_master
		WHERE type = 'table'
		  AND name NOT LIKE 'sqlite\_%' ESCAPE '\'
		  AND upper(coalesce(sql, '')) NOT LIKE 'CREATE VIRTUAL TABLE%'`)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	in.names = make(map[string]string, len(names))
	for _, n := range names {
		in.names[strings.ToLower(n)] = n
	}

	schema := &connector.Schema{Kind: Kind, Tables: make([]connector.Table, 0, len(names))}
	for _, name := range names {
		t, err := in.table(name, creates[name])
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", name, err)
		}
		schema.Tables = append(schema.Tables, *t)
	}
	order.Schema(schema)
	return schema, nil
}

// table reads the table called name, created by createSQL.
func (in *introspector) table(name, createSQL string) (*connector.Table, error) {
	t := &connector.Table{Name: name}
	withoutRowid, err := in.withoutRowid(name)
	if err != nil {
		return nil, err
	}
	if err := in.columns(t, withoutRowid); err != nil {
		return nil, fmt.Errorf("columns: %w", err)
	}
	if err := in.foreignKeys(t); err != nil {
		return nil, fmt.Errorf("foreign keys: %w", err)
	}
	if err := in.indexes(t); err != nil {
		return nil, fmt.Errorf("indexes: %w", err)
	}
	t.Checks = tableChecks(createSQL, t)
	return t, nil
}

// withoutRowid reports whether table was created WITHOUT ROWID.
func (in *introspector) withoutRowid(table string) (bool, error) {
	var wr bool
	err := in.tx.QueryRowContext(in.ctx,
		`SELECT wr FROM pragma_table_list WHERE schema = 'main' AND name = ?`, table).Scan(&wr)
	if err != nil {
		return false, fmt.Errorf("table_list: %w", err)
	}
	return wr, nil
}

// columns fills in the columns and primary key of t from table_info.
//
// A column is reported NOT NULL if it is declared so, and also if it is a
// primary key column that cannot hold NULL despite no declaration: the
// INTEGER PRIMARY KEY of a rowid table (an alias of the rowid) and the
// primary key columns of a WITHOUT ROWID table.
func (in *introspector) columns(t *connector.Table, withoutRowid bool) error {
	type pkCol struct {
		name string
		pos  int
	}
	var pk []pkCol
	err := in.query(func(rows *sql.Rows) error {
		var (
			col     connector.Column
			notNull bool
			pkPos   int
		)
		if err := rows.Scan(&col.Name, &col.Type, &notNull, &pkPos); err != nil {
			return err
		}
		col.Type = strings.ToLower(col.Type)
		col.Nullable = !notNull
		if pkPos > 0 {
			pk = append(pk, pkCol{col.Name, pkPos})
			if withoutRowid {
				col.Nullable = false
			}
		}
		t.Columns = append(t.Columns, col)
		return nil
	}, `SELECT name, type, "notnull", pk FROM pragma_table_info(?) ORDER BY cid`, t.Name)
	if err != nil {
		return err
	}
	if len(pk) == 1 && !withoutRowid {
		if c := t.Column(pk[0].name); c != nil && c.Type == "integer" {
			c.Nullable = false // rowid alias
		}
	}
	slices.SortFunc(pk, func(a, b pkCol) int { return cmp.Compare(a.pos, b.pos) })
	for _, c := range pk {
		t.PrimaryKey = append(t.PrimaryKey, c.name)
	}
	return nil
}

// foreignKeys fills in the foreign keys of t from foreign_key_list.
func (in *introspector) foreignKeys(t *connector.Table) error {
	lastID := -1
	err := in.query(func(rows *sql.Rows) error {
		var (
			id       int
			refTable string
			from     string
			to       sql.NullString
			onDelete string
		)
		if err := rows.Scan(&id, &refTable, &from, &to, &onDelete); err != nil {
			return err
		}
		if id != lastID {
			lastID = id
			if declared, ok := in.names[strings.ToLower(refTable)]; ok {
				refTable = declared
			}
			action, ok := sqltext.Action(onDelete)
			if !ok {
				return fmt.Errorf("foreign key to %s: unknown delete rule %q", refTable, onDelete)
			}
			t.ForeignKeys = append(t.ForeignKeys, connector.ForeignKey{RefTable: refTable, OnDelete: action})
		}
		fk := &t.ForeignKeys[len(t.ForeignKeys)-1]
		fk.Columns = append(fk.Columns, from)
		// A NULL "to" means the key references the primary key of the
		// parent table; it is resolved below.
		fk.RefColumns = append(fk.RefColumns, to.String)
		return nil
	}, `SELECT id, "table", "from", "to", on_delete FROM pragma_foreign_key_list(?) ORDER BY id, seq`, t.Name)
	if err != nil {
		return err
	}
	for i := range t.ForeignKeys {
		fk := &t.ForeignKeys[i]
		if fk.RefColumns[0] != "" {
			continue
		}
		pk, err := in.primaryKey(fk.RefTable)
		if err != nil {
			return fmt.Errorf("primary key of %s: %w", fk.RefTable, err)
		}
		if len(pk) == len(fk.Columns) {
			fk.RefColumns = pk
		}
	}
	return nil
}

// primaryKey returns the primary key columns of table in key order.
func (in *introspector) primaryKey(table string) ([]string, error) {
	var pk []string
	err := in.query(func(rows *sql.Rows) error {
		var name string
		if err := rows.Scan(&name); err != nil {
			return err
		}
		pk = append(pk, name)
		return nil
	}, `SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk`, table)
	return pk, err
}

// indexes fills in the secondary indexes of t from index_list and
// index_info. An expression term, which index_info leaves unnamed, is read
// from the CREATE INDEX statement.
func (in *introspector) indexes(t *connector.Table) error {
	// creates holds the CREATE INDEX statement of each index, by position
	// in t.Indexes; SQLite's own indexes (for UNIQUE) have none.
	var creates []string
	err := in.query(func(rows *sql.Rows) error {
		var idx connector.Index
		var create sql.NullString
		if err := rows.Scan(&idx.Name, &idx.Unique, &idx.Partial, &create); err != nil {
			return err
		}
		t.Indexes = append(t.Indexes, idx)
		creates = append(creates, create.String)
		return nil
	}, `SELECT il.name, il."unique", il.partial, m.sql
		FROM pragma_index_list(?) il
		LEFT JOIN sqlite_master m ON m.type = 'index' AND m.name = il.name
		WHERE il.origin <> 'pk' ORDER BY il.name`, t.Name)
	if err != nil {
		return err
	}
	// SQLite matches names case-insensitively; report them as declared.
	column := sqltext.Names(t.ColumnNames())
	for i := range t.Indexes {
		idx := &t.Indexes[i]
		var terms []string // read when an expression needs them
		err := in.query(func(rows *sql.Rows) error {
			var name sql.NullString
			if err := rows.Scan(&name); err != nil {
				return err
			}
			term := name.String
			if !name.Valid {
				if terms == nil {
					terms = indexTerms(creates[i], column)
				}
				term = expressionColumn
				if n := len(idx.Columns); n < len(terms) {
					term = terms[n]
				}
			}
			idx.Columns = append(idx.Columns, term)
			return nil
		}, `SELECT name FROM pragma_index_info(?) ORDER BY seqno`, idx.Name)
		if err != nil {
			return fmt.Errorf("index %s: %w", idx.Name, err)
		}
	}
	return nil
}

// query runs sqlText with args and calls scan for each row.
func (in *introspector) query(scan func(*sql.Rows) error, sqlText string, args ...any) error {
	rows, err := in.tx.QueryContext(in.ctx, sqlText, args...)
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
