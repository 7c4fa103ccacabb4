package dsr_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vowprivacy/vow/datastore"
	"github.com/vowprivacy/vow/dsr"
	"github.com/vowprivacy/vow/internal/testdb"
	"github.com/vowprivacy/vow/keyring"
	"github.com/vowprivacy/vow/policy"
	"github.com/vowprivacy/vow/state"
)

// appSchema is the application database of the fixture, per dialect. Ada
// (1) invited Bob (2); both have memberships, posts with comments, audit
// log entries and invoices. Only the types differ between dialects.
var appSchema = map[string]string{
	"sqlite": `
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, name TEXT, password_hash TEXT, invited_by INTEGER REFERENCES users (id), deleted_at TEXT, marketing INTEGER NOT NULL DEFAULT 1);
CREATE TABLE memberships (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users (id), role TEXT);
CREATE TABLE posts (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL REFERENCES users (id), body TEXT);
CREATE TABLE comments (id INTEGER PRIMARY KEY, post_id INTEGER NOT NULL REFERENCES posts (id), author_name TEXT);
CREATE TABLE audit_logs (id INTEGER PRIMARY KEY, actor_id INTEGER REFERENCES users (id), actor_email TEXT, ip TEXT, action TEXT);
CREATE TABLE invoices (id INTEGER PRIMARY KEY, user_id INTEGER, amount NUMERIC);
`,
	"postgres": `
CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, name text, password_hash text, invited_by bigint REFERENCES users (id), deleted_at timestamptz, marketing integer NOT NULL DEFAULT 1);
CREATE TABLE memberships (id bigint PRIMARY KEY, user_id bigint NOT NULL REFERENCES users (id), role text);
CREATE TABLE posts (id bigint PRIMARY KEY, author_id bigint NOT NULL REFERENCES users (id), body text);
CREATE TABLE comments (id bigint PRIMARY KEY, post_id bigint NOT NULL REFERENCES posts (id), author_name text);
CREATE TABLE audit_logs (id bigint PRIMARY KEY, actor_id bigint REFERENCES users (id), actor_email text, ip text, action text);
CREATE TABLE invoices (id bigint PRIMARY KEY, user_id bigint, amount numeric(10,2));
`,
	"mysql": `
CREATE TABLE users (id BIGINT PRIMARY KEY, email VARCHAR(255) NOT NULL, name VARCHAR(255), password_hash VARCHAR(255), invited_by BIGINT, deleted_at DATETIME, marketing INTEGER NOT NULL DEFAULT 1, FOREIGN KEY (invited_by) REFERENCES users (id));
CREATE TABLE memberships (id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL, role VARCHAR(20), FOREIGN KEY (user_id) REFERENCES users (id));
CREATE TABLE posts (id BIGINT PRIMARY KEY, author_id BIGINT NOT NULL, body TEXT, FOREIGN KEY (author_id) REFERENCES users (id));
CREATE TABLE comments (id BIGINT PRIMARY KEY, post_id BIGINT NOT NULL, author_name VARCHAR(255), FOREIGN KEY (post_id) REFERENCES posts (id));
CREATE TABLE audit_logs (id BIGINT PRIMARY KEY, actor_id BIGINT, actor_email VARCHAR(255), ip VARCHAR(45), action VARCHAR(50), FOREIGN KEY (actor_id) REFERENCES users (id));
CREATE TABLE invoices (id BIGINT PRIMARY KEY, user_id BIGINT, amount DECIMAL(10,2));
`,
}

const appData = `
INSERT INTO users (id, email, name, password_hash, invited_by) VALUES (1, 'ada@example.com', 'Ada', '$argon2id$secret', NULL);
INSERT INTO users (id, email, name, invited_by) VALUES (2, 'bob@example.com', 'Bob', 1);
INSERT INTO memberships (id, user_id, role) VALUES (1, 1, 'owner');
INSERT INTO memberships (id, user_id, role) VALUES (2, 1, 'member');
INSERT INTO memberships (id, user_id, role) VALUES (3, 2, 'member');
INSERT INTO posts (id, author_id, body) VALUES (1, 1, 'Ada''s first post');
INSERT INTO posts (id, author_id, body) VALUES (2, 1, 'Ada''s second post');
INSERT INTO posts (id, author_id, body) VALUES (3, 2, 'Bob''s post');
INSERT INTO comments (id, post_id, author_name) VALUES (1, 1, 'Bob');
INSERT INTO comments (id, post_id, author_name) VALUES (2, 2, 'Carol');
INSERT INTO comments (id, post_id, author_name) VALUES (3, 3, 'Ada');
INSERT INTO audit_logs (id, actor_id, actor_email, ip, action) VALUES (1, 1, 'ada@example.com', '192.0.2.1', 'login');
INSERT INTO audit_logs (id, actor_id, actor_email, ip, action) VALUES (2, 1, 'ada@example.com', '192.0.2.1', 'post');
INSERT INTO audit_logs (id, actor_id, actor_email, ip, action) VALUES (3, 2, 'bob@example.com', '198.51.100.7', 'login');
-- No email to pseudonymise: the row must still lose actor_id and ip.
INSERT INTO audit_logs (id, actor_id, actor_email, ip, action) VALUES (4, 1, NULL, '192.0.2.9', 'export');
INSERT INTO invoices (id, user_id, amount) VALUES (1, 1, 19.90);
INSERT INTO invoices (id, user_id, amount) VALUES (2, 2, 29.90);
`

