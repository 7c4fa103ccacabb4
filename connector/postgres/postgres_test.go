package postgres_test

import (
	"context"
	"errors"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/vowprivacy/vow/connector"
	"github.com/vowprivacy/vow/connector/connectortest"
	"github.com/vowprivacy/vow/connector/postgres"
	"github.com/vowprivacy/vow/internal/testdb"
	"github.com/vowprivacy/vow/internal/testnet"
)

// open creates a fresh database, runs script on it and opens a connector.
func open(t *testing.T, script string) *postgres.Connector {
	t.Helper()
	dsn := testdb.Postgres(t)
	if script != "" {
		testdb.Exec(t, "postgres", dsn, script)
	}
	c, err := postgres.Open(t.Context(), dsn)
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

func TestContract(t *testing.T) {
	t.Parallel()
	connectortest.Run(t, postgres.Kind, func(t *testing.T, script string) connector.Connector {
		return open(t, script)
	})
}

// TestSchemas checks naming outside the public schema and what is left
// out: views, materialized views, partitions and system schemas.
func TestSchemas(t *testing.T) {
	t.Parallel()
	c := open(t, `
CREATE TABLE users (id int PRIMARY KEY);
CREATE SCHEMA billing;
CREATE TABLE billing.invoices (
	id      int PRIMARY KEY,
	user_id int REFERENCES users (id),
	"Total" numeric(10,2) NOT NULL
);
CREATE TABLE billing.lines (
	invoice_id int REFERENCES billing.invoices (id),
	n          int,
	PRIMARY KEY (invoice_id, n)
);
CREATE INDEX lines_lower ON billing.lines ((n + 1), invoice_id);
CREATE TABLE events (id int, at date NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE VIEW v AS SELECT 1 AS one;
CREATE MATERIALIZED VIEW mv AS SELECT 1 AS one;
`)
	s, err := c.Introspect(t.Context())
	if err != nil {
		t.Fatalf("Introspect: %v", err)
	}
	if got, want := strings.Join(connectortest.TableNames(s), ","), "billing.invoices,billing.lines,events,users"; got != want {
		t.Errorf("tables = %s, want %s", got, want)
	}
	inv := s.Table("billing.invoices")
	if inv == nil {
		t.Fatal("billing.invoices missing")
	}
	if col := inv.Column("Total"); col == nil || col.Type != "numeric(10,2)" || col.Nullable {
		t.Errorf(`column "Total" = %+v, want non-null numeric(10,2)`, col)
	}
	if len(inv.ForeignKeys) != 1 || inv.ForeignKeys[0].RefTable != "users" {
		t.Errorf("invoices foreign keys = %+v, want one to users", inv.ForeignKeys)
	}
	lines := s.Table("billing.lines")
	if len(lines.ForeignKeys) != 1 || lines.ForeignKeys[0].RefTable != "billing.invoices" {
		t.Errorf("lines foreign keys = %+v, want one to billing.invoices", lines.ForeignKeys)
	}
	if len(lines.Indexes) != 1 || strings.Join(lines.Indexes[0].Columns, ",") != "n + 1,invoice_id" {
		t.Errorf("lines indexes = %+v, want lines_lower on [n + 1 invoice_id]", lines.Indexes)
	}
}

// TestRules checks what the erasure planner reads about the database's own
// rules: every delete rule, checks, partial and expression indexes, with
// mixed-case names and tables outside the public schema.
func TestRules(t *testing.T) {
	t.Parallel()
	c := open(t, `
CREATE TABLE users (id bigint PRIMARY KEY);
CREATE TABLE "Employee" ("EmployeeId" int PRIMARY KEY);
CREATE TABLE "Customer" (
	"CustomerId"   int PRIMARY KEY,
	"Email"        text NOT NULL CHECK ("Email" <> ''),
	"SupportRepId" int DEFAULT 0 REFERENCES "Employee" ("EmployeeId") ON DELETE SET DEFAULT
);
CREATE INDEX "IX_Customer_Email" ON "Customer" (lower("Email"));
CREATE UNIQUE INDEX "UX_Customer_Email" ON "Customer" ("Email") WHERE "SupportRepId" IS NOT NULL;
CREATE INDEX "IX_Customer_Rep_Email" ON "Customer" ("SupportRepId", (lower("Email") || 'x') DESC);
CREATE SCHEMA billing;
CREATE TABLE billing.invoices (
	id          int PRIMARY KEY,
	customer_id int NOT NULL REFERENCES "Customer" ("CustomerId") ON DELETE RESTRICT,
	reviewer_id bigint REFERENCES users (id),
	total       numeric(10,2) NOT NULL CONSTRAINT invoices_total_positive CHECK (total >= 0),
	paid        numeric(10,2),
	CHECK (paid <= total)
);
CREATE INDEX invoices_customer ON billing.invoices (customer_id) INCLUDE (total);
CREATE TABLE billing.lines (
	invoice_id int REFERENCES billing.invoices (id) ON DELETE CASCADE,
	n          int,
	note       text,
	PRIMARY KEY (invoice_id, n),
	CONSTRAINT lines_always CHECK (true) NOT VALID
);
`)
	s, err := c.Introspect(t.Context())
	if err != nil {
		t.Fatalf("Introspect: %v", err)
	}
	want := []connector.Table{
		{
			Name:       "Customer",
			PrimaryKey: []string{"CustomerId"},
			ForeignKeys: []connector.ForeignKey{
				{Columns: []string{"SupportRepId"}, RefTable: "Employee", RefColumns: []string{"EmployeeId"}, OnDelete: connector.ActionSetDefault},
			},
			Indexes: []connector.Index{
				{Name: "IX_Customer_Email", Columns: []string{"lower(Email)"}},
				{Name: "IX_Customer_Rep_Email", Columns: []string{"SupportRepId", "lower(Email) || 'x'::text"}},
				{Name: "UX_Customer_Email", Columns: []string{"Email"}, Unique: true, Partial: true},
			},
			Checks: []connector.Check{
				{Name: "Customer_Email_check", Expr: "Email <> ''::text", Columns: []string{"Email"}},
			},
		},
		{
			Name:       "billing.invoices",
			PrimaryKey: []string{"id"},
			ForeignKeys: []connector.ForeignKey{
				{Columns: []string{"customer_id"}, RefTable: "Customer", RefColumns: []string{"CustomerId"}, OnDelete: connector.ActionRestrict},
				{Columns: []string{"reviewer_id"}, RefTable: "users", RefColumns: []string{"id"}, OnDelete: connector.ActionNoAction},
			},
			Indexes: []connector.Index{
				{Name: "invoices_customer", Columns: []string{"customer_id"}},
			},
			Checks: []connector.Check{
				{Name: "invoices_check", Expr: "paid <= total", Columns: []string{"total", "paid"}},
				{Name: "invoices_total_positive", Expr: "total >= 0::numeric", Columns: []string{"total"}},
			},
		},
		{
			Name:       "billing.lines",
			PrimaryKey: []string{"invoice_id", "n"},
			ForeignKeys: []connector.ForeignKey{
				{Columns: []string{"invoice_id"}, RefTable: "billing.invoices", RefColumns: []string{"id"}, OnDelete: connector.ActionCascade},
			},
			Checks: []connector.Check{
				{Name: "lines_always", Expr: "true"},
			},
		},
	}
	connectortest.CheckTables(t, s, want...)

	connectortest.CheckIndexStartsWith(t, s, "Customer", map[string]bool{
		"customerid":                true,
		`LOWER("Email")`:            true,
		"lower( email )":            true, // names take the table's spelling
		"email":                     true, // the partial unique index
		"upper(Email)":              false,
		"lower(Email) || 'x'::text": false, // a second term
	})
	connectortest.CheckIndexStartsWith(t, s, "billing.invoices", map[string]bool{
		"CUSTOMER_ID": true,
		"total":       false, // an INCLUDE column only
	})
}

// TestPartitions checks what a partitioned table reports: its key, its
// partitions, and the foreign keys and indexes declared on every partition
// rather than on itself, once, as well as those it declares.
func TestPartitions(t *testing.T) {
	t.Parallel()
	c := open(t, `
CREATE TABLE users (id bigint PRIMARY KEY);
CREATE SCHEMA billing;
CREATE TABLE billing.accounts (id bigint PRIMARY KEY);

-- Keys and indexes on each partition only.
CREATE TABLE events (
	id         bigint NOT NULL,
	user_id    bigint,
	account_id bigint,
	kind       text,
	at         timestamp with time zone NOT NULL
) PARTITION BY RANGE (at);
CREATE TABLE events_2023 PARTITION OF events FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE billing.events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
ALTER TABLE events_2023 ADD FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE;
ALTER TABLE events_2024 ADD FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE;
ALTER TABLE billing.events_2025 ADD FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE;
-- Rules differ: deleting an account must deal with its events first.
ALTER TABLE events_2023 ADD FOREIGN KEY (account_id) REFERENCES billing.accounts (id) ON DELETE CASCADE;
ALTER TABLE events_2024 ADD FOREIGN KEY (account_id) REFERENCES billing.accounts (id) ON DELETE SET NULL;
ALTER TABLE billing.events_2025 ADD FOREIGN KEY (account_id) REFERENCES billing.accounts (id) ON DELETE CASCADE;
CREATE INDEX events_2023_user ON events_2023 (user_id);
CREATE INDEX events_2024_user ON events_2024 (user_id);
CREATE INDEX events_2025_user ON billing.events_2025 (user_id);
-- Unique in each partition; with the partition key, over the table.
CREATE UNIQUE INDEX events_2023_id ON events_2023 (id);
CREATE UNIQUE INDEX events_2024_id ON events_2024 (id);
CREATE UNIQUE INDEX events_2025_id ON billing.events_2025 (id);
ALTER TABLE events_2023 ADD PRIMARY KEY (id, at);
ALTER TABLE events_2024 ADD PRIMARY KEY (id, at);
ALTER TABLE billing.events_2025 ADD PRIMARY KEY (id, at);
-- Partial on one partition.
CREATE INDEX events_2023_kind ON events_2023 (lower(kind));
CREATE INDEX events_2024_kind ON events_2024 (lower(kind)) WHERE kind IS NOT NULL;
CREATE INDEX events_2025_kind ON billing.events_2025 (LOWER(kind));
-- Missing on one partition: not the table's.
CREATE INDEX events_2023_account ON events_2023 (account_id);
CREATE INDEX events_2024_account ON events_2024 (account_id);

-- Keys and indexes declared on the table, one partition attached with a
-- copy of the foreign key of its own.
CREATE TABLE sessions (
	id         bigint NOT NULL,
	user_id    bigint REFERENCES users (id) ON DELETE SET NULL,
	started_at timestamp NOT NULL,
	PRIMARY KEY (id, started_at)
) PARTITION BY RANGE (started_at);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE TABLE sessions_2024 PARTITION OF sessions FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE sessions_2023 (
	id         bigint NOT NULL,
	user_id    bigint REFERENCES users (id) ON DELETE SET NULL,
	started_at timestamp NOT NULL
);
ALTER TABLE sessions ATTACH PARTITION sessions_2023 FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');

-- Partitioned by an expression, and partitions partitioned again.
CREATE TABLE logs (at date NOT NULL, user_id bigint) PARTITION BY RANGE (extract(year FROM at));
CREATE TABLE logs_old PARTITION OF logs FOR VALUES FROM (2000) TO (2024) PARTITION BY LIST (user_id);
CREATE TABLE logs_old_a PARTITION OF logs_old FOR VALUES IN (1);
CREATE TABLE logs_old_b PARTITION OF logs_old DEFAULT;
CREATE TABLE logs_new PARTITION OF logs FOR VALUES FROM (2024) TO (2100);
CREATE INDEX logs_old_a_user ON logs_old_a (user_id);
CREATE INDEX logs_old_b_user ON logs_old_b (user_id);
CREATE INDEX logs_new_user ON logs_new (user_id);
`)
	s, err := c.Introspect(t.Context())
	if err != nil {
		t.Fatalf("Introspect: %v", err)
	}
	if got, want := strings.Join(connectortest.TableNames(s), ","), "billing.accounts,events,logs,sessions,users"; got != want {
		t.Errorf("tables = %s, want %s (partitions are not tables)", got, want)
	}
	want := []connector.Table{
		{
			Name:         "events",
			Partitioned:  true,
			PartitionKey: []string{"at"},
			Partitions:   []string{"billing.events_2025", "events_2023", "events_2024"},
			ForeignKeys: []connector.ForeignKey{
				{Columns: []string{"account_id"}, RefTable: "billing.accounts", RefColumns: []string{"id"}, OnDelete: connector.ActionNoAction},
				{Columns: []string{"user_id"}, RefTable: "users", RefColumns: []string{"id"}, OnDelete: connector.ActionCascade},
			},
			// Named after the first partition's indexes.
			Indexes: []connector.Index{
				{Name: "events_2025_id", Columns: []string{"id"}},
				{Name: "events_2025_kind", Columns: []string{"lower(kind)"}, Partial: true},
				{Name: "events_2025_pkey", Columns: []string{"id", "at"}, Unique: true},
				{Name: "events_2025_user", Columns: []string{"user_id"}},
			},
		},
		{
			Name:         "sessions",
			PrimaryKey:   []string{"id", "started_at"},
			Partitioned:  true,
			PartitionKey: []string{"started_at"},
			Partitions:   []string{"sessions_2023", "sessions_2024"},
			ForeignKeys: []connector.ForeignKey{
				{Columns: []string{"user_id"}, RefTable: "users", RefColumns: []string{"id"}, OnDelete: connector.ActionSetNull},
			},
			Indexes: []connector.Index{
				{Name: "sessions_user", Columns: []string{"user_id"}},
			},
		},
		{
			Name:        "logs",
			Partitioned: true, // by an expression: no key columns
			Partitions:  []string{"logs_new", "logs_old"},
			Indexes: []connector.Index{
				{Name: "logs_new_user", Columns: []string{"user_id"}},
			},
		},
	}
	connectortest.CheckTables(t, s, want...)
	connectortest.CheckIndexStartsWith(t, s, "events", map[string]bool{
		"user_id":    true,  // every partition has the index
		"account_id": false, // one partition lacks it
	})
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
	admin, err := url.Parse(testdb.PostgresAdminURL())
	if err != nil {
		t.Fatalf("admin URL: %v", err)
	}
	withDB := func(name string) string {
		u := *admin
		u.Path = "/" + name
		return u.String()
	}
	withUser := func(user string) string {
		u := *admin
		u.User = url.UserPassword(user, "s3cret-pw")
		return u.String()
	}
	port := freePort(t)

	tests := []struct {
		name    string
		dsn     string
		want    error // sentinel, or nil for "any error"
		message string
	}{
		{"refused", "postgres://postgres:s3cret-pw@127.0.0.1:" + port + "/postgres?sslmode=disable",
			connector.ErrUnreachable, "postgres: cannot reach 127.0.0.1:" + port + ": connection refused (is the server running? check the DSN)"},
		{"unknown host", "postgres://postgres:s3cret-pw@no-such-host.invalid/postgres?connect_timeout=2",
			connector.ErrUnreachable, ""},
		{"missing database", withDB(testdb.Name(t)), connector.ErrNoDatabase, ""},
		{"missing role", withUser(testdb.Name(t)), connector.ErrAuth, ""},
		{"empty", "", connector.ErrInvalidDSN, ""},
		{"blank", "   ", connector.ErrInvalidDSN, ""},
		{"broken URL", "postgres://u:s3cret-pw@[::1/db", connector.ErrInvalidDSN, ""},
		{"bad port", "postgres://u:s3cret-pw@localhost:notaport/db", connector.ErrInvalidDSN, ""},
		{"bad key/value", "host=localhost password=s3cret-pw port=abc", connector.ErrInvalidDSN, ""},
		{"garbage", "this is not a dsn s3cret-pw", connector.ErrInvalidDSN, ""},
		{"bad sslmode", "postgres://u:s3cret-pw@localhost/db?sslmode=bogus", connector.ErrInvalidDSN, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := postgres.Open(t.Context(), tt.dsn)
			if err == nil {
				c.Close()
				t.Fatalf("Open(%q) succeeded, want an error", connector.RedactDSN(tt.dsn))
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("Open: %v\nwant errors.Is(err, %v)", err, tt.want)
			}
			msg := err.Error()
			t.Log(msg)
			if strings.Contains(msg, "s3cret-pw") {
				t.Errorf("error message leaks the password: %s", msg)
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error message spans several lines: %q", msg)
			}
			if tt.message != "" && msg != tt.message {
				t.Errorf("message = %q\nwant      %q", msg, tt.message)
			}
		})
	}
}

