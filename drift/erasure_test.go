package drift_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vowprivacy/vow/datastore"
	"github.com/vowprivacy/vow/drift"
	"github.com/vowprivacy/vow/internal/testdb"
	"github.com/vowprivacy/vow/policy"
)

// erasureCodes are the codes of the erasure checks, and those of drift.go
// that they replace or accompany; a case compares exactly these.
var erasureCodes = []string{
	"relation-not-unique", "relation-type-mismatch", "broken-relation", "split-relation", "undeclared-relation",
	"no-key", "no-primary-key", "primary-key-not-unique", "primary-key-nullable",
	"nullify-not-null", "set-value-type", "hmac-column-type", "hmac-column-width", "masked-foreign-key", "check-refuses-mask",
	"restrict-blocks-erasure", "cascade-reaches-others", "cascade-undeclared", "set-null-undeclared",
	"held-references-deleted", "kept-references-deleted", "cascade-deletes-held", "cascade-deletes-kept", "hold-from",
	"identity-type-mismatch", "email-index",
}

// finding is an expected diagnostic. only limits it to some dialects
// (letters p, m, s for postgres, mysql, sqlite); msg, if set, is a part
// of its message or hint.
type finding struct {
	code, path string
	sev        policy.Severity
	only       string
	msg        string
}

// erasureCase is one schema and policy, run on each of its dialects in a
// database of its own.
type erasureCase struct {
	name     string
	dialects string // p, m, s; all three when empty
	schema   string
	tables   string // under systems.app.tables, indented by 6
	rules    string // under retention.rules, indented by 4
	want     []finding
}

const usersTable = `CREATE TABLE users (id bigint PRIMARY KEY, email varchar(320) NOT NULL, name varchar(100), created_at timestamp NULL);
`

const usersPolicy = `      users:
        subject: customer
        erase: delete
        fields:
          id: {category: user.unique_id, identity: user_id}
          email: user.contact.email
          name: user.name
          created_at: system.operations
`

// usersKept is usersPolicy without erase: delete.
var usersKept = strings.Replace(usersPolicy, "        erase: delete\n", "", 1)

const teamSchema = `CREATE TABLE team_members (team_id bigint NOT NULL, member_no bigint NOT NULL, name varchar(100), PRIMARY KEY (team_id, member_no));
CREATE TABLE task_comments (id bigint PRIMARY KEY, team_id bigint NOT NULL, author_member_no bigint, body varchar(200)%s);
`

const teamPolicy = `      team_members:
        subject: customer
        fields:
          team_id: system.operations
          member_no: {category: user.unique_id, identity: user_id}
          name: user.name
      task_comments:
        subject: customer
        fields:
          id: system.operations
          body: user.content.private
`

const compositeFK = `, FOREIGN KEY (team_id, author_member_no) REFERENCES team_members (team_id, member_no) ON DELETE CASCADE`

const tokensSchema = usersTable + `CREATE TABLE tokens (code varchar(40) NOT NULL, alt varchar(40), name varchar(100), user_id bigint);
CREATE UNIQUE INDEX tokens_code ON tokens (code);
CREATE UNIQUE INDEX tokens_alt ON tokens (alt);
`

func tokensPolicy(extra string) string {
	return usersKept + `      tokens:
        subject: customer
` + extra + `        fields:
          code: system.authentication
          alt: system.authentication
          name: user.name
          user_id: {category: user.unique_id, references: users.id}
`
}

const profilesSchema = usersTable + `CREATE TABLE profiles (id bigint PRIMARY KEY, user_id bigint, nick varchar(64) NOT NULL, bio varchar(200), age integer, born date,
  code varchar(10), tag varchar(20), handle varchar(64), status varchar(10), a varchar(10), b varchar(10), note varchar(50), score numeric(6,2),
  FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
  CONSTRAINT profiles_status CHECK (status IN ('active', 'closed')),
  CONSTRAINT profiles_a_or_b CHECK (a IS NOT NULL OR b IS NOT NULL),
  CONSTRAINT profiles_note CHECK (length(note) > 0));
`

