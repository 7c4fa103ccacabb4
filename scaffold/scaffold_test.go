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
// long to keep data, and what erasure does to it.
var decisions = []string{"no-retention", "no-erasure-strategy"}

// goldenCase is a schema scaffolded on one database, with what the policy
// must say about it.
type goldenCase struct {
	name, kind, schema string
	// extra are the diagnostics of `vow check --live` besides decisions
	// that the case expects, each a fact of the schema the starter cannot
	// change (no index on lower(email), no key at all, a log nobody owns).
	extra []string
	check func(t *testing.T, o *view)
}

const dvdSQLite = `
CREATE TABLE country (country_id INTEGER PRIMARY KEY, country TEXT NOT NULL, last_update TIMESTAMP NOT NULL);
CREATE TABLE city (city_id INTEGER PRIMARY KEY, city TEXT NOT NULL, country_id INTEGER NOT NULL REFERENCES country (country_id), last_update TIMESTAMP NOT NULL);
CREATE TABLE address (address_id INTEGER PRIMARY KEY, address TEXT NOT NULL, address2 TEXT, district TEXT NOT NULL,
  city_id INTEGER NOT NULL REFERENCES city (city_id), postal_code TEXT, phone TEXT NOT NULL, last_update TIMESTAMP NOT NULL);
CREATE TABLE language (language_id INTEGER PRIMARY KEY, name TEXT NOT NULL, last_update TIMESTAMP NOT NULL);
CREATE TABLE film (film_id INTEGER PRIMARY KEY, title TEXT NOT NULL, release_year INTEGER,
  language_id INTEGER NOT NULL REFERENCES language (language_id), rental_duration INTEGER NOT NULL, rental_rate NUMERIC NOT NULL, last_update TIMESTAMP NOT NULL);
CREATE TABLE staff (staff_id INTEGER PRIMARY KEY, first_name TEXT NOT NULL, last_name TEXT NOT NULL,
  address_id INTEGER NOT NULL REFERENCES address (address_id), email TEXT, store_id INTEGER NOT NULL REFERENCES store (store_id),
  active BOOLEAN NOT NULL DEFAULT 1, username TEXT NOT NULL, password TEXT, last_update TIMESTAMP NOT NULL, picture BLOB);
CREATE INDEX staff_email_lower ON staff (lower(email));
CREATE TABLE store (store_id INTEGER PRIMARY KEY, manager_staff_id INTEGER NOT NULL UNIQUE REFERENCES staff (staff_id),
  address_id INTEGER NOT NULL REFERENCES address (address_id), last_update TIMESTAMP NOT NULL);
CREATE TABLE customer (customer_id INTEGER PRIMARY KEY, store_id INTEGER NOT NULL REFERENCES store (store_id),
  first_name TEXT NOT NULL, last_name TEXT NOT NULL, email TEXT, address_id INTEGER NOT NULL REFERENCES address (address_id),
  activebool BOOLEAN NOT NULL DEFAULT 1, create_date DATE NOT NULL, last_update TIMESTAMP, active INTEGER);
CREATE INDEX customer_email_lower ON customer (lower(email));
CREATE TABLE inventory (inventory_id INTEGER PRIMARY KEY, film_id INTEGER NOT NULL REFERENCES film (film_id),
  store_id INTEGER NOT NULL REFERENCES store (store_id), last_update TIMESTAMP NOT NULL);
CREATE TABLE rental (rental_id INTEGER PRIMARY KEY, rental_date TIMESTAMP NOT NULL, inventory_id INTEGER NOT NULL REFERENCES inventory (inventory_id),
  customer_id INTEGER NOT NULL REFERENCES customer (customer_id), return_date TIMESTAMP,
  staff_id INTEGER NOT NULL REFERENCES staff (staff_id), last_update TIMESTAMP NOT NULL);
CREATE UNIQUE INDEX rental_key ON rental (rental_date, inventory_id, customer_id);
CREATE TABLE payment (payment_id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customer (customer_id),
  staff_id INTEGER NOT NULL REFERENCES staff (staff_id), rental_id INTEGER REFERENCES rental (rental_id) ON DELETE SET NULL,
  amount NUMERIC NOT NULL, payment_date TIMESTAMP NOT NULL);
`

