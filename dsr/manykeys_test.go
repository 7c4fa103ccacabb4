package dsr_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/vowprivacy/vow/dsr"
)

// manyKeys is more keys than a statement may carry parameters: 65,535 on
// PostgreSQL and MariaDB, 32,766 on SQLite.
const manyKeys = 70_000

// A subject with more tickets than a statement can list: the messages on
// them are found, after the tickets are gone, by the tickets' keys saved
// when the request started, and the subject's login log (masked, not
// deleted) by its resolved primary keys.
const manyKeysPolicy = appPolicyHead + `      users:
        subject: customer
        primary_key: [id]
        erase: delete
        fields:
          id: {category: user.unique_id, identity: user_id}
          email: {category: user.contact.email, identity: email}
          deleted_at: system.operations
      tickets:
        subject: customer
        primary_key: [id]
        erase: delete
        fields:
          id: system.operations
          user_id: {category: user.unique_id, references: users.id}
      messages:
        subject: customer
        primary_key: [id]
        erase: delete
        fields:
          id: system.operations
          ticket_id: {category: system.operations, references: tickets.id, relation: owner}
          body: user.content
      logins:
        subject: customer
        primary_key: [id]
        fields:
          id: system.operations
          email: {category: user.contact.email, identity: email, erase: hmac}
          ip: {category: user.device.ip_address, erase: {set: "0.0.0.0"}}
          at: system.operations
retention:
  rules:
    - {name: closed accounts, table: "app:users", where: deleted_at IS NOT NULL, from: deleted_at, keep: 30d}
    - {name: logins, table: "app:logins", from: at, keep: 90d}
brake:
  requests: {rows: 1000000}
rights:
  offered: [access, erasure]
`

var manyKeysSchema = map[string]string{
	"sqlite": `
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, deleted_at TEXT);
CREATE TABLE tickets (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users (id));
CREATE TABLE messages (id INTEGER PRIMARY KEY, ticket_id INTEGER NOT NULL REFERENCES tickets (id), body TEXT);
CREATE TABLE logins (id INTEGER PRIMARY KEY, email TEXT, ip TEXT, at TEXT);
CREATE INDEX tickets_user ON tickets (user_id);
CREATE INDEX messages_ticket ON messages (ticket_id);
CREATE INDEX logins_email ON logins (email);
INSERT INTO users (id, email) VALUES (1, 'ada@example.com'), (2, 'bob@example.com');
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < MANY)
INSERT INTO tickets (id, user_id) SELECT i, 1 FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < MANY)
INSERT INTO logins (id, email, ip) SELECT i, 'ada@example.com', '192.0.2.1' FROM n;
`,
	"postgres": `
CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, deleted_at timestamptz);
CREATE TABLE tickets (id bigint PRIMARY KEY, user_id bigint NOT NULL REFERENCES users (id));
CREATE TABLE messages (id bigint PRIMARY KEY, ticket_id bigint NOT NULL REFERENCES tickets (id), body text);
CREATE TABLE logins (id bigint PRIMARY KEY, email text, ip text, at timestamptz);
CREATE INDEX ON tickets (user_id);
CREATE INDEX ON messages (ticket_id);
CREATE INDEX ON logins (email);
INSERT INTO users (id, email) VALUES (1, 'ada@example.com'), (2, 'bob@example.com');
INSERT INTO tickets (id, user_id) SELECT i, 1 FROM generate_series(1, MANY) i;
INSERT INTO logins (id, email, ip) SELECT i, 'ada@example.com', '192.0.2.1' FROM generate_series(1, MANY) i;
ANALYZE;
`,
	"mysql": `
CREATE TABLE users (id BIGINT PRIMARY KEY, email VARCHAR(255) NOT NULL, deleted_at DATETIME);
CREATE TABLE tickets (id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL, FOREIGN KEY (user_id) REFERENCES users (id));
CREATE TABLE messages (id BIGINT PRIMARY KEY, ticket_id BIGINT NOT NULL, body TEXT, FOREIGN KEY (ticket_id) REFERENCES tickets (id));
CREATE TABLE logins (id BIGINT PRIMARY KEY, email VARCHAR(255), ip VARCHAR(45), at DATETIME, INDEX (email));
INSERT INTO users (id, email) VALUES (1, 'ada@example.com'), (2, 'bob@example.com');
INSERT INTO tickets (id, user_id) SELECT seq, 1 FROM seq_1_to_MANY;
INSERT INTO logins (id, email, ip) SELECT seq, 'ada@example.com', '192.0.2.1' FROM seq_1_to_MANY;
`,
}

