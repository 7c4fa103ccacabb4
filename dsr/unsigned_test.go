package dsr_test

import (
	"slices"
	"testing"

	"github.com/vowprivacy/vow/dsr"
)

// Keys above the largest signed 64-bit integer (a BIGINT UNSIGNED key, a
// 64-bit hash) survive the request's stored keys exactly: as a float they
// would compare equal to their neighbours, and the erasure of Ada's row
// would rewrite Bob's.
const unsignedPolicy = appPolicyHead + `      logins:
        subject: customer
        primary_key: [id]
        fields:
          id: system.operations
          email: {category: user.contact.email, identity: email, erase: hmac}
          ip: {category: user.device.ip_address, erase: {set: "0.0.0.0"}}
          at: system.operations
retention:
  rules:
    - {name: logins, table: "app:logins", from: at, keep: 90d}
rights:
  offered: [access, erasure]
`

const unsignedSchema = `
CREATE TABLE logins (id BIGINT UNSIGNED PRIMARY KEY, email VARCHAR(255), ip VARCHAR(45), at DATETIME, INDEX (email));
INSERT INTO logins (id, email, ip) VALUES (18446744073709551615, 'ada@example.com', '192.0.2.1'), (18446744073709551614, 'bob@example.com', '198.51.100.7'), (18446744073709551613, 'bob@example.com', '198.51.100.8');
`

func TestUnsignedKeys(t *testing.T) {
	t.Parallel()
	f := fixtureFor(t, "mysql", unsignedSchema, unsignedPolicy)
	bob := func() []string {
		return query(t, "mysql", f.appDSN, "SELECT id, email, ip FROM logins WHERE id < 18446744073709551615 ORDER BY id")
	}
	before := bob()
	r := run(t, f, create(t, f, trusted(dsr.Erasure, dsr.Identities{"email": "ada@example.com"})).ID)
	if r.Result.Rows["app:logins"] != 1 {
		t.Errorf("rows changed %v, want 1 login", r.Result.Rows)
	}
	if after := bob(); !slices.Equal(before, after) {
		t.Errorf("Bob's logins changed:\nbefore %v\nafter  %v", before, after)
	}
	if got := query(t, "mysql", f.appDSN, "SELECT ip FROM logins WHERE id = 18446744073709551615"); !slices.Equal(got, []string{"0.0.0.0"}) {
		t.Errorf("Ada's login: ip %v, want 0.0.0.0", got)
	}
}
