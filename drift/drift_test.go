package drift_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/vowprivacy/vow/datastore"
	"github.com/vowprivacy/vow/drift"
	"github.com/vowprivacy/vow/internal/testdb"
	"github.com/vowprivacy/vow/policy"
)

const schema = `
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, phone TEXT, created_at TIMESTAMP NOT NULL);
CREATE INDEX users_email_lower ON users (lower(email));
CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id), total INTEGER, created_at TIMESTAMP NOT NULL);
CREATE TABLE events (user_id INTEGER NOT NULL, kind TEXT, at TIMESTAMP NOT NULL);
CREATE UNIQUE INDEX events_key ON events (user_id, at);
CREATE TABLE leads (id INTEGER PRIMARY KEY, email TEXT, full_name TEXT);
`

const base = `version: 1
organization: {name: X, contacts: {privacy: p@x.example}}
systems:
  app:
    kind: sqlite
    connection: {path: PATH}
    ignore: [leads]
    tables:
      users:
        primary_key: [id]
        fields:
          id: {category: user.unique_id, identity: user_id}
          email: {category: user.contact.email, identity: email}
          phone: user.contact.phone_number
          created_at: system.operations
      orders:
        fields:
          id: system.operations
          user_id: {category: user.unique_id, references: users.id}
          total: user.payment
          created_at: system.operations
      events:
        primary_key: [user_id, at]
        fields:
          user_id: {category: user.unique_id, references: users.id}
          kind: system.operations
          at: system.operations
`

func TestCompare(t *testing.T) {
	tests := []struct {
		name     string
		edit     func(string) string
		code     string
		severity policy.Severity
		msg      string
	}{
		{"missing table", func(s string) string { return strings.Replace(s, "      orders:", "      order:", 1) }, "missing-table", policy.Error, "table app:order is declared but does not exist"},
		{"missing column", func(s string) string { return strings.Replace(s, "phone: user", "mobile: user", 1) }, "missing-column", policy.Error, "column app:users.mobile is declared but does not exist in the database"},
		{"undeclared column", func(s string) string {
			return strings.Replace(s, "          phone: user.contact.phone_number\n", "", 1)
		}, "undeclared-column", policy.Warning, "column app:users.phone (text) exists in the database but the policy does not declare it; it looks like user.contact.phone_number"},
		{"undeclared table", func(s string) string { return strings.Replace(s, "    ignore: [leads]\n", "", 1) }, "undeclared-table", policy.Warning, "table app:leads exists in the database but the policy does not declare it; it looks personal: id (user.unique_id), email (user.contact.email), full_name (user.name)"},
		{"primary key mismatch", func(s string) string { return strings.Replace(s, "primary_key: [id]", "primary_key: [email]", 1) }, "primary-key-mismatch", policy.Error, "declares primary key (email) but the database has (id)"},
		{"undeclared relation", func(s string) string {
			return strings.Replace(s, "user_id: {category: user.unique_id, references: users.id}\n          total", "user_id: user.unique_id\n          total", 1)
		}, "undeclared-relation", policy.Warning, "the database links app:orders.user_id to users.id but the policy does not declare the relation"},
		{"no primary key", func(s string) string { return strings.Replace(s, "        primary_key: [user_id, at]\n", "", 1) }, "no-primary-key", policy.Warning, "table app:events has no primary key"},
		{"relation to missing column", func(s string) string {
			return strings.Replace(strings.Replace(s, "references: users.id}\n          total", "references: users.uid}\n          total", 1), "primary_key: [id]", "primary_key: [id, uid]", 1)
		}, "broken-relation", policy.Error, "relation app:orders.user_id → users.uid does not exist in the database"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := testdb.SQLite(t)
			testdb.Exec(t, "sqlite", path, schema)
			src := tc.edit(strings.Replace(base, "PATH", path, 1))
			p, ds := policy.Parse("vow.yaml", []byte(src))
			if p == nil {
				t.Fatalf("policy does not parse: %v", ds)
			}
			got, res := drift.Live(context.Background(), p, datastore.Resolver{})
			if len(res) != 1 || res[0].Schema == nil {
				t.Fatalf("no schema read: %+v %v", res, got)
			}
			for _, d := range got {
				if d.Code == tc.code && d.Severity == tc.severity && strings.Contains(d.Message, tc.msg) {
					if d.Pos.Line == 0 {
						t.Errorf("no position: %v", d)
					}
					return
				}
			}
			t.Fatalf("want %s %q, got %v", tc.code, tc.msg, got)
		})
	}
}

func TestCompareClean(t *testing.T) {
	t.Parallel()
	path := testdb.SQLite(t)
	testdb.Exec(t, "sqlite", path, schema)
	p, ds := policy.Parse("vow.yaml", []byte(strings.Replace(base, "PATH", path, 1)))
	if p == nil {
		t.Fatal(ds)
	}
	if got, _ := drift.Live(context.Background(), p, datastore.Resolver{}); len(got) != 0 {
		t.Fatalf("want no drift, got %v", got)
	}
}

