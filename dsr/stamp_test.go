package dsr_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vowprivacy/vow/dsr"
)

// stampSchema's updated_at columns are what Rails and Laravel schemas on
// MySQL often hold: DATETIMEs the server sets ON UPDATE CURRENT_TIMESTAMP,
// in the session's time zone. seen_at is a TIMESTAMP, an instant.
const stampSchema = `
CREATE TABLE users (id BIGINT PRIMARY KEY, email VARCHAR(255) NOT NULL, name VARCHAR(100),
  updated_at DATETIME(3) NOT NULL DEFAULT '2026-01-01 00:00:00' ON UPDATE CURRENT_TIMESTAMP(3),
  seen_at TIMESTAMP NOT NULL DEFAULT '2026-01-01 00:00:00' ON UPDATE CURRENT_TIMESTAMP);
CREATE TABLE notes (id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL, body VARCHAR(100),
  updated_at DATETIME NOT NULL DEFAULT '2026-01-01 00:00:00' ON UPDATE CURRENT_TIMESTAMP, INDEX (user_id));
INSERT INTO users (id, email, name) VALUES (1, 'ada@example.com', 'Ada'), (2, 'bob@example.com', 'Bob'), (3, 'dan@example.com', 'dan'), (4, 'eve@example.com', 'Eve');
INSERT INTO notes (id, user_id, body) VALUES (1, 1, 'call me'), (2, 1, '[removed]'), (3, 2, 'Bob''s note'), (4, 1, '[Removed]');
`

const stampPolicy = appPolicyHead + `      users:
        subject: customer
        primary_key: [id]
        fields:
          id: {category: user.unique_id, identity: user_id, erase: {hold: "The account's number stays with its notes.", for: 5y}}
          email: {category: user.contact.email, identity: email, erase: hmac}
          name: {category: user.name, erase: nullify}
          updated_at: system.operations
          seen_at: system.operations
      notes:
        subject: customer
        primary_key: [id]
        fields:
          id: system.operations
          user_id: {category: user.unique_id, references: users.id, erase: {hold: "The account's number stays with its notes.", for: 5y}}
          body: {category: user.content, erase: {set: "[removed]"}}
          updated_at: system.operations
retention:
  rules:
    - {name: stale accounts, table: "app:users", from: updated_at, keep: 5y}
rights:
  offered: [access, erasure, rectification]
`

// Vow's MySQL sessions are on UTC, where the server stamps a DATETIME ON
// UPDATE CURRENT_TIMESTAMP with UTC's wall time; in an application on
// Berlin time the rows Vow masked or rectified said they changed an hour
// before they did. Vow sets such columns itself, to the server's clock in
// the system's zone, and, as the server does, only in rows that change.
func TestStampedColumns(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, zone, params string
		wantErr            string
	}{
		{"Berlin", "Europe/Berlin", "", ""},
		{"Berlin by the DSN's loc", "", "&loc=Europe%2FBerlin", ""},
		// UTC is what the server stamps on Vow's sessions.
		{"UTC", "UTC", "", ""},
		// The zone is not known: nothing changes.
		{"zones disagree", "Europe/Berlin", "&loc=America%2FNew_York", "users.updated_at"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := stampPolicy
			if tc.zone != "" {
				src = strings.Replace(src, "    purposes: [service]\n", "    purposes: [service]\n    time_zone: "+tc.zone+"\n", 1)
			}
			f := fixtureFor(t, "mysql", stampSchema, src)
			f.useDSNParams(tc.params)
			zone := tc.zone
			if zone == "" {
				zone = "Europe/Berlin"
			}
			loc, err := time.LoadLocation(zone)
			if err != nil {
				t.Fatal(err)
			}
			rows := func() []string {
				return slices.Concat(query(t, "mysql", f.appDSN, "SELECT id, email, name, updated_at, UNIX_TIMESTAMP(seen_at) FROM users ORDER BY id"),
					query(t, "mysql", f.appDSN, "SELECT id, user_id, body, updated_at FROM notes ORDER BY id"))
			}
			before := rows()

			r, err := f.svc.Run(t.Context(), create(t, f, trusted(dsr.Erasure, dsr.Identities{"email": "ada@example.com"})).ID, nil)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("erasure: %v, %v; want it stopped, naming %s", r, err, tc.wantErr)
				}
				if after := rows(); !slices.Equal(after, before) {
					t.Errorf("rows changed:\nbefore %q\nafter  %q", before, after)
				}
				return
			}
			if err != nil || r.Status != dsr.Completed {
				t.Fatalf("erasure: %v, %v", r, err)
			}
			n := trusted(dsr.Rectification, dsr.Identities{"user_id": "2"})
			n.Changes = map[string]string{"name": "Robert"}
			run(t, f, create(t, f, n).ID)
			// Dan's name only changes case, which the column's collation
			// ignores: it changes all the same.
			n = trusted(dsr.Rectification, dsr.Identities{"user_id": "3"})
			n.Changes = map[string]string{"name": "Dan"}
			run(t, f, create(t, f, n).ID)
			// Eve's name is already Eve: her row does not change.
			n = trusted(dsr.Rectification, dsr.Identities{"user_id": "4"})
			n.Changes = map[string]string{"name": "Eve"}
			run(t, f, create(t, f, n).ID)
			now := time.Now()

			after := rows()
			// The rows that changed: Ada's user, Bob's, Dan's, and Ada's
			// first and last notes (the last only in case, which the
			// column's collation ignores).
			stamped := map[int]bool{0: true, 1: true, 2: true, 4: true, 7: true}
			for i, row := range after {
				cols := strings.Split(row, "|")
				if len(cols) < 4 {
					t.Fatalf("row %q", row)
				}
				if !stamped[i] {
					if row != before[i] {
						t.Errorf("row %d: %q, was %q; want it as it was", i, row, before[i])
					}
					continue
				}
				at, err := time.ParseInLocation("2006-01-02 15:04:05.999999999", strings.Replace(cols[3], "T", " ", 1), loc)
				if err != nil {
					at, err = time.ParseInLocation(time.RFC3339Nano, cols[3], time.UTC)
					at = time.Date(at.Year(), at.Month(), at.Day(), at.Hour(), at.Minute(), at.Second(), at.Nanosecond(), loc)
				}
				if err != nil {
					t.Fatalf("row %d: updated_at %q: %v", i, cols[3], err)
				}
				if d := now.Sub(at); d < -time.Minute || d > time.Minute {
					t.Errorf("row %d (%q): updated_at %s; want %s's wall time now, %s", i, row, cols[3], zone, now.In(loc).Format(time.DateTime))
				}
			}
			if strings.Split(after[0], "|")[2] != "NULL" || strings.Split(after[1], "|")[2] != "Robert" || strings.Split(after[2], "|")[2] != "Dan" {
				t.Errorf("users %q; want Ada's name gone, Bob's Robert, Dan's Dan", after[:4])
			}
			// seen_at, a TIMESTAMP, the server stamps itself, as an instant.
			for _, i := range []int{0, 1} {
				var unix int64
				fmt.Sscan(strings.Split(after[i], "|")[4], &unix)
				if d := now.Sub(time.Unix(unix, 0)); d < -time.Minute || d > time.Minute {
					t.Errorf("row %d: seen_at %d, want now (%d)", i, unix, now.Unix())
				}
			}
		})
	}
}

