// Package connectortest is the contract test suite every
// [connector.Connector] must pass: it introspects one small fixed schema,
// written once per SQL dialect, and checks that each driver reports the
// same tables, columns, keys, delete rules, indexes and checks. Only column
// types and how the database writes back a check's condition, which are
// the database's own, differ between dialects.
//
// A driver package uses it from its tests:
//
//	func TestContract(t *testing.T) {
//		t.Parallel()
//		connectortest.Run(t, "postgres", func(t *testing.T, schemaSQL string) connector.Connector {
//			dsn := testdb.Postgres(t)
//			testdb.Exec(t, "postgres", dsn, schemaSQL)
//			c, err := postgres.Open(t.Context(), dsn)
//			...
//		})
//	}
package connectortest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vowprivacy/vow/connector"
)

// Opener creates a fresh datastore, runs schemaSQL on it and returns a
// connector to it. It should fail t on any error and arrange for the
// connector and datastore to be released with t.Cleanup.
type Opener func(t *testing.T, schemaSQL string) connector.Connector

// Fixture returns the fixture schema script for kind ("postgres", "mysql"
// or "sqlite"), or "" if kind is unknown.
func Fixture(kind string) string { return fixtures[kind] }

// fixtures holds the fixture schema per dialect. Every dialect declares
// the same tables, columns, keys, delete rules, check and index names.
// Indexes on foreign key columns are declared explicitly (MySQL would
// otherwise create its own), delete rules too (the default differs), and
// each dialect adds a view that must not be reported. The mixed-case
// Customer table is quoted where the dialect folds unquoted names. (Its
// check is on Email because MariaDB refuses one on a column that a
// foreign key sets to NULL.)
var fixtures = map[string]string{
	"postgres": `
CREATE TABLE organizations (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name       text NOT NULL,
	created_at timestamp with time zone NOT NULL DEFAULT now(),
	CONSTRAINT organizations_name_check CHECK (length(name) > 0)
);
CREATE TABLE users (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	org_id       bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
	email        varchar(255) NOT NULL,
	display_name text,
	created_at   timestamp with time zone NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX idx_users_email ON users (email);
CREATE INDEX idx_users_org_id ON users (org_id);
CREATE INDEX idx_users_created_at ON users (created_at);
CREATE TABLE memberships (
	user_id   bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	org_id    bigint NOT NULL REFERENCES organizations (id) ON DELETE RESTRICT,
	role      text NOT NULL,
	joined_at timestamp with time zone,
	PRIMARY KEY (user_id, org_id),
	CONSTRAINT memberships_role_check CHECK (role IN ('owner', 'member'))
);
CREATE INDEX idx_memberships_org_id ON memberships (org_id);
CREATE TABLE audit_events (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	org_id      bigint NOT NULL,
	user_id     bigint NOT NULL,
	action      text NOT NULL,
	occurred_at timestamp with time zone NOT NULL,
	FOREIGN KEY (user_id, org_id) REFERENCES memberships (user_id, org_id) ON DELETE NO ACTION,
	CONSTRAINT audit_events_ids_check CHECK (user_id > 0 AND org_id > 0)
);
CREATE INDEX idx_audit_events_member ON audit_events (user_id, org_id);
CREATE INDEX idx_audit_events_org_time ON audit_events (org_id, occurred_at);
CREATE TABLE "Customer" (
	"CustomerId"   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	"Email"        text NOT NULL,
	"SupportRepId" bigint REFERENCES users (id) ON DELETE SET NULL,
	CONSTRAINT "Customer_Email_check" CHECK (length("Email") > 3)
);
CREATE INDEX "IX_Customer_SupportRepId" ON "Customer" ("SupportRepId");
CREATE VIEW active_users AS SELECT id, email FROM users;
`,
	"mysql": `
CREATE TABLE organizations (
	id         bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
	name       text NOT NULL,
	created_at datetime(6) NOT NULL,
	CONSTRAINT organizations_name_check CHECK (length(name) > 0)
) ENGINE=InnoDB;
CREATE TABLE users (
	id           bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
	org_id       bigint NOT NULL,
	email        varchar(255) NOT NULL,
	display_name text NULL,
	created_at   datetime(6) NOT NULL,
	UNIQUE INDEX idx_users_email (email),
	INDEX idx_users_org_id (org_id),
	INDEX idx_users_created_at (created_at),
	FOREIGN KEY (org_id) REFERENCES organizations (id) ON DELETE CASCADE
) ENGINE=InnoDB;
CREATE TABLE memberships (
	user_id   bigint NOT NULL,
	org_id    bigint NOT NULL,
	role      text NOT NULL,
	joined_at datetime(6) NULL,
	PRIMARY KEY (user_id, org_id),
	INDEX idx_memberships_org_id (org_id),
	CONSTRAINT memberships_role_check CHECK (role IN ('owner', 'member')),
	FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
	FOREIGN KEY (org_id) REFERENCES organizations (id) ON DELETE RESTRICT
) ENGINE=InnoDB;
CREATE TABLE audit_events (
	id          bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
	org_id      bigint NOT NULL,
	user_id     bigint NOT NULL,
	action      text NOT NULL,
	occurred_at datetime(6) NOT NULL,
	INDEX idx_audit_events_member (user_id, org_id),
	INDEX idx_audit_events_org_time (org_id, occurred_at),
	CONSTRAINT audit_events_ids_check CHECK (user_id > 0 AND org_id > 0),
	FOREIGN KEY (user_id, org_id) REFERENCES memberships (user_id, org_id) ON DELETE NO ACTION
) ENGINE=InnoDB;
CREATE TABLE Customer (
	CustomerId   bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
	Email        text NOT NULL,
	SupportRepId bigint NULL,
	INDEX IX_Customer_SupportRepId (SupportRepId),
	CONSTRAINT Customer_Email_check CHECK (length(Email) > 3),
	FOREIGN KEY (SupportRepId) REFERENCES users (id) ON DELETE SET NULL
) ENGINE=InnoDB;
CREATE VIEW active_users AS SELECT id, email FROM users;
`,
	"sqlite": `
CREATE TABLE organizations (
	id         INTEGER PRIMARY KEY,
	name       TEXT NOT NULL,
	created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
	CONSTRAINT organizations_name_check CHECK (length(name) > 0)
);
CREATE TABLE users (
	id           INTEGER PRIMARY KEY,
	org_id       INTEGER NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
	email        VARCHAR(255) NOT NULL,
	display_name TEXT,
	created_at   TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE UNIQUE INDEX idx_users_email ON users (email);
CREATE INDEX idx_users_org_id ON users (org_id);
CREATE INDEX idx_users_created_at ON users (created_at);
CREATE TABLE memberships (
	user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	org_id    INTEGER NOT NULL REFERENCES organizations (id) ON DELETE RESTRICT,
	role      TEXT NOT NULL,
	joined_at TIMESTAMP,
	PRIMARY KEY (user_id, org_id),
	CONSTRAINT memberships_role_check CHECK (role IN ('owner', 'member'))
);
CREATE INDEX idx_memberships_org_id ON memberships (org_id);
CREATE TABLE audit_events (
	id          INTEGER PRIMARY KEY,
	org_id      INTEGER NOT NULL,
	user_id     INTEGER NOT NULL,
	action      TEXT NOT NULL,
	occurred_at TIMESTAMP NOT NULL,
	FOREIGN KEY (user_id, org_id) REFERENCES memberships (user_id, org_id) ON DELETE NO ACTION,
	CONSTRAINT audit_events_ids_check CHECK (user_id > 0 AND org_id > 0)
);
CREATE INDEX idx_audit_events_member ON audit_events (user_id, org_id);
CREATE INDEX idx_audit_events_org_time ON audit_events (org_id, occurred_at);
CREATE TABLE "Customer" (
	"CustomerId"   INTEGER PRIMARY KEY,
	"Email"        TEXT NOT NULL,
	"SupportRepId" INTEGER REFERENCES users (id) ON DELETE SET NULL,
	CONSTRAINT "Customer_Email_check" CHECK (length("Email") > 3)
);
CREATE INDEX "IX_Customer_SupportRepId" ON "Customer" ("SupportRepId");
CREATE VIEW active_users AS SELECT id, email FROM users;
`,
}