// profilesPolicy declares profiles with the given erasure strategies, by
// column (the others have none).
func profilesPolicy(erase map[string]string) string {
	var b strings.Builder
	b.WriteString(usersKept + "      profiles:\n        subject: customer\n        erase: delete\n        fields:\n          id: system.operations\n")
	for _, col := range []string{"user_id", "nick", "bio", "age", "born", "code", "tag", "handle", "status", "a", "b", "note", "score"} {
		f := "category: user.content.private"
		if col == "user_id" {
			f = "category: user.unique_id, references: users.id"
		}
		if e, ok := erase[col]; ok {
			f += ", erase: " + e
		}
		fmt.Fprintf(&b, "          %s: {%s}\n", col, f)
	}
	return b.String()
}

func tasksSchema(rule string) string {
	return usersTable + `CREATE TABLE tasks (id bigint PRIMARY KEY, owner_id bigint NOT NULL, reviewer_id bigint, title varchar(100),
  FOREIGN KEY (owner_id) REFERENCES users (id) ON DELETE CASCADE,
  FOREIGN KEY (reviewer_id) REFERENCES users (id) ON DELETE ` + rule + `);
`
}

func tasksPolicy(users, reviewer string) string {
	return users + `      tasks:
        subject: customer
        erase: delete
        fields:
          id: system.operations
          owner_id: {category: user.unique_id, references: users.id, relation: owner}
          reviewer_id: ` + reviewer + `
          title: user.content.private
`
}

const mention = "{category: user.unique_id, references: users.id, relation: mention}"

func invoicesSchema(rule string) string {
	return usersTable + `CREATE TABLE invoices (id bigint PRIMARY KEY, user_id bigint, amount bigint NOT NULL, issued_at timestamp NULL,
  FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE ` + rule + `);
`
}

func invoicesPolicy(erase, userID string) string {
	return usersPolicy + `      invoices:
        subject: customer
` + erase + `        fields:
          id: system.operations
          user_id: ` + userID + `
          amount: user.payment
          issued_at: system.operations
`
}

const hold = "        erase: {hold: tax law, for: 7y}\n"

const invoiceRef = "{category: user.unique_id, references: users.id}"