const musicSQLite = `
CREATE TABLE Employee (EmployeeId INTEGER PRIMARY KEY, LastName TEXT NOT NULL, FirstName TEXT NOT NULL, Title TEXT,
  ReportsTo INTEGER REFERENCES Employee (EmployeeId), BirthDate TIMESTAMP, HireDate TIMESTAMP, Address TEXT, City TEXT,
  Country TEXT, PostalCode TEXT, Phone TEXT, Email TEXT);
CREATE TABLE Customer (CustomerId INTEGER PRIMARY KEY, FirstName TEXT NOT NULL, LastName TEXT NOT NULL, Company TEXT,
  Address TEXT, City TEXT, Country TEXT, PostalCode TEXT, Phone TEXT, Email TEXT NOT NULL,
  SupportRepId INTEGER REFERENCES Employee (EmployeeId));
CREATE TABLE Track (TrackId INTEGER PRIMARY KEY, Name TEXT NOT NULL, Composer TEXT, Milliseconds INTEGER NOT NULL, UnitPrice NUMERIC NOT NULL);
CREATE TABLE Invoice (InvoiceId INTEGER PRIMARY KEY, CustomerId INTEGER NOT NULL REFERENCES Customer (CustomerId),
  InvoiceDate TIMESTAMP NOT NULL, BillingAddress TEXT, BillingCity TEXT, BillingCountry TEXT, BillingPostalCode TEXT, Total NUMERIC NOT NULL);
CREATE TABLE InvoiceLine (InvoiceLineId INTEGER PRIMARY KEY, InvoiceId INTEGER NOT NULL REFERENCES Invoice (InvoiceId),
  TrackId INTEGER NOT NULL REFERENCES Track (TrackId), UnitPrice NUMERIC NOT NULL, Quantity INTEGER NOT NULL);
`

const musicPostgres = `
CREATE TABLE "Employee" ("EmployeeId" integer PRIMARY KEY, "LastName" varchar(20) NOT NULL, "FirstName" varchar(20) NOT NULL, "Title" varchar(30),
  "ReportsTo" integer REFERENCES "Employee" ("EmployeeId"), "BirthDate" timestamp, "HireDate" timestamp, "Address" varchar(70), "City" varchar(40),
  "Country" varchar(40), "PostalCode" varchar(10), "Phone" varchar(24), "Email" varchar(60));
CREATE TABLE "Customer" ("CustomerId" integer PRIMARY KEY, "FirstName" varchar(40) NOT NULL, "LastName" varchar(20) NOT NULL, "Company" varchar(80),
  "Address" varchar(70), "City" varchar(40), "Country" varchar(40), "PostalCode" varchar(10), "Phone" varchar(24), "Email" varchar(60) NOT NULL,
  "SupportRepId" integer REFERENCES "Employee" ("EmployeeId") ON DELETE SET NULL);
CREATE TABLE "Track" ("TrackId" integer PRIMARY KEY, "Name" varchar(200) NOT NULL, "Composer" varchar(220), "Milliseconds" integer NOT NULL, "UnitPrice" numeric(10,2) NOT NULL);
CREATE TABLE "Invoice" ("InvoiceId" integer PRIMARY KEY, "CustomerId" integer NOT NULL REFERENCES "Customer" ("CustomerId"),
  "InvoiceDate" timestamp NOT NULL, "BillingAddress" varchar(70), "BillingCity" varchar(40), "BillingCountry" varchar(40), "BillingPostalCode" varchar(10), "Total" numeric(10,2) NOT NULL);
CREATE TABLE "InvoiceLine" ("InvoiceLineId" integer PRIMARY KEY, "InvoiceId" integer NOT NULL REFERENCES "Invoice" ("InvoiceId") ON DELETE CASCADE,
  "TrackId" integer NOT NULL REFERENCES "Track" ("TrackId"), "UnitPrice" numeric(10,2) NOT NULL, "Quantity" integer NOT NULL);
`

