package mysql_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"

	gomysql "github.com/go-sql-driver/mysql"

	"github.com/vowprivacy/vow/connector"
	"github.com/vowprivacy/vow/connector/connectortest"
	"github.com/vowprivacy/vow/connector/mysql"
	"github.com/vowprivacy/vow/internal/testdb"
	"github.com/vowprivacy/vow/internal/testnet"
)

// open creates a fresh database, runs script on it and opens a connector
// with the DSN returned by dsnFor.
func open(t *testing.T, script string, dsnFor func(t *testing.T, driverDSN string) string) *mysql.Connector {
	t.Helper()
	dsn := testdb.MySQL(t)
	if script != "" {
		testdb.Exec(t, mysql.Kind, dsn, script)
	}
	c, err := mysql.Open(t.Context(), dsnFor(t, dsn))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return c
}

// driverForm returns dsn unchanged.
func driverForm(_ *testing.T, dsn string) string { return dsn }

// urlForm converts a TCP driver DSN into a mysql:// URL.
func urlForm(t *testing.T, dsn string) string {
	t.Helper()
	cfg, err := gomysql.ParseDSN(dsn)
	if err != nil {
		t.Fatalf("ParseDSN: %v", err)
	}
	if cfg.Net != "tcp" {
		t.Skipf("test server is reached over %s; URL DSNs are TCP only", cfg.Net)
	}
	u := url.URL{Scheme: "mysql", Host: cfg.Addr, Path: "/" + cfg.DBName, RawQuery: "parseTime=true"}
	if cfg.Passwd != "" {
		u.User = url.UserPassword(cfg.User, cfg.Passwd)
	} else {
		u.User = url.User(cfg.User)
	}
	return u.String()
}

func TestContract(t *testing.T) {
	t.Parallel()
	forms := []struct {
		name   string
		dsnFor func(*testing.T, string) string
	}{
		{"driver DSN", driverForm},
		{"URL DSN", urlForm},
	}
	for _, form := range forms {
		t.Run(form.name, func(t *testing.T) {
			t.Parallel()
			connectortest.Run(t, mysql.Kind, func(t *testing.T, script string) connector.Connector {
				return open(t, script, form.dsnFor)
			})
		})
	}
}

// TestDialect covers MySQL specifics: foreign keys into another database,
// unique constraints and the display width of integer types.
func TestDialect(t *testing.T) {
	t.Parallel()
	other := testdb.MySQL(t)
	otherCfg, err := gomysql.ParseDSN(other)
	if err != nil {
		t.Fatal(err)
	}
	testdb.Exec(t, mysql.Kind, other, "CREATE TABLE accounts (id int PRIMARY KEY) ENGINE=InnoDB;")
	c := open(t, fmt.Sprintf(`
CREATE TABLE t (
	id      int(11) NOT NULL PRIMARY KEY,
	flag    tinyint(1) NOT NULL,
	n       int unsigned,
	code    varchar(20) UNIQUE,
	account int,
	FOREIGN KEY (account) REFERENCES %s.accounts (id)
) ENGINE=InnoDB;
`, "`"+otherCfg.DBName+"`"), driverForm)
	s, err := c.Introspect(t.Context())
	if err != nil {
		t.Fatalf("Introspect: %v", err)
	}
	tb := s.Table("t")
	if tb == nil {
		t.Fatalf("table t missing from %+v", s.Tables)
	}
	var types []string
	for _, col := range tb.Columns {
		types = append(types, col.Name+" "+col.Type)
	}
	if got, want := strings.Join(types, ", "), "id int, flag tinyint(1), n int unsigned, code varchar(20), account int"; got != want {
		t.Errorf("columns = %s\nwant      %s", got, want)
	}
	if len(tb.ForeignKeys) != 1 || tb.ForeignKeys[0].RefTable != otherCfg.DBName+".accounts" {
		t.Errorf("foreign keys = %+v, want one to %s.accounts", tb.ForeignKeys, otherCfg.DBName)
	}
	var unique bool
	for _, idx := range tb.Indexes {
		unique = unique || (idx.Unique && strings.Join(idx.Columns, ",") == "code")
	}
	if !unique {
		t.Errorf("indexes = %+v, want a unique index on code", tb.Indexes)
	}
}

// mariaDB skips t unless c talks to MariaDB: the expectations below are
// what MariaDB reports (check names and clauses, the default delete rule),
// which MySQL 8 reports otherwise.
func mariaDB(t *testing.T, c *mysql.Connector) {
	t.Helper()
	var version string
	if err := c.DB().QueryRowContext(t.Context(), "SELECT VERSION()").Scan(&version); err != nil {
		t.Fatalf("SELECT VERSION(): %v", err)
	}
	if !strings.Contains(version, "MariaDB") {
		t.Skipf("server %s is not MariaDB", version)
	}
}