func TestErasureChecks(t *testing.T) {
	t.Parallel()
	const (
		tcRef  = "systems.app.tables.task_comments.fields.author_member_no.references"
		tokens = "systems.app.tables.tokens"
		prof   = "systems.app.tables.profiles.fields."
		review = "systems.app.tables.tasks.fields.reviewer_id"
		usersE = "systems.app.tables.users.erase"
		invUID = "systems.app.tables.invoices.fields.user_id"
	)
	E, W := policy.Error, policy.Warning
	cases := []erasureCase{
		// 1. Relations end at a unique key.
		{name: "relation on part of a composite key", schema: fmt.Sprintf(teamSchema, ""),
			tables: teamPolicy + "          team_id: system.operations\n          author_member_no: {category: user.unique_id, references: team_members.member_no, erase: nullify}\n",
			want: []finding{{code: "relation-not-unique", path: tcRef, sev: E,
				msg: "member_no is unique only together with team_id: matching on it alone reaches the rows of every team_id"},
				{code: "relation-not-unique", path: tcRef, sev: E, msg: `foreign_keys of task_comments: {columns: [team_id, author_member_no], references: "team_members (team_id, member_no)"}`}}},
		{name: "relation on a composite key", schema: fmt.Sprintf(teamSchema, ""),
			tables: teamPolicy + "          team_id: system.operations\n          author_member_no: {category: user.unique_id, erase: nullify}\n" +
				"        foreign_keys:\n          - {columns: [author_member_no, team_id], references: \"team_members (member_no, team_id)\"}\n"},
		{name: "relation on a column that is not unique", schema: fmt.Sprintf(teamSchema, ""),
			tables: teamPolicy + "          team_id: system.operations\n          author_member_no: {category: user.unique_id, references: team_members.name, erase: nullify}\n",
			want: []finding{{code: "relation-not-unique", path: tcRef, sev: E, msg: "name is not unique in the database"},
				{code: "relation-type-mismatch", path: tcRef, sev: E}}},
		{name: "relation between a text and an integer column",
			schema: usersTable + "CREATE TABLE audit (id bigint PRIMARY KEY, actor_ref varchar(20));\n",
			tables: usersKept + "      audit:\n        subject: customer\n        fields:\n          id: system.operations\n          actor_ref: {category: user.unique_id, references: users.id, erase: nullify}\n",
			want:   []finding{{code: "relation-type-mismatch", path: "systems.app.tables.audit.fields.actor_ref.references", sev: E, msg: "MariaDB takes '1abc' for 1"}}},
		{name: "relation on a partial unique index", dialects: "ps",
			schema: usersTable + "CREATE UNIQUE INDEX users_live_email ON users (email) WHERE created_at IS NOT NULL;\nCREATE TABLE notes (id bigint PRIMARY KEY, author_email varchar(320));\n",
			tables: usersKept + "      notes:\n        subject: customer\n        fields:\n          id: system.operations\n          author_email: {category: user.contact.email, references: users.email, erase: nullify}\n",
			want: []finding{{code: "relation-not-unique", path: "systems.app.tables.notes.fields.author_email.references", sev: E,
				msg: "its unique index users_live_email is partial"}}},
		{name: "relation on a unique index", schema: usersTable + "CREATE UNIQUE INDEX users_email ON users (email);\nCREATE TABLE notes (id bigint PRIMARY KEY, author_email varchar(320));\n",
			tables: usersKept + "      notes:\n        subject: customer\n        fields:\n          id: system.operations\n          author_email: {category: user.contact.email, references: users.email, erase: nullify}\n"},

		// 2. Composite foreign keys of the database.
		{name: "composite key declared column by column", schema: fmt.Sprintf(teamSchema, compositeFK),
			tables: teamPolicy + "          team_id: {category: system.operations, references: team_members.team_id}\n          author_member_no: {category: user.unique_id, references: team_members.member_no, erase: nullify}\n",
			want: []finding{{code: "split-relation", path: "systems.app.tables.task_comments.fields.team_id.references", sev: E,
				msg: `foreign_keys: [{columns: [team_id, author_member_no], references: "team_members (team_id, member_no)"}]`}}},
		{name: "composite key not declared", schema: fmt.Sprintf(teamSchema, compositeFK),
			tables: teamPolicy + "          team_id: system.operations\n          author_member_no: {category: user.unique_id, erase: nullify}\n",
			want: []finding{{code: "undeclared-relation", path: "systems.app.tables.task_comments", sev: W,
				msg: `foreign_keys: [{columns: [team_id, author_member_no], references: "team_members (team_id, member_no)"}]`}}},
		{name: "composite key declared", schema: fmt.Sprintf(teamSchema, compositeFK),
			tables: teamPolicy + "          team_id: system.operations\n          author_member_no: {category: user.unique_id, erase: nullify}\n" +
				"        foreign_keys:\n          - {columns: [team_id, author_member_no], references: \"team_members (team_id, member_no)\", relation: owner}\n"},

		// 3. Keys.
		{name: "changed table without a key", schema: tokensSchema, tables: tokensPolicy("        erase: delete\n"),
			want: []finding{{code: "no-key", path: tokens, sev: E, msg: "primary_key: [code] (its unique index tokens_code over NOT NULL columns)"}}},
		{name: "unchanged table without a key", schema: tokensSchema, tables: tokensPolicy(""),
			want: []finding{{code: "no-primary-key", path: tokens, sev: W}}},
		{name: "declared key over a unique NOT NULL column", schema: tokensSchema, tables: tokensPolicy("        erase: delete\n        primary_key: [code]\n")},
		{name: "declared key that is not unique", schema: tokensSchema, tables: tokensPolicy("        erase: delete\n        primary_key: [name]\n"),
			want: []finding{{code: "primary-key-not-unique", path: tokens + ".primary_key", sev: E}}},
		{name: "declared key that may be NULL", schema: tokensSchema, tables: tokensPolicy("        erase: delete\n        primary_key: [alt]\n"),
			want: []finding{{code: "primary-key-nullable", path: tokens + ".primary_key", sev: E}}},
		{name: "retention on a table without a key", schema: tokensSchema, tables: tokensPolicy(""),
			rules: "    - {name: old tokens, table: tokens, from: code, keep: 30d}\n",
			want:  []finding{{code: "no-key", path: tokens, sev: E, msg: `retention rule "old tokens" changes its rows`}}},

		// 4. Strategies against the columns.
		{name: "nullify a NOT NULL column", schema: profilesSchema, tables: profilesPolicy(map[string]string{"nick": "nullify", "bio": "nullify"}),
			want: []finding{{code: "nullify-not-null", path: prof + "nick.erase", sev: E}}},
		{name: "set a value of the wrong type", schema: profilesSchema,
			tables: profilesPolicy(map[string]string{"age": "{set: erased}", "bio": `{set: "[erased]"}`, "nick": "{set: x}", "code": `{set: "much too long"}`}),
			want: []finding{{code: "set-value-type", path: prof + "age.erase", sev: E, only: "pm", msg: "not an integer"},
				{code: "set-value-type", path: prof + "age.erase", sev: W, only: "s", msg: "SQLite stores it anyway"},
				{code: "set-value-type", path: prof + "code.erase", sev: E, only: "pm", msg: "13 characters long"}}},
		{name: "set values that fit", schema: profilesSchema, tables: profilesPolicy(map[string]string{"age": `{set: "0"}`, "bio": `{set: "[erased]"}`, "score": `{set: "0.50"}`})},
		// Stored rounded, the value never matches: a rule that anonymises
		// would take the row for not yet anonymised on every run.
		{name: "set a value the column rounds", schema: profilesSchema, tables: profilesPolicy(map[string]string{"score": `{set: "0.001"}`}),
			want: []finding{{code: "set-value-type", path: prof + "score.erase", sev: E, only: "pm", msg: "keeps 2 decimals"}}},
		{name: "hmac on columns that cannot hold a pseudonym", schema: profilesSchema,
			tables: profilesPolicy(map[string]string{"born": "hmac", "code": "hmac", "tag": "hmac", "handle": "hmac", "age": "hmac"}),
			want: []finding{{code: "hmac-column-type", path: prof + "born.erase", sev: E, only: "pm"},
				{code: "hmac-column-type", path: prof + "born.erase", sev: W, only: "s"},
				{code: "hmac-column-type", path: prof + "code.erase", sev: E, only: "pm", msg: "narrower than the shortest pseudonym (13 characters)"},
				{code: "hmac-column-width", path: prof + "tag.erase", sev: W, only: "pm", msg: "shortened to 15 of its 32 hex digits"}}},
		{name: "mask a foreign key", schema: profilesSchema, tables: profilesPolicy(map[string]string{"user_id": "hmac"}),
			want: []finding{{code: "masked-foreign-key", path: prof + "user_id.erase", sev: E, msg: "write erase: nullify"}}},
		{name: "set a foreign key", schema: profilesSchema, tables: profilesPolicy(map[string]string{"user_id": `{set: "0"}`}),
			want: []finding{{code: "masked-foreign-key", path: prof + "user_id.erase", sev: W, msg: "unless users has a row with id = 0"}}},
		{name: "nullify a foreign key", schema: profilesSchema, tables: profilesPolicy(map[string]string{"user_id": "nullify"})},
		{name: "checks on masked columns", schema: profilesSchema,
			tables: profilesPolicy(map[string]string{"status": "{set: erased}", "a": "nullify", "note": "nullify"}),
			want: []finding{{code: "check-refuses-mask", path: prof + "status.erase", sev: W, msg: "profiles_status"},
				{code: "check-refuses-mask", path: prof + "a.erase", sev: W, msg: "profiles_a_or_b"}}},

		// 5. ON DELETE rules against the ownership model.
		{name: "mention restricts", schema: tasksSchema("RESTRICT"), tables: tasksPolicy(usersPolicy, mention),
			want: []finding{{code: "restrict-blocks-erasure", path: review, sev: E, msg: "every erasure of a subject whose users rows are referenced will fail"}}},
		{name: "mention cascades", schema: tasksSchema("CASCADE"), tables: tasksPolicy(usersPolicy, mention),
			want: []finding{{code: "cascade-reaches-others", path: review, sev: E, msg: "Vow's brake stops each such erasure"}}},
		{name: "mention set null", schema: tasksSchema("SET NULL"), tables: tasksPolicy(usersPolicy, mention)},
		{name: "mention nullified", schema: tasksSchema("RESTRICT"),
			tables: tasksPolicy(usersPolicy, "{category: user.unique_id, references: users.id, relation: mention, erase: nullify}")},
		{name: "mention restricts a retention rule", schema: tasksSchema("RESTRICT"), tables: tasksPolicy(usersKept, mention),
			rules: "    - {name: old users, table: users, from: created_at, keep: 30d}\n",
			want:  []finding{{code: "restrict-blocks-erasure", path: review, sev: E, msg: `retention rule "old users" deletes rows of app:users`}}},
		{name: "undeclared table cascades", schema: tasksSchema("SET NULL") + "CREATE TABLE sessions (id bigint PRIMARY KEY, user_id bigint, FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE);\n",
			tables: tasksPolicy(usersPolicy, mention),
			want:   []finding{{code: "cascade-undeclared", path: usersE, sev: E, msg: "declare sessions under tables: with user_id: {references: users.id}"}}},
		{name: "undeclared relation restricts", schema: tasksSchema("RESTRICT"), tables: tasksPolicy(usersPolicy, "user.unique_id"),
			want: []finding{{code: "restrict-blocks-erasure", path: usersE, sev: E, msg: "a relation the policy does not declare"},
				{code: "undeclared-relation", path: "systems.app.tables.tasks", sev: W}}},
		{name: "undeclared relation set null", schema: tasksSchema("SET NULL"), tables: tasksPolicy(usersPolicy, "user.unique_id"),
			want: []finding{{code: "set-null-undeclared", path: usersE, sev: W},
				{code: "undeclared-relation", path: "systems.app.tables.tasks", sev: W}}},
		{name: "held rows restrict", schema: invoicesSchema("RESTRICT"), tables: invoicesPolicy(hold, invoiceRef),
			want: []finding{{code: "held-references-deleted", path: invUID, sev: E, only: "p", msg: "SQLSTATE 23503"},
				{code: "held-references-deleted", path: invUID, sev: E, only: "m", msg: "MySQL 1451"},
				{code: "held-references-deleted", path: invUID, sev: E, only: "s", msg: "FOREIGN KEY constraint failed"}}},
		{name: "held rows cascade", schema: invoicesSchema("CASCADE"), tables: invoicesPolicy(hold, invoiceRef),
			want: []finding{{code: "cascade-deletes-held", path: invUID, sev: E}}},
		{name: "held rows set null", schema: invoicesSchema("SET NULL"), tables: invoicesPolicy(hold, invoiceRef)},
		{name: "held rows unlinked", schema: invoicesSchema("RESTRICT"),
			tables: invoicesPolicy(hold, "{category: user.unique_id, references: users.id, erase: nullify}")},
		{name: "kept rows restrict", schema: invoicesSchema("RESTRICT"), tables: invoicesPolicy("", invoiceRef),
			want: []finding{{code: "kept-references-deleted", path: invUID, sev: E}}},
		{name: "kept rows cascade", schema: invoicesSchema("CASCADE"), tables: invoicesPolicy("", invoiceRef),
			want: []finding{{code: "cascade-deletes-kept", path: invUID, sev: W}}},
		{name: "cascade to kept rows and on to others", schema: usersTable + `CREATE TABLE carts (id bigint PRIMARY KEY, user_id bigint NOT NULL, FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE);
CREATE TABLE cart_items (id bigint PRIMARY KEY, cart_id bigint NOT NULL, sku varchar(20), FOREIGN KEY (cart_id) REFERENCES carts (id) ON DELETE CASCADE);
`, tables: usersPolicy + `      carts:
        subject: customer
        fields:
          id: system.operations
          user_id: {category: user.unique_id, references: users.id}
      cart_items:
        subject: customer
        fields:
          id: system.operations
          cart_id: {category: system.operations, references: carts.id, relation: mention}
          sku: system.operations
`,
			want: []finding{{code: "cascade-deletes-kept", path: "systems.app.tables.carts.fields.user_id", sev: W},
				{code: "cascade-reaches-others", path: "systems.app.tables.cart_items.fields.cart_id", sev: E,
					msg: "erasure deletes rows of app:users, and the database with them (ON DELETE CASCADE) those of carts; app:cart_items.cart_id names those carts rows"},
				{code: "cascade-reaches-others", path: "systems.app.tables.cart_items.fields.cart_id", sev: E,
					msg: "declare relation: owner on cart_items.cart_id if those rows go with the carts rows (erase: nullify cannot clear it: the column is NOT NULL)"}}},
		{name: "cascade to a mention of the subject's own rows", schema: usersTable + `CREATE TABLE carts (id bigint PRIMARY KEY, user_id bigint NOT NULL, FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE);
CREATE TABLE cart_items (id bigint PRIMARY KEY, cart_id bigint NOT NULL, user_id bigint NOT NULL,
  FOREIGN KEY (cart_id) REFERENCES carts (id) ON DELETE CASCADE, FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE);
`, tables: usersPolicy + `      carts:
        subject: customer
        erase: delete
        fields:
          id: system.operations
          user_id: {category: user.unique_id, references: users.id}
      cart_items:
        subject: customer
        erase: delete
        fields:
          id: system.operations
          cart_id: {category: system.operations, references: carts.id, relation: mention}
          user_id: {category: user.unique_id, references: users.id, relation: owner}
`, want: []finding{{code: "cascade-reaches-others", path: "systems.app.tables.cart_items.fields.cart_id", sev: W,
			msg: "they are the subject's own only where they belong to the same users"}}},
		{name: "deleted rows cascade", schema: invoicesSchema("CASCADE"), tables: invoicesPolicy("        erase: delete\n", invoiceRef)},
		{name: "hold from a timestamp", schema: invoicesSchema("SET NULL"),
			tables: invoicesPolicy("        erase: {hold: tax law, for: 7y, from: issued_at}\n", invoiceRef)},
		{name: "hold from a missing column", schema: invoicesSchema("SET NULL"),
			tables: invoicesPolicy("        erase: {hold: tax law, for: 7y, from: paid_at}\n", invoiceRef),
			want:   []finding{{code: "hold-from", path: "systems.app.tables.invoices.erase.from", sev: E, msg: "does not exist"}}},
		{name: "hold from a number", schema: invoicesSchema("SET NULL"),
			tables: invoicesPolicy("        erase: {hold: tax law, for: 7y, from: amount}\n", invoiceRef),
			want:   []finding{{code: "hold-from", path: "systems.app.tables.invoices.erase.from", sev: E, only: "pm", msg: "not a date or time"}}},

		// 6. Identity columns.
		{name: "identity types disagree", schema: usersTable + "CREATE TABLE accounts (id bigint PRIMARY KEY, user_ref varchar(36));\n",
			tables: usersKept + "      accounts:\n        subject: customer\n        fields:\n          id: system.operations\n          user_ref: {category: user.unique_id, identity: user_id}\n",
			want: []finding{{code: "identity-type-mismatch", path: "systems.app.tables.users.fields.id.identity", sev: E, msg: "but text in app:accounts.user_ref ("},
				{code: "identity-type-mismatch", path: "systems.app.tables.accounts.fields.user_ref.identity", sev: E}}},
		{name: "identity types agree", schema: usersTable + "CREATE TABLE accounts (id bigint PRIMARY KEY, user_ref integer);\n",
			tables: usersKept + "      accounts:\n        subject: customer\n        fields:\n          id: system.operations\n          user_ref: {category: user.unique_id, identity: user_id}\n"},
		{name: "email without an index", schema: usersTable, tables: strings.Replace(usersKept, "email: user.contact.email", "email: {category: user.contact.email, identity: email}", 1),
			want: []finding{{code: "email-index", path: "systems.app.tables.users.fields.email.identity", sev: W, only: "ps", msg: "CREATE INDEX users_email_lower_idx ON users (lower(email))"}}},
		{name: "email with a plain index", schema: usersTable + "CREATE INDEX users_email ON users (email);\n",
			tables: strings.Replace(usersKept, "email: user.contact.email", "email: {category: user.contact.email, identity: email}", 1),
			want:   []finding{{code: "email-index", path: "systems.app.tables.users.fields.email.identity", sev: W, only: "ps", msg: "which its index on the plain column does not serve"}}},
		{name: "email with a lower index", dialects: "ps", schema: usersTable + "CREATE INDEX users_email ON users (lower(email));\n",
			tables: strings.Replace(usersKept, "email: user.contact.email", "email: {category: user.contact.email, identity: email}", 1)},
		{name: "email of mixed-case names with a lower index", dialects: "p",
			schema: `CREATE TABLE "Users" (id bigint PRIMARY KEY, "Email" varchar(320)); CREATE INDEX "Users_Email" ON "Users" (lower("Email"));`,
			tables: "      Users:\n        subject: customer\n        fields:\n          id: {category: user.unique_id, identity: user_id}\n          Email: {category: user.contact.email, identity: email}\n"},
		{name: "email of mixed-case names", dialects: "p", schema: `CREATE TABLE "Users" (id bigint PRIMARY KEY, "Email" varchar(320));`,
			tables: "      Users:\n        subject: customer\n        fields:\n          id: {category: user.unique_id, identity: user_id}\n          Email: {category: user.contact.email, identity: email}\n",
			want: []finding{{code: "email-index", path: "systems.app.tables.Users.fields.Email.identity", sev: W,
				msg: `CREATE INDEX users_email_lower_idx ON "Users" (lower("Email"))`}}},

		// 7. Partitions count for the partitioned table.
		{name: "partitioned table", dialects: "p", schema: usersTable + `
CREATE TABLE events (id bigint NOT NULL, at timestamp NOT NULL, user_id bigint, email varchar(320), code varchar(20), PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
ALTER TABLE events_2024 ADD FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE RESTRICT;
ALTER TABLE events_2025 ADD FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE RESTRICT;
CREATE INDEX events_2024_email ON events_2024 (lower(email));
CREATE INDEX events_2025_email ON events_2025 (lower(email));
CREATE UNIQUE INDEX events_2024_code ON events_2024 (code, at);
CREATE UNIQUE INDEX events_2025_code ON events_2025 (code, at);
CREATE TABLE event_refs (id bigint PRIMARY KEY, code varchar(20), at timestamp, code_only varchar(20));
`,
			tables: usersPolicy + `      events:
        subject: customer
        erase: delete
        fields:
          id: system.operations
          at: system.operations
          user_id: {category: user.unique_id, references: users.id, relation: mention}
          email: {category: user.contact.email, identity: email}
          code: system.operations
      event_refs:
        subject: customer
        fields:
          id: system.operations
          code: system.operations
          at: system.operations
          code_only: {category: system.operations, references: events.code}
        foreign_keys:
          - {columns: [code, at], references: "events (code, at)", relation: owner}
`,
			want: []finding{{code: "restrict-blocks-erasure", path: "systems.app.tables.events.fields.user_id", sev: E},
				{code: "relation-not-unique", path: "systems.app.tables.event_refs.fields.code_only.references", sev: E, msg: "unique only together with at"}}},
	}
	dialects := map[byte]string{'p': "postgres", 'm': "mysql", 's': "sqlite"}
	for _, tc := range cases {
		ds := tc.dialects
		if ds == "" {
			ds = "pms"
		}
		for i := range len(ds) {
			kind := dialects[ds[i]]
			t.Run(tc.name+"/"+kind, func(t *testing.T) {
				t.Parallel()
				got := runErasureCase(t, kind, tc)
				var want []finding
				for _, f := range tc.want {
					if f.only == "" || strings.ContainsRune(f.only, rune(ds[i])) {
						want = append(want, f)
					}
				}
				compareFindings(t, got, want)
			})
		}
	}
}

