package dsr_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vowprivacy/vow/connector"
	"github.com/vowprivacy/vow/dsr"
	"github.com/vowprivacy/vow/internal/testdb"
)

// An events table partitioned by time, as PostgreSQL and MariaDB make
// applications key it: the partition column is part of the primary key,
// so the keys Vow records and finds rows by are (id, at) pairs with a
// time in them. Notes on an event reference it by both columns. Bob has
// an event with Ada's event's id an hour earlier — the offset of the
// connection's time zone on MariaDB (loc=Europe/Berlin), so a key whose
// wall time were shifted to UTC would find Bob's event — and on
// PostgreSQL Ada has an event before the year 1 (an application's import
// of historical dates, or a bad default).
const timeKeysPolicy = appPolicyHead + `      users:
        subject: customer
        primary_key: [id]
        erase: delete
        fields:
          id: {category: user.unique_id, identity: user_id}
          email: {category: user.contact.email, identity: email}
          deleted_at: system.operations
      events:
        subject: customer
        primary_key: [id, at]
        erase: delete
        fields:
          id: system.operations
          at: system.operations
          user_id: {category: user.unique_id, references: users.id}
          ip: user.device.ip_address
      event_notes:
        subject: customer
        primary_key: [event_id, event_at, n]
        erase: delete
        fields:
          event_id: system.operations
          event_at: system.operations
          n: system.operations
          body: user.content
        foreign_keys:
          - {columns: [event_id, event_at], references: "events (id, at)", relation: owner}
retention:
  rules:
    - {name: closed accounts, table: "app:users", where: deleted_at IS NOT NULL, from: deleted_at, keep: 30d}
rights:
  offered: [access, erasure]
`

