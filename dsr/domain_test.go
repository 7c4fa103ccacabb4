package dsr_test

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vowprivacy/vow/dsr"
)

// domainSchema types its columns by PostgreSQL domains, as schemas that
// name their ids and addresses do: Vow decides by a domain's base type.
const domainSchema = `
CREATE DOMAIN account_id AS bigint;
CREATE DOMAIN short_name AS varchar(20);
CREATE DOMAIN wall_ts AS timestamp;
CREATE DOMAIN email_t AS text;
CREATE TABLE users (id account_id PRIMARY KEY, email email_t NOT NULL, seen wall_ts[], closed_at timestamptz);
CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint NOT NULL, buyer short_name, ref account_id);
INSERT INTO users VALUES (1, 'ada@example.com', ARRAY['2026-10-21 09:00:00'::timestamp, '2026-10-22 18:30:00'], NULL), (2, 'bob@example.com', NULL, NULL);
INSERT INTO orders VALUES (1, 1, 'Ada Lovelace', 11), (2, 2, 'Bob', 22);
`

const domainPolicy = appPolicyHead + `      users:
        subject: customer
        primary_key: [id]
        erase: delete
        fields:
          id: {category: user.unique_id, identity: user_id}
          email: {category: user.contact.email, identity: email}
          seen: system.operations
          closed_at: system.operations
      orders:
        subject: customer
        primary_key: [id]
        fields:
          id: {category: system.operations, erase: {hold: "Orders are kept for the books.", for: 10y}}
          user_id: {category: user.unique_id, references: users.id, erase: {hold: "Orders are kept for the books.", for: 10y}}
          buyer: {category: user.name, erase: hmac}
          ref: {category: user.unique_id, erase: hmac}
retention:
  rules:
    - {name: closed accounts, table: "app:users", where: closed_at IS NOT NULL, from: closed_at, keep: 30d}
rights:
  offered: [access, erasure]
`

// A relation from bigint to a domain over bigint was refused as values
// of different types; a pseudonym went as text into a domain over bigint
// and at full length into a domain over varchar(20) (the statement
// failed); an array of a domain over timestamp was exported as the text
// PostgreSQL writes, not as the instants it names.
func TestDomains(t *testing.T) {
	t.Parallel()
	src := strings.Replace(domainPolicy, "    purposes: [service]\n", "    purposes: [service]\n    time_zone: America/New_York\n", 1)
	f := fixtureFor(t, "postgres", domainSchema, src)
	acc := run(t, f, create(t, f, trusted(dsr.Access, dsr.Identities{"email": "ada@example.com"})).ID)
	var doc struct {
		Rows []map[string]any `json:"rows"`
	}
	if err := json.Unmarshal(readZip(t, filepath.Join(f.exports, acc.Result.Export))["data/app/users.json"], &doc); err != nil {
		t.Fatal(err)
	}
	if got, _ := json.Marshal(doc.Rows); string(got) != `[{"closed_at":null,"email":"ada@example.com","id":1,"seen":["2026-10-21T13:00:00Z","2026-10-22T22:30:00Z"]}]` {
		t.Errorf("Ada's row in her package: %s, want her sign-ins as instants (New York's 09:00 and 18:30)", got)
	}

	bob := query(t, "postgres", f.appDSN, "SELECT id, user_id, buyer, ref FROM orders WHERE id = 2")
	run(t, f, create(t, f, trusted(dsr.Erasure, dsr.Identities{"email": "ada@example.com"})).ID)
	got := query(t, "postgres", f.appDSN, "SELECT id, user_id, buyer, ref FROM orders ORDER BY id")
	if len(got) != 2 || got[1] != bob[0] {
		t.Fatalf("orders %q; want Bob's as it was, %q", got, bob)
	}
	cols := strings.Split(got[0], "|")
	if !strings.HasPrefix(cols[2], "hmac:") || len(cols[2]) > 20 || !strings.HasPrefix(cols[3], "-") {
		t.Errorf("Ada's order %q: want buyer a pseudonym of at most 20 characters and ref a negative number", got[0])
	}
	if users := query(t, "postgres", f.appDSN, "SELECT id FROM users ORDER BY id"); !slices.Equal(users, []string{"2"}) {
		t.Errorf("users %q, want Bob's", users)
	}
}
