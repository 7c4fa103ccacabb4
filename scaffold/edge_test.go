package scaffold_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/vowprivacy/vow/connector"
	"github.com/vowprivacy/vow/policy"
	"github.com/vowprivacy/vow/scaffold"
)

// Schemas written as the connectors report them, for shapes that are
// awkward or impossible to create on every database: each case checks
// what the starter policy says, and that it parses with no error other
// than the decisions left to a human.

func col(name, typ string, nullable bool) connector.Column {
	return connector.Column{Name: name, Type: typ, Nullable: nullable}
}

func fk(cols []string, ref string, refCols []string, onDelete string) connector.ForeignKey {
	return connector.ForeignKey{Columns: cols, RefTable: ref, RefColumns: refCols, OnDelete: onDelete}
}

func one(c, ref, refCol string) connector.ForeignKey {
	return fk([]string{c}, ref, []string{refCol}, connector.ActionNoAction)
}

func withFK(t connector.Table, fks ...connector.ForeignKey) connector.Table {
	t.ForeignKeys = append(slices.Clone(t.ForeignKeys), fks...)
	return t
}

func TestEdges(t *testing.T) {
	users := connector.Table{Name: "users", PrimaryKey: []string{"id"},
		Columns: []connector.Column{col("id", "bigint", false), col("email", "text", false), col("account_id", "bigint", true)},
		Indexes: []connector.Index{{Name: "users_email_lower", Columns: []string{"lower(email)"}}}}
	cases := []struct {
		name   string
		tables []connector.Table
		want   []string // lines the policy contains
		absent []string // lines it must not contain
		check  func(t *testing.T, v *view)
	}{
		{
			// A reference named for a sales rep makes its table staff,
			// whatever it is called; the deal stays the customer's.
			name: "sales rep",
			tables: []connector.Table{
				{Name: "accounts", PrimaryKey: []string{"id"}, Columns: []connector.Column{col("id", "bigint", false), col("email", "text", false)},
					Indexes: []connector.Index{{Name: "accounts_email", Columns: []string{"lower(email)"}}}},
				{Name: "reps", PrimaryKey: []string{"id"}, Columns: []connector.Column{col("id", "bigint", false), col("full_name", "text", false)}},
				{Name: "deals", PrimaryKey: []string{"id"}, Columns: []connector.Column{col("id", "bigint", false), col("account_id", "bigint", false), col("SalesRepId", "bigint", true), col("amount", "numeric", false)},
					ForeignKeys: []connector.ForeignKey{one("account_id", "accounts", "id"), one("SalesRepId", "reps", "id")}},
			},
			want: []string{"subject: employee # review: your staff (deals.SalesRepId references it)"},
			check: func(t *testing.T, v *view) {
				v.kind(t, "reps", "employee")
				v.kind(t, "deals", "customer")
				v.owner(t, "deals", "account_id")
				v.role(t, "deals", "SalesRepId", policy.RoleMention)
				v.erase(t, "deals", "SalesRepId", "nullify")
				v.identities(t, "reps")
				v.identities(t, "accounts", "id=user_id", "email=email")
			},
		},
		{
			// users.account_id is shared by many users: they are people of
			// their own, not the account's. profiles.user_id is one to
			// one: a profile is its user's, and identifies no one itself.
			name: "people of people",
			tables: []connector.Table{
				{Name: "accounts", PrimaryKey: []string{"id"}, Columns: []connector.Column{col("id", "bigint", false), col("billing_email", "text", false)}},
				withFK(users, one("account_id", "accounts", "id")),
				{Name: "profiles", PrimaryKey: []string{"id"}, Columns: []connector.Column{col("id", "bigint", false), col("user_id", "bigint", false), col("email", "text", true), col("bio", "text", true)},
					Indexes:     []connector.Index{{Name: "profiles_user", Columns: []string{"user_id"}, Unique: true}},
					ForeignKeys: []connector.ForeignKey{one("user_id", "users", "id")}},
			},
			check: func(t *testing.T, v *view) {
				v.owner(t, "users", "")
				v.role(t, "users", "account_id", policy.RoleMention)
				v.erase(t, "users", "account_id", "nullify")
				v.owner(t, "profiles", "user_id")
				v.identities(t, "profiles")
				v.identities(t, "users", "id=user_id", "email=email")
				v.identities(t, "accounts") // not primary: users' id is the user_id of customers
			},
		},
		{
			// Ids and usernames count in each table's own namespace: a
			// customer's request carries a customer's, which must not
			// match a staff member's. Emails name the same person anywhere.
			name: "namespaces",
			tables: []connector.Table{
				{Name: "customers", PrimaryKey: []string{"id"}, Columns: []connector.Column{col("id", "bigint", false), col("username", "text", false), col("email", "text", false)},
					Indexes: []connector.Index{{Name: "customers_email", Columns: []string{"lower(email)"}}}},
				{Name: "admins", PrimaryKey: []string{"id"}, Columns: []connector.Column{col("id", "bigint", false), col("login", "text", false), col("email", "text", false), col("phone", "text", true)},
					Indexes: []connector.Index{{Name: "admins_email", Columns: []string{"lower(email)"}}}},
			},
			want: []string{"not an identity: customer requests use user_id", "not an identity: customer requests use username"},
			check: func(t *testing.T, v *view) {
				v.kind(t, "admins", "employee")
				v.identities(t, "customers", "id=user_id", "username=username", "email=email")
				v.identities(t, "admins", "email=email", "phone=phone")
			},
		},
		{
			// Names that YAML would read as something else, a table with
			// a space and a schema, round-trip.
			name: "names",
			tables: []connector.Table{
				{Name: "sales.Order Details", PrimaryKey: []string{"null"},
					Columns: []connector.Column{col("null", "bigint", false), col("true", "text", true), col("123", "text", true), col("Customer Email", "text", true), col("on", "text", true)}},
			},
			check: func(t *testing.T, v *view) {
				tb := v.table(t, "sales.Order Details")
				var names []string
				for _, f := range tb.Fields {
					names = append(names, f.Name)
				}
				if want := []string{"null", "true", "123", "Customer Email", "on"}; !slices.Equal(names, want) {
					t.Errorf("fields %q, want %q", names, want)
				}
				v.key(t, "sales.Order Details", "null")
			},
		},
		{
			// A foreign key to a column that is not unique (MySQL allows
			// it) would reach every row sharing its value: not declared.
			name: "not unique",
			tables: []connector.Table{
				users,
				{Name: "notes", PrimaryKey: []string{"id"}, Columns: []connector.Column{col("id", "bigint", false), col("author_email", "text", false), col("body", "text", false), col("user_id", "bigint", false)},
					ForeignKeys: []connector.ForeignKey{one("author_email", "users", "email"), one("user_id", "users", "id"), one("user_id", "users", "id")}},
			},
			want: []string{"which is not unique in the database, so the relation is not declared", "also references users.id"},
			check: func(t *testing.T, v *view) {
				if f := v.table(t, "notes").Field("author_email"); f.References != "" {
					t.Errorf("author_email references %s", f.References)
				}
				v.owner(t, "notes", "user_id")
			},
		},
		{
			// A CHECK that refuses NULL keeps erasure from clearing a
			// mention; a table without any key gets no strategy at all.
			name: "cannot clear",
			tables: []connector.Table{
				users,
				{Name: "tickets", PrimaryKey: []string{"id"}, Columns: []connector.Column{col("id", "bigint", false), col("org_id", "bigint", false), col("assignee_id", "bigint", true), col("body", "text", false)},
					Checks:      []connector.Check{{Name: "assigned", Expr: "assignee_id IS NOT NULL", Columns: []string{"assignee_id"}}},
					ForeignKeys: []connector.ForeignKey{one("org_id", "orgs", "id"), one("assignee_id", "users", "id")}},
				{Name: "orgs", PrimaryKey: []string{"id"}, Columns: []connector.Column{col("id", "bigint", false), col("name", "text", false)}},
				{Name: "clicks", Columns: []connector.Column{col("user_id", "bigint", true), col("ip", "inet", true), col("referrer_id", "bigint", true)},
					Indexes:     []connector.Index{{Name: "clicks_ip", Columns: []string{"ip"}, Unique: true}},
					ForeignKeys: []connector.ForeignKey{one("user_id", "users", "id"), one("referrer_id", "users", "id")}},
			},
			want: []string{"CHECK (assignee_id IS NOT NULL) may refuse a NULL assignee_id", "clicks has no primary key"},
			check: func(t *testing.T, v *view) {
				v.erase(t, "tickets", "assignee_id", "")
				v.owner(t, "tickets", "")
				v.erase(t, "clicks", "user_id", "")
				v.erase(t, "clicks", "referrer_id", "")
				v.owner(t, "clicks", "user_id")
				v.key(t, "clicks")
			},
		},
		{
			// A composite key to a table the policy does not declare is
			// left out with the table; a log owned through its user has the
			// user's subject, and its username identifies no one.
			name: "logs",
			tables: []connector.Table{
				users,
				{Name: "login_history", PrimaryKey: []string{"id"}, Columns: []connector.Column{col("id", "bigint", false), col("user_id", "bigint", false), col("username", "text", false), col("ip", "inet", true), col("region", "text", true), col("zone", "text", true)},
					ForeignKeys: []connector.ForeignKey{one("user_id", "users", "id"), fk([]string{"region", "zone"}, "zones", []string{"region", "zone"}, connector.ActionNoAction)}},
				{Name: "zones", PrimaryKey: []string{"region", "zone"}, Columns: []connector.Column{col("region", "text", false), col("zone", "text", false)}},
			},
			absent: []string{"foreign_keys", "identity: username"},
			check: func(t *testing.T, v *view) {
				v.kind(t, "login_history", "customer")
				v.owner(t, "login_history", "user_id")
				v.identities(t, "login_history")
				v.ignored(t, "zones")
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src, err := scaffold.Policy(&connector.Schema{Kind: "postgres", Tables: tc.tables}, scaffold.Options{Kind: "postgres", ConnectionKey: "env", ConnectionValue: "DB"})
			if err != nil {
				t.Fatal(err)
			}
			text := regexp.MustCompile(`\n\s*#   `).ReplaceAllString(string(src), " ") // comments unwrapped
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("policy lacks %q", w)
				}
			}
			for _, a := range tc.absent {
				if strings.Contains(string(src), a) {
					t.Errorf("policy has %q", a)
				}
			}
			p, diags := policy.Parse("vow.yaml", src)
			if p == nil {
				t.Fatalf("%v", diags)
			}
			for _, d := range diags {
				if d.Severity == policy.Error && !slices.Contains(decisions, d.Code) {
					t.Errorf("%s", d)
				}
			}
			v := &view{p: p, own: p.Ownership()}
			v.invariants(t)
			tc.check(t, v)
			if t.Failed() {
				t.Logf("policy:\n%s", src)
			}
		})
	}
}