var timeKeysSchema = map[string]string{
	"postgres": `
CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, deleted_at timestamptz);
CREATE TABLE events (id bigint NOT NULL, at timestamptz NOT NULL, user_id bigint NOT NULL REFERENCES users (id), ip text,
  PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
CREATE TABLE events_old PARTITION OF events FOR VALUES FROM (MINVALUE) TO ('2024-01-01');
CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO (MAXVALUE);
CREATE TABLE event_notes (event_id bigint NOT NULL, event_at timestamptz NOT NULL, n int NOT NULL, body text,
  PRIMARY KEY (event_id, event_at, n), FOREIGN KEY (event_id, event_at) REFERENCES events (id, at));
INSERT INTO users (id, email) VALUES (1, 'ada@example.com'), (2, 'bob@example.com');
INSERT INTO events VALUES
  (10, '2024-01-15 12:00:00.123456+00', 1, '192.0.2.1'),
  (10, '2024-01-15 11:00:00.123456+00', 2, '198.51.100.1'),
  (11, '2025-06-01 08:30:00+00', 1, '192.0.2.2'),
  (12, '0044-03-15 00:00:00+00 BC', 1, '192.0.2.3'),
  (12, '0044-03-16 00:00:00+00 BC', 2, '198.51.100.3'),
  (13, '2025-06-01 08:30:00+00', 2, '198.51.100.2');
INSERT INTO event_notes VALUES
  (10, '2024-01-15 12:00:00.123456+00', 1, 'Ada''s note'),
  (10, '2024-01-15 11:00:00.123456+00', 1, 'Bob''s note'),
  (11, '2025-06-01 08:30:00+00', 1, 'Ada''s other note'),
  (12, '0044-03-15 00:00:00+00 BC', 1, 'Ada''s ancient note'),
  (12, '0044-03-16 00:00:00+00 BC', 1, 'Bob''s ancient note');
`,
	// InnoDB's partitioned tables take no foreign keys: the notes'
	// relation is the policy's alone. MariaDB keeps dates a parsing driver
	// would move onto Bob's: the 0th of January (by default sql_mode),
	// rolled over to New Year's Eve, and 02:30 on the night Berlin skips
	// that hour, moved to 03:30.
	"mysql": `
CREATE TABLE users (id BIGINT PRIMARY KEY, email VARCHAR(255) NOT NULL, deleted_at DATETIME);
CREATE TABLE events (id BIGINT NOT NULL, at DATETIME(6) NOT NULL, user_id BIGINT NOT NULL, ip VARCHAR(45),
  PRIMARY KEY (id, at), INDEX (user_id))
  PARTITION BY RANGE COLUMNS (at) (PARTITION p_old VALUES LESS THAN ('2024-01-01'),
    PARTITION p2024 VALUES LESS THAN ('2025-01-01'), PARTITION p_max VALUES LESS THAN (MAXVALUE));
CREATE TABLE event_notes (event_id BIGINT NOT NULL, event_at DATETIME(6) NOT NULL, n INT NOT NULL, body TEXT,
  PRIMARY KEY (event_id, event_at, n));
INSERT INTO users (id, email) VALUES (1, 'ada@example.com'), (2, 'bob@example.com');
INSERT INTO events VALUES
  (10, '2024-01-15 12:00:00.123456', 1, '192.0.2.1'),
  (10, '2024-01-15 11:00:00.123456', 2, '198.51.100.1'),
  (11, '2025-06-01 08:30:00', 1, '192.0.2.2'),
  (13, '2025-06-01 08:30:00', 2, '198.51.100.2'),
  (14, '2026-01-00 00:00:00', 1, '192.0.2.4'),
  (14, '2025-12-31 00:00:00', 2, '198.51.100.4'),
  (15, '2024-03-31 02:30:00', 1, '192.0.2.5'),
  (15, '2024-03-31 03:30:00', 2, '198.51.100.5');
INSERT INTO event_notes VALUES
  (10, '2024-01-15 12:00:00.123456', 1, 'Ada''s note'),
  (10, '2024-01-15 11:00:00.123456', 1, 'Bob''s note'),
  (11, '2025-06-01 08:30:00', 1, 'Ada''s other note'),
  (14, '2026-01-00 00:00:00', 1, 'Ada''s note of a day that is not'),
  (14, '2025-12-31 00:00:00', 1, 'Bob''s new year''s eve note'),
  (15, '2024-03-31 02:30:00', 1, 'Ada''s note of the hour Berlin skips'),
  (15, '2024-03-31 03:30:00', 1, 'Bob''s note an hour later');
`,
	// SQLite keeps times as the text the application wrote; the driver
	// reads a DATETIME column's text as a time. The application writes a
	// note on Ada's event while her notes are being erased (a trigger
	// here): after her events are gone, only their keys saved when the
	// request started find it.
	"sqlite": `
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, deleted_at DATETIME);
CREATE TABLE events (id INTEGER NOT NULL, at DATETIME NOT NULL, user_id INTEGER NOT NULL REFERENCES users (id), ip TEXT,
  PRIMARY KEY (id, at));
CREATE TABLE event_notes (event_id INTEGER NOT NULL, event_at DATETIME NOT NULL, n INTEGER NOT NULL, body TEXT,
  PRIMARY KEY (event_id, event_at, n));
CREATE TRIGGER late_note AFTER DELETE ON event_notes WHEN OLD.n = 1 AND OLD.body = 'Ada''s note' BEGIN
  INSERT INTO event_notes VALUES (OLD.event_id, OLD.event_at, 2, 'Ada''s late note');
END;
INSERT INTO users (id, email) VALUES (1, 'ada@example.com'), (2, 'bob@example.com');
INSERT INTO events VALUES
  (10, '2024-01-15 12:00:00.123456', 1, '192.0.2.1'),
  (10, '2024-01-15 11:00:00.123456', 2, '198.51.100.1'),
  (11, '2025-06-01T08:30:00Z', 1, '192.0.2.2'),
  (13, '2025-06-01T08:30:00Z', 2, '198.51.100.2');
INSERT INTO event_notes VALUES
  (10, '2024-01-15 12:00:00.123456', 1, 'Ada''s note'),
  (10, '2024-01-15 11:00:00.123456', 1, 'Bob''s note'),
  (11, '2025-06-01T08:30:00Z', 1, 'Ada''s other note');
`,
}

