// Package examples_test checks the example policies against real databases:
// each policy must be clean on its own (no errors, no warnings) and match
// its schema exactly on PostgreSQL and on MySQL/MariaDB, drift must be
// reported when the schema moves away from the policy, and `vow init`'s
// scaffold of the same schema must decode and match it.
//
// The tests need the servers of internal/testdb (PostgreSQL and MySQL or
// MariaDB). Run one dialect with
//
//	go test ./examples -run 'TestExamples/.*/postgres'
package examples_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vowprivacy/vow/connector"
	"github.com/vowprivacy/vow/datastore"
	"github.com/vowprivacy/vow/drift"
	"github.com/vowprivacy/vow/internal/testdb"
	"github.com/vowprivacy/vow/policy"
	"github.com/vowprivacy/vow/scaffold"
)

// example is one directory of this package.
type example struct {
	name string
	// env is the variable the policy's system reads its DSN from.
	env string
	// table and column name a declared column the drift case drops.
	table, column string
}

var examples = []example{
	{name: "scanner", env: "SCANNER_DATABASE_URL", table: "users", column: "last_login_ip"},
	{name: "inventory", env: "INVENTORY_DATABASE_URL", table: "members", column: "phone"},
	// Shaped on the five seed privacy policies (render/seed_test.go checks
	// that each rendered policy says what its original says).
	{name: "pentra", env: "PENTRA_DATABASE_URL", table: "users", column: "phone"},
	{name: "packetsense", env: "PACKETSENSE_DATABASE_URL", table: "service_logs", column: "user_agent"},
	{name: "dsentr", env: "DSENTR_DATABASE_URL", table: "request_logs", column: "user_agent"},
	{name: "infratrace", env: "INFRATRACE_DATABASE_URL", table: "users", column: "job_role"},
	{name: "devsecops", env: "DEVSECOPS_DATABASE_URL", table: "users", column: "last_login_ip"},
}

// dialect is a database server the examples ship a schema for.
type dialect struct {
	kind   string // system kind and testdb kind
	schema string // file name of the schema in each example directory
	fresh  func(testing.TB) string
}

var dialects = []dialect{
	{kind: "postgres", schema: "schema.postgres.sql", fresh: testdb.Postgres},
	{kind: "mysql", schema: "schema.mariadb.sql", fresh: testdb.MySQL},
}

func TestExamples(t *testing.T) {
	t.Parallel()
	for _, ex := range examples {
		t.Run(ex.name, func(t *testing.T) {
			t.Parallel()
			for _, d := range dialects {
				t.Run(d.kind, func(t *testing.T) {
					t.Parallel()
					testExample(t, ex, d)
				})
			}
		})
	}
}