const musicMySQL = `
CREATE TABLE Employee (EmployeeId int PRIMARY KEY, LastName varchar(20) NOT NULL, FirstName varchar(20) NOT NULL, Title varchar(30),
  ReportsTo int, BirthDate datetime, HireDate datetime, Address varchar(70), City varchar(40),
  Country varchar(40), PostalCode varchar(10), Phone varchar(24), Email varchar(60),
  FOREIGN KEY (ReportsTo) REFERENCES Employee (EmployeeId)) ENGINE=InnoDB;
CREATE TABLE Customer (CustomerId int PRIMARY KEY, FirstName varchar(40) NOT NULL, LastName varchar(20) NOT NULL, Company varchar(80),
  Address varchar(70), City varchar(40), Country varchar(40), PostalCode varchar(10), Phone varchar(24), Email varchar(60) NOT NULL,
  SupportRepId int, FOREIGN KEY (SupportRepId) REFERENCES Employee (EmployeeId) ON DELETE SET NULL) ENGINE=InnoDB;
CREATE TABLE Track (TrackId int PRIMARY KEY, Name varchar(200) NOT NULL, Composer varchar(220), Milliseconds int NOT NULL, UnitPrice decimal(10,2) NOT NULL) ENGINE=InnoDB;
CREATE TABLE Invoice (InvoiceId int PRIMARY KEY, CustomerId int NOT NULL, InvoiceDate datetime NOT NULL, BillingAddress varchar(70),
  BillingCity varchar(40), BillingCountry varchar(40), BillingPostalCode varchar(10), Total decimal(10,2) NOT NULL,
  FOREIGN KEY (CustomerId) REFERENCES Customer (CustomerId)) ENGINE=InnoDB;
CREATE TABLE InvoiceLine (InvoiceLineId int PRIMARY KEY, InvoiceId int NOT NULL, TrackId int NOT NULL, UnitPrice decimal(10,2) NOT NULL, Quantity int NOT NULL,
  FOREIGN KEY (InvoiceId) REFERENCES Invoice (InvoiceId) ON DELETE CASCADE, FOREIGN KEY (TrackId) REFERENCES Track (TrackId)) ENGINE=InnoDB;
`

const saasSQLite = `
CREATE TABLE orgs (id INTEGER PRIMARY KEY, name TEXT NOT NULL, billing_email TEXT, created_at TIMESTAMP NOT NULL);
CREATE TABLE users (id INTEGER PRIMARY KEY, uuid TEXT NOT NULL UNIQUE, email TEXT NOT NULL UNIQUE, name TEXT,
  invited_by INTEGER REFERENCES users (id) ON DELETE SET NULL, created_at TIMESTAMP NOT NULL);
CREATE INDEX users_email_lower ON users (lower(email));
CREATE TABLE memberships (org_id INTEGER NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE, role TEXT NOT NULL, PRIMARY KEY (org_id, user_id));
CREATE TABLE membership_notes (id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL, user_id INTEGER NOT NULL, note TEXT NOT NULL,
  FOREIGN KEY (org_id, user_id) REFERENCES memberships (org_id, user_id) ON DELETE CASCADE);
CREATE TABLE projects (id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL REFERENCES orgs (id),
  owner_id INTEGER NOT NULL REFERENCES users (id), name TEXT NOT NULL);
CREATE TABLE audit_logs (id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL REFERENCES orgs (id),
  actor_id INTEGER REFERENCES users (id) ON DELETE SET NULL, action TEXT NOT NULL, ip_address TEXT, created_at TIMESTAMP NOT NULL);
CREATE TABLE security_events (id INTEGER PRIMARY KEY, username TEXT NOT NULL, ip_address TEXT, kind TEXT NOT NULL, created_at TIMESTAMP NOT NULL);
CREATE TABLE newsletter_signups (email TEXT NOT NULL, source TEXT, signed_up_at TIMESTAMP NOT NULL);
CREATE UNIQUE INDEX newsletter_signups_email ON newsletter_signups (email);
CREATE TABLE page_views (visitor_id TEXT NOT NULL, user_id INTEGER REFERENCES users (id), url TEXT, viewed_at TIMESTAMP NOT NULL);
`

