package dsr_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/vowprivacy/vow/dsr"
	"github.com/vowprivacy/vow/internal/testdb"
)

// A support ticket's messages belong to the subject two ways: messages on
// the subject's tickets (whoever wrote them) and messages the subject wrote
// on other people's tickets. The table is reached through two relations.
const twoRelationsPolicy = appPolicyHead + `      users:
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
          # Each message is the ticket owner's and its author's.
          ticket_id: {category: system.operations, references: tickets.id, relation: owner}
          author_id: {category: user.unique_id, references: users.id, relation: owner}
          body: user.content
retention:
  rules:
    - {name: closed accounts, table: "app:users", where: deleted_at IS NOT NULL, from: deleted_at, keep: 30d}
rights:
  offered: [access, erasure]
`

// Ada (1) opened ticket 1, Bob (2) ticket 2. Message 1: Ada on her ticket
// (both ways); 2: Bob on Ada's ticket; 3: Ada on Bob's ticket; 4: Bob on
// his own. Ada's data: messages 1, 2, 3 — each once.
const twoRelationsData = `
INSERT INTO users (id, email) VALUES (1, 'ada@example.com');
INSERT INTO users (id, email) VALUES (2, 'bob@example.com');
INSERT INTO tickets (id, user_id) VALUES (1, 1);
INSERT INTO tickets (id, user_id) VALUES (2, 2);
INSERT INTO messages (id, ticket_id, author_id, body) VALUES (1, 1, 1, 'my invoice is wrong');
INSERT INTO messages (id, ticket_id, author_id, body) VALUES (2, 1, 2, 'I can help');
INSERT INTO messages (id, ticket_id, author_id, body) VALUES (3, 2, 1, 'me too');
INSERT INTO messages (id, ticket_id, author_id, body) VALUES (4, 2, 2, 'export fails');
`

var twoRelationsSchema = map[string]string{
	"sqlite": `
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, deleted_at TEXT);
CREATE TABLE tickets (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users (id));
CREATE TABLE messages (id INTEGER PRIMARY KEY, ticket_id INTEGER NOT NULL REFERENCES tickets (id), author_id INTEGER NOT NULL REFERENCES users (id), body TEXT);
CREATE INDEX tickets_user ON tickets (user_id);
CREATE INDEX messages_ticket ON messages (ticket_id);
CREATE INDEX messages_author ON messages (author_id);
`,
	"postgres": `
CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL UNIQUE, deleted_at timestamptz);
CREATE TABLE tickets (id bigint PRIMARY KEY, user_id bigint NOT NULL REFERENCES users (id));
CREATE TABLE messages (id bigint PRIMARY KEY, ticket_id bigint NOT NULL REFERENCES tickets (id), author_id bigint NOT NULL REFERENCES users (id), body text);
CREATE INDEX ON tickets (user_id);
CREATE INDEX ON messages (ticket_id);
CREATE INDEX ON messages (author_id);
`,
	"mysql": `
CREATE TABLE users (id BIGINT PRIMARY KEY, email VARCHAR(255) NOT NULL UNIQUE, deleted_at DATETIME);
CREATE TABLE tickets (id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL, FOREIGN KEY (user_id) REFERENCES users (id));
CREATE TABLE messages (id BIGINT PRIMARY KEY, ticket_id BIGINT NOT NULL, author_id BIGINT NOT NULL, body TEXT,
  FOREIGN KEY (ticket_id) REFERENCES tickets (id), FOREIGN KEY (author_id) REFERENCES users (id));
`,
}

func TestTwoRelations(t *testing.T) {
	t.Parallel()
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			f := fixtureFor(t, kind, twoRelationsSchema[kind]+twoRelationsData, twoRelationsPolicy)
			p, dsn, keys, exports := f.policy, f.appDSN, f.keys, f.exports

			plan, err := dsr.NewPlan(p, "", []string{"email"})
			if err != nil {
				t.Fatal(err)
			}
			where, args := plan.Where(plan.Step("app:messages"), dsr.Identities{"email": "ada@example.com"}, nil)
			switch kind {
			case "postgres":
				// With sequential scans priced out, a condition that no
				// index can serve still shows one.
				sep := "?"
				if strings.Contains(dsn, "?") {
					sep = "&"
				}
				got := strings.Join(query(t, kind, dsn+sep+"enable_seqscan=off", explain(where, args)), "\n")
				if strings.Contains(got, "Seq Scan on messages") {
					t.Errorf("messages are found by a full scan, not by their indexes:\n%s", got)
				}
			case "mysql":
				// Other people's messages, so that a full scan costs
				// MariaDB more than the indexes (on four rows it scans).
				var b strings.Builder
				b.WriteString("INSERT INTO messages (id, ticket_id, author_id, body) VALUES ")
				for i := 100; i < 3000; i++ {
					if i > 100 {
						b.WriteString(", ")
					}
					fmt.Fprintf(&b, "(%d, 2, 2, 'x')", i)
				}
				testdb.Exec(t, kind, dsn, b.String()+";\nANALYZE TABLE messages;\nDELETE FROM messages WHERE id >= 100;")
				// MariaDB's EXPLAIN: id|select_type|table|type|…; type ALL
				// on messages is a full scan.
				got := query(t, kind, dsn, explain(strings.ReplaceAll(where, "?", "$1"), args[:1]))
				for _, line := range got {
					if strings.Contains(line, "|messages|ALL|") {
						t.Errorf("messages are found by a full scan, not by their indexes:\n%s", strings.Join(got, "\n"))
					}
				}
			}

			r := run(t, f, create(t, f, trusted(dsr.Access, dsr.Identities{"email": "ada@example.com"})).ID)
			var doc struct {
				Rows []struct {
					ID int `json:"id"`
				} `json:"rows"`
			}
			files := readZip(t, filepath.Join(exports, r.Result.Export))
			if err := json.Unmarshal(files["data/app/messages.json"], &doc); err != nil {
				t.Fatal(err)
			}
			var ids []int
			for _, row := range doc.Rows {
				ids = append(ids, row.ID)
			}
			slices.Sort(ids)
			if !reflect.DeepEqual(ids, []int{1, 2, 3}) {
				t.Errorf("exported messages %v, want [1 2 3], each once", ids)
			}

			e := run(t, f, create(t, f, trusted(dsr.Erasure, dsr.Identities{"email": "ada@example.com"})).ID)
			if got := query(t, kind, dsn, "SELECT id FROM messages ORDER BY id"); !reflect.DeepEqual(got, []string{"4"}) {
				t.Errorf("messages left after erasure: %v, want [4]", got)
			}
			c, err := dsr.VerifyCertificate(e.Result.Certificate, keys.PublicKey())
			if err != nil {
				t.Fatal(err)
			}
			for _, tr := range c.Tables {
				if tr.Table == "messages" && (tr.Action != "deleted" || tr.Rows != 3) {
					t.Errorf("certificate: messages %s %d, want deleted 3", tr.Action, tr.Rows)
				}
			}
		})
	}
}

// explain renders a PostgreSQL EXPLAIN of reading messages by where, with
// its parameters written in.
func explain(where string, args []any) string {
	for i := len(args); i >= 1; i-- {
		where = strings.ReplaceAll(where, "$"+strconv.Itoa(i), "'"+strings.ReplaceAll(fmtAny(args[i-1]), "'", "''")+"'")
	}
	return "EXPLAIN SELECT * FROM messages WHERE " + where
}