func TestOpenCanceled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := postgres.Open(ctx, testdb.PostgresAdminURL())
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Open with a canceled context: %v, want context.Canceled", err)
	}
	if errors.Is(err, connector.ErrUnreachable) {
		t.Errorf("Open with a canceled context reports the server unreachable: %v", err)
	}
}

// TestKeyColumnOrder checks that composite keys come in the key's order,
// not the table's column order, and that a foreign key pairs each column
// with its referenced column, across schemas and with quoted names (the
// names are looked up per key column; see primaryKeysQuery).
func TestKeyColumnOrder(t *testing.T) {
	t.Parallel()
	c := open(t, `
CREATE SCHEMA "Billing";
CREATE TABLE "Billing"."Accounts" (a int, b text, c int, PRIMARY KEY (c, a));
CREATE TABLE lines (
	x int, y text, z int, "Q" int,
	PRIMARY KEY (z, "Q", x),
	FOREIGN KEY (z, x) REFERENCES "Billing"."Accounts" (c, a) ON DELETE CASCADE
);
`)
	s, err := c.Introspect(t.Context())
	if err != nil {
		t.Fatalf("Introspect: %v", err)
	}
	tests := []struct {
		table string
		pk    []string
		fks   []connector.ForeignKey
	}{
		{"Billing.Accounts", []string{"c", "a"}, nil},
		{"lines", []string{"z", "Q", "x"}, []connector.ForeignKey{
			{Columns: []string{"z", "x"}, RefTable: "Billing.Accounts", RefColumns: []string{"c", "a"}, OnDelete: connector.ActionCascade},
		}},
	}
	for _, tt := range tests {
		tb := s.Table(tt.table)
		if tb == nil {
			t.Fatalf("no table %s in %+v", tt.table, s.Tables)
		}
		if !slices.Equal(tb.PrimaryKey, tt.pk) {
			t.Errorf("%s: primary key %q, want %q", tt.table, tb.PrimaryKey, tt.pk)
		}
		if !reflect.DeepEqual(tb.ForeignKeys, tt.fks) {
			t.Errorf("%s: foreign keys %+v, want %+v", tt.table, tb.ForeignKeys, tt.fks)
		}
	}
}
