package scaffold_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"sort"
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

var update = flag.Bool("update", false, "rewrite testdata/*.yaml from the databases")

// decisions are the diagnostics a starter policy leaves to a human: how
// long to keep data, and what erasure does to it (warnings while the
// policy says starter: true, and a warning saying so).
var decisions = []string{"no-retention", "no-erasure-strategy", "starter-policy"}

// goldenCase is a schema scaffolded on one database, with what the policy
// must say about it.
type goldenCase struct {
	name, kind string // the schema is testdata/<name>.<kind>.sql
	// extra are the diagnostics of `vow check --live` besides decisions
	// that the case expects, each a fact of the schema the starter cannot
	// change (no index on lower(email), no key at all, a log nobody owns).
	extra []string
	check func(t *testing.T, o *view)
}

func dvdCheck(t *testing.T, v *view) {
	v.owner(t, "rental", "customer_id")
	v.owner(t, "payment", "customer_id")
	v.owner(t, "store", "")
	v.owner(t, "customer", "")
	v.owner(t, "staff", "")
	v.role(t, "rental", "staff_id", policy.RoleMention)
	v.role(t, "payment", "rental_id", policy.RoleMention)
	v.role(t, "customer", "address_id", policy.RoleMention)
	v.role(t, "customer", "store_id", policy.RoleMention)
	v.kind(t, "staff", "employee")
	v.kind(t, "customer", "customer")
	v.kind(t, "rental", "customer")
	v.identities(t, "customer", "customer_id=user_id", "email=email")
	v.identities(t, "staff", "email=email", "username=username") // staff 7 is not customer 7
	v.identities(t, "address")
	v.erase(t, "payment", "rental_id", "nullify")
	v.erase(t, "rental", "staff_id", "")
	v.ignored(t, "film", "inventory", "language")
}

func musicCheck(t *testing.T, v *view) {
	v.kind(t, "Employee", "employee")
	v.kind(t, "Customer", "customer")
	v.kind(t, "Invoice", "customer")
	v.kind(t, "InvoiceLine", "customer")
	v.owner(t, "Invoice", "CustomerId")
	v.owner(t, "InvoiceLine", "InvoiceId")
	// Track is the store's catalogue: its name and price are no one's, so
	// it is ignored, and an invoice line's reference to it needs no role.
	v.ignored(t, "Track")
	v.role(t, "Customer", "SupportRepId", policy.RoleMention)
	v.role(t, "Employee", "ReportsTo", policy.RoleMention)
	v.erase(t, "Customer", "SupportRepId", "nullify")
	v.erase(t, "Employee", "ReportsTo", "nullify")
	v.identities(t, "Customer", "CustomerId=user_id", "Phone=phone", "Email=email")
	v.identities(t, "Employee", "Phone=phone", "Email=email")
	v.identities(t, "Invoice")
}

func saasCheck(t *testing.T, v *view) {
	v.owner(t, "memberships", "user_id")
	v.role(t, "memberships", "org_id", policy.RoleMention)
	v.owner(t, "membership_notes", "org_id, user_id")
	v.owner(t, "audit_logs", "org_id")
	v.role(t, "audit_logs", "actor_id", policy.RoleMention)
	v.erase(t, "audit_logs", "actor_id", "nullify")
	v.kind(t, "audit_logs", "customer")
	v.owner(t, "projects", "org_id")
	v.role(t, "projects", "owner_id", policy.RoleMention)
	v.erase(t, "projects", "owner_id", "")
	v.role(t, "users", "invited_by", policy.RoleMention)
	v.erase(t, "users", "invited_by", "nullify")
	v.kind(t, "security_events", "")
	v.identities(t, "security_events")
	v.identities(t, "users", "id=user_id", "email=email")
	v.identities(t, "orgs")
	v.identities(t, "newsletter_signups")
	v.key(t, "newsletter_signups", "email")
	v.key(t, "page_views")
	v.erase(t, "page_views", "user_id", "")
}

func joinErrors(ds policy.Diagnostics) string {
	var b strings.Builder
	for _, d := range ds {
		if d.Severity == policy.Error {
			b.WriteString(d.String() + "\n")
		}
	}
	return b.String()
}

