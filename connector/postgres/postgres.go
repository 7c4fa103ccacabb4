// Package postgres implements a [connector.Connector] for PostgreSQL,
// using pgx.
//
// Tables in the "public" schema are named by their bare name; tables in
// other non-system schemas are named "schema.table". Views, partitions of
// partitioned tables and the system schemas (pg_catalog,
// information_schema, pg_toast, temporary schemas) are left out.
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/vowprivacy/vow/connector"
	"github.com/vowprivacy/vow/connector/internal/neterr"
)

// Kind is the value of [connector.Schema.Kind] for PostgreSQL.
const Kind = "postgres"

// openTimeout bounds the first connection made by Open.
const openTimeout = 5 * time.Second

// Connector reads the structure of one PostgreSQL database. It is safe for
// concurrent use.
type Connector struct {
	pool   *pgxpool.Pool
	db     *sql.DB // database/sql view of pool, for row access
	target target
}

var _ connector.SQL = (*Connector)(nil)

// target describes the server and database a DSN points at, for error
// messages. It never holds the password.
type target struct {
	addr     string // host:port or socket directory
	user     string
	database string
	password string // only used to scrub messages
}

// Open connects to the PostgreSQL database named by dsn, which may be a
// URL ("postgres://user:pass@host:5432/db?sslmode=disable") or a key/value
// string ("host=h dbname=db"). It checks the connection before returning,
// giving up after five seconds. Errors wrap [connector.ErrUnreachable],
// [connector.ErrAuth], [connector.ErrNoDatabase] or
// [connector.ErrInvalidDSN] where they apply.
func Open(ctx context.Context, dsn string) (*Connector, error) {
	if strings.TrimSpace(dsn) == "" {
		return nil, connector.NewError(connector.ErrInvalidDSN,
			"postgres: empty DSN (expected postgres://user@host:5432/dbname)", nil)
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, connector.NewError(connector.ErrInvalidDSN,
			fmt.Sprintf("postgres: invalid DSN: %s (expected postgres://user@host:5432/dbname)",
				parseReason(err)), err)
	}
	cc := cfg.ConnConfig
	if cc.ConnectTimeout == 0 || cc.ConnectTimeout > openTimeout {
		cc.ConnectTimeout = openTimeout
	}
	cfg.MaxConns = 8
	if _, set := cc.RuntimeParams["jit"]; !set {
		// Vow's statements are short lookups by key, but with nested
		// subqueries on tables whose statistics are missing or small the
		// planner's cost estimate passes jit_above_cost, and compiling
		// took about a second per statement — of a query that runs in a
		// millisecond. A DSN may still set jit itself.
		cc.RuntimeParams["jit"] = "off"
	}
	tg := target{
		addr:     address(cc.Host, cc.Port),
		user:     cc.User,
		database: cc.Database,
		password: cc.Password,
	}

	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, tg.translate(ctx, "connect", err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, openTimeout)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, tg.translate(ctx, "connect", err)
	}
	return &Connector{pool: pool, db: stdlib.OpenDBFromPool(pool), target: tg}, nil
}

// optionsTimeZone is a TimeZone set in a connection's options.
var optionsTimeZone = regexp.MustCompile(`(?i)(?:-c\s*|--)timezone=\S+`)

