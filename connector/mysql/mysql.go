// Package mysql implements a [connector.Connector] for MySQL and MariaDB,
// using github.com/go-sql-driver/mysql.
//
// It introspects the current database (the one named in the DSN) through
// information_schema. Column types are COLUMN_TYPE lower-cased, with the
// display width of integer types dropped ("int(11)" becomes "int", as
// MySQL 8 reports it) except for "tinyint(1)", the conventional boolean.
package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomysql "github.com/go-sql-driver/mysql"

	"github.com/vowprivacy/vow/connector"
	"github.com/vowprivacy/vow/connector/internal/neterr"
)

// Kind is the value of [connector.Schema.Kind] for MySQL and MariaDB.
const Kind = "mysql"

// openTimeout bounds the first connection made by Open.
const openTimeout = 5 * time.Second

// defaultPort is the MySQL port used when a URL DSN names none.
const defaultPort = "3306"

// Connector reads the structure of one MySQL or MariaDB database. It is
// safe for concurrent use.
type Connector struct {
	db  *sql.DB
	cfg *gomysql.Config
	// locSet: the DSN names a loc.
	locSet bool
	// dsnZone is the time_zone the DSN asked for, which Vow's sessions
	// no longer take (DSNTimeZone).
	dsnZone string
}

var (
	_ connector.SQL     = (*Connector)(nil)
	_ connector.Located = (*Connector)(nil)
)

// Open connects to the MySQL or MariaDB database named by dsn, which is
// either a URL, "mysql://user:pass@host:3306/db?param=value" (also
// "mariadb://"), or a go-sql-driver DSN, "user:pass@tcp(host:3306)/db".
// URL query parameters are driver parameters, as in the driver form. It
// checks the connection before returning, giving up after five seconds.
// Errors wrap [connector.ErrUnreachable], [connector.ErrAuth],
// [connector.ErrNoDatabase] or [connector.ErrInvalidDSN] where they apply.
func Open(ctx context.Context, dsn string) (*Connector, error) {
	cfg, err := ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	if cfg.DBName == "" {
		return nil, connector.NewError(connector.ErrNoDatabase, fmt.Sprintf(
			"mysql: the DSN %s names no database (add it, as in user@tcp(host:3306)/dbname or mysql://user@host/dbname)",
			connector.RedactDSN(dsn)), nil)
	}
	if cfg.Timeout == 0 || cfg.Timeout > openTimeout {
		cfg.Timeout = openTimeout
	}
	// Errors are returned, translated; the driver need not log them too.
	cfg.Logger = &gomysql.NopLogger{}
	// Dates and times are read as the server writes them, whatever the
	// DSN says. Parsed, they are not always the value the row holds: the
	// driver rolls an impossible date over ('2026-01-00' becomes
	// 2025-12-31, which may be another row's key) and moves a wall time in
	// the hour a loc= with daylight saving skips; a key given back in
	// that form names another row. rowjson reads the text as an instant
	// (a DATETIME's in the system's zone, connector.ZoneOf). Vow writes
	// the times it passes in (cutoffs) as text itself.
	cfg.ParseTime = false
	// Sessions on UTC, whatever the server's zone or the DSN's time_zone.
	// MariaDB shows and compares a TIMESTAMP in the session's zone: in one
	// with daylight saving the hour the clocks go back comes twice, and a
	// key read as "02:30" — or compared with FROM_UNIXTIME — matches the
	// rows of both (another subject's row under the subject's key), and a
	// cutoff in that hour lands on either. In UTC every TIMESTAMP has one
	// text. DATETIMEs are wall time and unaffected; what the server fills
	// in itself on rows Vow changes would be UTC wall time: a DATETIME ON
	// UPDATE CURRENT_TIMESTAMP Vow's UPDATEs set themselves
	// (connector.Stamps), NOW() in a trigger stays UTC's.
	var dsnZone string
	for k, v := range cfg.Params {
		if isTimeZoneVar(k) {
			dsnZone = strings.Trim(v, "'\"")
			delete(cfg.Params, k)
		}
	}
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	cfg.Params["time_zone"] = "'+00:00'"

	drv, err := gomysql.NewConnector(cfg)
	if err != nil {
		return nil, connector.NewError(connector.ErrInvalidDSN, fmt.Sprintf(
			"mysql: invalid DSN %s: %v", connector.RedactDSN(dsn), err), err)
	}
	db := sql.OpenDB(drv)
	db.SetMaxOpenConns(8)
	db.SetConnMaxIdleTime(time.Minute)
	c := &Connector{db: db, cfg: cfg, locSet: namesLoc(dsn), dsnZone: dsnZone}

	pingCtx, cancel := context.WithTimeout(ctx, openTimeout)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		db.Close()
		return nil, c.translate(ctx, "connect", err)
	}
	return c, nil
}