// TestRules checks what the erasure planner reads about the database's own
// rules: delete rules (declared and default), checks (column and table
// ones, named or not, and the one MariaDB adds for JSON), with mixed-case
// names. MySQL and MariaDB have no partial or expression indexes.
func TestRules(t *testing.T) {
	t.Parallel()
	c := open(t, `
CREATE TABLE Employee (EmployeeId int PRIMARY KEY) ENGINE=InnoDB;
CREATE TABLE Region (RegionId int PRIMARY KEY) ENGINE=InnoDB;
CREATE TABLE Customer (
	CustomerId   int PRIMARY KEY,
	Email        varchar(100) NOT NULL CHECK (Email <> ''),
	SupportRepId int,
	RegionId     int,
	Prefs        json,
	UNIQUE KEY ux_customer_email (Email),
	CONSTRAINT Customer_Email_check CHECK (char_length(Email) > 3),
	CHECK (RegionId BETWEEN 1 AND 9),
	FOREIGN KEY (SupportRepId) REFERENCES Employee (EmployeeId),
	FOREIGN KEY (RegionId) REFERENCES Region (RegionId) ON DELETE NO ACTION
) ENGINE=InnoDB;
CREATE TABLE invoices (
	id          int PRIMARY KEY,
	customer_id int NOT NULL,
	payer_id    int,
	total       decimal(10,2) NOT NULL,
	CONSTRAINT invoices_total_positive CHECK (total >= 0),
	FOREIGN KEY (customer_id) REFERENCES Customer (CustomerId) ON DELETE CASCADE,
	FOREIGN KEY (payer_id) REFERENCES Customer (CustomerId) ON DELETE SET NULL
) ENGINE=InnoDB;
`, driverForm)
	mariaDB(t, c)
	s, err := c.Introspect(t.Context())
	if err != nil {
		t.Fatalf("Introspect: %v", err)
	}
	want := []connector.Table{
		{
			Name:       "Customer",
			PrimaryKey: []string{"CustomerId"},
			ForeignKeys: []connector.ForeignKey{
				{Columns: []string{"RegionId"}, RefTable: "Region", RefColumns: []string{"RegionId"}, OnDelete: connector.ActionNoAction},
				{Columns: []string{"SupportRepId"}, RefTable: "Employee", RefColumns: []string{"EmployeeId"}, OnDelete: connector.ActionRestrict},
			},
			// InnoDB indexes foreign key columns itself.
			Indexes: []connector.Index{
				{Name: "RegionId", Columns: []string{"RegionId"}},
				{Name: "SupportRepId", Columns: []string{"SupportRepId"}},
				{Name: "ux_customer_email", Columns: []string{"Email"}, Unique: true},
			},
			Checks: []connector.Check{
				{Name: "CONSTRAINT_1", Expr: "RegionId between 1 and 9", Columns: []string{"RegionId"}},
				{Name: "Customer_Email_check", Expr: "char_length(Email) > 3", Columns: []string{"Email"}},
				{Name: "Email", Expr: "Email <> ''", Columns: []string{"Email"}},
				{Name: "Prefs", Expr: "json_valid(Prefs)", Columns: []string{"Prefs"}},
			},
		},
		{
			Name:       "invoices",
			PrimaryKey: []string{"id"},
			ForeignKeys: []connector.ForeignKey{
				{Columns: []string{"customer_id"}, RefTable: "Customer", RefColumns: []string{"CustomerId"}, OnDelete: connector.ActionCascade},
				{Columns: []string{"payer_id"}, RefTable: "Customer", RefColumns: []string{"CustomerId"}, OnDelete: connector.ActionSetNull},
			},
			Indexes: []connector.Index{
				{Name: "customer_id", Columns: []string{"customer_id"}},
				{Name: "payer_id", Columns: []string{"payer_id"}},
			},
			Checks: []connector.Check{
				{Name: "invoices_total_positive", Expr: "total >= 0", Columns: []string{"total"}},
			},
		},
	}
	connectortest.CheckTables(t, s, want...)
	connectortest.CheckIndexStartsWith(t, s, "Customer", map[string]bool{
		"customerid":     true,
		"EMAIL":          true,
		"`SupportRepId`": true,
		"lower(Email)":   false,
		"Prefs":          false,
	})
}

