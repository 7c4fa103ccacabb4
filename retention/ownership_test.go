package retention_test

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/vowprivacy/vow/hold"
	"github.com/vowprivacy/vow/keyring"
	"github.com/vowprivacy/vow/retention"
)

// ownershipSchema is a shop: accounts own an address (relation: owns),
// orders and their items; invoices of orders are held 4 years from their
// issue date, receipts 10 years with no date to run from; support tickets
// keep their rows when an account goes (ON DELETE SET NULL); logins are
// anonymised.
func ownershipSchema(kind string) string {
	ts := map[string]string{"postgres": "timestamp", "mysql": "datetime", "sqlite": "text"}[kind]
	return strings.ReplaceAll(`
CREATE TABLE addresses (id INTEGER PRIMARY KEY, street VARCHAR(200));
CREATE TABLE accounts (id INTEGER PRIMARY KEY, email VARCHAR(255) NOT NULL, address_id INTEGER, deleted_at TS,
  FOREIGN KEY (address_id) REFERENCES addresses (id));
CREATE TABLE orders (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL, created_at TS NOT NULL,
  FOREIGN KEY (account_id) REFERENCES accounts (id));
CREATE TABLE order_items (id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL, note VARCHAR(200), created_at TS NOT NULL,
  FOREIGN KEY (order_id) REFERENCES orders (id));
CREATE TABLE invoices (id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL, issued_at TS NOT NULL, billing_email VARCHAR(255),
  FOREIGN KEY (order_id) REFERENCES orders (id));
CREATE TABLE invoice_lines (id INTEGER PRIMARY KEY, invoice_id INTEGER NOT NULL, amount INTEGER,
  FOREIGN KEY (invoice_id) REFERENCES invoices (id));
CREATE TABLE receipts (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL,
  FOREIGN KEY (account_id) REFERENCES accounts (id));
CREATE TABLE tickets (id INTEGER PRIMARY KEY, account_id INTEGER, body VARCHAR(200),
  FOREIGN KEY (account_id) REFERENCES accounts (id) ON DELETE SET NULL);
CREATE TABLE events (id INTEGER PRIMARY KEY, created_at TS NOT NULL);
CREATE TABLE logins (id INTEGER PRIMARY KEY, email VARCHAR(255), created_at TS NOT NULL);
`, "TS", ts)
}

const ownershipPolicy = `version: 1
organization: {name: Shop, contacts: {privacy: privacy@shop.example}}
purposes:
  service: {legal_basis: contract}
systems:
  app:
    kind: KIND
    connection: {env: APP_DSN}
    purposes: [service]
    tables:
      accounts:
        subject: customer
        primary_key: [id]
        erase: delete
        fields:
          id: {category: user.unique_id, identity: user_id}
          email: {category: user.contact.email, identity: email}
          address_id: {category: system.operations, references: addresses.id, relation: owns}
          deleted_at: system.operations
      addresses:
        primary_key: [id]
        erase: delete
        fields:
          id: system.operations
          street: user.contact.address.street
      orders:
        subject: customer
        primary_key: [id]
        erase: delete
        fields:
          id: system.operations
          account_id: {category: user.unique_id, references: accounts.id}
          created_at: system.operations
      order_items:
        primary_key: [id]
        erase: delete
        fields:
          id: system.operations
          order_id: {category: system.operations, references: orders.id}
          note: user.content
          created_at: system.operations
      invoices:
        subject: customer
        primary_key: [id]
        erase: {hold: "Tax law: invoices are kept 4 years.", for: 4y, from: issued_at}
        fields:
          id: system.operations
          order_id: {category: system.operations, references: orders.id}
          issued_at: system.operations
          billing_email: {category: user.contact.email, identity: email}
      invoice_lines:
        primary_key: [id]
        erase: delete
        fields:
          id: system.operations
          invoice_id: {category: system.operations, references: invoices.id}
          amount: user.payment
      receipts:
        primary_key: [id]
        erase: {hold: "Receipts are kept 10 years.", for: 10y}
        fields:
          id: system.operations
          account_id: {category: user.unique_id, references: accounts.id}
      tickets:
        primary_key: [id]
        fields:
          id: system.operations
          account_id: {category: user.unique_id, references: accounts.id}
          body: user.content
      events:
        primary_key: [id]
        fields:
          id: system.operations
          created_at: system.operations
      logins:
        subject: customer
        primary_key: [id]
        fields:
          id: system.operations
          email: {category: user.contact.email, erase: hmac}
          created_at: system.operations
retention:
  rules:
    - {name: closed accounts, table: "app:accounts", where: deleted_at IS NOT NULL, from: deleted_at, keep: 30d}
    - {name: old items, table: "app:order_items", from: created_at, keep: 1y}
    - {name: old orders, table: "app:orders", from: created_at, keep: 5y}
    - {name: old events, table: "app:events", from: created_at, keep: 30d, brake: {share: 50%, rows: 10}}
    - {name: old logins, table: "app:logins", from: created_at, keep: 30d, then: anonymise}
rights:
  offered: [access, erasure]
`