// TestTimeKeys: Ada's access finds her events and notes by keys with
// times in them, and her erasure deletes them and nothing of Bob's, on
// partitioned tables where the database has them, whatever the time zone
// the driver reads times in.
func TestTimeKeys(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"postgres", "mysql", "sqlite"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			f := fixtureFor(t, kind, timeKeysSchema[kind], timeKeysPolicy)
			if kind == "mysql" {
				f.useDSNParams("&loc=Europe%2FBerlin") // a DSN that reads DATETIME as wall time in Berlin, were times parsed
			}
			// Ada's and Bob's events (one more each on PostgreSQL, two on
			// MariaDB), and the notes the erasure deletes (one more on
			// SQLite).
			ada, bob, notes := 2, 2, 2
			switch kind {
			case "postgres":
				ada, bob, notes = 3, 3, 3
			case "mysql":
				ada, bob, notes = 4, 4, 4
			case "sqlite":
				notes = 3
			}
			rows := func(where string) []string {
				return slices.Concat(
					query(t, kind, f.appDSN, "SELECT id, "+textOf(kind, "at")+", user_id, ip FROM events"+where+" ORDER BY user_id, id, at"),
					query(t, kind, f.appDSN, "SELECT event_id, "+textOf(kind, "event_at")+", n, body FROM event_notes ORDER BY event_id, event_at, n"))
			}
			// Bob's rows: his events, and every note not Ada's.
			bobs := func() []string {
				return slices.DeleteFunc(rows(" WHERE user_id = 2"), func(r string) bool { return strings.Contains(r, "Ada's") })
			}
			before, bobBefore := rows(""), bobs()

			acc := run(t, f, create(t, f, trusted(dsr.Access, dsr.Identities{"email": "ada@example.com"})).ID)
			if got := acc.Result.Rows["app:events"]; got != int64(ada) {
				t.Errorf("access: %d events, want Ada's %d (rows %v)", got, ada, acc.Result.Rows)
			}
			if got := acc.Result.Rows["app:event_notes"]; got != int64(ada) {
				t.Errorf("access: %d notes, want Ada's %d (rows %v)", got, ada, acc.Result.Rows)
			}
			if after := rows(""); !slices.Equal(after, before) {
				t.Fatalf("the access changed rows:\nbefore\n%s\nafter\n%s", before, after)
			}

			er := run(t, f, create(t, f, trusted(dsr.Erasure, dsr.Identities{"email": "ada@example.com"})).ID)
			if er.Result.Rows["app:events"] != int64(ada) || er.Result.Rows["app:event_notes"] != int64(notes) {
				t.Errorf("erasure: rows %v, want %d events and %d notes", er.Result.Rows, ada, notes)
			}
			if after := bobs(); !slices.Equal(after, bobBefore) {
				t.Errorf("Bob's rows changed:\nbefore\n%s\nafter\n%s", bobBefore, after)
			}
			left := slices.Concat(query(t, kind, f.appDSN, "SELECT count(*) FROM events WHERE user_id = 1"),
				query(t, kind, f.appDSN, "SELECT count(*) FROM event_notes WHERE body LIKE 'Ada%'"),
				query(t, kind, f.appDSN, "SELECT count(*) FROM events"))
			if want := []string{"0", "0", fmt.Sprint(bob)}; !slices.Equal(left, want) {
				t.Errorf("Ada's events, Ada's notes, all events left: %v, want %v", left, want)
			}
		})
	}
}

// textOf is a time column as text, as the database keeps it.
func textOf(kind, col string) string {
	switch kind {
	case "postgres":
		return col + "::text"
	case "mysql":
		return "CAST(" + col + " AS CHAR)"
	}
	return col
}

// A date pseudonymised by erasure (erase: hmac) is found again by its
// value, read as the row holds it: on SQLite a DATETIME's text, which the
// driver would otherwise parse and give back as other text, leaving the
// value in place and the request failed.
const hmacTimePolicy = appPolicyHead + `      users:
        subject: customer
        primary_key: [id]
        fields:
          id: system.operations
          email: {category: user.contact.email, identity: email, erase: hmac}
          born: {category: user.demographic.date_of_birth, erase: hmac}
          deleted_at: system.operations
retention:
  rules:
    - {name: closed accounts, table: "app:users", where: deleted_at IS NOT NULL, from: deleted_at, keep: 30d}
rights:
  offered: [access, erasure]
`

func TestPseudonymOfATime(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"postgres", "mysql", "sqlite"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			typ := map[string]string{"postgres": "text", "mysql": "VARCHAR(255)", "sqlite": "TEXT"}[kind]
			born := map[string]string{"postgres": "text", "mysql": "VARCHAR(80)", "sqlite": "DATETIME"}[kind]
			f := fixtureFor(t, kind, `
CREATE TABLE users (id BIGINT PRIMARY KEY, email `+typ+` NOT NULL, born `+born+`, deleted_at `+map[string]string{"postgres": "timestamptz", "mysql": "DATETIME", "sqlite": "DATETIME"}[kind]+`);
INSERT INTO users (id, email, born) VALUES (1, 'ada@example.com', '1990-05-01 00:00:00'), (2, 'bob@example.com', '1990-05-01 00:00:00');
`, hmacTimePolicy)
			bob := func() []string { return query(t, kind, f.appDSN, "SELECT id, email, born FROM users WHERE id = 2") }
			before := bob()
			r := run(t, f, create(t, f, trusted(dsr.Erasure, dsr.Identities{"email": "ada@example.com"})).ID)
			if r.Result.Rows["app:users"] != 1 {
				t.Errorf("rows changed %v, want Ada's user", r.Result.Rows)
			}
			if after := bob(); !slices.Equal(before, after) {
				t.Errorf("Bob's row changed:\nbefore %v\nafter  %v", before, after)
			}
			if left := query(t, kind, f.appDSN, "SELECT count(*) FROM users WHERE id = 1 AND (born = '1990-05-01 00:00:00' OR email = 'ada@example.com')"); !slices.Equal(left, []string{"0"}) {
				t.Errorf("Ada's date of birth or email left as it was: %v", left)
			}
		})
	}
}