// typeNames maps the abstract column types of the fixture to each
// dialect's reported type.
var typeNames = map[string]map[string]string{
	"postgres": {"id": "bigint", "text": "text", "varchar": "character varying(255)", "time": "timestamp with time zone"},
	"mysql":    {"id": "bigint", "text": "text", "varchar": "varchar(255)", "time": "datetime(6)"},
	"sqlite":   {"id": "integer", "text": "text", "varchar": "varchar(255)", "time": "timestamp"},
}

// roleCheck is how each dialect writes back the condition of
// memberships_role_check, role IN ('owner', 'member'): PostgreSQL turns an
// IN list into = ANY with casts.
var roleCheck = map[string]string{
	"postgres": "role = any (array['owner'::text, 'member'::text])",
	"mysql":    "role in ('owner', 'member')",
	"sqlite":   "role in ('owner', 'member')",
}

// lengthFunc is how each dialect writes back length(): MariaDB as
// octet_length.
var lengthFunc = map[string]string{"postgres": "length", "mysql": "octet_length", "sqlite": "length"}

// Expected returns the schema every connector must report for the
// fixture of kind.
func Expected(kind string) *connector.Schema {
	ty := typeNames[kind]
	col := func(name, abstract string, nullable bool) connector.Column {
		return connector.Column{Name: name, Type: ty[abstract], Nullable: nullable}
	}
	return &connector.Schema{
		Kind: kind,
		Tables: []connector.Table{
			{
				Name: "Customer",
				Columns: []connector.Column{
					col("CustomerId", "id", false),
					col("Email", "text", false),
					col("SupportRepId", "id", true),
				},
				PrimaryKey: []string{"CustomerId"},
				ForeignKeys: []connector.ForeignKey{
					{Columns: []string{"SupportRepId"}, RefTable: "users", RefColumns: []string{"id"}, OnDelete: connector.ActionSetNull},
				},
				Indexes: []connector.Index{
					{Name: "IX_Customer_SupportRepId", Columns: []string{"SupportRepId"}},
				},
				Checks: []connector.Check{
					{Name: "Customer_Email_check", Expr: lengthFunc[kind] + "(Email) > 3", Columns: []string{"Email"}},
				},
			},
			{
				Name: "audit_events",
				Columns: []connector.Column{
					col("id", "id", false),
					col("org_id", "id", false),
					col("user_id", "id", false),
					col("action", "text", false),
					col("occurred_at", "time", false),
				},
				PrimaryKey: []string{"id"},
				ForeignKeys: []connector.ForeignKey{
					{Columns: []string{"user_id", "org_id"}, RefTable: "memberships", RefColumns: []string{"user_id", "org_id"}, OnDelete: connector.ActionNoAction},
				},
				Indexes: []connector.Index{
					{Name: "idx_audit_events_member", Columns: []string{"user_id", "org_id"}},
					{Name: "idx_audit_events_org_time", Columns: []string{"org_id", "occurred_at"}},
				},
				Checks: []connector.Check{
					{Name: "audit_events_ids_check", Expr: "user_id > 0 and org_id > 0", Columns: []string{"org_id", "user_id"}},
				},
			},
			{
				Name: "memberships",
				Columns: []connector.Column{
					col("user_id", "id", false),
					col("org_id", "id", false),
					col("role", "text", false),
					col("joined_at", "time", true),
				},
				PrimaryKey: []string{"user_id", "org_id"},
				ForeignKeys: []connector.ForeignKey{
					{Columns: []string{"org_id"}, RefTable: "organizations", RefColumns: []string{"id"}, OnDelete: connector.ActionRestrict},
					{Columns: []string{"user_id"}, RefTable: "users", RefColumns: []string{"id"}, OnDelete: connector.ActionCascade},
				},
				Indexes: []connector.Index{
					{Name: "idx_memberships_org_id", Columns: []string{"org_id"}},
				},
				Checks: []connector.Check{
					{Name: "memberships_role_check", Expr: roleCheck[kind], Columns: []string{"role"}},
				},
			},
			{
				Name: "organizations",
				Columns: []connector.Column{
					col("id", "id", false),
					col("name", "text", false),
					col("created_at", "time", false),
				},
				PrimaryKey: []string{"id"},
				Checks: []connector.Check{
					{Name: "organizations_name_check", Expr: lengthFunc[kind] + "(name) > 0", Columns: []string{"name"}},
				},
			},
			{
				Name: "users",
				Columns: []connector.Column{
					col("id", "id", false),
					col("org_id", "id", false),
					col("email", "varchar", false),
					col("display_name", "text", true),
					col("created_at", "time", false),
				},
				PrimaryKey: []string{"id"},
				ForeignKeys: []connector.ForeignKey{
					{Columns: []string{"org_id"}, RefTable: "organizations", RefColumns: []string{"id"}, OnDelete: connector.ActionCascade},
				},
				Indexes: []connector.Index{
					{Name: "idx_users_created_at", Columns: []string{"created_at"}},
					{Name: "idx_users_email", Columns: []string{"email"}, Unique: true},
					{Name: "idx_users_org_id", Columns: []string{"org_id"}},
				},
			},
		},
	}
}

