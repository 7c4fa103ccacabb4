// Package dsrbench measures data-subject requests on a large sample
// application database: it owns a generator for a realistic SaaS schema
// (17 tables, millions of rows, on PostgreSQL or MariaDB) with its policy,
// hand-written SQL doing the same work as Vow (the floor), and a harness
// that times both side by side and samples Vow's peak heap.
//
// Nothing here runs in the default test run except a tiny end-to-end
// check; the benchmark itself is TestBench, guarded by VOW_BENCH=1.
package dsrbench

import (
	"fmt"
	"strings"
)

// column is one column of a generated table, with its type per dialect.
type column struct {
	name     string
	pg, my   string
	nullable bool
}

// table is one table of the sample schema: its columns (id first), the
// columns that reference other tables (indexed, as an application would),
// and its share of the background rows.
type table struct {
	name  string
	cols  []column
	fks   []fk
	index []string // extra indexed columns (lookups by email)
	// lower are email identity columns: PostgreSQL gets an index on
	// lower(col), which Vow's case-insensitive lookups use (MariaDB
	// compares case-insensitively with the plain index).
	lower  []string
	weight float64 // share of the background rows
	heavy  float64 // share of a benchmark subject's own rows
}

type fk struct {
	col, ref string
	// noConstraint: the reference is kept by the application only (billing
	// rows that must outlive the user under a legal hold).
	noConstraint bool
}

func idCol() column { return column{name: "id", pg: "bigint NOT NULL", my: "BIGINT NOT NULL"} }
func ref(name string, nullable bool) column {
	c := column{name: name, pg: "bigint", my: "BIGINT", nullable: nullable}
	if !nullable {
		c.pg, c.my = "bigint NOT NULL", "BIGINT NOT NULL"
	}
	return c
}
func text(name string, n int) column {
	return column{name: name, pg: "text", my: fmt.Sprintf("VARCHAR(%d)", n), nullable: true}
}
func long(name string) column { return column{name: name, pg: "text", my: "TEXT", nullable: true} }
func stamp(name string, nullable bool) column {
	return column{name: name, pg: "timestamptz", my: "DATETIME", nullable: nullable}
}
func money(name string) column {
	return column{name: name, pg: "numeric(10,2)", my: "DECIMAL(10,2)", nullable: true}
}