// A hold period counted on a MariaDB TIMESTAMP: the server compares a
// TIMESTAMP with a literal in the session's time zone (Vow's, UTC), and
// the driver writes a time in the DSN's loc. With loc=America/New_York (as
// on sessions at UTC−05:00 before Vow's ran on UTC) a literal cutoff named
// an instant five hours off, and the erasure deleted a row two hours
// inside its hold. The cutoff goes as an instant (FROM_UNIXTIME).
const timestampHoldPolicy = appPolicyHead + `      users:
        subject: customer
        primary_key: [id]
        erase: delete
        fields:
          id: {category: user.unique_id, identity: user_id}
          email: {category: user.contact.email, identity: email}
          deleted_at: system.operations
      logins:
        subject: customer
        primary_key: [id]
        erase: {hold: "Sign-ins are kept 30 days for fraud checks.", for: 30d, from: at}
        fields:
          id: system.operations
          user_id: {category: user.unique_id, references: users.id}
          at: system.operations
retention:
  rules:
    - {name: closed accounts, table: "app:users", where: deleted_at IS NOT NULL, from: deleted_at, keep: 30d}
rights:
  offered: [access, erasure]
`

func TestHoldOnATimestampInAnotherTimeZone(t *testing.T) {
	t.Parallel()
	f := fixtureFor(t, "mysql", `
CREATE TABLE users (id BIGINT PRIMARY KEY, email VARCHAR(255) NOT NULL, deleted_at DATETIME);
CREATE TABLE logins (id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL, at TIMESTAMP NULL, INDEX (user_id));
INSERT INTO users (id, email) VALUES (1, 'ada@example.com'), (2, 'bob@example.com');
INSERT INTO logins VALUES
  (1, 1, UTC_TIMESTAMP() - INTERVAL 30 DAY - INTERVAL 2 HOUR),
  (2, 1, UTC_TIMESTAMP() - INTERVAL 30 DAY + INTERVAL 2 HOUR),
  (3, 2, UTC_TIMESTAMP() - INTERVAL 40 DAY);
`, timestampHoldPolicy)
	f.useDSNParams("&loc=America%2FNew_York") // times written as New York's wall time
	run(t, f, create(t, f, trusted(dsr.Erasure, dsr.Identities{"email": "ada@example.com"})).ID)
	if got := query(t, "mysql", f.appDSN, "SELECT id FROM logins ORDER BY id"); !slices.Equal(got, []string{"2", "3"}) {
		t.Errorf("logins left %v, want 2 (two hours inside its hold) and Bob's 3", got)
	}
}

// useDSNParams adds driver parameters to the DSN the fixture's service
// connects with (fixtureFor's one system, app).
func (f *fixture) useDSNParams(params string) {
	f.appDSN += params
	f.resolver.LookupEnv = func(k string) (string, bool) { return f.appDSN, k == "APP_DSN" }
	f.svc.Datastores = f.resolver
}

// A grace mark ("now") written into a MariaDB TIMESTAMP: as a time.Time
// the driver wrote it in the DSN's loc (New York) and the server read it in
// the session's zone (UTC), an instant five hours off, so a retention rule
// counting from the mark would purge the account five hours early. It is
// written as an instant.
func TestGraceMarkOnATimestampInAnotherTimeZone(t *testing.T) {
	t.Parallel()
	src := strings.Replace(gracePolicy, "rights:\n  offered: [access, erasure]\n",
		"rights:\n  offered: [access, erasure]\n  erasure_grace:\n    period: 14d\n    mark: [{set: \"app:users.deleted_at\", value: now}]\n", 1)
	f := fixtureFor(t, "mysql", `
CREATE TABLE users (id BIGINT PRIMARY KEY, email VARCHAR(255) NOT NULL, deleted_at TIMESTAMP NULL);
INSERT INTO users (id, email) VALUES (1, 'ada@example.com'), (2, 'bob@example.com');
`, src)
	f.useDSNParams("&loc=America%2FNew_York")
	r, err := f.svc.Run(t.Context(), create(t, f, trusted(dsr.Erasure, dsr.Identities{"email": "ada@example.com"})).ID, nil)
	if err != nil || r.Status != dsr.Scheduled {
		t.Fatalf("run = %v, %v; want scheduled for after the grace period", r, err)
	}
	// Read back as Unix seconds: the instant, whatever the zone.
	got := query(t, "mysql", f.appDSN, "SELECT UNIX_TIMESTAMP(deleted_at) FROM users WHERE id = 1")
	if len(got) != 1 {
		t.Fatalf("Ada's mark: %v", got)
	}
	sec, err := strconv.ParseFloat(got[0], 64)
	if err != nil {
		t.Fatalf("Ada's mark %q: %v", got[0], err)
	}
	if off := time.Since(time.Unix(int64(sec), 0)); off < -time.Minute || off > time.Minute {
		t.Errorf("Ada's mark is %v from now, want within a minute", off)
	}
	if bob := query(t, "mysql", f.appDSN, "SELECT deleted_at IS NULL FROM users WHERE id = 2"); !slices.Equal(bob, []string{"1"}) {
		t.Errorf("Bob marked: %v", bob)
	}
}