// Run checks the connector returned by open against the fixture of kind.
func Run(t *testing.T, kind string, open Opener) {
	t.Helper()
	script := Fixture(kind)
	if script == "" {
		t.Fatalf("connectortest: no fixture for kind %q", kind)
	}
	c := open(t, script)

	got, err := c.Introspect(t.Context())
	if err != nil {
		t.Fatalf("Introspect: %v", err)
	}
	want := Expected(kind)

	t.Run("kind", func(t *testing.T) {
		if got.Kind != want.Kind {
			t.Errorf("Kind = %q, want %q", got.Kind, want.Kind)
		}
	})
	t.Run("table names", func(t *testing.T) {
		if g, w := TableNames(got), TableNames(want); !reflect.DeepEqual(g, w) {
			t.Errorf("tables = %v, want %v (sorted, base tables only)", g, w)
		}
	})
	CheckTables(t, got, want.Tables...)
	t.Run("lookup", func(t *testing.T) {
		if tb := got.Table("USERS"); tb == nil || tb.Name != "users" {
			t.Errorf(`Table("USERS") = %v, want table users`, tb)
		}
		if tb := got.Table("active_users"); tb != nil {
			t.Errorf(`Table("active_users") = %v, want nil (views are not tables)`, tb.Name)
		}
		if col := got.Table("users").Column("Display_Name"); col == nil || !col.Nullable {
			t.Errorf(`Column("Display_Name") = %+v, want nullable display_name`, col)
		}
		if tb := got.Table("customer"); tb == nil || tb.Name != "Customer" || tb.Column("supportrepid") == nil {
			t.Errorf(`Table("customer") = %v, want table Customer with column SupportRepId`, tb)
		}
	})
	t.Run("IndexStartsWith", func(t *testing.T) {
		CheckIndexStartsWith(t, got, "users", map[string]bool{
			"id":           true,  // primary key
			"EMAIL":        true,  // unique index, any case
			"display_name": false, // not indexed
		})
		CheckIndexStartsWith(t, got, "memberships", map[string]bool{
			"user_id": true,  // first primary key column
			"role":    false, // not indexed
		})
		CheckIndexStartsWith(t, got, "audit_events", map[string]bool{
			"user_id":     true,  // first index term
			"occurred_at": false, // second term only
		})
		CheckIndexStartsWith(t, got, "Customer", map[string]bool{
			"supportrepid":   true,  // mixed case
			`"SupportRepId"`: true,  // quoted
			"lower(Email)":   false, // no expression index
		})
	})
	t.Run("deterministic", func(t *testing.T) {
		again, err := c.Introspect(t.Context())
		if err != nil {
			t.Fatalf("second Introspect: %v", err)
		}
		if !reflect.DeepEqual(again, got) {
			t.Errorf("second Introspect differs from the first")
		}
	})
	t.Run("rows", func(t *testing.T) {
		sc, ok := c.(connector.SQL)
		if !ok {
			t.Fatalf("%T does not implement connector.SQL (row access)", c)
		}
		testRows(t, sc)
	})
	t.Run("canceled context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := c.Introspect(ctx); err == nil {
			t.Errorf("Introspect with a canceled context succeeded")
		} else if !errors.Is(err, ctx.Err()) {
			t.Errorf("Introspect with a canceled context: %v, want an error wrapping %v", err, ctx.Err())
		}
	})
}