func TestGolden(t *testing.T) {
	cases := []goldenCase{
		{name: "dvdrental", kind: "sqlite", check: dvdCheck},
		{name: "musicstore", kind: "sqlite", check: musicCheck, extra: []string{"email-index"}},
		{name: "musicstore", kind: "postgres", check: musicCheck, extra: []string{"email-index"}},
		{name: "musicstore", kind: "mysql", check: musicCheck},
		{name: "saas", kind: "sqlite", check: saasCheck, extra: []string{"missing-subject", "no-primary-key"}},
		{name: "saas", kind: "postgres", extra: []string{"missing-subject", "no-primary-key"}, check: func(t *testing.T, v *view) {
			saasCheck(t, v)
			v.owner(t, "billing.invoices", "org_id")
			v.owner(t, "billing.invoice_lines", "invoice_id")
			v.kind(t, "billing.invoice_lines", "customer")
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name+"/"+tc.kind, func(t *testing.T) {
			t.Parallel()
			script, err := os.ReadFile(filepath.Join("testdata", tc.name+"."+tc.kind+".sql"))
			if err != nil {
				t.Fatal(err)
			}
			schema := introspect(t, tc.kind, string(script))
			opts := scaffold.Options{Kind: tc.kind, ConnectionKey: "env", ConnectionValue: "APP_DATABASE_URL"}
			if tc.kind == "sqlite" {
				opts.ConnectionKey, opts.ConnectionValue = "path", "app.db"
			}
			src, err := scaffold.Policy(schema, opts)
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", tc.name+"."+tc.kind+".yaml")
			if *update {
				if err := os.WriteFile(golden, src, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to write it)", err)
			}
			if !bytes.Equal(src, want) {
				t.Errorf("%s differs from the starter policy (run with -update to rewrite it); got:\n%s", golden, src)
			}

			// The golden file itself, as `vow check` reads it.
			p, diags := policy.Parse(golden, want)
			if p == nil {
				t.Fatalf("%s does not parse: %v", golden, diags)
			}
			// Unedited, it passes vow check --live: what is left are
			// warnings, the decisions among them.
			all := append(append(policy.Diagnostics{}, diags...), drift.Compare(p, p.Systems[0], schema)...)
			if errs, _ := all.Count(); errs > 0 {
				t.Errorf("the starter policy has %d error(s):\n%s", errs, joinErrors(all))
			}
			got := codes(t, diags, tc.extra)
			// And as `vow check --live` reads it against the database.
			got = append(got, codes(t, drift.Compare(p, p.Systems[0], schema), tc.extra)...)
			if got = unique(got); !slices.Equal(got, unique(tc.extra)) {
				t.Errorf("diagnostics besides %s: %v, want %v", strings.Join(decisions, " and "), got, unique(tc.extra))
			}
			v := &view{p: p, own: p.Ownership()}
			v.invariants(t)
			tc.check(t, v)
		})
	}
}

// codes returns the codes of diags other than decisions, failing the test
// for each one the case does not expect.
func codes(t *testing.T, diags policy.Diagnostics, extra []string) []string {
	t.Helper()
	var out []string
	for _, d := range diags {
		switch {
		case slices.Contains(decisions, d.Code):
		case slices.Contains(extra, d.Code):
			out = append(out, d.Code)
		default:
			t.Errorf("unexpected: %s", d)
		}
	}
	return out
}

func unique(s []string) []string {
	s = slices.Clone(s)
	sort.Strings(s)
	return slices.Compact(s)
}

// introspect creates the schema on a new database of the kind and reads it
// back as `vow init` does.
func introspect(t *testing.T, kind, script string) *connector.Schema {
	t.Helper()
	var dsn string
	switch kind {
	case "sqlite":
		dsn = testdb.SQLite(t)
	case "postgres":
		dsn = testdb.Postgres(t)
	case "mysql":
		dsn = testdb.MySQL(t)
	}
	testdb.Exec(t, kind, dsn, script)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := datastore.OpenDSN(ctx, kind, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := c.Introspect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// view reads a starter policy's ownership for assertions.
type view struct {
	p   *policy.Policy
	own *policy.Ownership
}

func (v *view) table(t *testing.T, name string) *policy.Table {
	t.Helper()
	tb := v.p.Systems[0].Table(name)
	if tb == nil {
		t.Fatalf("table %s is not declared", name)
	}
	return tb
}

// owner checks the columns of the relation that owns a table's rows ("" for none).
func (v *view) owner(t *testing.T, table, cols string) {
	t.Helper()
	v.table(t, table)
	var got []string
	for _, r := range v.own.From(v.p.Systems[0].Name, table) {
		if r.Role == policy.RoleOwner {
			got = append(got, strings.Join(r.FromColumns, ", "))
		}
	}
	if strings.Join(got, " | ") != cols {
		t.Errorf("%s: owner %q, want %q", table, got, cols)
	}
}

// role checks the role of the relation over cols.
func (v *view) role(t *testing.T, table, cols, want string) {
	t.Helper()
	for _, r := range v.own.From(v.p.Systems[0].Name, table) {
		if strings.Join(r.FromColumns, ", ") == cols {
			if r.Role != want {
				t.Errorf("%s.%s: role %q, want %q", table, cols, r.Role, want)
			}
			return
		}
	}
	t.Errorf("%s.%s: no relation", table, cols)
}

func (v *view) kind(t *testing.T, table, want string) {
	t.Helper()
	v.table(t, table)
	if got := v.own.Kind(v.p.Systems[0].Name, table); got != want {
		t.Errorf("%s: subject kind %q, want %q", table, got, want)
	}
}

// identities checks a table's identity columns, as column=kind in column order.
func (v *view) identities(t *testing.T, table string, want ...string) {
	t.Helper()
	var got []string
	for _, f := range v.table(t, table).Fields {
		if f.Identity != "" {
			got = append(got, f.Name+"="+f.Identity)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s: identities %v, want %v", table, got, want)
	}
}

func (v *view) erase(t *testing.T, table, column, want string) {
	t.Helper()
	f := v.table(t, table).Field(column)
	got := ""
	if f != nil && f.Erase != nil {
		got = string(f.Erase.Method)
	}
	if got != want {
		t.Errorf("%s.%s: erase %q, want %q", table, column, got, want)
	}
}

func (v *view) key(t *testing.T, table string, want ...string) {
	t.Helper()
	if got := v.table(t, table).PrimaryKey; !slices.Equal(got, want) {
		t.Errorf("%s: primary_key %v, want %v", table, got, want)
	}
}

func (v *view) ignored(t *testing.T, tables ...string) {
	t.Helper()
	for _, name := range tables {
		if !slices.Contains(v.p.Systems[0].Ignore, name) {
			t.Errorf("%s is not ignored (ignore: %v)", name, v.p.Systems[0].Ignore)
		}
	}
}

// invariants are what makes a starter policy safe whatever the schema: no
// table whose owner Vow would have to guess, no owner of another subject
// kind, and identities only where they name the row's own subject.
func (v *view) invariants(t *testing.T) {
	t.Helper()
	sys := v.p.Systems[0]
	for _, pr := range v.own.Problems {
		t.Errorf("ownership: %s", pr.Message)
	}
	inRelation := map[string]bool{}
	for _, r := range v.own.Relations {
		for _, c := range r.FromColumns {
			inRelation[r.FromTable+"."+c] = true
		}
		if r.Role == policy.RoleOwner && v.own.Kind(sys.Name, r.FromTable) != v.own.Kind(sys.Name, r.ToTable) {
			t.Errorf("%s is owned through %s by a table of another subject kind", r.FromTable, r.From())
		}
	}
	for _, tb := range sys.Tables {
		seen := map[string]string{}
		for _, f := range tb.Fields {
			if f.Identity == "" {
				continue
			}
			if inRelation[tb.Name+"."+f.Name] {
				t.Errorf("%s.%s is an identity and a reference", tb.Name, f.Name)
			}
			if prev := seen[f.Identity]; prev != "" {
				t.Errorf("%s has two %s identities: %s and %s", tb.Name, f.Identity, prev, f.Name)
			}
			seen[f.Identity] = f.Name
		}
	}
}
