package testdb

import (
	"context"
	"database/sql"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	gomysql "github.com/go-sql-driver/mysql"

	"github.com/vowprivacy/vow/connector"
)

// NeedTimeZone makes the named time zone ("Europe/Berlin") known to the
// MySQL test server, for a test whose sessions run in it: a server's time
// zone tables are empty until loaded (mariadb-tzinfo-to-sql), and a DSN
// with time_zone='Europe/Berlin' then fails to connect. It loads the one
// zone from the system's zoneinfo when missing, under a server lock so
// that parallel tests load it once.
func NeedTimeZone(t testing.TB, zone string) {
	t.Helper()
	cfg, err := gomysql.ParseDSN(MySQLAdminDSN())
	if err != nil {
		t.Fatalf("testdb: %s=%s is not a go-sql-driver/mysql DSN: %v", EnvMySQL, connector.RedactDSN(MySQLAdminDSN()), err)
	}
	cfg.DBName, cfg.MultiStatements = "mysql", true
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	// GET_LOCK holds for its session: one connection throughout.
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatalf("MySQL not reachable at %s: run \"make test\" (scripts/test.sh starts private servers) or set %s (%s)",
			connector.RedactDSN(MySQLAdminDSN()), EnvMySQL, oneLine(err))
	}
	defer conn.Close()
	known := func() bool {
		var v sql.NullString
		if err := conn.QueryRowContext(ctx, "SELECT CONVERT_TZ('2000-01-01 00:00:00', '+00:00', ?)", zone).Scan(&v); err != nil {
			t.Fatalf("testdb: look up time zone %s: %v", zone, err)
		}
		return v.Valid
	}
	if known() {
		return
	}
	var locked sql.NullInt64
	if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK('vowtest_time_zones', 30)").Scan(&locked); err != nil || locked.Int64 != 1 {
		t.Fatalf("testdb: lock the time zone tables: %v (got %v)", err, locked)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "DO RELEASE_LOCK('vowtest_time_zones')") //nolint:errcheck // the session ends next
	if known() {
		return
	}
	// Each server's own tool: MariaDB's writes statements MySQL refuses.
	var version string
	if err := conn.QueryRowContext(ctx, "SELECT VERSION()").Scan(&version); err != nil {
		t.Fatalf("testdb: read the server's version: %v", err)
	}
	tools := []string{"mysql_tzinfo_to_sql"}
	if strings.Contains(strings.ToLower(version), "mariadb") {
		tools = []string{"mariadb-tzinfo-to-sql", "mysql_tzinfo_to_sql"}
	}
	var tool string
	for _, name := range tools {
		if tool, err = exec.LookPath(name); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("testdb: the MySQL test server does not know the time zone %s, and %s is not installed to load it: install the server's client package (Debian's mariadb-client), or load the zones (%s /usr/share/zoneinfo | mysql mysql)", zone, tools[0], tools[0])
	}
	out, err := exec.CommandContext(ctx, tool, filepath.Join("/usr/share/zoneinfo", zone), zone).Output()
	if err != nil {
		t.Fatalf("testdb: %s %s: %v (is tzdata installed?)", tool, zone, err)
	}
	if _, err := conn.ExecContext(ctx, string(out)); err != nil {
		t.Fatalf("testdb: load time zone %s: %v", zone, err)
	}
	if !known() {
		t.Fatalf("testdb: loaded time zone %s, but the server still does not know it", zone)
	}
}
