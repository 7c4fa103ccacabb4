package retention_test

import (
	"context"
	"strings"
	"testing"

	"github.com/vowprivacy/vow/internal/testdb"
	"github.com/vowprivacy/vow/retention"
)

// A pseudonym into a PostgreSQL domain goes by the domain's base type: a
// negative number into a domain over bigint (it went as text, and the
// statement failed), shortened to a domain over varchar(20).
func TestAnonymiseIntoDomains(t *testing.T) {
	t.Parallel()
	const src = `version: 1
organization: {name: Acme, contacts: {privacy: p@acme.example}}
systems:
  app:
    kind: postgres
    connection: {env: APP_DSN}
    tables:
      sessions:
        fields:
          id: system.operations
          actor: {category: user.unique_id, erase: hmac}
          agent: {category: user.device.device_id, erase: hmac}
          last_seen: system.operations
retention:
  rules:
    - {name: old sessions, table: "app:sessions", from: last_seen, keep: 30d, then: anonymise}
`
	f := newFixtureSchema(t, "postgres", `CREATE DOMAIN account_id AS bigint; CREATE DOMAIN short_text AS varchar(20);
CREATE TABLE sessions (id bigint PRIMARY KEY, actor account_id, agent short_text, last_seen timestamptz NOT NULL);
INSERT INTO sessions VALUES (1, 7, 'Firefox 120 on Linux', '2026-09-01'), (2, 8, 'Safari', '2026-11-19');`, src)
	before := testdb.Dump(t, f.db, "SELECT * FROM sessions WHERE id = 2")
	rep, err := f.engine.Run(context.Background(), retention.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r := resultOf(rep, "old sessions"); r.Status != retention.StatusDone || r.Rows != 1 {
		t.Fatalf("old sessions: %+v", r)
	}
	got := strings.Split(strings.TrimSpace(testdb.Dump(t, f.db, "SELECT actor, agent FROM sessions WHERE id = 1")), "|")
	if len(got) != 2 || !strings.HasPrefix(got[0], "-") || !strings.HasPrefix(got[1], "hmac:") || len(got[1]) > 20 {
		t.Errorf("session 1: %q; want a negative actor and an agent pseudonym of at most 20 characters", got)
	}
	if after := testdb.Dump(t, f.db, "SELECT * FROM sessions WHERE id = 2"); after != before {
		t.Errorf("session 2: %q, was %q", after, before)
	}
}