// TestPartitions checks the partitioning MariaDB reports: by a column
// (RANGE COLUMNS over a datetime), by an expression (no key columns, and
// subpartitions that must not repeat partition names), by several columns,
// and by the primary key (KEY ()).
func TestPartitions(t *testing.T) {
	t.Parallel()
	c := open(t, `
CREATE TABLE events (
	id      bigint NOT NULL,
	user_id int,
	at      datetime NOT NULL,
	PRIMARY KEY (id, at),
	KEY events_user (user_id)
) ENGINE=InnoDB PARTITION BY RANGE COLUMNS (at) (
	PARTITION p2023 VALUES LESS THAN ('2024-01-01'),
	PARTITION p2024 VALUES LESS THAN ('2025-01-01'),
	PARTITION pmax VALUES LESS THAN (MAXVALUE)
);
CREATE TABLE logs (id int NOT NULL, at datetime NOT NULL, PRIMARY KEY (id, at)) ENGINE=InnoDB
	PARTITION BY RANGE (year(at)) SUBPARTITION BY HASH (id) SUBPARTITIONS 2 (
	PARTITION old VALUES LESS THAN (2024),
	PARTITION new VALUES LESS THAN MAXVALUE
);
CREATE TABLE grid (a int NOT NULL, B int NOT NULL, PRIMARY KEY (a, B)) ENGINE=InnoDB
	PARTITION BY RANGE COLUMNS (b, a) (
	PARTITION g0 VALUES LESS THAN (10, 10),
	PARTITION g1 VALUES LESS THAN (MAXVALUE, MAXVALUE)
);
CREATE TABLE Sessions (SessionId int NOT NULL PRIMARY KEY, UserId int) ENGINE=InnoDB
	PARTITION BY KEY () PARTITIONS 2;
CREATE TABLE plain (id int PRIMARY KEY) ENGINE=InnoDB;
`, driverForm)
	s, err := c.Introspect(t.Context())
	if err != nil {
		t.Fatalf("Introspect: %v", err)
	}
	want := []connector.Table{
		{
			Name:         "events",
			PrimaryKey:   []string{"id", "at"},
			Indexes:      []connector.Index{{Name: "events_user", Columns: []string{"user_id"}}},
			Partitioned:  true,
			PartitionKey: []string{"at"},
			Partitions:   []string{"p2023", "p2024", "pmax"},
		},
		{
			Name:        "logs",
			PrimaryKey:  []string{"id", "at"},
			Partitioned: true, // by year(at): no key columns
			Partitions:  []string{"new", "old"},
		},
		{
			Name:         "grid",
			PrimaryKey:   []string{"a", "B"},
			Partitioned:  true,
			PartitionKey: []string{"B", "a"}, // spelled as declared
			Partitions:   []string{"g0", "g1"},
		},
		{
			Name:         "Sessions",
			PrimaryKey:   []string{"SessionId"},
			Partitioned:  true,
			PartitionKey: []string{"SessionId"},
			Partitions:   []string{"p0", "p1"},
		},
		{Name: "plain", PrimaryKey: []string{"id"}},
	}
	connectortest.CheckTables(t, s, want...)
}

