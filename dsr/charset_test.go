package dsr_test

import (
	"slices"
	"testing"

	"github.com/vowprivacy/vow/dsr"
)

// Orders keyed by a shop code in latin1 and a number; their lines find
// them by both. MariaDB compares a list of row values wrongly when a
// column's character set is not the connection's: ('JÈ', 1) in such a
// list missed Ada's order and matched a row whose bytes are the UTF-8 of
// 'JÈ' read as latin1 — Bob's.
const charsetPolicy = appPolicyHead + `      users:
        subject: customer
        primary_key: [id]
        erase: delete
        fields:
          id: {category: user.unique_id, identity: user_id}
          email: {category: user.contact.email, identity: email}
          deleted_at: system.operations
      orders:
        subject: customer
        primary_key: [shop, no]
        erase: delete
        fields:
          shop: system.operations
          no: system.operations
          user_id: {category: user.unique_id, references: users.id}
      order_lines:
        subject: customer
        primary_key: [id]
        erase: delete
        fields:
          id: system.operations
          o_shop: system.operations
          o_no: system.operations
          body: user.content
        foreign_keys:
          - {columns: [o_shop, o_no], references: "orders (shop, no)", relation: owner}
retention:
  rules:
    - {name: closed accounts, table: "app:users", where: deleted_at IS NOT NULL, from: deleted_at, keep: 30d}
rights:
  offered: [access, erasure]
`

const charsetSchema = `
CREATE TABLE users (id BIGINT PRIMARY KEY, email VARCHAR(255) NOT NULL, deleted_at DATETIME);
CREATE TABLE orders (shop VARCHAR(8) CHARACTER SET latin1 NOT NULL, no BIGINT NOT NULL, user_id BIGINT NOT NULL,
  PRIMARY KEY (shop, no), FOREIGN KEY (user_id) REFERENCES users (id));
CREATE TABLE order_lines (id BIGINT PRIMARY KEY, o_shop VARCHAR(8) CHARACTER SET latin1 NOT NULL, o_no BIGINT NOT NULL, body TEXT,
  FOREIGN KEY (o_shop, o_no) REFERENCES orders (shop, no));
INSERT INTO users (id, email) VALUES (1, 'ada@example.com'), (2, 'bob@example.com');
INSERT INTO orders VALUES ('JÈ', 1, 1), ('JÉ', 2, 1);
INSERT INTO orders VALUES (CONCAT('J', _latin1 x'C388'), 1, 2), (CONCAT('J', _latin1 x'C389'), 2, 2);
INSERT INTO order_lines VALUES (1, 'JÈ', 1, 'Ada''s line'), (2, 'JÉ', 2, 'Ada''s other line');
INSERT INTO order_lines VALUES (3, CONCAT('J', _latin1 x'C388'), 1, 'Bob''s line'), (4, CONCAT('J', _latin1 x'C389'), 2, 'Bob''s other line');
`

// TestCompositeKeysInAnotherCharset: Ada's erasure on MariaDB deletes her
// orders and their lines and not one of Bob's, whose keys look like hers
// in the wrong character set.
func TestCompositeKeysInAnotherCharset(t *testing.T) {
	t.Parallel()
	f := fixtureFor(t, "mysql", charsetSchema, charsetPolicy)
	bob := func() []string {
		return slices.Concat(
			query(t, "mysql", f.appDSN, "SELECT hex(shop), no, user_id FROM orders WHERE user_id = 2 ORDER BY 1, 2"),
			query(t, "mysql", f.appDSN, "SELECT id, hex(o_shop), o_no, body FROM order_lines WHERE id > 2 ORDER BY id"))
	}
	before := bob()
	if len(before) != 4 {
		t.Fatalf("Bob's rows: %v", before)
	}
	r := run(t, f, create(t, f, trusted(dsr.Erasure, dsr.Identities{"email": "ada@example.com"})).ID)
	if r.Result.Rows["app:orders"] != 2 || r.Result.Rows["app:order_lines"] != 2 {
		t.Errorf("rows changed %v: want Ada's 2 orders and 2 lines", r.Result.Rows)
	}
	if after := bob(); !slices.Equal(before, after) {
		t.Errorf("Bob's rows changed:\nbefore %v\nafter  %v", before, after)
	}
	if left := query(t, "mysql", f.appDSN, "SELECT count(*) FROM order_lines WHERE id <= 2"); !slices.Equal(left, []string{"0"}) {
		t.Errorf("Ada's lines left: %v", left)
	}
}
