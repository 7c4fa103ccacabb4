package postgres_test

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/vowprivacy/vow/connector"
	"github.com/vowprivacy/vow/connector/connectortest"
	"github.com/vowprivacy/vow/connector/postgres"
	"github.com/vowprivacy/vow/internal/testdb"
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
	var names []string
	for _, tb := range s.Tables {
		names = append(names, tb.Name)
	}
	if got, want := strings.Join(names, ","), "billing.invoices,billing.lines,events,users"; got != want {
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

// freePort returns a local TCP port nothing listens on.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
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
