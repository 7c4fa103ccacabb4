// Package connector is the seam between vow and a company datastore.
//
// A [Connector] reads the structure of one datastore (tables, columns, keys
// and indexes) into a driver-independent [Schema]. Driver packages live in
// subpackages (postgres, mysql, sqlite); each translates its driver's errors
// into the sentinel errors of this package at its boundary, so callers can
// branch with errors.Is without knowing which database they talk to:
//
//	c, err := postgres.Open(ctx, dsn)
//	switch {
//	case errors.Is(err, connector.ErrUnreachable):
//		// start the server, fix host or port
//	case errors.Is(err, connector.ErrAuth):
//		// fix credentials
//	case errors.Is(err, connector.ErrNoDatabase):
//		// fix the database name or path
//	}
//
// Error messages produced by connectors are a single line, say what to do
// next, and never contain the password of a DSN.
package connector

import (
	"context"
	"database/sql"
	"errors"
	"strings"
)

// Sentinel errors that connectors wrap so that callers can branch on the
// cause of a failure with errors.Is.
var (
	// ErrUnreachable reports that the datastore server could not be reached:
	// the connection was refused, the host name did not resolve, the network
	// was unreachable or the attempt timed out.
	ErrUnreachable = errors.New("datastore unreachable")

	// ErrAuth reports that the server rejected the credentials: the
	// authentication failed, the user does not exist or access was denied.
	ErrAuth = errors.New("datastore authentication failed")

	// ErrNoDatabase reports that the named database (or SQLite file) does
	// not exist, or that the DSN names no database at all.
	ErrNoDatabase = errors.New("datastore database does not exist")

	// ErrInvalidDSN reports that a DSN could not be parsed.
	ErrInvalidDSN = errors.New("invalid datastore DSN")
)

// Connector reads the structure of one datastore.
//
// Implementations are safe for concurrent use.
type Connector interface {
	// Introspect reads the tables of the datastore.
	Introspect(ctx context.Context) (*Schema, error)
	// Close releases the connections held by the connector.
	Close() error
}

// SQL is a [Connector] to a SQL database that also gives row access, for
// the capabilities that read and change rows (requests, retention). They
// write their statements with [SQL.Dialect] and run them on [SQL.DB].
type SQL interface {
	Connector
	// DB returns the connection pool. It is owned by the connector: do
	// not close it.
	DB() *sql.DB
	// Dialect returns how to quote identifiers and write parameters.
	Dialect() Dialect
	// Translate turns an error from DB into a single-line [*Error] that
	// wraps the sentinel errors of this package where they apply (a lost
	// server gives [ErrUnreachable]) and never contains a password. op
	// names what was being done, such as "delete from users".
	Translate(ctx context.Context, op string, err error) error
}

// Schema is the structure of one datastore.
type Schema struct {
	// Kind names the datastore type: "postgres", "mysql" or "sqlite".
	Kind string
	// Tables holds the base tables (not views), sorted by name.
	Tables []Table
}

// Table returns the table called name, or nil if there is none. An exact
// match wins; otherwise the first case-insensitive match is returned.
func (s *Schema) Table(name string) *Table {
	if s == nil {
		return nil
	}
	for i := range s.Tables {
		if s.Tables[i].Name == name {
			return &s.Tables[i]
		}
	}
	for i := range s.Tables {
		if strings.EqualFold(s.Tables[i].Name, name) {
			return &s.Tables[i]
		}
	}
	return nil
}

// Table is one base table of a datastore.
type Table struct {
	// Name is the table name. Drivers with several namespaces qualify it
	// as "schema.table" unless the table lives in the default namespace
	// (for PostgreSQL, "public").
	Name string
	// Columns holds the columns in their ordinal order.
	Columns []Column
	// PrimaryKey holds the primary key column names in key order, or nil
	// if the table has no primary key.
	PrimaryKey []string
	// ForeignKeys holds the foreign keys declared on the table.
	ForeignKeys []ForeignKey
	// Indexes holds the secondary indexes of the table (unique or not),
	// sorted by name. The index backing the primary key is not listed.
	Indexes []Index
}

// Column returns the column called name, or nil if there is none. An exact
// match wins; otherwise the first case-insensitive match is returned.
func (t *Table) Column(name string) *Column {
	if t == nil {
		return nil
	}
	for i := range t.Columns {
		if t.Columns[i].Name == name {
			return &t.Columns[i]
		}
	}
	for i := range t.Columns {
		if strings.EqualFold(t.Columns[i].Name, name) {
			return &t.Columns[i]
		}
	}
	return nil
}

// Column is one column of a table.
type Column struct {
	// Name is the column name.
	Name string
	// Type is the lower-case database type, such as "text",
	// "varchar(255)", "timestamp with time zone" or "integer".
	Type string
	// Nullable reports whether the column accepts NULL.
	Nullable bool
}

// ForeignKey is a (possibly multi-column) reference from one table to
// another.
type ForeignKey struct {
	// Columns are the referencing columns, in constraint order.
	Columns []string
	// RefTable is the referenced table, named like [Table.Name].
	RefTable string
	// RefColumns are the referenced columns, matching Columns one to one.
	RefColumns []string
}

// Index is a secondary index of a table.
type Index struct {
	// Name is the index name.
	Name string
	// Columns are the indexed columns in index order. An expression
	// index term is reported as the expression text.
	Columns []string
	// Unique reports whether the index enforces uniqueness.
	Unique bool
}