// tables are in load order: every table after the tables it references.
var tables = []*table{
	{name: "organizations", weight: .002, cols: []column{idCol(), text("name", 100), text("plan", 20), stamp("created_at", false)}},
	// Staff answer support tickets: customers' rows mention them, and a
	// request for a customer must not reach a staff member's rows.
	{name: "staff", weight: .0002,
		cols:  []column{idCol(), text("email", 255), text("name", 100), stamp("created_at", false), stamp("left_at", true)},
		index: []string{"email"}, lower: []string{"email"}},
	{name: "users", weight: .02, heavy: 0,
		cols:  []column{idCol(), text("email", 255), text("name", 100), text("password_hash", 100), ref("invited_by", true), text("last_login_ip", 45), stamp("created_at", false), stamp("deleted_at", true)},
		fks:   []fk{{col: "invited_by", ref: "users"}},
		index: []string{"email"}, lower: []string{"email"}},
	{name: "memberships", weight: .03, heavy: .0002,
		cols: []column{idCol(), ref("org_id", false), ref("user_id", false), text("role", 20), stamp("created_at", false)},
		fks:  []fk{{col: "org_id", ref: "organizations"}, {col: "user_id", ref: "users"}}},
	{name: "projects", weight: .01, heavy: .001,
		cols: []column{idCol(), ref("org_id", false), ref("owner_id", true), text("name", 200), stamp("created_at", false)},
		fks:  []fk{{col: "org_id", ref: "organizations"}, {col: "owner_id", ref: "users"}}},
	{name: "tasks", weight: .14, heavy: .05,
		cols: []column{idCol(), ref("project_id", false), ref("creator_id", true), text("title", 200), long("body"), stamp("created_at", false)},
		fks:  []fk{{col: "project_id", ref: "projects"}, {col: "creator_id", ref: "users"}}},
	{name: "comments", weight: .19, heavy: .1,
		cols: []column{idCol(), ref("task_id", false), ref("author_id", false), long("body"), stamp("created_at", false)},
		fks:  []fk{{col: "task_id", ref: "tasks"}, {col: "author_id", ref: "users"}}},
	{name: "attachments", weight: .03, heavy: .02,
		cols: []column{idCol(), ref("comment_id", false), text("filename", 200), ref("bytes", true), stamp("created_at", false)},
		fks:  []fk{{col: "comment_id", ref: "comments"}}},
	{name: "events", weight: .28, heavy: .44,
		cols: []column{idCol(), ref("user_id", false), text("name", 50), long("properties"), stamp("created_at", false)},
		fks:  []fk{{col: "user_id", ref: "users"}}},
	// actor_email is declared as an email: after each erasure Vow searches
	// it, whole, for the subject's address (the residual search), which an
	// index on lower(actor_email) serves on PostgreSQL and one on the
	// column on MariaDB.
	{name: "audit_logs", weight: .14, heavy: .25,
		cols:  []column{idCol(), ref("actor_id", true), text("actor_email", 255), text("ip", 45), text("action", 50), stamp("created_at", false)},
		fks:   []fk{{col: "actor_id", ref: "users"}},
		index: []string{"actor_email"}, lower: []string{"actor_email"}},
	{name: "sessions", weight: .04, heavy: .02,
		cols: []column{idCol(), ref("user_id", false), text("ip", 45), text("user_agent", 200), stamp("created_at", false)},
		fks:  []fk{{col: "user_id", ref: "users"}}},
	{name: "api_keys", weight: .005, heavy: .0001,
		cols: []column{idCol(), ref("user_id", false), text("token_hash", 100), text("label", 50), stamp("created_at", false)},
		fks:  []fk{{col: "user_id", ref: "users"}}},
	{name: "notifications", weight: .05, heavy: .05,
		cols: []column{idCol(), ref("user_id", false), text("kind", 30), long("body"), stamp("read_at", true), stamp("created_at", false)},
		fks:  []fk{{col: "user_id", ref: "users"}}},
	{name: "invoices", weight: .01, heavy: .001,
		cols: []column{idCol(), ref("user_id", false), money("amount"), stamp("issued_at", false)},
		fks:  []fk{{col: "user_id", ref: "users", noConstraint: true}}},
	{name: "payments", weight: .01, heavy: .001,
		cols: []column{idCol(), ref("invoice_id", false), ref("user_id", true), money("amount"), text("card_last4", 4), stamp("paid_at", false)},
		fks:  []fk{{col: "invoice_id", ref: "invoices"}, {col: "user_id", ref: "users"}}},
	{name: "support_tickets", weight: .005, heavy: .002,
		cols: []column{idCol(), ref("user_id", false), ref("assignee_id", true), text("subject", 200), long("body"), stamp("created_at", false)},
		fks:  []fk{{col: "user_id", ref: "users"}, {col: "assignee_id", ref: "staff"}}},
	{name: "ticket_messages", weight: .015, heavy: .008,
		cols: []column{idCol(), ref("ticket_id", false), ref("author_id", true), ref("staff_id", true), long("body"), stamp("created_at", false)},
		fks:  []fk{{col: "ticket_id", ref: "support_tickets"}, {col: "author_id", ref: "users"}, {col: "staff_id", ref: "staff"}}},
	{name: "login_attempts", weight: .03, heavy: .02,
		cols:  []column{idCol(), text("email", 255), text("ip", 45), ref("success", false), stamp("created_at", false)},
		index: []string{"email"}, lower: []string{"email"}},
}

func tableByName(name string) *table {
	for _, t := range tables {
		if t.name == name {
			return t
		}
	}
	panic("dsrbench: no table " + name)
}

func (t *table) colNames() []string {
	out := make([]string, len(t.cols))
	for i, c := range t.cols {
		out[i] = c.name
	}
	return out
}

// createSQL returns the CREATE TABLE statements (primary keys only; the
// indexes and foreign keys come after the bulk load, see indexSQL).
func createSQL(kind string) []string {
	var out []string
	for _, t := range tables {
		var cols []string
		for _, c := range t.cols {
			typ := c.pg
			if kind == "mysql" {
				typ = c.my
			}
			cols = append(cols, c.name+" "+typ)
		}
		cols = append(cols, "PRIMARY KEY (id)")
		stmt := "CREATE TABLE " + t.name + " (" + strings.Join(cols, ", ") + ")"
		if kind == "mysql" {
			stmt += " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
		}
		out = append(out, stmt)
	}
	return out
}