// saasPostgres is saasSQLite with PostgreSQL types, and invoices in a
// schema of their own.
const saasPostgres = `
CREATE TABLE orgs (id bigserial PRIMARY KEY, name text NOT NULL, billing_email text, created_at timestamptz NOT NULL);
CREATE TABLE users (id bigserial PRIMARY KEY, uuid uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(), email text NOT NULL UNIQUE, name text,
  invited_by bigint REFERENCES users (id) ON DELETE SET NULL, created_at timestamptz NOT NULL);
CREATE INDEX users_email_lower ON users (lower(email));
CREATE TABLE memberships (org_id bigint NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
  user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE, role text NOT NULL, PRIMARY KEY (org_id, user_id));
CREATE TABLE membership_notes (id bigserial PRIMARY KEY, org_id bigint NOT NULL, user_id bigint NOT NULL, note text NOT NULL,
  FOREIGN KEY (org_id, user_id) REFERENCES memberships (org_id, user_id) ON DELETE CASCADE);
CREATE TABLE projects (id bigserial PRIMARY KEY, org_id bigint NOT NULL REFERENCES orgs (id),
  owner_id bigint NOT NULL REFERENCES users (id), name text NOT NULL);
CREATE TABLE audit_logs (id bigserial PRIMARY KEY, org_id bigint NOT NULL REFERENCES orgs (id),
  actor_id bigint REFERENCES users (id) ON DELETE SET NULL, action text NOT NULL, ip_address inet, created_at timestamptz NOT NULL);
CREATE TABLE security_events (id bigserial PRIMARY KEY, username text NOT NULL, ip_address inet, kind text NOT NULL, created_at timestamptz NOT NULL);
CREATE TABLE newsletter_signups (email text NOT NULL, source text, signed_up_at timestamptz NOT NULL);
CREATE UNIQUE INDEX newsletter_signups_email ON newsletter_signups (email);
CREATE TABLE page_views (visitor_id text NOT NULL, user_id bigint REFERENCES users (id), url text, viewed_at timestamptz NOT NULL);
CREATE SCHEMA billing;
CREATE TABLE billing.invoices (id bigserial PRIMARY KEY, org_id bigint NOT NULL REFERENCES orgs (id), billing_name text NOT NULL,
  amount_cents bigint NOT NULL, issued_at timestamptz NOT NULL);
CREATE TABLE billing.invoice_lines (invoice_id bigint NOT NULL REFERENCES billing.invoices (id) ON DELETE CASCADE, line_no int NOT NULL,
  description text NOT NULL, PRIMARY KEY (invoice_id, line_no));
`

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
	v.role(t, "InvoiceLine", "TrackId", policy.RoleMention)
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

func TestGolden(t *testing.T) {
	cases := []goldenCase{
		{name: "dvdrental", kind: "sqlite", schema: dvdSQLite, check: dvdCheck},
		{name: "musicstore", kind: "sqlite", schema: musicSQLite, check: musicCheck, extra: []string{"email-index"}},
		{name: "musicstore", kind: "postgres", schema: musicPostgres, check: musicCheck, extra: []string{"email-index"}},
		{name: "musicstore", kind: "mysql", schema: musicMySQL, check: musicCheck},
		{name: "saas", kind: "sqlite", schema: saasSQLite, check: saasCheck, extra: []string{"missing-subject", "no-primary-key"}},
		{name: "saas", kind: "postgres", schema: saasPostgres, extra: []string{"missing-subject", "no-primary-key"}, check: func(t *testing.T, v *view) {
			saasCheck(t, v)
			v.owner(t, "billing.invoices", "org_id")
			v.owner(t, "billing.invoice_lines", "invoice_id")
			v.kind(t, "billing.invoice_lines", "customer")
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name+"/"+tc.kind, func(t *testing.T) {
			t.Parallel()
			schema := introspect(t, tc.kind, tc.schema)
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