// Close closes all connections of the connector.
func (c *Connector) Close() error {
	if err := c.db.Close(); err != nil {
		return fmt.Errorf("mysql: close: %w", err)
	}
	return nil
}

// Loc returns the zone the DSN's loc names (UTC when it names none), and
// whether it names one: the zone of the database's DATETIMEs, unless the
// policy says (connector.ZoneOf).
func (c *Connector) Loc() (*time.Location, bool) {
	if c.cfg.Loc == nil {
		return time.UTC, c.locSet
	}
	return c.cfg.Loc, c.locSet
}

// DSNTimeZone returns the session time zone the DSN asked for (its
// time_zone parameter, unquoted), "" for none: Vow's sessions are on UTC
// whatever it says, but an earlier version's were in it.
func (c *Connector) DSNTimeZone() string { return c.dsnZone }

// isTimeZoneVar reports whether a DSN parameter sets the session's
// time_zone, under any of the server's spellings (@@local.time_zone,
// SESSION.Time_Zone, `time_zone`): the driver sends the parameters in one
// SET in random order, and a second spelling would win on some
// connections.
func isTimeZoneVar(name string) bool {
	v := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(name), "`", ""))
	v = strings.TrimPrefix(v, "@@")
	v = strings.TrimPrefix(strings.TrimPrefix(v, "session."), "local.")
	return v == "time_zone"
}

// namesLoc reports whether a DSN, of either form, has a loc parameter.
// The driver's form has its parameters after the last "/", as the driver
// reads it.
func namesLoc(dsn string) bool {
	if scheme, _, ok := strings.Cut(dsn, "://"); ok && isScheme(scheme) {
		u, err := url.Parse(dsn)
		return err == nil && u.Query().Has("loc")
	}
	_, query, ok := strings.Cut(dsn[strings.LastIndex(dsn, "/")+1:], "?")
	if !ok {
		return false
	}
	params, err := url.ParseQuery(query)
	return err == nil && params.Has("loc")
}

// DB returns the connector's connection pool.
func (c *Connector) DB() *sql.DB { return c.db }

// Dialect returns MySQL's dialect.
func (c *Connector) Dialect() connector.Dialect { return connector.DialectOf(Kind) }

// Translate turns an error from DB into a single-line error wrapping the
// sentinels of package connector.
func (c *Connector) Translate(ctx context.Context, op string, err error) error {
	return c.translate(ctx, op, err)
}

// ParseDSN parses a URL ("mysql://user:pass@host:port/db?params") or
// go-sql-driver ("user:pass@tcp(host:port)/db?params") DSN into a driver
// configuration. Errors wrap [connector.ErrInvalidDSN] and never contain
// the password.
func ParseDSN(dsn string) (*gomysql.Config, error) {
	if strings.TrimSpace(dsn) == "" {
		return nil, invalidDSN("empty DSN", nil)
	}
	driverDSN := dsn
	if scheme, _, ok := strings.Cut(dsn, "://"); ok && isScheme(scheme) {
		var err error
		if driverDSN, err = fromURL(scheme, dsn); err != nil {
			return nil, err
		}
	}
	cfg, err := gomysql.ParseDSN(driverDSN)
	if err != nil {
		return nil, invalidDSN(strings.TrimPrefix(err.Error(), "invalid DSN: "), err)
	}
	if strings.HasPrefix(cfg.Net, "tcp") {
		if err := checkAddr(cfg.Addr); err != nil {
			return nil, err
		}
	}
	return cfg, nil
}

// checkAddr rejects a TCP address that is not host:port with a valid port.
func checkAddr(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		var addrErr *net.AddrError
		if errors.As(err, &addrErr) {
			return invalidDSN(fmt.Sprintf("address %q: %s", addr, addrErr.Err), err)
		}
		return invalidDSN(fmt.Sprintf("address %q", addr), err)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return invalidDSN(fmt.Sprintf("invalid port %q", port), nil)
	}
	return nil
}

// isScheme reports whether s is a URL scheme (RFC 3986: a letter followed
// by letters, digits, '+', '-' or '.'), as opposed to the start of a
// driver DSN whose password happens to contain "://".
func isScheme(s string) bool {
	for i, r := range s {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z':
		case i > 0 && ('0' <= r && r <= '9' || r == '+' || r == '-' || r == '.'):
		default:
			return false
		}
	}
	return s != ""
}