// CheckTables checks each table of want with [CheckTable], in a subtest
// named after it.
func CheckTables(t *testing.T, s *connector.Schema, want ...connector.Table) {
	t.Helper()
	for _, wt := range want {
		t.Run(wt.Name, func(t *testing.T) {
			CheckTable(t, s, wt)
		})
	}
}

// CheckIndexStartsWith checks [connector.Table.IndexStartsWith] on the
// table of s called table: want maps terms to the expected answer.
func CheckIndexStartsWith(t *testing.T, s *connector.Schema, table string, want map[string]bool) {
	t.Helper()
	tb := s.Table(table)
	if tb == nil {
		t.Fatalf("table %q missing", table)
	}
	for _, term := range slices.Sorted(maps.Keys(want)) {
		if got := tb.IndexStartsWith(term); got != want[term] {
			t.Errorf("%s.IndexStartsWith(%q) = %v, want %v", table, term, got, want[term])
		}
	}
}

// CheckTable checks that s has a table named like want with the same
// structure: primary key, foreign keys, indexes, checks and partitioning,
// and columns too if want lists any (driver tests can leave them out).
// Absent and empty lists compare equal.
func CheckTable(t *testing.T, s *connector.Schema, want connector.Table) {
	t.Helper()
	got := s.Table(want.Name)
	if got == nil {
		t.Fatalf("table %q missing", want.Name)
	}
	type field struct {
		what      string
		got, want any
	}
	checks := []field{
		{"name", got.Name, want.Name},
		{"primary key", nonNil(got.PrimaryKey), nonNil(want.PrimaryKey)},
		{"foreign keys", nonNil(got.ForeignKeys), nonNil(want.ForeignKeys)},
		{"indexes", nonNil(got.Indexes), nonNil(want.Indexes)},
		{"checks", nonNil(got.Checks), nonNil(want.Checks)},
		{"partitioned", got.Partitioned, want.Partitioned},
		{"partition key", nonNil(got.PartitionKey), nonNil(want.PartitionKey)},
		{"partitions", nonNil(got.Partitions), nonNil(want.Partitions)},
	}
	if want.Columns != nil {
		// Collations are MySQL's own (utf8mb4_general_ci…), checked by the
		// driver's tests; the contract is names, types and nullability.
		cols := slices.Clone(got.Columns)
		for i := range cols {
			if want.Columns != nil && i < len(want.Columns) && want.Columns[i].Collation == "" {
				cols[i].Collation = ""
			}
		}
		checks = append(checks, field{"columns", cols, want.Columns})
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s:\n got  %s\n want %s", c.what, show(c.got), show(c.want))
		}
	}
}