// DefaultTimeZone returns the TimeZone a session of the database gets
// when it does not set one itself — the application's, unless the role it
// connects as sets another — and where that comes from (pg_settings'
// source). Where Vow's DSN (or PGTZ) sets the zone of Vow's own sessions,
// it is read on a connection of its own without it.
func (c *Connector) DefaultTimeZone(ctx context.Context) (name, source string, err error) {
	const q = "SELECT setting, source FROM pg_catalog.pg_settings WHERE name = 'TimeZone'"
	cfg := c.pool.Config().ConnConfig.Copy()
	own := false
	for k, v := range cfg.RuntimeParams {
		switch {
		case strings.EqualFold(k, "timezone"):
			delete(cfg.RuntimeParams, k)
			own = true
		case strings.EqualFold(k, "options") && optionsTimeZone.MatchString(v):
			// options=-c timezone=… (or PGOPTIONS) sets it too.
			cfg.RuntimeParams[k] = strings.TrimSpace(optionsTimeZone.ReplaceAllString(v, ""))
			own = true
		}
	}
	if !own {
		err = c.pool.QueryRow(ctx, q).Scan(&name, &source)
	} else {
		var conn *pgx.Conn
		if conn, err = pgx.ConnectConfig(ctx, cfg); err == nil {
			defer conn.Close(context.WithoutCancel(ctx))
			err = conn.QueryRow(ctx, q).Scan(&name, &source)
		}
	}
	if err != nil {
		return "", "", c.target.translate(ctx, "read the time zone", err)
	}
	return name, source, nil
}

// Close closes all connections of the connector. It always returns nil.
func (c *Connector) Close() error {
	_ = c.db.Close()
	c.pool.Close()
	return nil
}

// DB returns a database/sql handle on the connector's pool.
func (c *Connector) DB() *sql.DB { return c.db }

// Dialect returns PostgreSQL's dialect.
func (c *Connector) Dialect() connector.Dialect { return connector.DialectOf(Kind) }

// Translate turns an error from DB into a single-line error wrapping the
// sentinels of package connector.
func (c *Connector) Translate(ctx context.Context, op string, err error) error {
	return c.target.translate(ctx, op, err)
}

// address formats a host and port for messages.
func address(host string, port uint16) string {
	if strings.HasPrefix(host, "/") {
		return host + " (unix socket, port " + strconv.Itoa(int(port)) + ")"
	}
	return net.JoinHostPort(host, strconv.Itoa(int(port)))
}

// parseReason returns the innermost message of a pgx DSN parse error,
// which (unlike the outer one) does not repeat the DSN: a DSN that cannot
// be parsed cannot be reliably redacted either.
func parseReason(err error) string {
	for {
		inner := errors.Unwrap(err)
		if inner == nil {
			break
		}
		err = inner
	}
	return err.Error()
}

// SQLSTATE codes of the errors translated into sentinels.
const (
	codeInvalidPassword      = "28P01" // invalid_password
	codeInvalidAuthorization = "28000" // invalid_authorization_specification
	codeInvalidCatalogName   = "3D000" // invalid_catalog_name
)

// translate turns an error from pgx into a single-line error wrapping the
// matching sentinel. op names what was being done ("connect",
// "list tables", ...).
func (tg target) translate(ctx context.Context, op string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("postgres: %s: %w", op, ctxErr)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case codeInvalidPassword, codeInvalidAuthorization:
			return connector.NewError(connector.ErrAuth, fmt.Sprintf(
				"postgres: authentication failed for user %q at %s: %s (check the user and password in the DSN)",
				tg.user, tg.addr, tg.scrub(pgErr.Message)), err)
		case codeInvalidCatalogName:
			return connector.NewError(connector.ErrNoDatabase, fmt.Sprintf(
				"postgres: database %q does not exist on %s (create it or fix the database name in the DSN)",
				tg.database, tg.addr), err)
		}
		return connector.NewError(nil, fmt.Sprintf("postgres: %s: %s (SQLSTATE %s)",
			op, tg.scrub(pgErr.Message), pgErr.Code), err)
	}
	if reason, ok := neterr.Reason(err); ok {
		return connector.NewError(connector.ErrUnreachable, fmt.Sprintf(
			"postgres: cannot reach %s: %s (is the server running? check the DSN)",
			tg.addr, reason), err)
	}
	msg := strings.Join(strings.Fields(tg.scrub(err.Error())), " ")
	return connector.NewError(nil, fmt.Sprintf("postgres: %s on %s: %s", op, tg.addr, msg), err)
}

// scrub removes the password from a message, in case a server or driver
// echoed it.
func (tg target) scrub(msg string) string {
	if tg.password == "" {
		return msg
	}
	return strings.ReplaceAll(msg, tg.password, "xxxxx")
}