// seedShop fills the shop. Accounts, all closed 60 days ago unless said:
//
//	1 ada: address 1, order 10 (items 100, 101) — purged, address too.
//	2 Ada.Held@Example.com (held as ada.held@example.com): address 2,
//	  order 20 with item 200, two years old — nothing of it goes.
//	3: address 3, shared with account 4 (open) — purged, address kept.
//	5: a receipt (held, no date) — kept; it does not stop the others.
//	6: ticket 60 — purged; the ticket stays, its account_id NULL.
//	7 (open): order 70 (6 years old) invoiced 5 years ago — the hold is
//	  over, the order goes with its invoice and the invoice's line;
//	  order 71 (6 years old) invoiced a year ago — kept; order 72 (6
//	  years old) invoiced 5 years ago to Billing@Held.example, whom a
//	  legal hold names — kept, with its invoice and line.
//
// events 1-20, 18 of them older than 30 days (the brake: over 50%).
// logins 1 (old, an address), 2 (old, pseudonymised by an erasure
// already), 3 (new).
func seedShop(t *testing.T, f *fixture, k *keyring.Keyring) {
	t.Helper()
	closed := daysAgo(60)
	for _, q := range [][]any{
		{"INSERT INTO addresses (id, street) VALUES (1, '1 Ada Way'), (2, '2 Held St'), (3, '3 Shared Rd'), (5, '5 Receipt Ave'), (6, '6 Ticket Ln')"},
		{"INSERT INTO accounts (id, email, address_id, deleted_at) VALUES (1, 'ada@shop.example', 1, ?)", closed},
		{"INSERT INTO accounts (id, email, address_id, deleted_at) VALUES (2, 'Ada.Held@Example.com', 2, ?)", closed},
		{"INSERT INTO accounts (id, email, address_id, deleted_at) VALUES (3, 'three@shop.example', 3, ?)", closed},
		{"INSERT INTO accounts (id, email, address_id, deleted_at) VALUES (4, 'four@shop.example', 3, NULL)"},
		{"INSERT INTO accounts (id, email, address_id, deleted_at) VALUES (5, 'five@shop.example', 5, ?)", closed},
		{"INSERT INTO accounts (id, email, address_id, deleted_at) VALUES (6, 'six@shop.example', 6, ?)", closed},
		{"INSERT INTO accounts (id, email, address_id, deleted_at) VALUES (7, 'seven@shop.example', NULL, NULL)"},
		{"INSERT INTO orders (id, account_id, created_at) VALUES (10, 1, ?), (20, 2, ?), (70, 7, ?), (71, 7, ?), (72, 7, ?)", daysAgo(700), daysAgo(700), daysAgo(6 * 366), daysAgo(6 * 366), daysAgo(6 * 366)},
		{"INSERT INTO order_items (id, order_id, note, created_at) VALUES (100, 10, 'gift', ?), (101, 10, 'wrap', ?), (200, 20, 'held', ?), (700, 70, 'old', ?), (710, 71, 'kept', ?)",
			daysAgo(10), daysAgo(10), daysAgo(2 * 366), daysAgo(10), daysAgo(10)},
		{"INSERT INTO invoices (id, order_id, issued_at, billing_email) VALUES (1, 70, ?, NULL), (2, 71, ?, NULL), (3, 72, ?, 'Billing@Held.example')", daysAgo(5 * 366), daysAgo(366), daysAgo(5 * 366)},
		{"INSERT INTO invoice_lines (id, invoice_id, amount) VALUES (1000, 1, 5), (2000, 2, 6), (3000, 3, 7)"},
		{"INSERT INTO receipts (id, account_id) VALUES (1, 5)"},
		{"INSERT INTO tickets (id, account_id, body) VALUES (60, 6, 'my parcel'), (40, 4, 'hello')"},
		{"INSERT INTO logins (id, email, created_at) VALUES (1, 'ada@shop.example', ?), (2, ?, ?), (3, 'new@shop.example', ?)",
			daysAgo(90), k.Pseudonym("old@shop.example"), daysAgo(90), daysAgo(1)},
	} {
		f.exec(t, q[0].(string), q[1:]...)
	}
	for i := 1; i <= 20; i++ {
		age := 60
		if i > 18 {
			age = 1
		}
		f.exec(t, "INSERT INTO events (id, created_at) VALUES (?, ?)", i, daysAgo(age))
	}
}

