// Package testdb hands tests fresh, real databases so that they can run in
// parallel without sharing state.
//
// PostgreSQL and MySQL/MariaDB servers are found through environment
// variables:
//
//	VOW_TEST_POSTGRES_URL  admin URL (default postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable)
//	VOW_TEST_MYSQL_DSN     admin go-sql-driver DSN (default root@tcp(127.0.0.1:3306)/)
//
// Each call creates a database named vowtest_<random> and drops it when the
// test ends. If a server cannot be reached the test fails with a message
// saying how to start one.
package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/vowprivacy/vow/connector"
)

// Environment variables naming the admin connection of the test servers.
const (
	EnvPostgres = "VOW_TEST_POSTGRES_URL"
	EnvMySQL    = "VOW_TEST_MYSQL_DSN"
)

// Default admin connections, used when the environment variables are unset.
const (
	DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	DefaultMySQLDSN    = "root@tcp(127.0.0.1:3306)/"
)

// timeout bounds each administrative operation.
const timeout = 30 * time.Second

// PostgresAdminURL returns the admin URL of the PostgreSQL test server.
func PostgresAdminURL() string {
	if v := os.Getenv(EnvPostgres); v != "" {
		return v
	}
	return DefaultPostgresURL
}

// MySQLAdminDSN returns the admin DSN of the MySQL test server.
func MySQLAdminDSN() string {
	if v := os.Getenv(EnvMySQL); v != "" {
		return v
	}
	return DefaultMySQLDSN
}

// Name returns a fresh random database or user name, "vowtest_<hex>".
func Name(t testing.TB) string {
	t.Helper()
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("testdb: random name: %v", err)
	}
	return "vowtest_" + hex.EncodeToString(b[:])
}

// Postgres creates an empty database on the PostgreSQL test server and
// returns a URL DSN for it. The database is dropped (WITH (FORCE)) when the
// test and its subtests have finished.
func Postgres(t testing.TB) string {
	t.Helper()
	admin := PostgresAdminURL()
	u, err := url.Parse(admin)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("testdb: %s=%s is not a postgres:// URL", EnvPostgres, connector.RedactDSN(admin))
	}
	name := Name(t)
	PostgresAdmin(t, fmt.Sprintf("CREATE DATABASE %s", name))
	t.Cleanup(func() {
		PostgresAdmin(t, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", name))
	})
	u.Path = "/" + name
	return u.String()
}

// PostgresAdmin runs sql on the admin connection of the PostgreSQL test
// server, for statements such as CREATE ROLE.
func PostgresAdmin(t testing.TB, sql string) {
	t.Helper()
	admin := PostgresAdminURL()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	conn := connectPostgres(ctx, t, admin)
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("testdb: postgres: %s: %v", sql, err)
	}
}

// connectPostgres connects to dsn, failing the test with advice if the
// server cannot be reached.
func connectPostgres(ctx context.Context, t testing.TB, dsn string) *pgx.Conn {
	t.Helper()
	dialCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(dialCtx, dsn)
	if err != nil {
		t.Fatalf("PostgreSQL not reachable at %s: run \"make test\" (scripts/test.sh starts private servers) or set %s (%s)",
			connector.RedactDSN(dsn), EnvPostgres, oneLine(err))
	}
	return conn
}

// MySQL creates an empty database on the MySQL test server and returns a
// go-sql-driver DSN for it with parseTime=true and multiStatements=true.
// The database is dropped when the test and its subtests have finished.
func MySQL(t testing.TB) string {
	t.Helper()
	cfg, err := gomysql.ParseDSN(MySQLAdminDSN())
	if err != nil {
		t.Fatalf("testdb: %s=%s is not a go-sql-driver/mysql DSN: %v", EnvMySQL, connector.RedactDSN(MySQLAdminDSN()), err)
	}
	name := Name(t)
	MySQLAdmin(t, fmt.Sprintf("CREATE DATABASE `%s` CHARACTER SET utf8mb4", name))
	t.Cleanup(func() {
		MySQLAdmin(t, fmt.Sprintf("DROP DATABASE IF EXISTS `%s`", name))
	})
	cfg.DBName = name
	cfg.ParseTime = true
	cfg.MultiStatements = true
	return cfg.FormatDSN()
}

