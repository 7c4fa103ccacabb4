// Package connector is the seam between vow and a company datastore.
//
// A [Connector] reads the structure of one datastore (tables, columns, keys
// with their delete rules, indexes, checks and partitioning) into a
// driver-independent [Schema], including the rules the database enforces
// itself, which decide how rows can be erased. Driver packages live in
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
	"slices"
	"strings"

	"github.com/vowprivacy/vow/connector/internal/sqltext"
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
	// ForeignKeys holds the foreign keys declared on the table. For a
	// partitioned PostgreSQL table it also holds, once, each foreign key
	// that every partition declares (same columns, same referenced table
	// and columns) but the table itself does not: rows in any partition
	// are bound by it all the same.
	ForeignKeys []ForeignKey
	// Indexes holds the secondary indexes of the table (unique or not),
	// sorted by name. The index backing the primary key is not listed.
	//
	// For a partitioned PostgreSQL table it also holds, once, each index
	// whose key terms are the same on every partition but that the table
	// itself does not have: every row can be found through it. Such an
	// index is reported under the name it has on the first partition
	// (in the order of Partitions), since the table has no index of its
	// own to name it after. It is Unique only if it is unique on every
	// partition and its terms include all of PartitionKey (otherwise two
	// partitions may hold the same key), and Partial if it is partial on
	// some partition. A partition's primary key counts as such an index.
	Indexes []Index
	// Checks holds the CHECK constraints of the table, sorted by name
	// (then expression). Column NOT NULL constraints are not listed:
	// [Column.Nullable] has them.
	Checks []Check
	// Partitioned reports whether the table is split into partitions
	// (PostgreSQL declarative partitioning, MySQL/MariaDB PARTITION BY).
	// SQLite has no partitioning.
	Partitioned bool
	// PartitionKey holds the columns rows are partitioned by, in key
	// order. It is nil if the table is not partitioned, and also if some
	// term of the key is an expression (such as YEAR(created_at)) rather
	// than a plain column. For MySQL/MariaDB PARTITION BY KEY (), which
	// partitions by the primary key, it is the primary key.
	PartitionKey []string
	// Partitions holds the names of the table's partitions, sorted. In
	// PostgreSQL they are the partition tables (the direct ones, not
	// their own partitions), named like Name; they are not listed in
	// [Schema.Tables] themselves, and their rows are the rows of this
	// table. In MySQL/MariaDB they are the partition names of the table.
	Partitions []string
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

// IndexStartsWith reports whether the primary key or some index (a
// partial one included: see [Index.Partial]) has term as its first term,
// that is whether a lookup by term can use an index. A plain column name
// matches case-insensitively; an expression is compared in the canonical
// form of [Index.Columns], with column names taking the table's spelling,
// so "LOWER( email )" matches the term lower(email).
func (t *Table) IndexStartsWith(term string) bool {
	if t == nil {
		return false
	}
	toks := sqltext.Unwrap(sqltext.Tokenize(term, sqltext.Postgres))
	plain := len(toks) == 1 && toks[0].IsName()
	want := sqltext.Format(toks, sqltext.Names(t.ColumnNames()))
	matches := func(first string) bool {
		if plain {
			return strings.EqualFold(first, toks[0].Text)
		}
		return first == want
	}
	if len(t.PrimaryKey) > 0 && matches(t.PrimaryKey[0]) {
		return true
	}
	for _, ix := range t.Indexes {
		if len(ix.Columns) > 0 && matches(ix.Columns[0]) {
			return true
		}
	}
	return false
}

// Unique reports whether cols (in any order, compared case-insensitively)
// identify at most one row: the primary key or a unique, non-partial index
// is among them. A relation must end at such columns, or it matches the
// rows of everyone who shares a value.
func (t *Table) Unique(cols []string) bool {
	if t == nil {
		return false
	}
	within := func(key []string) bool {
		if len(key) == 0 {
			return false
		}
		for _, k := range key {
			if !slices.ContainsFunc(cols, func(c string) bool { return strings.EqualFold(c, k) }) {
				return false
			}
		}
		return true
	}
	if within(t.PrimaryKey) {
		return true
	}
	return slices.ContainsFunc(t.Indexes, func(ix Index) bool { return ix.Unique && !ix.Partial && within(ix.Columns) })
}