const billingSchema = `
CREATE TABLE customers (id INTEGER PRIMARY KEY, app_user_id INTEGER NOT NULL, card_last4 TEXT, price NUMERIC);
INSERT INTO customers (id, app_user_id, card_last4, price) VALUES (10, 1, '4242', 19.9);
INSERT INTO customers (id, app_user_id, card_last4, price) VALUES (20, 2, '0005', 29.9);
`

// fixture is an app database of one kind, a billing database (SQLite,
// so relations cross databases), a state store and a service over them.
type fixture struct {
	kind     string
	appDSN   string
	bill     string
	svc      *dsr.Service
	store    *state.Store
	keys     *keyring.Keyring
	exports  string
	policy   *policy.Policy
	resolver datastore.Resolver
}

func newDSN(t *testing.T, kind string) string { return testdb.New(t, kind) }

func loadPolicy(t *testing.T, kind string) *policy.Policy {
	t.Helper()
	src, err := os.ReadFile("testdata/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, ds := policy.Parse("policy.yaml", bytes.Replace(src, []byte("KIND"), []byte(kind), 1))
	if errs, _ := ds.Count(); errs > 0 || p == nil {
		var b strings.Builder
		ds.WriteText(&b, src)
		t.Fatalf("fixture policy has errors:\n%s", b.String())
	}
	return p
}

func newFixture(t *testing.T, kind string) *fixture {
	t.Helper()
	f := &fixture{kind: kind, appDSN: newDSN(t, kind), bill: testdb.SQLite(t)}
	testdb.Exec(t, kind, f.appDSN, appSchema[kind]+appData)
	testdb.Exec(t, "sqlite", f.bill, billingSchema)
	f.policy = loadPolicy(t, kind)
	env := map[string]string{"APP_DSN": f.appDSN, "BILLING_DSN": f.bill}
	f.resolver = datastore.Resolver{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
	var err error
	// The PostgreSQL runs also keep Vow's own state in PostgreSQL, so the
	// request lifecycle is tested on both state stores.
	stateURL := filepath.Join(t.TempDir(), "state.db")
	if kind == "postgres" {
		stateURL = testdb.Postgres(t)
	}
	f.store, err = state.Open(t.Context(), stateURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.store.Close() })
	f.keys, err = keyring.New(bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	f.exports = filepath.Join(t.TempDir(), "exports")
	f.svc = &dsr.Service{Policy: f.policy, Store: f.store, Keys: f.keys, Datastores: f.resolver, ExportDir: f.exports}
	return f
}

// appPolicyHead starts a test's own policy: one system, app, of the
// test's database kind (KIND), whose tables follow.
const appPolicyHead = `version: 1
organization:
  name: Acme
  contacts: {privacy: privacy@acme.example}
purposes:
  service: {legal_basis: contract, essential: true}
systems:
  app:
    kind: KIND
    connection: {env: APP_DSN}
    purposes: [service]
    tables:
`

// fixtureFor is a fixture over one database of the given kind, prepared
// with script, and a policy of its own (src, with KIND for the kind); the
// state store is SQLite.
func fixtureFor(t *testing.T, kind, script, src string) *fixture {
	t.Helper()
	dsn := newDSN(t, kind)
	testdb.Exec(t, kind, dsn, script)
	p, ds := policy.Parse("policy.yaml", []byte(strings.Replace(src, "KIND", kind, 1)))
	if errs, _ := ds.Count(); errs > 0 || p == nil {
		t.Fatalf("policy: %v", ds)
	}
	store, err := state.Open(t.Context(), filepath.Join(t.TempDir(), "state.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	keys, err := keyring.New(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	resolver := datastore.Resolver{LookupEnv: func(k string) (string, bool) { return dsn, k == "APP_DSN" }}
	exports := t.TempDir()
	return &fixture{kind: kind, appDSN: dsn, store: store, keys: keys, exports: exports, resolver: resolver, policy: p,
		svc: &dsr.Service{Policy: p, Store: store, Keys: keys, Datastores: resolver, ExportDir: exports}}
}

// query returns the rows of q in the given database as strings, one per
// row, columns joined by "|".
func query(t *testing.T, kind, dsn, q string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	c, err := datastore.OpenDSN(ctx, kind, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rows, err := c.DB().QueryContext(ctx, q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		parts := make([]string, len(cols))
		for i, v := range vals {
			switch x := v.(type) {
			case nil:
				parts[i] = "NULL"
			case []byte:
				parts[i] = string(x)
			default:
				parts[i] = fmtAny(x)
			}
		}
		out = append(out, strings.Join(parts, "|"))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func stateFilter() state.EventFilter { return state.EventFilter{Limit: 1000} }

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