// MySQLAdmin runs sql (one or more statements) on the admin connection of
// the MySQL test server, for statements such as CREATE USER.
func MySQLAdmin(t testing.TB, sql string) {
	t.Helper()
	cfg, err := gomysql.ParseDSN(MySQLAdminDSN())
	if err != nil {
		t.Fatalf("testdb: %s=%s is not a go-sql-driver/mysql DSN: %v", EnvMySQL, connector.RedactDSN(MySQLAdminDSN()), err)
	}
	cfg.MultiStatements = true
	execMySQL(t, cfg.FormatDSN(), MySQLAdminDSN(), sql)
}

// New returns a new, empty database of the given kind ("postgres",
// "mysql" or "sqlite"): what [Postgres], [MySQL] or [SQLite] returns.
func New(t testing.TB, kind string) string {
	t.Helper()
	switch kind {
	case "postgres":
		return Postgres(t)
	case "mysql":
		return MySQL(t)
	}
	return SQLite(t)
}

// SQLite returns the path of a new, empty SQLite database file in a
// temporary directory that is removed when the test ends. (An empty file
// is a valid SQLite database.)
func SQLite(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.db")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatalf("testdb: create sqlite file: %v", err)
	}
	return path
}

// Exec runs script, one or more SQL statements, against a database
// created by this package. kind is "postgres", "mysql" or "sqlite", and
// dsn is what [Postgres], [MySQL] or [SQLite] returned.
func Exec(t testing.TB, kind, dsn, script string) {
	t.Helper()
	switch kind {
	case "postgres":
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		conn := connectPostgres(ctx, t, dsn)
		defer conn.Close(context.WithoutCancel(ctx))
		// Without arguments pgx uses the simple protocol, which runs
		// several statements.
		if _, err := conn.Exec(ctx, script); err != nil {
			t.Fatalf("testdb: postgres script failed: %v", err)
		}
	case "mysql":
		cfg, err := gomysql.ParseDSN(dsn)
		if err != nil {
			t.Fatalf("testdb: invalid mysql DSN %s: %v", connector.RedactDSN(dsn), err)
		}
		cfg.MultiStatements = true
		execMySQL(t, cfg.FormatDSN(), dsn, script)
	case "sqlite":
		db, err := sql.Open("sqlite", dsn)
		if err != nil {
			t.Fatalf("testdb: open sqlite %s: %v", dsn, err)
		}
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		if _, err := db.ExecContext(ctx, script); err != nil {
			t.Fatalf("testdb: sqlite script failed: %v", err)
		}
	default:
		t.Fatalf("testdb: unknown database kind %q (want postgres, mysql or sqlite)", kind)
	}
}

// execMySQL runs sqlText on dsn, failing the test with advice if the
// server cannot be reached. shown is the DSN to name in messages.
func execMySQL(t testing.TB, dsn, shown, sqlText string) {
	t.Helper()
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatalf("testdb: invalid mysql DSN %s: %v", connector.RedactDSN(shown), err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	pingCtx, cancelPing := context.WithTimeout(ctx, 5*time.Second)
	defer cancelPing()
	if err := db.PingContext(pingCtx); err != nil {
		t.Fatalf("MySQL not reachable at %s: run \"make test\" (scripts/test.sh starts private servers) or set %s (%s)",
			connector.RedactDSN(shown), EnvMySQL, oneLine(err))
	}
	if _, err := db.ExecContext(ctx, sqlText); err != nil {
		t.Fatalf("testdb: mysql script failed: %v", err)
	}
}

// oneLine returns the message of err with all whitespace runs, newlines
// included, collapsed to single spaces.
func oneLine(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }

// Dump returns the rows of query on db as text, one line a row and its
// values separated by |, so that a test can compare rows before and after
// a change.
func Dump(t testing.TB, db *sql.DB, query string, args ...any) string {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), query, args...)
	if err != nil {
		t.Fatalf("testdb: %s: %v", query, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatalf("testdb: %s: %v", query, err)
		}
		for i, v := range vals {
			if bs, ok := v.([]byte); ok {
				v = string(bs)
			}
			if i > 0 {
				b.WriteByte('|')
			}
			fmt.Fprint(&b, v)
		}
		b.WriteByte('\n')
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("testdb: %s: %v", query, err)
	}
	return b.String()
}