// ColumnNames returns the names of the columns in their ordinal order.
func (t *Table) ColumnNames() []string {
	if t == nil {
		return nil
	}
	names := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		names[i] = c.Name
	}
	return names
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
	// Collation is a text column's collation on MySQL and MariaDB
	// ("utf8mb4_general_ci", "utf8mb4_bin"), which decides whether its
	// comparisons ignore case; "" elsewhere.
	Collation string
	// OnUpdateNow reports that the database sets the column to the
	// current time whenever its row changes (MySQL's ON UPDATE
	// CURRENT_TIMESTAMP).
	OnUpdateNow bool
	// Domain is, for a PostgreSQL column typed by a domain, the domain's
	// base type ("timestamp without time zone" for a domain over it, the
	// base at the end of a chain of domains; "bigint[]" for an array of a
	// domain over bigint); Type is then the domain's name.
	Domain string
}

// Base returns the type the column's values have: a domain's base type,
// else Type. Times are compared and written by it.
func (c *Column) Base() string {
	if c.Domain != "" {
		return c.Domain
	}
	return c.Type
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
	// OnDelete is what the database does to the referencing rows when a
	// referenced row is deleted: one of [ActionCascade] (they are deleted
	// too), [ActionSetNull] or [ActionSetDefault] (their Columns are set
	// to NULL or to their defaults), [ActionRestrict] or [ActionNoAction]
	// (the delete fails while they exist; NO ACTION checks at the end of
	// the statement, or of the transaction if the key is deferred, so
	// that the referencing rows can still be removed in between). It is
	// reported as declared: an undeclared rule is NO ACTION in PostgreSQL
	// and SQLite, and RESTRICT in MariaDB (in MySQL and MariaDB the two
	// mean the same: keys are checked row by row, never deferred).
	//
	// For a key PostgreSQL reports on a partitioned table because every
	// partition declares it, OnDelete is the partitions' rule if they
	// agree and NO ACTION if they do not: the referencing rows must then
	// be dealt with before the delete, which is right for every partition.
	OnDelete string
}

// The referential actions of [ForeignKey.OnDelete].
const (
	ActionCascade    = "CASCADE"
	ActionSetNull    = "SET NULL"
	ActionSetDefault = "SET DEFAULT"
	ActionRestrict   = "RESTRICT"
	ActionNoAction   = "NO ACTION"
)

// Index is a secondary index of a table.
//
// Its Columns are its key terms in index order (included, non-key columns
// are not listed). A plain column is its name, spelled as declared. An
// expression is its text in one canonical form, so that the same
// expression reads the same in PostgreSQL and SQLite: without the
// parentheses that enclose all of it, unquoted words lower-cased, quoted
// identifiers without quotes and in their own case, column names as
// declared, literals as written, and one space between tokens except
// inside parentheses, before commas and between a function and its
// arguments. Collation, operator class and sort order are not part of a
// term. So CREATE INDEX … ON users (LOWER("Email")) has the term
// lower(Email), and ((n + 1)) the term n + 1. PostgreSQL writes the
// expression its own way (with casts such as 'x'::text), so a complex
// expression may still read differently there. MySQL/MariaDB report a
// functional term as "(expression)".
type Index struct {
	// Name is the index name.
	Name string
	// Columns are the key terms in index order, as described above.
	Columns []string
	// Unique reports whether the index enforces uniqueness; if Partial,
	// only among the rows it covers.
	Unique bool
	// Partial reports whether the index covers only the rows matching a
	// predicate (CREATE INDEX … WHERE …). A partial index does not make
	// its terms unique over the whole table, and serves only lookups the
	// database can prove fall under its predicate. MySQL and MariaDB have
	// no partial indexes.
	Partial bool
}

// Check is a CHECK constraint: a condition every row of the table must
// satisfy, so an update that breaks it (such as nulling or overwriting a
// column it names) fails.
type Check struct {
	// Name is the constraint name, or "" if the database has none for it
	// (an unnamed CHECK in SQLite). MariaDB names a column's own CHECK
	// after the column; PostgreSQL names an unnamed one itself (such as
	// users_age_check).
	Name string
	// Expr is the condition, in the canonical form of [Index] expression
	// terms (for PostgreSQL, as the server writes the expression back).
	Expr string
	// Columns are the columns the condition names, in table column
	// order. They are best-effort where the database only keeps the text
	// (MySQL/MariaDB, SQLite): names are matched as identifiers in the
	// condition, so a column named only inside a function the database
	// expands, or a name that is also a keyword written unquoted, can be
	// missed. A SQLite column constraint always includes its column.
	Columns []string
}
