package dsr_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/vowprivacy/vow/dsr"
)

// Binary primary keys (a uuid kept as 16 bytes, as many MySQL
// applications do): the keys a request resolves and the witness of its
// commit are stored as JSON with the request, where a Go string of
// arbitrary bytes would not survive.
const binaryKeysPolicy = appPolicyHead + `      accounts:
        subject: customer
        primary_key: [id]
        erase: delete
        fields:
          id: system.operations
          email: {category: user.contact.email, identity: email}
          closed_at: system.operations
      notes:
        subject: customer
        primary_key: [id]
        erase: delete
        fields:
          id: system.operations
          account_id: {category: system.operations, references: accounts.id}
          body: user.content
retention:
  rules:
    - {name: closed accounts, table: "app:accounts", where: closed_at IS NOT NULL, from: closed_at, keep: 30d}
rights:
  offered: [access, erasure]
`

var binaryKeysSchema = map[string]string{
	"sqlite": `
CREATE TABLE accounts (id BLOB PRIMARY KEY, email TEXT NOT NULL, closed_at TEXT);
CREATE TABLE notes (id BLOB PRIMARY KEY, account_id BLOB NOT NULL REFERENCES accounts (id), body TEXT);
CREATE INDEX notes_account ON notes (account_id);
`,
	"postgres": `
CREATE TABLE accounts (id bytea PRIMARY KEY, email text NOT NULL, closed_at timestamptz);
CREATE TABLE notes (id bytea PRIMARY KEY, account_id bytea NOT NULL REFERENCES accounts (id), body text);
CREATE INDEX ON notes (account_id);
`,
	"mysql": `
CREATE TABLE accounts (id BINARY(16) PRIMARY KEY, email VARCHAR(255) NOT NULL, closed_at DATETIME);
CREATE TABLE notes (id VARBINARY(16) PRIMARY KEY, account_id BINARY(16) NOT NULL, body TEXT,
  FOREIGN KEY (account_id) REFERENCES accounts (id));
`,
}

// binaryKeysData: Ada's account and two notes, Bob's account and one
// note; every key has bytes that are not UTF-8.
func binaryKeysData(kind string) string {
	lit := func(hex string) string {
		if kind == "postgres" {
			return "'\\x" + hex + "'::bytea"
		}
		return "X'" + hex + "'"
	}
	ada, bob := "ff00a1b2c3d4e5f60718293a4b5c6d7e", "fe00a1b2c3d4e5f60718293a4b5c6d7e"
	return "INSERT INTO accounts (id, email) VALUES (" + lit(ada) + ", 'ada@example.com'), (" + lit(bob) + ", 'bob@example.com');\n" +
		"INSERT INTO notes (id, account_id, body) VALUES (" + lit("c0ff01") + ", " + lit(ada) + ", 'Ada 1'), (" + lit("c0ff02") + ", " + lit(ada) + ", 'Ada 2'), (" + lit("c0ff03") + ", " + lit(bob) + ", 'Bob 1');\n"
}

// TestBinaryKeys erases a subject whose rows have binary keys, crashing
// at each point around the commit: the resumed run's certificate says
// what the crash-free one says, and only Bob's rows remain.
func TestBinaryKeys(t *testing.T) {
	t.Parallel()
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			var want string
			for _, point := range []string{"", "before-commit:app", "after-commit:app", "recorded:app", "before-verify"} {
				f := fixtureFor(t, kind, binaryKeysSchema[kind]+binaryKeysData(kind), binaryKeysPolicy)
				r := create(t, f, trusted(dsr.Erasure, dsr.Identities{"email": "ada@example.com"}))
				if point != "" {
					crashAt(t, f, r.ID, point, nil)
				}
				done := run(t, f, r.ID)
				if got := query(t, kind, f.appDSN, "SELECT email FROM accounts"); !reflect.DeepEqual(got, []string{"bob@example.com"}) {
					t.Errorf("crash at %q: accounts left %v, want Bob's", point, got)
				}
				if got := query(t, kind, f.appDSN, "SELECT body FROM notes"); !reflect.DeepEqual(got, []string{"Bob 1"}) {
					t.Errorf("crash at %q: notes left %v, want Bob's", point, got)
				}
				got := certTables(t, f, done)
				if point == "" {
					want = got
					for _, s := range []string{`"table": "accounts"`, `"table": "notes"`, `"Verified": true`} {
						if !strings.Contains(got, s) {
							t.Errorf("crash-free certificate lacks %s:\n%s", s, got)
						}
					}
				} else if got != want {
					t.Errorf("certificate after a crash at %s:\n%s\nwant (crash-free):\n%s", point, got, want)
				}
			}
		})
	}
}