// Bob's rows, which must come out of Ada's erasure as they went in: a
// message of his on one of Ada's tickets goes with the ticket (it is
// Ada's by the policy), the rest stay.
const manyKeysBob = `
INSERT INTO tickets (id, user_id) VALUES (100001, 2), (100002, 2);
INSERT INTO messages (id, ticket_id, body) VALUES (1, 1, 'Ada: my invoice'), (2, 70000, 'Bob on Ada''s last ticket'), (3, 100001, 'Bob: export fails'), (4, 100002, 'Bob again');
INSERT INTO logins (id, email, ip) VALUES (100001, 'bob@example.com', '198.51.100.7'), (100002, 'bob@example.com', '198.51.100.8');
`

// TestManyKeys: an erasure whose subject has more rows than one statement
// may carry parameters completes on every database, its verification
// included, and leaves everyone else's rows as they were.
func TestManyKeys(t *testing.T) {
	if testing.Short() {
		t.Skip("inserts 140,000 rows per database")
	}
	t.Parallel()
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			script := strings.ReplaceAll(manyKeysSchema[kind], "MANY", fmt.Sprint(manyKeys))
			f := fixtureFor(t, kind, script+manyKeysBob, manyKeysPolicy)
			others := func() map[string][]string {
				return manyKeysRows(t, f, map[string]string{"users": "id <> 1", "tickets": "user_id <> 1", "messages": "ticket_id > 100000", "logins": "id > 100000"})
			}
			before := others()

			r := run(t, f, create(t, f, trusted(dsr.Erasure, dsr.Identities{"email": "ada@example.com"})).ID)
			if r.Result == nil || r.Result.Rows["app:tickets"] != manyKeys || r.Result.Rows["app:logins"] != manyKeys || r.Result.Rows["app:messages"] != 2 {
				t.Fatalf("rows changed %v: want %d tickets, %d logins, 2 messages", r.Result.Rows, manyKeys, manyKeys)
			}
			for q, want := range map[string]string{
				"SELECT count(*) FROM users WHERE id = 1":                                         "0",
				"SELECT count(*) FROM tickets WHERE user_id = 1":                                  "0",
				"SELECT count(*) FROM messages WHERE ticket_id <= 100000":                         "0",
				"SELECT count(*) FROM logins WHERE email = 'ada@example.com' OR ip = '192.0.2.1'": "0",
				"SELECT count(*) FROM logins WHERE id <= 100000":                                  fmt.Sprint(manyKeys),
			} {
				if got := query(t, kind, f.appDSN, q); !slices.Equal(got, []string{want}) {
					t.Errorf("%s = %v, want %s", q, got, want)
				}
			}
			sameRows(t, before, others())
		})
	}
}

// manyKeysRows reads the tables of the many-keys schema, each restricted
// by its condition in where (all rows when it has none).
func manyKeysRows(t *testing.T, f *fixture, where map[string]string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for table, q := range map[string]string{
		"users":    "SELECT id, email FROM users",
		"tickets":  "SELECT id, user_id FROM tickets",
		"messages": "SELECT id, ticket_id, body FROM messages",
		"logins":   "SELECT id, email, ip FROM logins",
	} {
		if w, ok := where[table]; ok {
			q += " WHERE " + w
		}
		out[table] = query(t, f.kind, f.appDSN, q+" ORDER BY id")
	}
	return out
}

// sameRows reports each table whose rows differ between before and after.
func sameRows(t *testing.T, before, after map[string][]string) {
	t.Helper()
	for table, rows := range before {
		if !slices.Equal(rows, after[table]) {
			t.Errorf("%s: rows changed:\nbefore %v\nafter  %v", table, rows, after[table])
		}
	}
}

