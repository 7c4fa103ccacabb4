package sqlite_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vowprivacy/vow/connector"
	"github.com/vowprivacy/vow/connector/connectortest"
	"github.com/vowprivacy/vow/connector/sqlite"
	"github.com/vowprivacy/vow/identity"
	"github.com/vowprivacy/vow/internal/testdb"
)

// open creates a fresh database file, runs script on it and opens a
// connector.
func open(t *testing.T, script string) *sqlite.Connector {
	t.Helper()
	path := testdb.SQLite(t)
	if script != "" {
		testdb.Exec(t, sqlite.Kind, path, script)
	}
	c, err := sqlite.Open(t.Context(), path)
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
	connectortest.Run(t, sqlite.Kind, func(t *testing.T, script string) connector.Connector {
		return open(t, script)
	})
}

// TestDialect covers SQLite specifics: implicit foreign key targets,
// WITHOUT ROWID tables, UNIQUE constraints, expression indexes, and the
// tables that are left out.
func TestDialect(t *testing.T) {
	t.Parallel()
	c := open(t, `
CREATE TABLE parent (a TEXT, b TEXT, PRIMARY KEY (b, a)) WITHOUT ROWID;
CREATE TABLE child (
	id    INTEGER PRIMARY KEY AUTOINCREMENT,
	pa    TEXT,
	pb    TEXT,
	code  text UNIQUE,
	FOREIGN KEY (pb, pa) REFERENCES PARENT
);
CREATE INDEX child_expr ON child (lower(code), pa);
CREATE VIRTUAL TABLE docs USING rtree(id, x0, x1);
CREATE VIEW v AS SELECT 1;
`)
	s, err := c.Introspect(t.Context())
	if err != nil {
		t.Fatalf("Introspect: %v", err)
	}
	var names []string
	for _, tb := range s.Tables {
		names = append(names, tb.Name)
	}
	// rtree shadow tables (docs_node, ...) are real tables and stay.
	for _, skipped := range []string{"sqlite_sequence", "docs", "v"} {
		for _, n := range names {
			if n == skipped {
				t.Errorf("table %s reported; tables = %v", skipped, names)
			}
		}
	}

	parent := s.Table("parent")
	if got := strings.Join(parent.PrimaryKey, ","); got != "b,a" {
		t.Errorf("parent primary key = %s, want b,a", got)
	}
	for _, col := range parent.Columns {
		if col.Nullable {
			t.Errorf("WITHOUT ROWID key column %s reported nullable", col.Name)
		}
	}

	child := s.Table("child")
	wantFK := connector.ForeignKey{Columns: []string{"pb", "pa"}, RefTable: "parent", RefColumns: []string{"b", "a"}}
	if len(child.ForeignKeys) != 1 || !equalFK(child.ForeignKeys[0], wantFK) {
		t.Errorf("child foreign keys = %+v, want [%+v]", child.ForeignKeys, wantFK)
	}
	if col := child.Column("id"); col.Nullable || col.Type != "integer" {
		t.Errorf("child.id = %+v, want non-null integer (rowid alias)", col)
	}
	if col := child.Column("pa"); !col.Nullable {
		t.Errorf("child.pa = %+v, want nullable", col)
	}
	var gotIdx []string
	for _, idx := range child.Indexes {
		gotIdx = append(gotIdx, idx.Name+"("+strings.Join(idx.Columns, ",")+")"+map[bool]string{true: "!"}[idx.Unique])
	}
	want := "child_expr(lower(code),pa) sqlite_autoindex_child_1(code)!"
	if got := strings.Join(gotIdx, " "); got != want {
		t.Errorf("child indexes = %s, want %s", got, want)
	}
}