const gracePolicy = appPolicyHead + `      users:
        subject: customer
        primary_key: [id]
        erase: delete
        fields:
          id: {category: user.unique_id, identity: user_id}
          email: {category: user.contact.email, identity: email}
          deleted_at: system.operations
retention:
  rules:
    - {name: closed accounts, table: "app:users", where: deleted_at IS NOT NULL, from: deleted_at, keep: 30d}
rights:
  offered: [access, erasure]
`

// Hold periods counted on SQLite columns whose times no cutoff compares by
// date. Times in two forms (text from the old code, Unix seconds from the
// new): SQLite orders every number before every text, and yesterday's
// sign-in, stored as a number, went with last year's. Text dates written
// with a T, one written with a space late on the day the period ends:
// inside the hold, it sorted before the cutoff's T and went as past it.
// The erasure refuses and changes nothing.
func TestHoldOnTimesThatMisleadAComparison(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, logins, want string
	}{
		{"two forms", `CREATE TABLE logins (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, at TIMESTAMP);
INSERT INTO logins VALUES (1, 1, '2025-01-01 00:00:00'), (2, 1, unixepoch('now', '-1 day')), (3, 2, '2025-01-01 00:00:00');`,
			"logins.at holds Unix seconds and text values"},
		{"two separators on the day the hold ends", `CREATE TABLE logins (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, at TEXT);
INSERT INTO logins VALUES (1, 1, '2025-01-01T00:00:00'), (2, 1, strftime('%Y-%m-%d', 'now', '-30 days') || ' 23:59:59'),
  (3, 1, strftime('%Y-%m-%dT%H:%M:%S', 'now', '-1 day')), (4, 2, '2025-01-01T00:00:00');`,
			"another separator"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := fixtureFor(t, "sqlite", `
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, deleted_at DATETIME);
INSERT INTO users (id, email) VALUES (1, 'ada@example.com'), (2, 'bob@example.com');
`+tc.logins, timestampHoldPolicy)
			before := query(t, "sqlite", f.appDSN, "SELECT id, user_id, at FROM logins ORDER BY id")
			r, err := f.svc.Run(t.Context(), create(t, f, trusted(dsr.Erasure, dsr.Identities{"email": "ada@example.com"})).ID, nil)
			if !errors.Is(err, connector.ErrMixedTimes) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Run = %v, %v; want the times refused (%q)", r, err, tc.want)
			}
			if after := query(t, "sqlite", f.appDSN, "SELECT id, user_id, at FROM logins ORDER BY id"); !slices.Equal(before, after) {
				t.Errorf("logins changed:\nbefore %v\nafter  %v", before, after)
			}
			if got := query(t, "sqlite", f.appDSN, "SELECT count(*) FROM users"); !slices.Equal(got, []string{"2"}) {
				t.Errorf("users left %v, want both", got)
			}
		})
	}
}

// Sign-ins keyed by a kiosk and a MariaDB TIMESTAMP, with notes on them.
// The night Berlin's clocks go back, 02:30 comes twice: Bob signed in at
// the first (00:30 UTC), Ada at the second (01:30 UTC).
const kioskSchema = `
CREATE TABLE users (id BIGINT PRIMARY KEY, email VARCHAR(255) NOT NULL, deleted_at DATETIME);
CREATE TABLE logins (kiosk VARCHAR(20) NOT NULL, at TIMESTAMP NOT NULL, user_id BIGINT NOT NULL, PRIMARY KEY (kiosk, at), INDEX (user_id));
CREATE TABLE login_notes (kiosk VARCHAR(20) NOT NULL, at TIMESTAMP NOT NULL, body TEXT, PRIMARY KEY (kiosk, at));
INSERT INTO users (id, email) VALUES (1, 'ada@example.com'), (2, 'bob@example.com');
SET time_zone = '+00:00';
INSERT INTO logins VALUES ('lobby', '2026-10-25 00:30:00', 2), ('lobby', '2026-10-25 01:30:00', 1), ('lobby', '2026-10-25 02:30:00', 2);
INSERT INTO login_notes VALUES ('lobby', '2026-10-25 00:30:00', 'Bob forgot his badge'), ('lobby', '2026-10-25 01:30:00', 'Ada signed in for a guest');
`

// kioskRows are the kiosk's sign-ins and notes, each time as its instant
// (Unix seconds), whatever the session's zone.
func kioskRows(t *testing.T, f *fixture) []string {
	t.Helper()
	return slices.Concat(query(t, "mysql", f.appDSN, "SELECT kiosk, UNIX_TIMESTAMP(at), user_id FROM logins ORDER BY at"),
		query(t, "mysql", f.appDSN, "SELECT kiosk, UNIX_TIMESTAMP(at), body FROM login_notes ORDER BY at"))
}

