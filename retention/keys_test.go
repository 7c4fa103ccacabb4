package retention_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/vowprivacy/vow/internal/testdb"
	"github.com/vowprivacy/vow/retention"
)

const keysPolicy = `version: 1
organization: {name: Test, contacts: {privacy: privacy@test.example}}
purposes:
  service: {legal_basis: contract}
systems:
  app:
    kind: KIND
    connection: {env: APP_DSN}
    tables:
      accounts:
        fields:
          id: system.operations
          created_at: system.operations
      sessions:
        fields:
          id: system.operations
          account_id: {category: system.operations, references: accounts.id}
          created_at: system.operations
      visits:
        fields:
          id: system.operations
          ip: {category: user.device.ip_address, erase: nullify}
          created_at: system.operations
      members:
        primary_key: [team, member_no]
        fields:
          team: system.operations
          member_no: system.operations
          email: {category: user.contact.email, erase: hmac}
          created_at: system.operations
      tokens:
        fields:
          team: system.operations
          member_no: system.operations
          created_at: system.operations
retention:
  rules:
    - name: old accounts
      table: app:accounts
      from: created_at
      keep: 30d
    - name: old visits
      table: app:visits
      from: created_at
      keep: 30d
      then: anonymise
    - name: old members
      table: app:members
      from: created_at
      keep: 30d
      then: anonymise
    - name: old tokens
      table: app:tokens
      from: created_at
      keep: 30d
`

// keyTypes are the uuid column types per database: as text (PostgreSQL's
// uuid, MariaDB's CHAR(36), SQLite's TEXT) and as 16 bytes.
var keyTypes = map[string][2]string{
	"postgres": {"UUID", "BYTEA"},
	"mysql":    {"CHAR(36)", "BINARY(16)"},
	"sqlite":   {"TEXT", "BLOB"},
}

// keysSchema has tables keyed by a uuid of type uuid and by two columns
// (text, integer). Batches run through every path: keyed delete with a
// cascade (accounts, sessions), ranged anonymise (visits), keyed anonymise
// with hmac (members), ranged delete (tokens).
func keysSchema(kind, uuid string) string {
	ts := "TIMESTAMP"
	if kind == "mysql" {
		ts = "DATETIME(6)"
	}
	return strings.NewReplacer("UUID", uuid, "TS", ts).Replace(`
CREATE TABLE accounts (id UUID PRIMARY KEY, created_at TS NOT NULL);
CREATE TABLE sessions (id UUID PRIMARY KEY, account_id UUID NOT NULL, created_at TS NOT NULL, FOREIGN KEY (account_id) REFERENCES accounts (id));
CREATE TABLE visits (id UUID PRIMARY KEY, ip VARCHAR(45) NULL, created_at TS NOT NULL);
CREATE TABLE members (team VARCHAR(40) NOT NULL, member_no INTEGER NOT NULL, email VARCHAR(200) NULL, created_at TS NOT NULL, PRIMARY KEY (team, member_no));
CREATE TABLE tokens (team VARCHAR(40) NOT NULL, member_no INTEGER NOT NULL, created_at TS NOT NULL, PRIMARY KEY (team, member_no));
`)
}

// uuidOf is a fixed uuid for n whose order is not n's: key order and age
// are unrelated, as with random uuids. As bytes, it has bytes that are not
// UTF-8 (0xff), which a checkpoint must keep.
func uuidOf(binary bool, n int) any {
	s := fmt.Sprintf("%08x-0000-4000-8000-%012x", (n*2654435761)%(1<<32), n)
	if !binary {
		return s
	}
	b, _ := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	b[5] = 0xff
	return b
}

// TestNonIntegerKeys: rules on tables keyed by a uuid (as text and as
// bytes) or by two columns plan and run on every database, in several
// batches, are resumed after a crash, and take exactly the expired rows
// (created over 30 days ago: 30 of the 60 rows of each table).
func TestNonIntegerKeys(t *testing.T) {
	t.Parallel()
	forEachKind(t, func(t *testing.T, kind string) {
		for i, typ := range keyTypes[kind] {
			t.Run(typ, func(t *testing.T) {
				t.Parallel()
				testKeys(t, kind, typ, i == 1)
			})
		}
	})
}