// indexSQL returns the statements that index every foreign-key column and
// the email lookups, and add the foreign-key constraints, as a real
// application's schema has them.
func indexSQL(kind string) []string {
	var out []string
	for _, t := range tables {
		var cols []string
		for _, f := range t.fks {
			cols = append(cols, f.col)
		}
		cols = append(cols, t.index...)
		if kind == "mysql" {
			var parts []string
			for _, c := range cols {
				parts = append(parts, fmt.Sprintf("ADD INDEX %s_%s_idx (%s)", t.name, c, c))
			}
			for _, f := range t.fks {
				if !f.noConstraint {
					parts = append(parts, fmt.Sprintf("ADD CONSTRAINT %s_%s_fk FOREIGN KEY (%s) REFERENCES %s (id)", t.name, f.col, f.col, f.ref))
				}
			}
			if len(parts) > 0 {
				out = append(out, "ALTER TABLE "+t.name+" "+strings.Join(parts, ", "))
			}
			continue
		}
		for _, c := range cols {
			out = append(out, fmt.Sprintf("CREATE INDEX %s_%s_idx ON %s (%s)", t.name, c, t.name, c))
		}
		for _, c := range t.lower {
			out = append(out, fmt.Sprintf("CREATE INDEX %s_%s_lower_idx ON %s (lower(%s))", t.name, c, t.name, c))
		}
		for _, f := range t.fks {
			if !f.noConstraint {
				out = append(out, fmt.Sprintf("ALTER TABLE %s ADD CONSTRAINT %s_%s_fk FOREIGN KEY (%s) REFERENCES %s (id)", t.name, t.name, f.col, f.col, f.ref))
			}
		}
	}
	return out
}

// Policy returns the vow.yaml text declaring the sample database as one
// system of the given kind ("postgres" or "mysql") whose DSN is in the
// environment variable env.
func Policy(kind, env string) string {
	return strings.NewReplacer("KIND", kind, "ENV", env).Replace(policyText)
}