// fromURL converts a mysql:// URL into the driver's DSN format.
func fromURL(scheme, dsn string) (string, error) {
	switch strings.ToLower(scheme) {
	case "mysql", "mariadb":
	default:
		return "", invalidDSN(fmt.Sprintf("unsupported scheme %q", scheme), nil)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		// A *url.Error repeats the whole URL, password included.
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			err = urlErr.Err
		}
		return "", invalidDSN(err.Error(), err)
	}
	if u.Opaque != "" {
		return "", invalidDSN("expected mysql://user:pass@host:port/dbname", nil)
	}
	host, port := u.Hostname(), u.Port()
	if host == "" {
		host = "127.0.0.1"
	}
	if port == "" {
		port = defaultPort
	}
	cfg := gomysql.NewConfig()
	cfg.User = u.User.Username()
	cfg.Passwd, _ = u.User.Password()
	cfg.Net = "tcp"
	cfg.Addr = net.JoinHostPort(host, port)
	cfg.DBName = strings.TrimPrefix(u.Path, "/")
	if strings.Contains(cfg.DBName, "/") {
		return "", invalidDSN(fmt.Sprintf("database name %q contains a slash", cfg.DBName), nil)
	}
	if strings.Contains(cfg.User, ":") {
		return "", invalidDSN("user name contains a colon", nil)
	}
	out := cfg.FormatDSN()
	if u.RawQuery != "" {
		sep := "?"
		if strings.Contains(out, "?") {
			sep = "&"
		}
		out += sep + u.RawQuery
	}
	return out, nil
}

// invalidDSN returns an ErrInvalidDSN error saying why a DSN was rejected.
func invalidDSN(reason string, cause error) error {
	return connector.NewError(connector.ErrInvalidDSN, fmt.Sprintf(
		"mysql: invalid DSN: %s (expected mysql://user:pass@host:3306/dbname or user:pass@tcp(host:3306)/dbname)",
		reason), cause)
}

// Server error numbers translated into sentinels.
const (
	erDBAccessDenied         = 1044 // access denied for user to database
	erAccessDenied           = 1045 // access denied for user (using password)
	erBadDB                  = 1049 // unknown database
	erAccessDeniedNoPassword = 1698 // access denied (auth plugin, no password)
)

// translate turns an error from the driver into a single-line error
// wrapping the matching sentinel. op names what was being done.
func (c *Connector) translate(ctx context.Context, op string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("mysql: %s: %w", op, ctxErr)
	}
	addr := c.cfg.Addr
	var myErr *gomysql.MySQLError
	if errors.As(err, &myErr) {
		switch myErr.Number {
		case erAccessDenied, erAccessDeniedNoPassword:
			return connector.NewError(connector.ErrAuth, fmt.Sprintf(
				"mysql: access denied for user %q at %s (check the user and password in the DSN)",
				c.cfg.User, addr), err)
		case erDBAccessDenied:
			return connector.NewError(connector.ErrAuth, fmt.Sprintf(
				"mysql: user %q may not access database %q at %s (grant access or fix the database name in the DSN)",
				c.cfg.User, c.cfg.DBName, addr), err)
		case erBadDB:
			return connector.NewError(connector.ErrNoDatabase, fmt.Sprintf(
				"mysql: database %q does not exist on %s (create it or fix the database name in the DSN)",
				c.cfg.DBName, addr), err)
		}
		return connector.NewError(nil, fmt.Sprintf("mysql: %s: %s (error %d)",
			op, c.scrub(oneLine(myErr.Message)), myErr.Number), err)
	}
	reason, ok := neterr.Reason(err)
	if !ok && errors.Is(err, gomysql.ErrInvalidConn) {
		reason, ok = "the server dropped the connection (is it a MySQL server?)", true
	}
	if ok {
		return connector.NewError(connector.ErrUnreachable, fmt.Sprintf(
			"mysql: cannot reach %s: %s (is the server running? check the DSN)", addr, reason), err)
	}
	return connector.NewError(nil, fmt.Sprintf("mysql: %s on %s: %s", op, addr, c.scrub(oneLine(err.Error()))), err)
}

// scrub removes the password from a message, in case a server or driver
// echoed it.
func (c *Connector) scrub(msg string) string {
	if c.cfg.Passwd == "" {
		return msg
	}
	return strings.ReplaceAll(msg, c.cfg.Passwd, "xxxxx")
}

// oneLine collapses whitespace, including newlines, in msg.
func oneLine(msg string) string { return strings.Join(strings.Fields(msg), " ") }