const kioskPolicy = appPolicyHead + `      users:
        subject: customer
        primary_key: [id]
        erase: delete
        fields:
          id: {category: user.unique_id, identity: user_id}
          email: {category: user.contact.email, identity: email}
          deleted_at: system.operations
      logins:
        subject: customer
        primary_key: [kiosk, at]
        erase: delete
        fields:
          kiosk: system.operations
          at: system.operations
          user_id: {category: user.unique_id, references: users.id}
      login_notes:
        subject: customer
        primary_key: [kiosk, at]
        erase: delete
        fields:
          kiosk: system.operations
          at: system.operations
          body: user.content
        foreign_keys:
          - {columns: [kiosk, at], references: "logins (kiosk, at)", relation: owner}
retention:
  rules:
    - {name: closed accounts, table: "app:users", where: deleted_at IS NOT NULL, from: deleted_at, keep: 30d}
rights:
  offered: [access, erasure]
`

// The kiosk's sign-ins (kioskSchema) on a server whose sessions are on
// Berlin time. Read in Berlin time Ada's and Bob's keys are both the text
// "2026-10-25 02:30:00", and MariaDB compares a TIMESTAMP with that text
// in the session's zone, so the key of Ada's sign-in found Bob's: her
// erasure stopped on a key it took for reused, and her package gave her
// sign-in's time an hour off. Vow's sessions are on UTC.
func TestTimestampKeysInARepeatedHour(t *testing.T) {
	t.Parallel()
	testdb.NeedTimeZone(t, "Europe/Berlin")
	f := fixtureFor(t, "mysql", kioskSchema, kioskPolicy)
	// The server's sessions on Berlin time (TIME_ZONE in capitals: the
	// server takes a variable's name in any case), and a DSN that reads
	// DATETIMEs as Berlin's wall time.
	f.useDSNParams("&TIME_ZONE=%27Europe%2FBerlin%27&loc=Europe%2FBerlin")
	rows := func() []string { return kioskRows(t, f) }
	before := rows()

	acc := run(t, f, create(t, f, trusted(dsr.Access, dsr.Identities{"email": "ada@example.com"})).ID)
	files := readZip(t, filepath.Join(f.exports, acc.Result.Export))
	// Each table's rows in the package, as JSON with its keys sorted.
	for table, want := range map[string]string{
		"logins":      `[{"at":"2026-10-25T01:30:00Z","kiosk":"lobby","user_id":1}]`,
		"login_notes": `[{"at":"2026-10-25T01:30:00Z","body":"Ada signed in for a guest","kiosk":"lobby"}]`,
	} {
		var doc struct {
			Rows []map[string]any `json:"rows"`
		}
		if err := json.Unmarshal(files["data/app/"+table+".json"], &doc); err != nil {
			t.Fatal(err)
		}
		if got, _ := json.Marshal(doc.Rows); string(got) != want {
			t.Errorf("Ada's %s in her package: %s, want %s", table, got, want)
		}
	}

	er := run(t, f, create(t, f, trusted(dsr.Erasure, dsr.Identities{"email": "ada@example.com"})).ID)
	if er.Result.Rows["app:logins"] != 1 || er.Result.Rows["app:login_notes"] != 1 {
		t.Errorf("erasure: rows %v, want Ada's sign-in and its note", er.Result.Rows)
	}
	if got, want := rows(), []string{before[0], before[2], before[3]}; !slices.Equal(got, want) {
		t.Errorf("rows left:\n%s\nwant Bob's sign-ins and note:\n%s", got, want)
	}
}