// runErasureCase loads tc's schema into a fresh database of kind and
// returns the live check's diagnostics of the erasure codes.
func runErasureCase(t *testing.T, kind string, tc erasureCase) policy.Diagnostics {
	t.Helper()
	var dsn, conn string
	switch kind {
	case "postgres":
		dsn, conn = testdb.Postgres(t), "{env: APP_DSN}"
	case "mysql":
		dsn, conn = testdb.MySQL(t), "{env: APP_DSN}"
	default:
		dsn = testdb.SQLite(t)
		conn = "{path: " + dsn + "}"
	}
	testdb.Exec(t, kind, dsn, tc.schema)
	src := "version: 1\norganization: {name: X, contacts: {privacy: p@x.example}}\nrights: {offered: [access, erasure]}\n" +
		"systems:\n  app:\n    kind: " + kind + "\n    connection: " + conn + "\n    tables:\n" + tc.tables
	if tc.rules != "" {
		src += "retention:\n  rules:\n" + tc.rules
	}
	p, pds := policy.Parse("vow.yaml", []byte(src))
	if p == nil {
		t.Fatalf("policy does not parse: %v\n%s", pds, src)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	ds, res := drift.Live(ctx, p, datastore.Resolver{LookupEnv: func(k string) (string, bool) { return dsn, k == "APP_DSN" }})
	if len(res) != 1 || res[0].Schema == nil {
		t.Fatalf("no schema read: %v", ds)
	}
	var out policy.Diagnostics
	for _, d := range ds {
		if slices.Contains(erasureCodes, d.Code) {
			out = append(out, d)
		}
	}
	return out
}

// compareFindings checks that got has exactly one diagnostic per distinct
// code, path and severity of want, and that each satisfies every want of
// them.
func compareFindings(t *testing.T, got policy.Diagnostics, want []finding) {
	t.Helper()
	key := func(code, path string, sev policy.Severity) string { return code + " " + string(sev) + " " + path }
	wanted := map[string]bool{}
	for _, w := range want {
		k := key(w.code, w.path, w.sev)
		wanted[k] = true
		i := slices.IndexFunc(got, func(d policy.Diagnostic) bool { return key(d.Code, d.Path, d.Severity) == k })
		if i < 0 {
			t.Errorf("missing %s\ngot:\n%s", k, text(got))
			continue
		}
		if d := got[i]; w.msg != "" && !strings.Contains(d.Message+" ("+d.Hint+")", w.msg) {
			t.Errorf("%s: want %q in\n%s", k, w.msg, d)
		}
	}
	seen := map[string]bool{}
	for _, d := range got {
		k := key(d.Code, d.Path, d.Severity)
		switch {
		case !wanted[k]:
			t.Errorf("unexpected %s", d)
		case seen[k]:
			t.Errorf("reported twice: %s", d)
		case d.Pos.Line == 0 || d.Hint == "":
			t.Errorf("no position or no hint: %s", d)
		}
		seen[k] = true
	}
}

func text(ds policy.Diagnostics) string {
	var b strings.Builder
	for _, d := range ds {
		b.WriteString("  " + d.String() + "\n")
	}
	return b.String()
}