const policyText = `version: 1
organization:
  name: Taskly
  contacts: {privacy: privacy@taskly.example}
purposes:
  service: {legal_basis: contract, essential: true}
  billing: {legal_basis: contract, essential: true}
  analytics: {legal_basis: legitimate_interests, interest: "Improve the product from how it is used."}
  security: {legal_basis: legitimate_interests, interest: "Keep accounts and the service secure.", essential: true}
systems:
  app:
    kind: KIND
    connection: {env: ENV}
    purposes: [service, billing, analytics, security]
    ignore: [organizations]
    tables:
      staff:
        subject: employee
        primary_key: [id]
        erase: delete
        fields:
          id: {category: user.unique_id, identity: user_id}
          email: {category: user.contact.email, identity: email}
          name: user.name
          created_at: system.operations
          left_at: system.operations
      users:
        subject: customer
        primary_key: [id]
        erase: delete
        fields:
          id: {category: user.unique_id, identity: user_id}
          email: {category: user.contact.email, identity: email}
          name: user.name
          password_hash: user.authorization.password
          invited_by: {category: user.unique_id, references: users.id, erase: nullify}
          last_login_ip: user.device.ip_address
          created_at: system.operations
          deleted_at: system.operations
      memberships:
        subject: customer
        primary_key: [id]
        erase: delete
        fields:
          id: system.operations
          org_id: system.operations
          user_id: {category: user.unique_id, references: users.id}
          role: system.operations
          created_at: system.operations
      projects:
        subject: customer
        primary_key: [id]
        fields:
          id: system.operations
          org_id: system.operations
          owner_id: {category: user.unique_id, references: users.id, erase: nullify}
          name: system.operations
          created_at: system.operations
      tasks:
        subject: customer
        primary_key: [id]
        fields:
          id: system.operations
          project_id: system.operations
          creator_id: {category: user.unique_id, references: users.id, erase: nullify}
          title: system.operations
          body: system.operations
          created_at: system.operations
      comments:
        subject: customer
        primary_key: [id]
        erase: delete
        fields:
          id: system.operations
          task_id: system.operations
          author_id: {category: user.unique_id, references: users.id}
          body: user.content
          created_at: system.operations
      attachments:
        subject: customer
        primary_key: [id]
        erase: delete
        fields:
          id: system.operations
          comment_id: {category: system.operations, references: comments.id}
          filename: user.content
          bytes: system.operations
          created_at: system.operations
      events:
        subject: customer
        primary_key: [id]
        erase: delete
        fields:
          id: system.operations
          user_id: {category: user.unique_id, references: users.id}
          name: user.behavior
          properties: user.behavior
          created_at: system.operations
      audit_logs:
        subject: customer
        primary_key: [id]
        fields:
          id: system.operations
          actor_id: {category: user.unique_id, references: users.id, erase: nullify}
          actor_email: {category: user.contact.email, erase: hmac}
          ip: {category: user.device.ip_address, erase: {set: "0.0.0.0"}}
          action: system.operations
          created_at: system.operations
      sessions:
        subject: customer
        primary_key: [id]
        erase: delete
        fields:
          id: system.operations
          user_id: {category: user.unique_id, references: users.id}
          ip: user.device.ip_address
          user_agent: user.device.user_agent
          created_at: system.operations
      api_keys:
        subject: customer
        primary_key: [id]
        erase: delete
        fields:
          id: system.operations
          user_id: {category: user.unique_id, references: users.id}
          token_hash: user.authorization.credentials
          label: system.operations
          created_at: system.operations
      notifications:
        subject: customer
        primary_key: [id]
        erase: delete
        fields:
          id: system.operations
          user_id: {category: user.unique_id, references: users.id}
          kind: system.operations
          body: user.content
          read_at: system.operations
          created_at: system.operations
      invoices:
        subject: customer
        primary_key: [id]
        erase: {hold: "Tax law: invoices are kept 10 years.", for: 10y}
        fields:
          id: system.operations
          user_id: {category: user.unique_id, references: users.id}
          amount: user.payment
          issued_at: system.operations
      payments:
        subject: customer
        primary_key: [id]
        fields:
          id: system.operations
          invoice_id: system.operations
          user_id: {category: user.unique_id, references: users.id, erase: nullify}
          amount: {category: user.payment, erase: {hold: "Tax law: payment records are kept 10 years.", for: 10y}}
          card_last4: {category: user.financial.credit_card, erase: nullify}
          paid_at: system.operations
      support_tickets:
        subject: customer
        primary_key: [id]
        erase: delete
        fields:
          id: system.operations
          user_id: {category: user.unique_id, references: users.id}
          # A mention: the staff member handling the customer's ticket.
          assignee_id: {category: user.unique_id, references: staff.id, erase: nullify}
          subject: user.content
          body: user.content
          created_at: system.operations
      ticket_messages:
        subject: customer
        primary_key: [id]
        erase: delete
        fields:
          id: system.operations
          ticket_id: {category: system.operations, references: support_tickets.id, relation: owner}
          author_id: {category: user.unique_id, references: users.id, relation: owner}
          staff_id: {category: user.unique_id, references: staff.id, erase: nullify}
          body: user.content
          created_at: system.operations
      login_attempts:
        subject: customer
        primary_key: [id]
        erase: delete
        fields:
          id: system.operations
          email: {category: user.contact.email, identity: email}
          ip: user.device.ip_address
          success: system.operations
          created_at: system.operations
processors:
  - {name: Stripe, purposes: [billing], categories: [user.financial, user.payment], location: United States}
# The benchmark's power user owns up to a sixth of some tables at 1M rows
# (a real one a hundredth at 10M): above the default brake of 10%.
brake:
  requests: {share: 30%}
retention:
  rules:
    - {name: closed accounts, table: "app:users", where: deleted_at IS NOT NULL, from: deleted_at, keep: 30d}
    - {name: old events, table: "app:events", from: created_at, keep: 400d}
    - {name: old sessions, table: "app:sessions", from: created_at, keep: 90d}
    - {name: former staff, table: "app:staff", where: left_at IS NOT NULL, from: left_at, keep: 1y}
    - {name: old login attempts, table: "app:login_attempts", from: created_at, keep: 30d}
    - {name: old audit logs, table: "app:audit_logs", from: created_at, keep: 2y}
rights:
  offered: [access, portability, erasure, rectification]
  verification: trusted
`