// Sign-ins stamped by the database in New York's wall time (a timestamp
// without time zone, DEFAULT now() on a server on New York), held 30
// days. The clock is 2026-11-20 12:00 UTC: the hold ends at 2026-10-21
// 12:00 UTC, 08:00 in New York. Compared as UTC wall times, the sign-in
// of 09:00 in New York — inside its hold by an hour — went with the one
// of 07:00, and the package gave both times four hours early. With the
// system's time_zone the hold ends at New York's 08:00 and the package
// gives the instants; without it, on a server on New York, requests stop
// before reading or changing anything and say which zone to declare.
func TestWallTimesInAZone(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		declared  bool
		dsnParams string
	}{
		{"declared", true, ""},
		{"not declared", false, ""},
		// Vow's own session on UTC says nothing of the application's.
		{"not declared, Vow's DSN on UTC", false, "&timezone=UTC"},
	} {
		declared := tc.declared
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := timestampHoldPolicy
			if declared {
				src = strings.Replace(src, "    purposes: [service]\n", "    purposes: [service]\n    time_zone: America/New_York\n", 1)
			}
			f := fixtureFor(t, "postgres", `
DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET timezone = %L', current_database(), 'America/New_York'); END $$;
CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, deleted_at timestamp);
CREATE TABLE logins (id bigint PRIMARY KEY, user_id bigint NOT NULL, at timestamp);
INSERT INTO users (id, email) VALUES (1, 'ada@example.com'), (2, 'bob@example.com');
INSERT INTO logins VALUES (1, 1, '2026-10-21 07:00:00'), (2, 1, '2026-10-21 09:00:00'), (3, 2, '2026-10-01 00:00:00');
`, src)
			f.useDSNParams(tc.dsnParams)
			f.svc.Now = func() time.Time { return time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC) }
			logins := func() []string {
				return query(t, "postgres", f.appDSN, "SELECT id, user_id, at FROM logins ORDER BY id")
			}
			before := logins()

			acc, err := f.svc.Run(t.Context(), create(t, f, trusted(dsr.Access, dsr.Identities{"email": "ada@example.com"})).ID, nil)
			if !declared {
				if !errors.Is(err, connector.ErrZoneUnknown) || tc.dsnParams == "" && !strings.Contains(err.Error(), "America/New_York") {
					t.Errorf("access: %v; want it stopped, naming the server's zone", err)
				}
				_, err = f.svc.Run(t.Context(), create(t, f, trusted(dsr.Erasure, dsr.Identities{"email": "ada@example.com"})).ID, nil)
				if !errors.Is(err, connector.ErrZoneUnknown) {
					t.Errorf("erasure: %v; want it stopped", err)
				}
				if after := logins(); !slices.Equal(after, before) {
					t.Errorf("logins changed:\nbefore %v\nafter  %v", before, after)
				}
				if got := query(t, "postgres", f.appDSN, "SELECT count(*) FROM users"); !slices.Equal(got, []string{"2"}) {
					t.Errorf("users left %v, want both", got)
				}
				return
			}
			if err != nil || acc.Status != dsr.Completed {
				t.Fatalf("access: %v, %v", acc, err)
			}
			var doc struct {
				Rows []map[string]any `json:"rows"`
			}
			if err := json.Unmarshal(readZip(t, filepath.Join(f.exports, acc.Result.Export))["data/app/logins.json"], &doc); err != nil {
				t.Fatal(err)
			}
			if got, _ := json.Marshal(doc.Rows); string(got) != `[{"at":"2026-10-21T11:00:00Z","id":1,"user_id":1},{"at":"2026-10-21T13:00:00Z","id":2,"user_id":1}]` {
				t.Errorf("Ada's logins in her package: %s, want them at 11:00 and 13:00 UTC", got)
			}
			run(t, f, create(t, f, trusted(dsr.Erasure, dsr.Identities{"email": "ada@example.com"})).ID)
			if got, want := logins(), []string{before[1], before[2]}; !slices.Equal(got, want) {
				t.Errorf("logins left %v; want %v (Ada's inside its hold, and Bob's)", got, want)
			}
		})
	}
}

// Keys stored by an earlier version of Vow, whose MySQL sessions were in
// the server's zone (or the DSN's time_zone): a TIMESTAMP in them is that
// zone's local time, which Vow's sessions on UTC read as another instant.
// An erasure resolved before the upgrade, still in its grace period after
// it, stops before changing anything where that zone is not UTC, and goes
// on where it is.
func TestKeysReadBeforeUTCSessions(t *testing.T) {
	t.Parallel()
	testdb.NeedTimeZone(t, "Europe/Berlin")
	grace := strings.Replace(kioskPolicy, "rights:\n  offered: [access, erasure]\n",
		"rights:\n  offered: [access, erasure]\n  erasure_grace:\n    period: 14d\n    mark: [{set: \"app:users.deleted_at\", value: now}]\n", 1)
	for _, params := range []string{"&time_zone=%27Europe%2FBerlin%27", ""} {
		t.Run(params, func(t *testing.T) {
			t.Parallel()
			f := fixtureFor(t, "mysql", kioskSchema, grace)
			f.useDSNParams(params)
			rows := func() []string { return kioskRows(t, f) }
			before := rows()
			r := create(t, f, trusted(dsr.Erasure, dsr.Identities{"email": "ada@example.com"}))
			if got, err := f.svc.Run(t.Context(), r.ID, nil); err != nil || got.Status != dsr.Scheduled {
				t.Fatalf("Run = %v, %v; want scheduled after the grace period", got, err)
			}
			// As an earlier version stored them.
			res, err := f.store.DB().ExecContext(t.Context(), `UPDATE requests SET keys = replace(keys, ',"utc":true', '') WHERE id = ? AND keys LIKE '%"utc":true%'`, r.ID)
			if n, _ := res.RowsAffected(); err != nil || n != 1 {
				t.Fatalf("unmark the keys: %v (%d rows)", err, n)
			}
			f.svc.Now = func() time.Time { return time.Now().Add(15 * 24 * time.Hour) }
			got, err := f.svc.Run(t.Context(), r.ID, nil)
			if params != "" {
				if err == nil || !strings.Contains(err.Error(), "earlier version of Vow") || !strings.Contains(err.Error(), "Europe/Berlin") {
					t.Errorf("Run = %v, %v; want it stopped for keys read in Berlin time", got, err)
				}
				if after := rows(); !slices.Equal(after, before) {
					t.Errorf("rows changed:\n%s\nwant as they were:\n%s", after, before)
				}
				return
			}
			if err != nil || got.Status != dsr.Completed {
				t.Fatalf("Run = %v, %v; want completed", got, err)
			}
			if after, want := rows(), []string{before[0], before[2], before[3]}; !slices.Equal(after, want) {
				t.Errorf("rows left:\n%s\nwant Bob's:\n%s", after, want)
			}
		})
	}
}