func testKeys(t *testing.T, kind, typ string, binary bool) {
	f := newFixtureWith(t, kind, keysPolicy)
	testdb.Exec(t, kind, f.dsn, keysSchema(kind, typ))
	for i := 1; i <= 60; i++ {
		team := fmt.Sprintf("team-%c", 'a'+i*7%5)
		f.exec(t, `INSERT INTO accounts (id, created_at) VALUES (?, ?)`, uuidOf(binary, i), daysAgo(i))
		for s := range 2 {
			f.exec(t, `INSERT INTO sessions (id, account_id, created_at) VALUES (?, ?, ?)`, uuidOf(binary, 1000+2*i+s), uuidOf(binary, i), daysAgo(0))
		}
		f.exec(t, `INSERT INTO visits (id, ip, created_at) VALUES (?, ?, ?)`, uuidOf(binary, i), "10.0.0.1", daysAgo(i))
		f.exec(t, `INSERT INTO members (team, member_no, email, created_at) VALUES (?, ?, ?, ?)`, team, i, fmt.Sprintf("m%d@test.example", i), daysAgo(i))
		f.exec(t, `INSERT INTO tokens (team, member_no, created_at) VALUES (?, ?, ?)`, team, i, daysAgo(i))
	}
	ctx := context.Background()
	p, err := f.engine.Plan(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range p.Rules {
		// The statements are bounded by the last expired key.
		if r.Error != "" || r.Rows != 30 || !anyContains(r.Statements, "<= ") {
			t.Errorf("plan %s: rows %d, error %q, statements %q", r.Rule, r.Rows, r.Error, r.Statements)
		}
	}
	for _, rule := range []string{"old accounts", "old visits", "old members", "old tokens"} {
		// The first run dies after its second batch; the next resumes
		// from the checkpointed key.
		crash, cancel := context.WithCancel(ctx)
		batches := 0
		rep, err := f.engine.Run(crash, retention.Options{Rules: []string{rule}, Batch: 7, Progress: func(retention.Progress) {
			if batches++; batches == 2 {
				cancel()
			}
		}})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		first := resultOf(rep, rule)
		if first.Status != retention.StatusFailed || first.Rows == 0 || first.Rows >= 30 {
			t.Fatalf("%s: crashed run %+v", rule, first)
		}
		rep, err = f.engine.Run(ctx, retention.Options{Rules: []string{rule}, Batch: 7})
		if err != nil {
			t.Fatal(err)
		}
		if r := resultOf(rep, rule); r.Status != retention.StatusDone || !r.Resumed || first.Rows+r.Rows != 30 {
			t.Errorf("%s: resumed run %+v after %d rows", rule, r, first.Rows)
		}
	}
	cutoff := daysAgo(30)
	for _, c := range []struct {
		q    string
		want int
	}{
		{`SELECT count(*) FROM accounts`, 30},
		{`SELECT count(*) FROM accounts WHERE created_at < ?`, 0},
		{`SELECT count(*) FROM sessions`, 60},
		{`SELECT count(*) FROM sessions WHERE account_id NOT IN (SELECT id FROM accounts)`, 0},
		{`SELECT count(*) FROM visits WHERE ip IS NULL AND created_at < ?`, 30},
		{`SELECT count(*) FROM visits WHERE ip IS NOT NULL AND created_at >= ?`, 30},
		{`SELECT count(*) FROM members WHERE email NOT LIKE '%@%' AND created_at < ?`, 30},
		{`SELECT count(*) FROM members WHERE email LIKE '%@test.example' AND created_at >= ?`, 30},
		{`SELECT count(*) FROM tokens`, 30},
		{`SELECT count(*) FROM tokens WHERE created_at < ?`, 0},
	} {
		var args []any
		if strings.Contains(c.q, "?") {
			args = append(args, cutoff)
		}
		if n := f.count(t, c.q, args...); n != c.want {
			t.Errorf("%s: %d, want %d", c.q, n, c.want)
		}
	}
	rep, err := f.engine.Run(ctx, retention.Options{})
	if err != nil || rep.Rows() != 0 || rep.Failed() {
		t.Errorf("second run: %v %+v", err, rep)
	}
}