// Ada's tickets keyed by text: a uuid on PostgreSQL (one array
// parameter), text on SQLite (a JSON array), CHAR(36) on MariaDB — which
// takes no array, so an erasure there would need more parameters than a
// statement carries.
var manyTextKeysSchema = map[string]string{
	"sqlite": `
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, deleted_at TEXT);
CREATE TABLE tickets (id TEXT PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users (id));
CREATE TABLE messages (id INTEGER PRIMARY KEY, ticket_id TEXT NOT NULL REFERENCES tickets (id), body TEXT);
CREATE TABLE logins (id INTEGER PRIMARY KEY, email TEXT, ip TEXT, at TEXT);
CREATE INDEX tickets_user ON tickets (user_id);
CREATE INDEX messages_ticket ON messages (ticket_id);
INSERT INTO users (id, email) VALUES (1, 'ada@example.com'), (2, 'bob@example.com');
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < MANY)
INSERT INTO tickets (id, user_id) SELECT 't' || i, 1 FROM n;
INSERT INTO tickets (id, user_id) VALUES ('bob1', 2);
INSERT INTO messages (id, ticket_id, body) VALUES (1, 't1', 'Ada'), (2, 'tMANY', 'Bob on Ada''s'), (3, 'bob1', 'Bob');
INSERT INTO logins (id, email, ip) VALUES (1, 'ada@example.com', '192.0.2.1'), (2, 'bob@example.com', '198.51.100.7');
`,
	"postgres": `
CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, deleted_at timestamptz);
CREATE TABLE tickets (id uuid PRIMARY KEY, user_id bigint NOT NULL REFERENCES users (id));
CREATE TABLE messages (id bigint PRIMARY KEY, ticket_id uuid NOT NULL REFERENCES tickets (id), body text);
CREATE TABLE logins (id bigint PRIMARY KEY, email text, ip text, at timestamptz);
CREATE INDEX ON tickets (user_id);
CREATE INDEX ON messages (ticket_id);
INSERT INTO users (id, email) VALUES (1, 'ada@example.com'), (2, 'bob@example.com');
INSERT INTO tickets (id, user_id) SELECT gen_random_uuid(), 1 FROM generate_series(1, MANY);
INSERT INTO tickets (id, user_id) VALUES ('00000000-0000-4000-8000-000000000002', 2);
INSERT INTO messages (id, ticket_id, body) SELECT 1, min(id::text)::uuid, 'Ada' FROM tickets WHERE user_id = 1;
INSERT INTO messages (id, ticket_id, body) SELECT 2, max(id::text)::uuid, 'Bob on Ada''s' FROM tickets WHERE user_id = 1;
INSERT INTO messages (id, ticket_id, body) VALUES (3, '00000000-0000-4000-8000-000000000002', 'Bob');
INSERT INTO logins (id, email, ip) VALUES (1, 'ada@example.com', '192.0.2.1'), (2, 'bob@example.com', '198.51.100.7');
ANALYZE;
`,
	"mysql": `
CREATE TABLE users (id BIGINT PRIMARY KEY, email VARCHAR(255) NOT NULL, deleted_at DATETIME);
CREATE TABLE tickets (id CHAR(36) PRIMARY KEY, user_id BIGINT NOT NULL, FOREIGN KEY (user_id) REFERENCES users (id));
CREATE TABLE messages (id BIGINT PRIMARY KEY, ticket_id CHAR(36) NOT NULL, body TEXT, FOREIGN KEY (ticket_id) REFERENCES tickets (id));
CREATE TABLE logins (id BIGINT PRIMARY KEY, email VARCHAR(255), ip VARCHAR(45), at DATETIME, INDEX (email));
INSERT INTO users (id, email) VALUES (1, 'ada@example.com'), (2, 'bob@example.com');
INSERT INTO tickets (id, user_id) SELECT UUID(), 1 FROM seq_1_to_MANY;
INSERT INTO tickets (id, user_id) VALUES ('00000000-0000-4000-8000-000000000002', 2);
INSERT INTO messages (id, ticket_id, body) SELECT 1, min(id), 'Ada' FROM tickets WHERE user_id = 1;
INSERT INTO messages (id, ticket_id, body) SELECT 2, max(id), 'Bob on Ada''s' FROM tickets WHERE user_id = 1;
INSERT INTO messages (id, ticket_id, body) VALUES (3, '00000000-0000-4000-8000-000000000002', 'Bob');
INSERT INTO logins (id, email, ip) VALUES (1, 'ada@example.com', '192.0.2.1'), (2, 'bob@example.com', '198.51.100.7');
`,
}