func testExample(t *testing.T, ex example, d dialect) {
	schema := readFile(t, filepath.Join(ex.name, d.schema))

	// One database with the schema as shipped, shared by the live and
	// scaffold cases (they only read it); the drift case alters its own.
	dsn := d.fresh(t)
	testdb.Exec(t, d.kind, dsn, schema)

	t.Run("live", func(t *testing.T) {
		t.Parallel()
		p := load(t, ex, d)
		ds, results := drift.Live(ctx(t), p, resolver(ex, dsn))
		noDiagnostics(t, "live check", ds)
		if len(results) != 1 || results[0].Schema == nil {
			t.Fatalf("live check read %+v, want the schema of one system", results)
		}
		// Every table of the database is either declared or ignored.
		sys := p.Systems[0]
		for _, lt := range results[0].Schema.Tables {
			if sys.Table(lt.Name) == nil && !slices.Contains(sys.Ignore, lt.Name) {
				t.Errorf("table %s is neither declared nor ignored", lt.Name)
			}
		}
		if got, want := len(results[0].Schema.Tables), len(sys.Tables)+len(sys.Ignore); got != want {
			t.Errorf("database has %d tables, policy declares or ignores %d", got, want)
		}
		// Drift checks that a declared relation's target exists; the
		// schemas also back every relation with a foreign key.
		live := results[0].Schema
		for _, tb := range sys.Tables {
			lt := live.Table(tb.Name)
			for _, f := range tb.Fields {
				if f.References == "" {
					continue
				}
				r, err := policy.ParseRef(f.References)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.ContainsFunc(lt.ForeignKeys, func(fk connector.ForeignKey) bool {
					return slices.Equal(fk.Columns, []string{f.Name}) && fk.RefTable == r.Table && slices.Equal(fk.RefColumns, []string{r.Column})
				}) {
					t.Errorf("%s.%s references %s, but the database has no such foreign key", tb.Name, f.Name, f.References)
				}
			}
		}
		// Retention deletes by age, so each rule's timestamp is indexed.
		for _, r := range p.Retention.Rules {
			_, tb := p.LookupTable(policy.ParseTableRef(r.Table), nil)
			lt := live.Table(tb.Name)
			if !slices.ContainsFunc(lt.Indexes, func(ix connector.Index) bool { return len(ix.Columns) > 0 && ix.Columns[0] == r.From }) {
				t.Errorf("retention rule %q measures from %s.%s, which has no index", r.Name, tb.Name, r.From)
			}
		}
	})

	t.Run("drift", func(t *testing.T) {
		t.Parallel()
		dsn := d.fresh(t)
		testdb.Exec(t, d.kind, dsn, schema)
		testdb.Exec(t, d.kind, dsn,
			"ALTER TABLE "+ex.table+" DROP COLUMN "+ex.column+";\n"+
				"CREATE TABLE secrets_dump (id int PRIMARY KEY, email text);")
		p := load(t, ex, d)
		ds, _ := drift.Live(ctx(t), p, resolver(ex, dsn))
		t.Logf("drift:\n%s", diagText(ds))
		if len(ds) != 2 {
			t.Errorf("drift reported %d diagnostics, want 2 (missing-column, undeclared-table):\n%s", len(ds), diagText(ds))
		}
		missing := find(ds, "missing-column")
		switch {
		case missing == nil:
			t.Errorf("no missing-column diagnostic for the dropped column %s.%s:\n%s", ex.table, ex.column, diagText(ds))
		case missing.Severity != policy.Error:
			t.Errorf("missing-column is a %s, want an error: %s", missing.Severity, missing)
		case missing.Path != "systems.app.tables."+ex.table+".fields."+ex.column:
			t.Errorf("missing-column is at %q, want the dropped field: %s", missing.Path, missing)
		case missing.Pos.Line == 0 || !strings.Contains(missing.Message, ex.table+"."+ex.column):
			t.Errorf("missing-column should point at the field's line and name it: %s", missing)
		}
		undeclared := find(ds, "undeclared-table")
		switch {
		case undeclared == nil:
			t.Errorf("no undeclared-table diagnostic for secrets_dump:\n%s", diagText(ds))
		case undeclared.Severity != policy.Warning:
			t.Errorf("undeclared-table is a %s, want a warning: %s", undeclared.Severity, undeclared)
		case !strings.Contains(undeclared.Message, "secrets_dump") || !strings.Contains(undeclared.Message, "email"):
			t.Errorf("undeclared-table should name secrets_dump and its email column: %s", undeclared)
		}
	})

	t.Run("scaffold", func(t *testing.T) {
		t.Parallel()
		c, err := datastore.OpenDSN(ctx(t), d.kind, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		live, err := c.Introspect(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		out, err := scaffold.Policy(live, scaffold.Options{Kind: d.kind, ConnectionKey: "env", ConnectionValue: ex.env, Organization: ex.name})
		if err != nil {
			t.Fatal(err)
		}
		p, ds := policy.Parse("scaffold.yaml", out)
		// A starter policy leaves decisions to a human (retention rules,
		// erasure strategies), which the lints list; it must decode.
		left := map[string]int{}
		for _, x := range ds {
			switch x.Code {
			case "syntax", "unknown-key", "wrong-type", "duplicate-key", "empty-entry", "broken-relation":
				t.Errorf("scaffold output is broken: %s", x)
			default:
				left[x.Code]++
			}
		}
		t.Logf("scaffold output leaves for review: %v", left)
		if p == nil {
			t.Fatalf("scaffold output did not parse:\n%s", out)
		}
		ds, _ = drift.Live(ctx(t), p, resolver(ex, dsn))
		for _, x := range ds {
			if x.Code == "missing-table" || x.Code == "missing-column" || x.Code == "unreachable" || strings.HasPrefix(x.Code, "undeclared-") {
				t.Errorf("scaffold does not match the schema it was written from: %s", x)
			}
		}
		if t.Failed() {
			t.Logf("scaffold output:\n%s", out)
		}
	})
}

// load reads the example's policy and asserts it is clean. For MySQL the
// systems are switched to kind mysql: the same policy describes both
// schemas.
func load(t *testing.T, ex example, d dialect) *policy.Policy {
	t.Helper()
	p, ds, err := policy.Load(filepath.Join(ex.name, "vow.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	noDiagnostics(t, "static check", ds)
	if p == nil {
		t.Fatal("policy did not parse")
	}
	if len(p.Systems) != 1 || p.Systems[0].Connection.Env != ex.env {
		t.Fatalf("%s/vow.yaml should declare one system reading $%s", ex.name, ex.env)
	}
	for _, s := range p.Systems {
		s.Kind = d.kind
	}
	return p
}

// resolver hands every system the fresh database's DSN, without touching
// the process environment.
func resolver(ex example, dsn string) datastore.Resolver {
	return datastore.Resolver{
		BaseDir: ex.name,
		LookupEnv: func(k string) (string, bool) {
			if k == ex.env {
				return dsn, true
			}
			return "", false
		},
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), time.Minute)
	t.Cleanup(cancel)
	return c
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func noDiagnostics(t *testing.T, what string, ds policy.Diagnostics) {
	t.Helper()
	if len(ds) > 0 {
		t.Fatalf("%s: want no diagnostics, got %d:\n%s", what, len(ds), diagText(ds))
	}
}

func find(ds policy.Diagnostics, code string) *policy.Diagnostic {
	for i := range ds {
		if ds[i].Code == code {
			return &ds[i]
		}
	}
	return nil
}

func diagText(ds policy.Diagnostics) string {
	var b strings.Builder
	for _, x := range ds {
		b.WriteString("  " + x.String() + "\n")
	}
	return b.String()
}
