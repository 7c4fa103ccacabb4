package testdb_test

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"strings"
	"testing"

	gomysql "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"

	"github.com/vowprivacy/vow/internal/testdb"
)

func TestPostgres(t *testing.T) {
	t.Parallel()
	var name string
	t.Run("create", func(t *testing.T) {
		dsn := testdb.Postgres(t)
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatalf("DSN %q: %v", dsn, err)
		}
		name = strings.TrimPrefix(u.Path, "/")
		if !strings.HasPrefix(name, "vowtest_") {
			t.Errorf("database %q lacks the vowtest_ prefix", name)
		}
		testdb.Exec(t, "postgres", dsn, "CREATE TABLE a (x int); CREATE TABLE b (y int); INSERT INTO a VALUES (1);")
	})
	if exists(t, "postgres", name) {
		t.Errorf("database %s still exists after the test", name)
	}
}

func TestMySQL(t *testing.T) {
	t.Parallel()
	var name string
	t.Run("create", func(t *testing.T) {
		dsn := testdb.MySQL(t)
		cfg, err := gomysql.ParseDSN(dsn)
		if err != nil {
			t.Fatalf("DSN %q: %v", dsn, err)
		}
		if !cfg.ParseTime || !cfg.MultiStatements {
			t.Errorf("DSN %q lacks parseTime=true or multiStatements=true", dsn)
		}
		name = cfg.DBName
		testdb.Exec(t, "mysql", dsn, "CREATE TABLE a (x int); CREATE TABLE b (y int); INSERT INTO a VALUES (1);")
	})
	if exists(t, "mysql", name) {
		t.Errorf("database %s still exists after the test", name)
	}
}

func TestSQLite(t *testing.T) {
	t.Parallel()
	path := testdb.SQLite(t)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("SQLite returned %s: %v", path, err)
	}
	testdb.Exec(t, "sqlite", path, "CREATE TABLE a (x); CREATE TABLE b (y); INSERT INTO a VALUES (1);")
	if other := testdb.SQLite(t); other == path {
		t.Errorf("two calls returned the same path %s", path)
	}
}

// exists reports whether database name exists on the test server of kind.
func exists(t *testing.T, kind, name string) bool {
	t.Helper()
	ctx := context.Background()
	var n int
	switch kind {
	case "postgres":
		conn, err := pgx.Connect(ctx, testdb.PostgresAdminURL())
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
		defer conn.Close(ctx)
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&n); err != nil {
			t.Fatalf("query: %v", err)
		}
	case "mysql":
		db, err := sql.Open("mysql", testdb.MySQLAdminDSN())
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		defer db.Close()
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", name).Scan(&n); err != nil {
			t.Fatalf("query: %v", err)
		}
	}
	return n > 0
}