// A table the erasure deletes is not rewritten: its stamped columns need
// no zone, even where the table declares fields' strategies (for a
// retention rule that anonymises).
func TestStampedTableDeleted(t *testing.T) {
	t.Parallel()
	src := strings.Replace(appPolicyHead+`      users:
        subject: customer
        primary_key: [id]
        erase: delete
        fields:
          id: {category: user.unique_id, identity: user_id}
          email: {category: user.contact.email, identity: email}
      visits:
        subject: customer
        primary_key: [id]
        erase: delete
        fields:
          id: system.operations
          user_id: {category: user.unique_id, references: users.id}
          ip: {category: user.device.ip_address, erase: nullify}
          updated_at: system.operations
retention:
  rules:
    - {name: old visits, table: "app:visits", from: updated_at, keep: 30d, then: anonymise}
    - {name: stale accounts, table: "app:users", from: id, keep: 5y}
rights:
  offered: [access, erasure]
`, "    purposes: [service]\n", "    purposes: [service]\n    time_zone: Europe/Berlin\n", 1)
	f := fixtureFor(t, "mysql", `
CREATE TABLE users (id BIGINT PRIMARY KEY, email VARCHAR(255) NOT NULL);
CREATE TABLE visits (id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL, ip VARCHAR(45),
  updated_at DATETIME NOT NULL DEFAULT '2026-01-01 00:00:00' ON UPDATE CURRENT_TIMESTAMP, INDEX (user_id));
INSERT INTO users VALUES (1, 'ada@example.com'), (2, 'bob@example.com');
INSERT INTO visits (id, user_id, ip) VALUES (1, 1, '192.0.2.1'), (2, 2, '192.0.2.2');
`, src)
	f.useDSNParams("&loc=America%2FNew_York") // the zone is not known: the two disagree
	run(t, f, create(t, f, trusted(dsr.Erasure, dsr.Identities{"email": "ada@example.com"})).ID)
	if got := query(t, "mysql", f.appDSN, "SELECT id, user_id, ip FROM visits ORDER BY id"); !slices.Equal(got, []string{"2|2|192.0.2.2"}) {
		t.Errorf("visits %q, want Bob's", got)
	}
}

// A latin1 column compares with what a value is in latin1, not with its
// UTF-8 bytes: 'é' written over the UTF-8 bytes of é read as latin1 (a
// legacy database's double encoding) changes the row, and is stamped;
// 'é' over 'é' does not, and is not.
func TestStampedLatin1(t *testing.T) {
	t.Parallel()
	src := strings.Replace(stampPolicy, "    purposes: [service]\n", "    purposes: [service]\n    time_zone: Asia/Tokyo\n", 1)
	f := fixtureFor(t, "mysql", strings.Replace(stampSchema, "name VARCHAR(100)", "name VARCHAR(100) CHARACTER SET latin1", 1)+
		"UPDATE users SET name = UNHEX('C3A9'), updated_at = '2026-01-01 00:00:00' WHERE id = 2;\n"+
		"UPDATE users SET name = 'é', updated_at = '2026-01-01 00:00:00' WHERE id = 3;\n", src)
	for _, id := range []string{"2", "3"} {
		n := trusted(dsr.Rectification, dsr.Identities{"user_id": id})
		n.Changes = map[string]string{"name": "é"}
		run(t, f, create(t, f, n).ID)
	}
	got := query(t, "mysql", f.appDSN, "SELECT id, HEX(name), updated_at = '2026-01-01 00:00:00' FROM users WHERE id IN (2, 3) ORDER BY id")
	if !slices.Equal(got, []string{"2|E9|0", "3|E9|1"}) {
		t.Errorf("users %q; want 2 changed from C3A9 to E9 and stamped, 3 unchanged and not stamped", got)
	}
}