// TestManyTextKeys: on PostgreSQL and SQLite an erasure with 70,000 text
// keys completes; on MariaDB, where they would be 70,000 parameters, the
// request fails before anything is changed, saying why.
func TestManyTextKeys(t *testing.T) {
	if testing.Short() {
		t.Skip("inserts 70,000 rows per database")
	}
	t.Parallel()
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			script := strings.ReplaceAll(manyTextKeysSchema[kind], "MANY", fmt.Sprint(manyKeys))
			f := fixtureFor(t, kind, script, manyKeysPolicy)
			rows := func(where map[string]string) map[string][]string { return manyKeysRows(t, f, where) }
			bob := map[string]string{"users": "id = 2", "tickets": "user_id = 2", "messages": "id = 3", "logins": "id = 2"}
			before, bobBefore := rows(nil), rows(bob)

			r := create(t, f, trusted(dsr.Erasure, dsr.Identities{"email": "ada@example.com"}))
			got, err := f.svc.Run(t.Context(), r.ID, nil)
			if kind == "mysql" {
				if !errors.Is(err, dsr.ErrTooManyKeys) || got == nil || got.Status != dsr.Failed {
					t.Fatalf("Run = %v, %v; want a failed request and ErrTooManyKeys", got, err)
				}
				if !strings.Contains(err.Error(), "app:messages") || !strings.Contains(err.Error(), "before this run changes anything") {
					t.Errorf("the error does not say which table or that nothing was changed: %v", err)
				}
				sameRows(t, before, rows(nil)) // it stopped before changing anything
				return
			}
			if err != nil || got.Status != dsr.Completed {
				t.Fatalf("Run = %v, %v; want completed", got, err)
			}
			if got.Result.Rows["app:tickets"] != manyKeys || got.Result.Rows["app:messages"] != 2 {
				t.Errorf("rows changed %v: want %d tickets and 2 messages", got.Result.Rows, manyKeys)
			}
			if n := query(t, kind, f.appDSN, "SELECT count(*) FROM tickets WHERE user_id = 1"); !slices.Equal(n, []string{"0"}) {
				t.Errorf("Ada's tickets left: %v", n)
			}
			sameRows(t, bobBefore, rows(bob))
		})
	}
}

// TestLongListsOfAnyType: on PostgreSQL a long list of keys goes as one
// array whatever the key column's type — citext (an extension's type,
// which pgx cannot encode a Go slice into), an enum, bytea — and finds
// exactly the subject's rows.
func TestLongListsOfAnyType(t *testing.T) {
	t.Parallel()
	for _, typ := range []string{"citext", "mood", "bytea"} {
		t.Run(typ, func(t *testing.T) {
			t.Parallel()
			key := map[string]string{
				"citext": "'T-' || i",
				"mood":   "('m' || i)::mood",
				"bytea":  "decode(lpad(to_hex(i), 8, '0'), 'hex')",
			}[typ]
			n := 1500
			moods := make([]string, n+2)
			for i := range moods {
				moods[i] = fmt.Sprintf("'m%d'", i+1)
			}
			script := `
CREATE EXTENSION IF NOT EXISTS citext;
CREATE TYPE mood AS ENUM (` + strings.Join(moods, ", ") + `);
CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, deleted_at timestamptz);
CREATE TABLE tickets (id ` + typ + ` PRIMARY KEY, user_id bigint NOT NULL REFERENCES users (id));
CREATE TABLE messages (id bigint PRIMARY KEY, ticket_id ` + typ + ` NOT NULL REFERENCES tickets (id), body text);
CREATE TABLE logins (id bigint PRIMARY KEY, email text, ip text, at timestamptz);
CREATE INDEX ON tickets (user_id);
CREATE INDEX ON messages (ticket_id);
INSERT INTO users (id, email) VALUES (1, 'ada@example.com'), (2, 'bob@example.com');
INSERT INTO tickets (id, user_id) SELECT ` + key + `, 1 FROM generate_series(1, ` + fmt.Sprint(n) + `) i;
INSERT INTO tickets (id, user_id) SELECT ` + key + `, 2 FROM generate_series(` + fmt.Sprint(n+1) + `, ` + fmt.Sprint(n+2) + `) i;
INSERT INTO messages (id, ticket_id, body) SELECT i, ` + key + `, 'on ticket ' || i FROM generate_series(1, ` + fmt.Sprint(n+2) + `) i;
`
			f := fixtureFor(t, "postgres", script, manyKeysPolicy)
			bob := map[string]string{"users": "id = 2", "tickets": "user_id = 2", "messages": fmt.Sprintf("id > %d", n), "logins": "id = 2"}
			before := manyKeysRows(t, f, bob)
			r := run(t, f, create(t, f, trusted(dsr.Erasure, dsr.Identities{"email": "ada@example.com"})).ID)
			if r.Result.Rows["app:tickets"] != int64(n) || r.Result.Rows["app:messages"] != int64(n) {
				t.Errorf("rows changed %v: want %d tickets and %d messages", r.Result.Rows, n, n)
			}
			sameRows(t, before, manyKeysRows(t, f, bob))
		})
	}
}