// Requests that need no zone on a PostgreSQL server on New York: an
// access over instants (timestamptz, an array of them) and dates, to a
// table held from a date — a hold period is an erasure's.
func TestZoneNotNeeded(t *testing.T) {
	t.Parallel()
	f := fixtureFor(t, "postgres", `
DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET timezone = %L', current_database(), 'America/New_York'); END $$;
CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, deleted_at timestamptz);
CREATE TABLE logins (id bigint PRIMARY KEY, user_id bigint NOT NULL, at date, seen timestamptz[]);
INSERT INTO users (id, email) VALUES (1, 'ada@example.com'), (2, 'bob@example.com');
INSERT INTO logins VALUES (1, 1, '2026-10-21', ARRAY['2026-10-21 07:00:00Z'::timestamptz]);
`, strings.Replace(timestampHoldPolicy, "          at: system.operations\n", "          at: system.operations\n          seen: system.operations\n", 1))
	if acc, err := f.svc.Run(t.Context(), create(t, f, trusted(dsr.Access, dsr.Identities{"email": "ada@example.com"})).ID, nil); err != nil || acc.Status != dsr.Completed {
		t.Errorf("access: %v, %v; want completed: instants and dates need no zone", acc, err)
	}
}

// A timestamp[] in a zone: its elements are the instants their wall times
// name there, as a scalar timestamp's; and a grace mark written into a
// timestamp is New York's wall time of the moment.
func TestWallTimesInAZoneArraysAndMarks(t *testing.T) {
	t.Parallel()
	src := strings.Replace(timestampHoldPolicy, "    purposes: [service]\n", "    purposes: [service]\n    time_zone: America/New_York\n", 1)
	src = strings.Replace(src, "          at: system.operations\n", "          at: system.operations\n          ats: system.operations\n", 1)
	src = strings.Replace(src, "rights:\n  offered: [access, erasure]\n",
		"rights:\n  offered: [access, erasure]\n  erasure_grace:\n    period: 14d\n    mark: [{set: \"app:users.deleted_at\", value: now}]\n", 1)
	f := fixtureFor(t, "postgres", `
CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, deleted_at timestamp);
CREATE TABLE logins (id bigint PRIMARY KEY, user_id bigint NOT NULL, at timestamp(3), ats timestamp(3)[]);
INSERT INTO users (id, email) VALUES (1, 'ada@example.com'), (2, 'bob@example.com');
INSERT INTO logins VALUES (1, 1, '2026-10-21 07:00:00', ARRAY['2026-10-21 07:00:00'::timestamp, '2026-11-02 07:00:00'::timestamp]);
`, src)
	acc := run(t, f, create(t, f, trusted(dsr.Access, dsr.Identities{"email": "ada@example.com"})).ID)
	var doc struct {
		Rows []map[string]any `json:"rows"`
	}
	if err := json.Unmarshal(readZip(t, filepath.Join(f.exports, acc.Result.Export))["data/app/logins.json"], &doc); err != nil {
		t.Fatal(err)
	}
	if got, _ := json.Marshal(doc.Rows); string(got) != `[{"at":"2026-10-21T11:00:00Z","ats":["2026-10-21T11:00:00Z","2026-11-02T12:00:00Z"],"id":1,"user_id":1}]` {
		t.Errorf("Ada's logins in her package: %s; want New York's times as instants, in the array too", got)
	}
	now := time.Date(2026, 11, 20, 17, 30, 0, 0, time.UTC)
	f.svc.Now = func() time.Time { return now }
	if r, err := f.svc.Run(t.Context(), create(t, f, trusted(dsr.Erasure, dsr.Identities{"email": "ada@example.com"})).ID, nil); err != nil || r.Status != dsr.Scheduled {
		t.Fatalf("erasure: %v, %v; want scheduled for after the grace period", r, err)
	}
	if got := query(t, "postgres", f.appDSN, "SELECT coalesce(deleted_at::text, '-') FROM users ORDER BY id"); !slices.Equal(got, []string{"2026-11-20 12:30:00", "-"}) {
		t.Errorf("marks %v; want Ada's at 12:30, New York's wall time of 17:30 UTC", got)
	}
}
