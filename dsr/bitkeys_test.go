package dsr_test

import (
	"slices"
	"testing"

	"github.com/vowprivacy/vow/dsr"
)

// A key with a BIT column (MariaDB): the driver hands its value over as
// raw bytes, which, compared with a BIT column as a string, count as 0 —
// the key (1, 7) of Ada's device would find Bob's (0, 7).
const bitPolicy = appPolicyHead + `      devices:
        subject: customer
        primary_key: [kind, id]
        fields:
          kind: system.operations
          id: system.operations
          email: {category: user.contact.email, identity: email, erase: hmac}
          at: system.operations
retention:
  rules:
    - {name: devices, table: "app:devices", from: at, keep: 90d}
rights:
  offered: [access, erasure]
`

const bitSchema = `
CREATE TABLE devices (kind BIT(3) NOT NULL, id BIGINT NOT NULL, email VARCHAR(255), at DATETIME, PRIMARY KEY (kind, id), INDEX (email));
INSERT INTO devices (kind, id, email) VALUES (b'001', 7, 'ada@example.com'), (b'101', 8, 'ada@example.com');
INSERT INTO devices (kind, id, email) VALUES (b'000', 7, 'bob@example.com'), (b'000', 8, 'bob@example.com'), (b'100', 8, 'bob@example.com');
`

func TestBitKeys(t *testing.T) {
	t.Parallel()
	f := fixtureFor(t, "mysql", bitSchema, bitPolicy)
	bob := func() []string {
		return query(t, "mysql", f.appDSN, "SELECT kind + 0, id, email FROM devices WHERE email = 'bob@example.com' ORDER BY 1, 2")
	}
	before := bob()
	r := run(t, f, create(t, f, trusted(dsr.Erasure, dsr.Identities{"email": "ada@example.com"})).ID)
	if r.Result.Rows["app:devices"] != 2 {
		t.Errorf("rows changed %v, want Ada's 2 devices", r.Result.Rows)
	}
	if after := bob(); !slices.Equal(before, after) {
		t.Errorf("Bob's devices changed:\nbefore %v\nafter  %v", before, after)
	}
	if left := query(t, "mysql", f.appDSN, "SELECT count(*) FROM devices WHERE email = 'ada@example.com'"); !slices.Equal(left, []string{"0"}) {
		t.Errorf("Ada's devices not pseudonymised: %v", left)
	}
}
