package dsr_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/vowprivacy/vow/drift"
	"github.com/vowprivacy/vow/dsr"
	"github.com/vowprivacy/vow/internal/testdb"
)

// A PostgreSQL application with its tables in a schema of their own and
// mixed-case names: the policy names them schema.Table, and requests
// quote every part.
const schemaQualifiedPolicy = appPolicyHead + `      crm.Customers:
        subject: customer
        primary_key: [Id]
        erase: delete
        fields:
          Id: system.operations
          Email: {category: user.contact.email, identity: email}
          ClosedAt: system.operations
      crm.Orders:
        subject: customer
        primary_key: [Id]
        erase: delete
        fields:
          Id: system.operations
          CustomerId: {category: system.operations, references: crm.Customers.Id}
          Note: user.content
retention:
  rules:
    - {name: closed customers, table: "app:crm.Customers", where: '"ClosedAt" IS NOT NULL', from: ClosedAt, keep: 30d}
rights:
  offered: [access, erasure]
`

const schemaQualifiedSQL = `
CREATE SCHEMA crm;
CREATE TABLE crm."Customers" ("Id" bigint PRIMARY KEY, "Email" text NOT NULL, "ClosedAt" timestamptz);
CREATE TABLE crm."Orders" ("Id" bigint PRIMARY KEY, "CustomerId" bigint NOT NULL REFERENCES crm."Customers" ("Id"), "Note" text);
CREATE INDEX ON crm."Customers" (lower("Email"));
CREATE INDEX ON crm."Orders" ("CustomerId");
INSERT INTO crm."Customers" VALUES (1, 'Ada@Example.com', NULL), (2, 'bob@example.com', NULL);
INSERT INTO crm."Orders" VALUES (10, 1, 'Ada 1'), (11, 1, 'Ada 2'), (20, 2, 'Bob 1');
`

func TestSchemaQualified(t *testing.T) {
	t.Parallel()
	f := fixtureFor(t, "postgres", schemaQualifiedSQL, schemaQualifiedPolicy)
	// vow check --live: clean.
	if ds, _ := drift.Live(t.Context(), f.policy, f.resolver); len(ds) > 0 {
		t.Errorf("check --live on the schema: %v", ds)
	}
	plan, err := dsr.NewPlan(f.policy, "", []string{"email"})
	if err != nil {
		t.Fatal(err)
	}
	if warns, err := plan.CheckLive(t.Context(), f.resolver); err != nil || len(warns) > 0 {
		t.Errorf("plan --live on an indexed schema: %v, %v; want no warnings", warns, err)
	}
	testdb.Exec(t, "postgres", f.appDSN, `DROP INDEX crm."Customers_lower_idx"`)
	warns, err := plan.CheckLive(t.Context(), f.resolver)
	if err != nil || !strings.Contains(strings.Join(warns, "\n"), `CREATE INDEX ON "crm"."Customers" (lower("Email"))`) {
		t.Errorf("plan --live without the index: %v, %v; want the index to create, quoted", warns, err)
	}
	a := run(t, f, create(t, f, trusted(dsr.Access, dsr.Identities{"email": "ada@example.com"})).ID)
	if a.Result.Rows["app:crm.Customers"] != 1 || a.Result.Rows["app:crm.Orders"] != 2 {
		t.Errorf("access: %v, want Ada's customer row and two orders", a.Result.Rows)
	}
	run(t, f, create(t, f, trusted(dsr.Erasure, dsr.Identities{"email": "ada@example.com"})).ID)
	if got := query(t, "postgres", f.appDSN, `SELECT "Id" FROM crm."Orders" ORDER BY 1`); !reflect.DeepEqual(got, []string{"20"}) {
		t.Errorf("orders after erasure: %v, want Bob's", got)
	}
	if got := query(t, "postgres", f.appDSN, `SELECT "Email" FROM crm."Customers"`); strings.Join(got, ",") != "bob@example.com" {
		t.Errorf("customers after erasure: %v, want Bob's", got)
	}
}

// TestSchemaQualifiedReusedKey: while Ada's erasure runs, her order's Id
// goes to a new order of Bob's, with a line of its own. The saved key of
// a table whose name has a dot in it still stops the request before the
// line is taken for hers.
func TestSchemaQualifiedReusedKey(t *testing.T) {
	t.Parallel()
	lines := `      crm.OrderLines:
        subject: customer
        primary_key: [Id]
        erase: delete
        fields:
          Id: system.operations
          OrderId: {category: system.operations, references: crm.Orders.Id}
          Item: user.content
retention:`
	f := fixtureFor(t, "postgres", schemaQualifiedSQL+`CREATE TABLE crm."OrderLines" ("Id" bigint PRIMARY KEY, "OrderId" bigint NOT NULL, "Item" text);
INSERT INTO crm."OrderLines" VALUES (100, 10, 'Ada line');`, strings.Replace(schemaQualifiedPolicy, "retention:", lines, 1))
	r := create(t, f, trusted(dsr.Erasure, dsr.Identities{"email": "ada@example.com"}))
	dsr.SetCrashHook(f.svc, func(p string) {
		if p == "before-verify" {
			testdb.Exec(t, "postgres", f.appDSN, `INSERT INTO crm."Orders" VALUES (10, 2, 'Bob 2'); INSERT INTO crm."OrderLines" VALUES (101, 10, 'Bob line');`)
		}
	})
	got, err := f.svc.Run(t.Context(), r.ID, nil)
	if err == nil && got.Status == dsr.Completed {
		t.Errorf("erasure completed; want it stopped on the reused key")
	}
	if rows := query(t, "postgres", f.appDSN, `SELECT "Id" FROM crm."OrderLines" ORDER BY 1`); strings.Join(rows, ",") != "101" {
		t.Errorf("order lines = %v, want Bob's new line untouched", rows)
	}
}