// freePort returns a local TCP port nothing listens on.
func freePort(t *testing.T) string {
	t.Helper()
	port, err := testnet.FreePort()
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	return strconv.Itoa(port)
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	admin, err := gomysql.ParseDSN(testdb.MySQLAdminDSN())
	if err != nil {
		t.Fatalf("admin DSN: %v", err)
	}
	with := func(user, pass, db string) string {
		cfg := admin.Clone()
		cfg.User, cfg.Passwd, cfg.DBName = user, pass, db
		return cfg.FormatDSN()
	}

	// A user with a known password, to present a wrong one.
	dbDSN := testdb.MySQL(t)
	dbCfg, err := gomysql.ParseDSN(dbDSN)
	if err != nil {
		t.Fatal(err)
	}
	user := testdb.Name(t)
	testdb.MySQLAdmin(t, fmt.Sprintf(`
CREATE USER '%[1]s'@'%%' IDENTIFIED BY 'right-pw';
CREATE USER '%[1]s'@'localhost' IDENTIFIED BY 'right-pw';
GRANT ALL ON `+"`%[2]s`"+`.* TO '%[1]s'@'%%';
GRANT ALL ON `+"`%[2]s`"+`.* TO '%[1]s'@'localhost';
`, user, dbCfg.DBName))
	t.Cleanup(func() {
		testdb.MySQLAdmin(t, fmt.Sprintf("DROP USER IF EXISTS '%[1]s'@'%%', '%[1]s'@'localhost'", user))
	})
	port := freePort(t)

	tests := []struct {
		name    string
		dsn     string
		want    error // sentinel, or nil for "any error"
		message string
	}{
		{"refused", "root:s3cret-pw@tcp(127.0.0.1:" + port + ")/db",
			connector.ErrUnreachable, "mysql: cannot reach 127.0.0.1:" + port + ": connection refused (is the server running? check the DSN)"},
		{"refused URL", "mysql://root:s3cret-pw@127.0.0.1:" + port + "/db", connector.ErrUnreachable, ""},
		{"unknown host", "root:s3cret-pw@tcp(no-such-host.invalid:3306)/db", connector.ErrUnreachable, ""},
		{"wrong password", with(user, "s3cret-pw", dbCfg.DBName), connector.ErrAuth, ""},
		{"no password", with(user, "", dbCfg.DBName), connector.ErrAuth, ""},
		{"unknown user", with(testdb.Name(t), "s3cret-pw", dbCfg.DBName), connector.ErrAuth, ""},
		{"missing database", with(admin.User, admin.Passwd, testdb.Name(t)), connector.ErrNoDatabase, ""},
		{"no database", with(admin.User, admin.Passwd, ""), connector.ErrNoDatabase, ""},
		{"empty", "", connector.ErrInvalidDSN, ""},
		{"garbage", "this is not a dsn s3cret-pw", connector.ErrInvalidDSN, ""},
		{"broken URL", "mysql://root:s3cret-pw@[::1/db", connector.ErrInvalidDSN, ""},
		{"bad port", "mysql://root:s3cret-pw@127.0.0.1:99999/db", connector.ErrInvalidDSN, ""},
		{"bad driver port", "root:s3cret-pw@tcp(127.0.0.1:x)/db", connector.ErrInvalidDSN, ""},
		{"bad param", "root:s3cret-pw@tcp(127.0.0.1:3306)/db?parseTime=perhaps", connector.ErrInvalidDSN, ""},
		{"wrong scheme", "postgres://root:s3cret-pw@127.0.0.1/db", connector.ErrInvalidDSN, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := mysql.Open(t.Context(), tt.dsn)
			if err == nil {
				c.Close()
				t.Fatalf("Open(%q) succeeded, want an error", connector.RedactDSN(tt.dsn))
			}
			msg := err.Error()
			t.Log(msg)
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("Open: %v\nwant errors.Is(err, %v)", err, tt.want)
			}
			if strings.Contains(msg, "s3cret-pw") || strings.Contains(msg, "right-pw") {
				t.Errorf("error message leaks a password: %s", msg)
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error message spans several lines: %q", msg)
			}
			if tt.message != "" && msg != tt.message {
				t.Errorf("message = %q\nwant      %q", msg, tt.message)
			}
		})
	}

	t.Run("right password", func(t *testing.T) {
		t.Parallel()
		c, err := mysql.Open(t.Context(), with(user, "right-pw", dbCfg.DBName))
		if err != nil {
			t.Fatalf("Open with the right password: %v", err)
		}
		c.Close()
	})
}

func TestOpenCanceled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := mysql.Open(ctx, testdb.MySQL(t))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Open with a canceled context: %v, want context.Canceled", err)
	}
	if errors.Is(err, connector.ErrUnreachable) {
		t.Errorf("Open with a canceled context reports the server unreachable: %v", err)
	}
}

// TestSessionsOnUTC: every session is on UTC, whatever the DSN's
// time_zone, under any spelling of its name: in a zone with daylight
// saving a TIMESTAMP of the hour the clocks go back has two instants under
// one text.
func TestSessionsOnUTC(t *testing.T) {
	t.Parallel()
	for _, params := range []string{"", "&time_zone=%27-05%3A00%27", "&TIME_ZONE=%27-05%3A00%27", "&@@session.time_zone=%27-05%3A00%27",
		"&@@local.time_zone=%27-05%3A00%27", "&LOCAL.time_zone=%27-05%3A00%27"} {
		t.Run(params, func(t *testing.T) {
			t.Parallel()
			c := open(t, "", func(_ *testing.T, dsn string) string { return dsn + params })
			// More than one session: each new one is set.
			for range 3 {
				conn, err := c.DB().Conn(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close()
				var tz string
				if err := conn.QueryRowContext(t.Context(), "SELECT @@session.time_zone").Scan(&tz); err != nil {
					t.Fatal(err)
				}
				if tz != "+00:00" {
					t.Errorf("session time zone %q, want +00:00", tz)
				}
			}
		})
	}
}