// snapshot reads every row of every table, as "table: col|col|…" lines.
func (f *fixture) snapshot(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, table := range []string{"addresses", "accounts", "orders", "order_items", "invoices", "invoice_lines", "receipts", "tickets", "events", "logins"} {
		rows, err := f.db.Query("SELECT * FROM " + table)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			parts := make([]string, len(vals))
			for i, v := range vals {
				if b, ok := v.([]byte); ok {
					v = string(b)
				}
				parts[i] = fmt.Sprint(v)
			}
			out = append(out, table+": "+strings.Join(parts, "|"))
		}
		rows.Close()
	}
	sort.Strings(out)
	return out
}

// diff returns the lines of before not in after (gone or changed) and of
// after not in before (new or changed), each with the table and key only.
func diff(before, after []string) (gone, came []string) {
	key := func(l string) string { return strings.SplitN(l, "|", 2)[0] }
	for _, l := range before {
		if !slices.Contains(after, l) {
			gone = append(gone, key(l))
		}
	}
	for _, l := range after {
		if !slices.Contains(before, l) {
			came = append(came, l)
		}
	}
	return gone, came
}

// TestOwnership runs every rule of the shop and compares every row of
// every table before and after: exactly the rows the ownership model says
// go, and nothing else, changes.
func TestOwnership(t *testing.T) {
	t.Parallel()
	forEachKind(t, func(t *testing.T, kind string) {
		f := newFixtureSchema(t, kind, ownershipSchema(kind), ownershipPolicy)
		k, _ := keyring.New(make([]byte, 32))
		seedShop(t, f, k)
		ctx := context.Background()
		for _, email := range []string{"ada.held@example.com", "billing@held.example"} {
			if _, err := f.holds.Place(ctx, hold.Subject{Kind: "email", Value: email}, "litigation", "legal", nil); err != nil {
				t.Fatal(err)
			}
		}
		before := f.snapshot(t)
		p, err := f.engine.Plan(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if b := planOf(p, "old events").Brake; !strings.Contains(b, "18 of the 20 rows") {
			t.Errorf("old events: brake = %q, want it to stop 18 of 20 rows", b)
		}
		rep, err := f.engine.Run(ctx, retention.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, rr := range rep.Rules {
			want := retention.StatusDone
			if rr.Rule == "old events" {
				want = retention.StatusBraked
			}
			if rr.Status != want {
				t.Errorf("%s: %s (%s), want %s", rr.Rule, rr.Status, rr.Error, want)
			}
		}
		gone, came := diff(before, f.snapshot(t))
		wantGone := []string{
			"accounts: 1", "accounts: 3", "accounts: 6",
			"addresses: 1", "addresses: 6", // owned; 3 is shared with account 4, 5's account is kept
			"invoice_lines: 1000", "invoices: 1", // its hold was over: it went with order 70, its line with it
			"logins: 1", // anonymised
			"order_items: 100", "order_items: 101", "order_items: 700",
			"orders: 10", "orders: 70",
			"tickets: 60", // kept, with account_id set to NULL by the database
		}
		sort.Strings(gone)
		if !slices.Equal(gone, wantGone) {
			t.Errorf("rows gone or changed:\n got  %v\n want %v", gone, wantGone)
		}
		wantCame := []string{"logins: 1|" + k.Pseudonym("ada@shop.example"), "tickets: 60|<nil>|my parcel"}
		for _, w := range wantCame {
			if !slices.ContainsFunc(came, func(l string) bool { return strings.HasPrefix(l, w) }) {
				t.Errorf("no row %q after the run; new or changed rows: %v", w, came)
			}
		}
		if len(came) != len(wantCame) {
			t.Errorf("new or changed rows: %v, want %d", came, len(wantCame))
		}
		// The operator approves the brake: the events go.
		rep, err = f.engine.Run(ctx, retention.Options{Rules: []string{"old events"}, Approve: []string{"old events"}})
		if err != nil || rep.Rules[0].Status != retention.StatusDone || rep.Rules[0].Rows != 18 {
			t.Fatalf("approved run: %+v %v", rep.Rules, err)
		}
	})
}