// TestLongListOfTextThatIsNotUTF8: SQLite keeps any bytes as TEXT. A key
// 'a\xffb' in a long list must stay those bytes: as JSON it would become
// 'a\uFFFDb' — here Bob's key.
func TestLongListOfTextThatIsNotUTF8(t *testing.T) {
	t.Parallel()
	script := `
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, deleted_at TEXT);
CREATE TABLE tickets (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users (id));
CREATE TABLE messages (id INTEGER PRIMARY KEY, ticket_id INTEGER NOT NULL REFERENCES tickets (id), body TEXT);
CREATE TABLE logins (id TEXT PRIMARY KEY, email TEXT, ip TEXT, at TEXT);
CREATE INDEX logins_email ON logins (email);
INSERT INTO users (id, email) VALUES (1, 'ada@example.com'), (2, 'bob@example.com');
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1200)
INSERT INTO logins (id, email, ip) SELECT 'k' || i, 'ada@example.com', '192.0.2.1' FROM n;
INSERT INTO logins (id, email, ip) VALUES (CAST(x'61ff62' AS TEXT), 'ada@example.com', '192.0.2.1');
INSERT INTO logins (id, email, ip) VALUES (CAST(x'61efbfbd62' AS TEXT), 'bob@example.com', '198.51.100.7');
`
	f := fixtureFor(t, "sqlite", script, manyKeysPolicy)
	row := func(hexID string) []string {
		return query(t, "sqlite", f.appDSN, "SELECT ip FROM logins WHERE hex(id) = '"+hexID+"'")
	}
	r := run(t, f, create(t, f, trusted(dsr.Erasure, dsr.Identities{"email": "ada@example.com"})).ID)
	if r.Result.Rows["app:logins"] != 1201 {
		t.Errorf("rows changed %v: want Ada's 1,201 logins", r.Result.Rows)
	}
	if got := row("61FF62"); !slices.Equal(got, []string{"0.0.0.0"}) {
		t.Errorf("Ada's login a\\xffb: ip %v, want masked", got)
	}
	if got := row("61EFBFBD62"); !slices.Equal(got, []string{"198.51.100.7"}) {
		t.Errorf("Bob's login a\\uFFFDb: ip %v, want his own", got)
	}
}

// TestTooManyKeysBeforeGrace: a statement may carry a step's keys twice
// (the check of saved keys on a resumed run), so 34,000 text keys on
// MariaDB are refused at once — not after the grace period's mark was
// written, on the run that resumes.
func TestTooManyKeysBeforeGrace(t *testing.T) {
	if testing.Short() {
		t.Skip("inserts 34,000 rows")
	}
	t.Parallel()
	script := strings.ReplaceAll(manyTextKeysSchema["mysql"], "MANY", "34000")
	script = strings.ReplaceAll(script, "INSERT INTO logins (id, email, ip) VALUES (1, 'ada@example.com', '192.0.2.1'), (2, 'bob@example.com', '198.51.100.7');",
		"INSERT INTO logins (id, email, ip) SELECT seq, 'ada@example.com', '192.0.2.1' FROM seq_1_to_100;")
	src := strings.Replace(manyKeysPolicy, "rights:\n  offered: [access, erasure]\n",
		"rights:\n  offered: [access, erasure]\n  erasure_grace:\n    period: 14d\n    mark: [{set: \"app:users.deleted_at\", value: now}]\n", 1)
	f := fixtureFor(t, "mysql", script, src)
	before := manyKeysRows(t, f, nil)
	r := create(t, f, trusted(dsr.Erasure, dsr.Identities{"email": "ada@example.com"}))
	got, err := f.svc.Run(t.Context(), r.ID, nil)
	if !errors.Is(err, dsr.ErrTooManyKeys) || got == nil || got.Status != dsr.Failed {
		t.Fatalf("Run = %v, %v; want a failed request and ErrTooManyKeys", got, err)
	}
	sameRows(t, before, manyKeysRows(t, f, nil))
	if marked := query(t, "mysql", f.appDSN, "SELECT count(*) FROM users WHERE deleted_at IS NOT NULL"); !slices.Equal(marked, []string{"0"}) {
		t.Errorf("the grace period's mark was written: %v", marked)
	}
}
