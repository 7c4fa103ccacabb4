// Package sqlite implements a [connector.Connector] for SQLite database
// files, using the pure-Go modernc.org/sqlite driver.
//
// Files are opened for reading and writing (requests and retention change
// rows; introspection only reads) but never created: opening a path that
// does not exist fails with [connector.ErrNoDatabase]. Tables of the main
// database are named by their bare name; SQLite's internal sqlite_% tables,
// views and virtual tables are left out.
package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"

	sqlitedrv "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/vowprivacy/vow/connector"
	"github.com/vowprivacy/vow/identity"
)

// Kind is the value of [connector.Schema.Kind] for SQLite.
const Kind = "sqlite"

// Connector reads the structure of one SQLite database file. It is safe
// for concurrent use.
type Connector struct {
	db   *sql.DB
	path string
}

var _ connector.SQL = (*Connector)(nil)

// Open opens the existing SQLite database file at path. path is a plain
// file path, optionally prefixed with "sqlite:" ("sqlite:app.db",
// "sqlite:///var/lib/app.db"), or a SQLite "file:" URI
// ("file:app.db", "file:///var/lib/my%20app.db"), whose parameters are
// ignored. The file must exist and be a SQLite database; otherwise the
// error wraps [connector.ErrNoDatabase].
func Open(ctx context.Context, path string) (*Connector, error) {
	p, err := filePath(path)
	if err != nil {
		return nil, err
	}
	info, err := os.Stat(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, connector.NewError(connector.ErrNoDatabase, fmt.Sprintf(
			"sqlite: database file %s does not exist (check the path; vow never creates database files)", p), err)
	case err != nil:
		return nil, connector.NewError(nil, fmt.Sprintf("sqlite: cannot open %s: %v", p, errors.Unwrap(err)), err)
	case info.IsDir():
		return nil, connector.NewError(nil, fmt.Sprintf("sqlite: %s is a directory, not a database file (check the path)", p), nil)
	}

	if err := registerFunctions(); err != nil {
		return nil, connector.NewError(nil, "sqlite: register Vow's SQL functions: "+err.Error(), err)
	}
	db, err := sql.Open("sqlite", uri(p))
	if err != nil {
		return nil, connector.NewError(nil, fmt.Sprintf("sqlite: open %s: %v", p, err), err)
	}
	c := &Connector{db: db, path: p}
	// Reading the schema proves the file is a database; a ping does not.
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master").Scan(&n); err != nil {
		db.Close()
		return nil, c.translate(ctx, "open", err)
	}
	return c, nil
}

var (
	registerOnce sync.Once
	registerErr  error
)

// registerFunctions gives the driver's connections, once per process,
// the SQL functions Vow's statements use: identity.SQLiteLower, lower()
// with Go's Unicode case mapping — SQLite's own lower() folds ASCII only,
// and an email written ÉMILE@… would not be found under émile@….
func registerFunctions() error {
	registerOnce.Do(func() {
		registerErr = sqlitedrv.RegisterDeterministicScalarFunction(identity.SQLiteLower, 1, func(_ *sqlitedrv.FunctionContext, args []driver.Value) (driver.Value, error) {
			switch v := args[0].(type) {
			case string:
				return strings.ToLower(v), nil
			case []byte:
				return strings.ToLower(string(v)), nil
			}
			return args[0], nil
		})
	})
	return registerErr
}

// Close closes the database file.
func (c *Connector) Close() error {
	if err := c.db.Close(); err != nil {
		return fmt.Errorf("sqlite: close %s: %w", c.path, err)
	}
	return nil
}

// DB returns the connector's connection pool.
func (c *Connector) DB() *sql.DB { return c.db }

// Dialect returns SQLite's dialect.
func (c *Connector) Dialect() connector.Dialect { return connector.DialectOf(Kind) }

// Translate turns an error from DB into a single-line error.
func (c *Connector) Translate(ctx context.Context, op string, err error) error {
	return c.translate(ctx, op, err)
}

// filePath turns dsn into an absolute file path. A "sqlite:" prefix, with
// an optional "//" after it, is removed and the rest taken literally. A
// "file:" prefix marks a SQLite URI: its query and fragment are dropped
// (Vow chooses the open mode itself) and %XX escapes decoded.
func filePath(dsn string) (string, error) {
	p := dsn
	if rest, ok := strings.CutPrefix(p, "sqlite:"); ok {
		p = strings.TrimPrefix(rest, "//")
	} else if rest, ok := strings.CutPrefix(p, "file:"); ok {
		if i := strings.IndexAny(rest, "?#"); i >= 0 {
			rest = rest[:i]
		}
		// file:///abs/path has an empty authority.
		rest = strings.TrimPrefix(rest, "//")
		unescaped, err := url.PathUnescape(rest)
		if err != nil {
			return "", connector.NewError(connector.ErrInvalidDSN,
				fmt.Sprintf("sqlite: invalid file URI %q: %v", dsn, err), err)
		}
		p = unescaped
	}
	if strings.TrimSpace(p) == "" {
		return "", connector.NewError(connector.ErrInvalidDSN,
			fmt.Sprintf("sqlite: no database file in %q (expected a path such as ./app.db or sqlite:app.db)", dsn), nil)
	}
	if strings.ContainsRune(p, 0) {
		return "", connector.NewError(connector.ErrInvalidDSN,
			fmt.Sprintf("sqlite: path %q contains a NUL byte", dsn), nil)
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", connector.NewError(connector.ErrInvalidDSN, fmt.Sprintf("sqlite: path %q: %v", p, err), err)
	}
	return abs, nil
}

// uri returns the SQLite URI that opens the existing file at the absolute
// path abs for reading and writing (mode=rw never creates a file). A busy
// timeout lets Vow's writes wait for the application's instead of failing
// at once. Foreign keys are enforced, as on the other databases: the
// schema's ON DELETE rules are the application's promises, and Vow's
// deletes must neither leave rows pointing at nothing nor skip a cascade
// the schema declares.
func uri(abs string) string {
	u := url.URL{Path: filepath.ToSlash(abs)}
	return "file:" + u.EscapedPath() + "?mode=rw&_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)"
}

// translate turns an error from the driver into a single-line error.
func (c *Connector) translate(ctx context.Context, op string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("sqlite: %s %s: %w", op, c.path, ctxErr)
	}
	var sqlErr *sqlitedrv.Error
	if errors.As(err, &sqlErr) {
		switch sqlErr.Code() & 0xff {
		case sqlite3.SQLITE_NOTADB:
			return connector.NewError(nil, fmt.Sprintf(
				"sqlite: %s is not a SQLite database (check the path)", c.path), err)
		case sqlite3.SQLITE_CANTOPEN:
			return connector.NewError(nil, fmt.Sprintf(
				"sqlite: cannot open %s (check that the file is readable)", c.path), err)
		}
	}
	return connector.NewError(nil, fmt.Sprintf("sqlite: %s %s: %s", op, c.path, oneLine(err.Error())), err)
}

// oneLine collapses whitespace, including newlines, in msg.
func oneLine(msg string) string { return strings.Join(strings.Fields(msg), " ") }