// TestRules checks what the erasure planner reads about the database's own
// rules, which SQLite partly keeps only in the text of its CREATE
// statements: delete rules, checks (column and table ones, named or not),
// partial indexes and expression terms, with mixed-case names.
func TestRules(t *testing.T) {
	t.Parallel()
	c := open(t, `
CREATE TABLE "Employee" ("EmployeeId" INTEGER PRIMARY KEY);
CREATE TABLE users (id INTEGER PRIMARY KEY);
CREATE TABLE "Customer" (
	"CustomerId"   INTEGER PRIMARY KEY,
	"Email"        TEXT NOT NULL CHECK ("Email" <> '') COLLATE NOCASE,
	"SupportRepId" INTEGER DEFAULT 0 REFERENCES "Employee" ("EmployeeId") ON DELETE SET DEFAULT
	               CONSTRAINT rep_positive CHECK (SupportRepId >= 0),
	status         TEXT CONSTRAINT status_nn NOT NULL DEFAULT ('check') CHECK (status IN ('active', 'closed')),
	score          INT CHECK (score BETWEEN 0 AND [CustomerId]), -- names another column
	CONSTRAINT "Customer_Email_check" CHECK (length("Email") > 3),
	CHECK (score > 0 OR status = 'closed')
);
CREATE INDEX "IX_Customer_Email" ON "Customer" (lower("Email"));
CREATE INDEX ix_customer_email2 ON Customer (LOWER( email ) COLLATE NOCASE DESC, status);
CREATE UNIQUE INDEX ux_customer_email ON "Customer" ("Email") WHERE status = 'active';
CREATE INDEX ix_customer_score ON "Customer" ((score + 1), "SupportRepId");
CREATE TABLE invoices (
	id          INTEGER PRIMARY KEY,
	customer_id INTEGER NOT NULL REFERENCES "Customer" ON DELETE RESTRICT,
	reviewer_id INTEGER REFERENCES users (id),
	payer_id    INTEGER REFERENCES users (id) ON DELETE SET NULL,
	total       NUMERIC NOT NULL CHECK (total >= 0)
);
CREATE TABLE lines (
	invoice_id INTEGER REFERENCES invoices (id) ON DELETE CASCADE,
	n          INTEGER,
	PRIMARY KEY (invoice_id, n)
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
				{Name: "ix_customer_email2", Columns: []string{"lower(Email)", "status"}},
				{Name: "ix_customer_score", Columns: []string{"score + 1", "SupportRepId"}},
				{Name: "ux_customer_email", Columns: []string{"Email"}, Unique: true, Partial: true},
			},
			Checks: []connector.Check{
				{Expr: "Email <> ''", Columns: []string{"Email"}},
				{Expr: "score > 0 or status = 'closed'", Columns: []string{"status", "score"}},
				{Expr: "score between 0 and CustomerId", Columns: []string{"CustomerId", "score"}},
				{Expr: "status in ('active', 'closed')", Columns: []string{"status"}},
				{Name: "Customer_Email_check", Expr: "length(Email) > 3", Columns: []string{"Email"}},
				{Name: "rep_positive", Expr: "SupportRepId >= 0", Columns: []string{"SupportRepId"}},
			},
		},
		{
			Name:       "invoices",
			PrimaryKey: []string{"id"},
			ForeignKeys: []connector.ForeignKey{
				{Columns: []string{"customer_id"}, RefTable: "Customer", RefColumns: []string{"CustomerId"}, OnDelete: connector.ActionRestrict},
				{Columns: []string{"payer_id"}, RefTable: "users", RefColumns: []string{"id"}, OnDelete: connector.ActionSetNull},
				{Columns: []string{"reviewer_id"}, RefTable: "users", RefColumns: []string{"id"}, OnDelete: connector.ActionNoAction},
			},
			Checks: []connector.Check{
				{Expr: "total >= 0", Columns: []string{"total"}},
			},
		},
		{
			Name:       "lines",
			PrimaryKey: []string{"invoice_id", "n"},
			ForeignKeys: []connector.ForeignKey{
				{Columns: []string{"invoice_id"}, RefTable: "invoices", RefColumns: []string{"id"}, OnDelete: connector.ActionCascade},
			},
		},
	}
	connectortest.CheckTables(t, s, want...)

	connectortest.CheckIndexStartsWith(t, s, "Customer", map[string]bool{
		"customerid":     true,
		"lower(email)":   true,
		`LOWER("EMAIL")`: true,
		"email":          true, // the partial unique index
		"(score+1)":      true,
		"status":         false, // a second term
		"upper(Email)":   false, // no such index
	})
}

func equalFK(a, b connector.ForeignKey) bool {
	return strings.Join(a.Columns, ",") == strings.Join(b.Columns, ",") &&
		a.RefTable == b.RefTable &&
		strings.Join(a.RefColumns, ",") == strings.Join(b.RefColumns, ",")
}

// TestOpenForms checks the accepted spellings of a path.
func TestOpenForms(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "odd name?#%.db")
	testdb.Exec(t, sqlite.Kind, "file:"+strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path), "CREATE TABLE t (x);")
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("fixture file: %v", err)
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(wd, path)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct{ name, dsn string }{
		{"plain", path},
		{"relative", rel},
		{"sqlite prefix", "sqlite:" + path},
		{"sqlite URL", "sqlite://" + path},
		{"file URI", "file:" + strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23").Replace(path) + "?mode=rw"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := sqlite.Open(t.Context(), tt.dsn)
			if err != nil {
				t.Fatalf("Open(%q): %v", tt.dsn, err)
			}
			defer c.Close()
			s, err := c.Introspect(t.Context())
			if err != nil {
				t.Fatalf("Introspect: %v", err)
			}
			if s.Table("t") == nil {
				t.Errorf("table t missing from %+v", s.Tables)
			}
		})
	}
}

// TestReadOnly checks that the connector cannot change the file.
func TestReadOnly(t *testing.T) {
	t.Parallel()
	path := testdb.SQLite(t)
	testdb.Exec(t, sqlite.Kind, path, "CREATE TABLE t (x);")
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if _, err := c.Introspect(t.Context()); err != nil {
		t.Fatalf("Introspect: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(before) != string(after) {
		t.Errorf("database file changed by introspection")
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(garbage, []byte(strings.Repeat("this is not a database\n", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.db")

	tests := []struct {
		name string
		dsn  string
		want error // sentinel, or nil for "any error"
	}{
		{"missing file", missing, connector.ErrNoDatabase},
		{"missing with prefix", "sqlite:" + missing, connector.ErrNoDatabase},
		{"missing file URI", "file:" + missing + "?mode=rwc", connector.ErrNoDatabase},
		{"missing directory", filepath.Join(dir, "nope", "x.db"), connector.ErrNoDatabase},
		{"empty", "", connector.ErrInvalidDSN},
		{"bare prefix", "sqlite:", connector.ErrInvalidDSN},
		{"NUL byte", "a\x00b.db", connector.ErrInvalidDSN},
		{"directory", dir, nil},
		{"not a database", garbage, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := sqlite.Open(t.Context(), tt.dsn)
			if err == nil {
				c.Close()
				t.Fatalf("Open(%q) succeeded, want an error", tt.dsn)
			}
			t.Log(err)
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("Open: %v\nwant errors.Is(err, %v)", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error message spans several lines: %q", err)
			}
		})
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open created %s", missing)
	}
}

// TestUnicodeLower: the connector's vow_lower folds every letter, where
// SQLite's lower() folds ASCII only; identity matching relies on it.
func TestUnicodeLower(t *testing.T) {
	t.Parallel()
	c := open(t, "CREATE TABLE t (email TEXT); INSERT INTO t VALUES ('JÜRGEN@Straße.example'), (NULL);")
	var got, own string
	err := c.DB().QueryRowContext(t.Context(), "SELECT "+identity.SQLiteLower+"(email), lower(email) FROM t WHERE email IS NOT NULL").Scan(&got, &own)
	if err != nil {
		t.Fatal(err)
	}
	if got != "jürgen@straße.example" {
		t.Errorf("%s = %q, want jürgen@straße.example (SQLite's lower gives %q)", identity.SQLiteLower, got, own)
	}
	var null *string
	if err := c.DB().QueryRowContext(t.Context(), "SELECT "+identity.SQLiteLower+"(email) FROM t WHERE email IS NULL").Scan(&null); err != nil || null != nil {
		t.Errorf("vow_lower(NULL) = %v, %v; want NULL", null, err)
	}
}