// TestTimeZoneUnknown: times without a zone on a PostgreSQL server whose
// time zone is not UTC, and no time_zone in the policy, are reported
// before a request or rule stops on them; declared, they are not.
func TestTimeZoneUnknown(t *testing.T) {
	t.Parallel()
	dsn := testdb.Postgres(t)
	testdb.Exec(t, "postgres", dsn, `DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET timezone = %L', current_database(), 'Europe/Paris'); END $$;
CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, created_at timestamp NOT NULL);`)
	src := `version: 1
organization: {name: X, contacts: {privacy: p@x.example}}
systems:
  app:
    kind: postgres
    connection: {env: APP_DSN}
    ZONE
    tables:
      users:
        fields:
          id: {category: user.unique_id, identity: user_id}
          email: {category: user.contact.email, identity: email}
          created_at: system.operations
`
	for zone, want := range map[string]int{"": 1, "time_zone: Europe/Paris": 0} {
		got, all := liveWithCode(t, strings.Replace(src, "ZONE", zone, 1), dsn, "time-zone-unknown")
		for _, d := range got {
			if d.Severity != policy.Error || !strings.Contains(d.Message, "Europe/Paris") || d.Pos.Line != 4 {
				t.Errorf("%q: %v (line %d); want an error at systems.app naming Europe/Paris", zone, d, d.Pos.Line)
			}
		}
		if len(got) != want {
			t.Errorf("%q: %d time-zone-unknown diagnostics in %v; want %d", zone, len(got), all, want)
		}
	}
}

// liveWithCode checks the policy src live against the database at dsn
// and returns its diagnostics of the given code, and all of them.
func liveWithCode(t *testing.T, src, dsn, code string) (withCode, all policy.Diagnostics) {
	t.Helper()
	p, ds := policy.Parse("vow.yaml", []byte(src))
	if p == nil {
		t.Fatal(ds)
	}
	all, _ = drift.Live(context.Background(), p, datastore.Resolver{LookupEnv: func(string) (string, bool) { return dsn, true }})
	for _, d := range all {
		if d.Code == code {
			withCode = append(withCode, d)
		}
	}
	return withCode, all
}

// A PostgreSQL domain is checked as its base type: a relation from bigint
// to a domain over bigint is not a type mismatch, and a pseudonym does
// not fit a domain over varchar(8).
func TestDomainsByTheirBase(t *testing.T) {
	t.Parallel()
	dsn := testdb.Postgres(t)
	testdb.Exec(t, "postgres", dsn, `CREATE DOMAIN account_id AS bigint; CREATE DOMAIN code8 AS varchar(8);
CREATE DOMAIN pos_id AS bigint CHECK (VALUE > 0); CREATE DOMAIN ref_id AS pos_id;
CREATE DOMAIN req_text AS text NOT NULL; CREATE DOMAIN nick_t AS req_text;
CREATE TABLE users (id account_id PRIMARY KEY, email text NOT NULL);
CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint NOT NULL, coupon code8, ref ref_id, nick nick_t);`)
	src := `version: 1
organization: {name: X, contacts: {privacy: p@x.example}}
systems:
  app:
    kind: postgres
    connection: {env: APP_DSN}
    tables:
      users:
        fields:
          id: {category: user.unique_id, identity: user_id}
          email: {category: user.contact.email, identity: email}
      orders:
        fields:
          id: system.operations
          user_id: {category: user.unique_id, references: users.id}
          coupon: {category: user.unique_id, erase: hmac}
          ref: {category: user.unique_id, erase: hmac}
          nick: {category: user.name, erase: nullify}
`
	if got, all := liveWithCode(t, src, dsn, "relation-type-mismatch"); len(got) != 0 {
		t.Errorf("relation-type-mismatch %v in %v; want none (account_id is a bigint)", got, all)
	}
	_, all := liveWithCode(t, src, dsn, "")
	if !slices.ContainsFunc(all, func(d policy.Diagnostic) bool {
		return strings.Contains(d.Message, "coupon") && strings.Contains(d.Message, "narrower than the shortest pseudonym")
	}) {
		t.Errorf("diagnostics %v; want coupon (a domain over varchar(8)) too narrow for a pseudonym", all)
	}
	// A domain's CHECK and NOT NULL, through a chain of domains, bind the
	// column: a negative pseudonym breaks VALUE > 0, and NULL breaks NOT
	// NULL.
	if got, all := liveWithCode(t, src, dsn, "check-refuses-mask"); len(got) != 1 || !strings.Contains(got[0].Message, "ref > 0") {
		t.Errorf("check-refuses-mask %v in %v; want ref's domain check", got, all)
	}
	if got, all := liveWithCode(t, src, dsn, "nullify-not-null"); len(got) != 1 || !strings.Contains(got[0].Message, "nick") {
		t.Errorf("nullify-not-null %v in %v; want nick (a domain NOT NULL)", got, all)
	}
}