// testRows writes, reads, changes and deletes fixture rows through DB with
// statements written in the connector's Dialect, and checks that Translate
// gives one-line errors.
func testRows(t *testing.T, c connector.SQL) {
	ctx := t.Context()
	d, db := c.Dialect(), c.DB()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, c.Translate(ctx, "exec", err))
		}
	}
	orgs, users := d.Ident("organizations"), d.Ident("users")
	now := time.Now().UTC().Truncate(time.Second)
	exec("INSERT INTO "+orgs+" ("+d.Column("name")+", "+d.Column("created_at")+") VALUES ("+d.Params(1, 2)+")", "Rows Ltd", now)
	var orgID int64
	if err := db.QueryRowContext(ctx, "SELECT "+d.Column("id")+" FROM "+orgs+" WHERE "+d.Column("name")+" = "+d.Param(1), "Rows Ltd").Scan(&orgID); err != nil {
		t.Fatalf("select organization: %v", err)
	}
	for _, email := range []string{"a@example.com", "b@example.com", "c@example.com"} {
		exec("INSERT INTO "+users+" ("+d.Column("org_id")+", "+d.Column("email")+", "+d.Column("created_at")+") VALUES ("+d.Params(1, 3)+")", orgID, email, now)
	}
	exec("UPDATE "+users+" SET "+d.Column("display_name")+" = "+d.Param(1)+" WHERE "+d.Column("email")+" = "+d.Param(2), "Bee", "b@example.com")
	exec("DELETE FROM "+users+" WHERE "+d.Column("email")+" = "+d.Param(1), "c@example.com")

	rows, err := db.QueryContext(ctx, "SELECT "+d.Column("email")+", "+d.Column("display_name")+" FROM "+users+
		" WHERE "+d.Column("email")+" IN ("+d.Params(1, 3)+") ORDER BY "+d.Column("email"), "a@example.com", "b@example.com", "c@example.com")
	if err != nil {
		t.Fatalf("select users: %v", c.Translate(ctx, "select users", err))
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var email string
		var name sql.NullString
		if err := rows.Scan(&email, &name); err != nil {
			t.Fatalf("scan: %v", err)
		}
		got = append(got, email+"="+name.String)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("rows: %v", err)
	}
	if want := []string{"a@example.com=", "b@example.com=Bee"}; !reflect.DeepEqual(got, want) {
		t.Errorf("users after insert, update and delete = %q, want %q", got, want)
	}

	_, err = db.ExecContext(ctx, "DELETE FROM "+d.Ident("no_such_table"))
	if err == nil {
		t.Fatal("DELETE FROM a missing table succeeded")
	}
	msg := c.Translate(ctx, "delete from no_such_table", err).Error()
	if strings.Contains(msg, "\n") || !strings.Contains(msg, "no_such_table") {
		t.Errorf("Translate = %q, want one line naming the table", msg)
	}
}

// TableNames returns the names of the tables of s, in order.
func TableNames(s *connector.Schema) []string {
	names := make([]string, len(s.Tables))
	for i, t := range s.Tables {
		names[i] = t.Name
	}
	return names
}

// nonNil turns a nil slice into an empty one so that "none" compares equal
// however a driver represents it.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// show formats a slice of structs one element per line.
func show(v any) string {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice {
		return fmt.Sprintf("%+v", v)
	}
	parts := make([]string, rv.Len())
	for i := range parts {
		parts[i] = fmt.Sprintf("%+v", rv.Index(i).Interface())
	}
	return "[" + strings.Join(parts, "\n       ") + "]"
}
