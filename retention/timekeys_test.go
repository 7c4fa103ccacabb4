package retention_test

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vowprivacy/vow/internal/testdb"
	"github.com/vowprivacy/vow/retention"
)

// timeKeysPolicy purges and anonymises tables keyed by (id, created_at),
// as a table partitioned by time is keyed: every key a batch reads, locks
// and writes by has a time in it.
const timeKeysPolicy = `version: 1
organization: {name: Test, contacts: {privacy: privacy@test.example}}
purposes:
  service: {legal_basis: contract}
systems:
  app:
    kind: KIND
    connection: {env: APP_DSN}
    tables:
      events:
        subject: customer
        primary_key: [id, created_at]
        fields:
          id: system.operations
          ip: {category: user.device.ip_address, erase: hmac}
          created_at: system.operations
      logins:
        subject: customer
        primary_key: [id, created_at]
        fields:
          id: system.operations
          ip: user.device.ip_address
          created_at: system.operations
retention:
  rules:
    - {name: old events, table: "app:events", from: created_at, keep: 30d, then: anonymise, brake: {share: 100%}}
    - {name: old logins, table: "app:logins", from: created_at, keep: 30d, brake: {share: 100%}}
`

// Each table has, per id, an expired row and one not due; SQLite's hold
// the text the application wrote, in two of the forms SQLite's date
// functions take.
var timeKeysSchema = map[string]string{
	"postgres": `
CREATE TABLE events (id bigint, ip text, created_at timestamp(6), PRIMARY KEY (id, created_at)) PARTITION BY RANGE (created_at);
CREATE TABLE events_old PARTITION OF events FOR VALUES FROM (MINVALUE) TO ('2026-06-01');
CREATE TABLE events_new PARTITION OF events FOR VALUES FROM ('2026-06-01') TO (MAXVALUE);
CREATE TABLE logins (id bigint, ip text, created_at timestamptz, PRIMARY KEY (id, created_at));
INSERT INTO events SELECT i, '192.0.2.1', '2026-01-01 00:00:00.123456'::timestamp + i * interval '1 second' FROM generate_series(1, 1200) i;
INSERT INTO events SELECT i, '198.51.100.7', '2026-11-19 00:00:00.123456'::timestamp + i * interval '1 second' FROM generate_series(1, 1200) i;
INSERT INTO logins SELECT i, '192.0.2.1', '2026-01-01 00:00:00.123456+00'::timestamptz + i * interval '1 second' FROM generate_series(1, 1200) i;
INSERT INTO logins SELECT i, '198.51.100.7', '2026-11-19 00:00:00.123456+00'::timestamptz + i * interval '1 second' FROM generate_series(1, 1200) i;
`,
	"mysql": `
CREATE TABLE events (id BIGINT, ip VARCHAR(45), created_at DATETIME(6), PRIMARY KEY (id, created_at))
  PARTITION BY RANGE COLUMNS (created_at) (PARTITION p_old VALUES LESS THAN ('2026-06-01'), PARTITION p_new VALUES LESS THAN (MAXVALUE));
CREATE TABLE logins (id BIGINT, ip VARCHAR(45), created_at DATETIME(6), PRIMARY KEY (id, created_at));
INSERT INTO events SELECT seq, '192.0.2.1', TIMESTAMP('2026-01-01 00:00:00.123456') + INTERVAL seq SECOND FROM seq_1_to_1200;
INSERT INTO events SELECT seq, '198.51.100.7', TIMESTAMP('2026-11-19 00:00:00.123456') + INTERVAL seq SECOND FROM seq_1_to_1200;
INSERT INTO logins SELECT id, ip, created_at FROM events;
`,
	"sqlite": `
CREATE TABLE events (id INTEGER, ip TEXT, created_at DATETIME, PRIMARY KEY (id, created_at));
CREATE TABLE logins (id INTEGER, ip TEXT, created_at TIMESTAMP, PRIMARY KEY (id, created_at));
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1200)
INSERT INTO events SELECT i, '192.0.2.1', strftime('%Y-%m-%d %H:%M:%f', '2026-01-01', '+' || i || ' seconds') FROM n
  UNION ALL SELECT i, '198.51.100.7', strftime('%Y-%m-%d %H:%M:%f', '2026-11-19', '+' || i || ' seconds') FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1200)
INSERT INTO logins SELECT i, '192.0.2.1', strftime('%Y-%m-%dT%H:%M:%S', '2026-01-01', '+' || i || ' seconds') FROM n
  UNION ALL SELECT i, '198.51.100.7', strftime('%Y-%m-%dT%H:%M:%S', '2026-11-19', '+' || i || ' seconds') FROM n;
`,
}

// TestTimeKeys: batches keyed by times anonymise and delete the expired
// rows, all of them, and leave every row not due as it was — on MariaDB
// through a connection that reads times in another zone than UTC.
func TestTimeKeys(t *testing.T) {
	forEachKind(t, func(t *testing.T, kind string) {
		f := newFixtureSchema(t, kind, timeKeysSchema[kind], timeKeysPolicy)
		if kind == "mysql" {
			f.dsn += "&loc=Europe%2FBerlin" // the engine's connection, not f.db
		}
		const keep = "SELECT id, ip, created_at FROM %s WHERE ip = '198.51.100.7' ORDER BY id"
		before := testdb.Dump(t, f.db, strings.Replace(keep, "%s", "events", 1)) + testdb.Dump(t, f.db, strings.Replace(keep, "%s", "logins", 1))
		rep, err := f.engine.Run(context.Background(), retention.Options{Batch: 500})
		if err != nil {
			t.Fatal(err)
		}
		for _, rule := range []string{"old events", "old logins"} {
			if res := resultOf(rep, rule); res.Error != "" || res.Rows != 1200 {
				t.Errorf("%s: %+v; want 1,200 rows", rule, res)
			}
		}
		if n := f.count(t, "SELECT count(*) FROM events WHERE ip = '192.0.2.1'"); n != 0 {
			t.Errorf("%d expired events not anonymised", n)
		}
		if n := f.count(t, "SELECT count(*) FROM logins WHERE ip = '192.0.2.1'"); n != 0 {
			t.Errorf("%d expired logins not deleted", n)
		}
		after := testdb.Dump(t, f.db, strings.Replace(keep, "%s", "events", 1)) + testdb.Dump(t, f.db, strings.Replace(keep, "%s", "logins", 1))
		if after != before || strings.Count(after, "\n") != 2400 {
			t.Errorf("rows not due changed (%d lines after, want 2,400)", strings.Count(after, "\n"))
		}
	})
}

// A MariaDB TIMESTAMP is compared with a literal in the session's time
// zone (Vow's, UTC), and the driver writes a time in the DSN's loc: with
// loc=America/New_York a literal cutoff named an instant five hours off
// (so did one on a server whose sessions ran at UTC−05:00, before Vow's
// ran on UTC), and a purge deleted rows two hours short of their 30 days.
// The cutoff goes as an instant (FROM_UNIXTIME), on the rule's column, a
// child's hold period and the partitions of a table partitioned by
// UNIX_TIMESTAMP.
func TestTimestampInAnotherTimeZone(t *testing.T) {
	t.Parallel()
	const policy = `version: 1
organization: {name: Test, contacts: {privacy: privacy@test.example}}
purposes:
  service: {legal_basis: contract}
systems:
  app:
    kind: KIND
    connection: {env: APP_DSN}
    tables:
      visits:
        fields:
          id: system.operations
          ip: user.device.ip_address
          at: system.operations
      parted:
        primary_key: [id, at]
        fields:
          id: system.operations
          ip: user.device.ip_address
          at: system.operations
retention:
  rules:
    - {name: old visits, table: "app:visits", from: at, keep: 30d, brake: {share: 100%}}
    - {name: old parted, table: "app:parted", from: at, keep: 30d, brake: {share: 100%}}
`
	// The fixture's clock is 2026-11-20 12:00 UTC: the cutoff is
	// 2026-10-21 12:00 UTC. Rows are written as instants (the session of
	// the script is UTC).
	ddl := `
CREATE TABLE visits (id BIGINT PRIMARY KEY, ip VARCHAR(45), at TIMESTAMP NULL);
INSERT INTO visits VALUES (1, '192.0.2.1', '2026-10-21 10:00:00'), (2, '192.0.2.2', '2026-10-21 14:00:00'), (3, '192.0.2.3', '2026-10-21 16:30:00');
CREATE TABLE parted (id BIGINT NOT NULL, ip VARCHAR(45), at TIMESTAMP NOT NULL, PRIMARY KEY (id, at))
  PARTITION BY RANGE (UNIX_TIMESTAMP(at)) (
    PARTITION p_old VALUES LESS THAN (UNIX_TIMESTAMP('2026-10-21 08:00:00')),
    PARTITION p_edge VALUES LESS THAN (UNIX_TIMESTAMP('2026-10-21 15:00:00')),
    PARTITION p_max VALUES LESS THAN MAXVALUE);
INSERT INTO parted VALUES (1, '192.0.2.1', '2026-10-20 00:00:00'), (2, '192.0.2.2', '2026-10-21 10:00:00'), (3, '192.0.2.3', '2026-10-21 14:00:00'), (4, '192.0.2.4', '2026-11-01 00:00:00');
`
	f := newFixtureSchema(t, "mysql", ddl, policy)
	f.dsn += "&loc=America%2FNew_York" // the engine's connections, not f.db's
	rep, err := f.engine.Run(context.Background(), retention.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r := resultOf(rep, "old visits"); r.Status != retention.StatusDone || r.Rows != 1 {
		t.Errorf("old visits: %+v; want the one visit older than 30 days", r)
	}
	if got := testdb.Dump(t, f.db, "SELECT id FROM visits ORDER BY id"); got != "2\n3\n" {
		t.Errorf("visits left %q, want 2 and 3 (two and four and a half hours short of 30 days)", got)
	}
	r := resultOf(rep, "old parted")
	if r.Status != retention.StatusDone || r.Rows+r.PartitionRows != 2 {
		t.Errorf("old parted: %+v; want the two rows older than 30 days", r)
	}
	if got := testdb.Dump(t, f.db, "SELECT id FROM parted ORDER BY id"); got != "3\n4\n" {
		t.Errorf("parted rows left %q, want 3 (two hours short of 30 days, in a partition that ends after the cutoff) and 4", got)
	}
}

// A cutoff in the hour the clocks go back, on a server whose sessions run
// on Berlin time: 02:30 comes twice, and MariaDB compares a TIMESTAMP
// column without an index with FROM_UNIXTIME(cutoff) as wall times. With
// the cutoff at the first 02:45, a row of the second 02:35 — fifty minutes
// after the cutoff — went as due. Vow's sessions are on UTC.
func TestCutoffInARepeatedHour(t *testing.T) {
	t.Parallel()
	testdb.NeedTimeZone(t, "Europe/Berlin")
	const policy = `version: 1
organization: {name: Test, contacts: {privacy: privacy@test.example}}
purposes:
  service: {legal_basis: contract}
systems:
  app:
    kind: KIND
    connection: {env: APP_DSN}
    tables:
      visits:
        fields:
          id: system.operations
          at: system.operations
retention:
  rules:
    - {name: old visits, table: "app:visits", from: at, keep: 30d, brake: {share: 100%}}
`
	f := newFixtureSchema(t, "mysql", `
CREATE TABLE visits (id BIGINT PRIMARY KEY, at TIMESTAMP NOT NULL);
SET time_zone = '+00:00';
INSERT INTO visits VALUES (1, '2026-10-25 00:30:00'), (2, '2026-10-25 00:50:00'), (3, '2026-10-25 01:35:00'), (4, '2026-10-25 02:10:00');
`, policy)
	f.dsn += "&time_zone=%27Europe%2FBerlin%27" // the engine's sessions, not f.db's
	// The cutoff, 30 days before, is 00:45 UTC: the first 02:45 in Berlin.
	f.engine.Now = func() time.Time { return time.Date(2026, 11, 24, 0, 45, 0, 0, time.UTC) }
	rep, err := f.engine.Run(context.Background(), retention.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r := resultOf(rep, "old visits"); r.Status != retention.StatusDone || r.Rows != 1 {
		t.Errorf("old visits: %+v; want the one visit before the cutoff", r)
	}
	if got := testdb.Dump(t, f.db, "SELECT id FROM visits ORDER BY id"); got != "2\n3\n4\n" {
		t.Errorf("visits left %q, want 2, 3 and 4 (5, 50 and 85 minutes after the cutoff)", got)
	}
}

// Wall times written in New York (DEFAULT now() in a session on the
// server's zone, a MySQL DATETIME, SQLite text from the application's
// clock). The cutoff, 30 days before the fixture's clock, is 2026-10-21
// 12:00 UTC: 08:00 in New York. Compared as UTC wall time, the rows of
// 09:00 and 11:30 in New York — one and three and a half hours after the
// cutoff — went with the one of 07:00. With the system's time_zone the
// cutoff is New York's 08:00; on a PostgreSQL server on New York without
// one the rule stops and says which zone to declare.
func TestWallTimesInAZone(t *testing.T) {
	t.Parallel()
	const policy = `version: 1
organization: {name: Test, contacts: {privacy: privacy@test.example}}
purposes:
  service: {legal_basis: contract}
systems:
  app:
    kind: KIND
    connection: {env: APP_DSN}
    ZONE
    tables:
      visits:
        fields:
          id: system.operations
          at: system.operations
retention:
  rules:
    - {name: old visits, table: "app:visits", from: at, keep: 30d, brake: {share: 100%}}
`
	onNewYork := "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET timezone = %L', current_database(), 'America/New_York'); END $$;\n"
	rows := "INSERT INTO visits VALUES (1, '2026-10-21 07:00:00'), (2, '2026-10-21 09:00:00'), (3, '2026-10-21 11:30:00');"
	for _, tc := range []struct {
		name, kind, ddl, zone string
		want                  string // the ids left, or the rule's error
		rows                  string // instead of the New York wall times
	}{
		{"postgres", "postgres", onNewYork + "CREATE TABLE visits (id bigint PRIMARY KEY, at timestamp NOT NULL);", "time_zone: America/New_York", "2\n3\n", ""},
		{"postgres, zone not said", "postgres", onNewYork + "CREATE TABLE visits (id bigint PRIMARY KEY, at timestamp(3) NOT NULL);", "", "the database server's time zone is America/New_York", ""},
		{"mysql", "mysql", "CREATE TABLE visits (id BIGINT PRIMARY KEY, at DATETIME NOT NULL);", "time_zone: America/New_York", "2\n3\n", ""},
		{"sqlite", "sqlite", "CREATE TABLE visits (id INTEGER PRIMARY KEY, at TEXT NOT NULL);", "time_zone: America/New_York", "2\n3\n", ""},
		// Text with a zone of its own is an instant, whatever the
		// system's zone: 11:00Z is before the cutoff, 15:00Z and 20:30Z
		// after it (Tokyo's wall time of the cutoff is 21:00).
		{"sqlite, text with its zone", "sqlite", "CREATE TABLE visits (id INTEGER PRIMARY KEY, at TEXT NOT NULL);", "time_zone: Asia/Tokyo", "2\n3\n",
			"INSERT INTO visits VALUES (1, '2026-10-21T11:00:00Z'), (2, '2026-10-21T15:00:00Z'), (3, '2026-10-21T20:30:00Z');"},
		// As text an offset is digits: 09:00-04:00 (13:00 UTC) sorts
		// before a cutoff of 12:00. Refused, as times with a zone among
		// times without one are.
		{"sqlite, text with an offset", "sqlite", "CREATE TABLE visits (id INTEGER PRIMARY KEY, at TEXT NOT NULL);", "time_zone: America/New_York", "holds times with an offset",
			"INSERT INTO visits VALUES (1, '2026-10-21T07:00:00-04:00'), (2, '2026-10-21T09:00:00-04:00'), (3, '2026-10-21T11:30:00-04:00');"},
		{"sqlite, text with and without a zone", "sqlite", "CREATE TABLE visits (id INTEGER PRIMARY KEY, at TEXT NOT NULL);", "time_zone: America/New_York", "times with a zone and times without one",
			"INSERT INTO visits VALUES (1, '2026-10-21T07:00:00'), (2, '2026-10-21T09:00:00'), (3, '2026-10-21T11:30:00+00:00');"},
		// Between UTC times at both ends, one with an offset and one
		// without a zone near the cutoff: the ends alone do not show them.
		{"sqlite, an offset between", "sqlite", "CREATE TABLE visits (id INTEGER PRIMARY KEY, at TEXT NOT NULL); CREATE INDEX visits_at ON visits (at);", "", "among times written as",
			"INSERT INTO visits VALUES (1, '2026-10-01T00:00:00Z'), (2, '2026-10-21T09:00:00-04:00'), (3, '2026-11-01T00:00:00Z');"},
		{"sqlite, no zone between", "sqlite", "CREATE TABLE visits (id INTEGER PRIMARY KEY, at TEXT NOT NULL);", "", "among times written as",
			"INSERT INTO visits VALUES (1, '2026-10-01T00:00:00Z'), (2, '2026-10-21T11:00:00'), (3, '2026-11-01T00:00:00Z');"},
		// Ruby's UTC times ("… UTC") among Tokyo's wall times: 13:00 UTC is
		// 22:00 in Tokyo, after the cutoff (21:00), but sorts before it.
		{"sqlite, a zone's name between", "sqlite", "CREATE TABLE visits (id INTEGER PRIMARY KEY, at TEXT NOT NULL);", "time_zone: Asia/Tokyo", "among times written as",
			"INSERT INTO visits VALUES (1, '2026-10-20 09:00:00'), (2, '2026-10-21 13:00:00 UTC'), (3, '2026-10-22 09:00:00');"},
		// A domain over a timestamp is a wall time too.
		{"postgres, a domain", "postgres", onNewYork + "CREATE DOMAIN wall_ts AS timestamp; CREATE TABLE visits (id bigint PRIMARY KEY, at wall_ts NOT NULL);", "time_zone: America/New_York", "2\n3\n", ""},
		{"postgres, a domain, zone not said", "postgres", onNewYork + "CREATE DOMAIN wall_ts AS timestamp(3); CREATE TABLE visits (id bigint PRIMARY KEY, at wall_ts NOT NULL);", "", "the database server's time zone is America/New_York", ""},
		{"postgres, a domain over a domain", "postgres", onNewYork + "CREATE DOMAIN wall_ts AS timestamp; CREATE DOMAIN visit_ts AS wall_ts; CREATE TABLE visits (id bigint PRIMARY KEY, at visit_ts NOT NULL);", "time_zone: America/New_York", "2\n3\n", ""},
		// A domain named like a timestamp over an instant is an instant.
		{"postgres, a domain over timestamptz", "postgres", onNewYork + "CREATE DOMAIN timestamp_utc AS timestamptz; CREATE DOMAIN visit_ts AS timestamp_utc; CREATE TABLE visits (id bigint PRIMARY KEY, at visit_ts NOT NULL);", "", "2\n3\n",
			"INSERT INTO visits VALUES (1, '2026-10-21 11:00:00+00'), (2, '2026-10-21 13:00:00+00'), (3, '2026-10-21 15:30:00+00');"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixtureSchema(t, tc.kind, tc.ddl+"\n"+cmp.Or(tc.rows, rows), strings.Replace(policy, "ZONE", tc.zone, 1))
			before := testdb.Dump(t, f.db, "SELECT id, at FROM visits WHERE id > 1 ORDER BY id")
			rep, err := f.engine.Run(context.Background(), retention.Options{})
			if err != nil {
				t.Fatal(err)
			}
			r := resultOf(rep, "old visits")
			if !strings.Contains(tc.want, "\n") {
				if r.Status != retention.StatusFailed || !strings.Contains(r.Error, tc.want) || tc.kind == "postgres" && !strings.Contains(r.Error, "time_zone") {
					t.Errorf("old visits: %+v; want it stopped: %s", r, tc.want)
				}
				if got := testdb.Dump(t, f.db, "SELECT id FROM visits ORDER BY id"); got != "1\n2\n3\n" {
					t.Errorf("visits left %q, want all three", got)
				}
				return
			}
			if r.Status != retention.StatusDone || r.Rows != 1 {
				t.Errorf("old visits: %+v; want the one visit before 08:00 in New York", r)
			}
			if after := testdb.Dump(t, f.db, "SELECT id, at FROM visits ORDER BY id"); after != before {
				t.Errorf("visits left:\n%s\nwant 2 and 3 as they were:\n%s", after, before)
			}
		})
	}
}

// A condition that reads the clock: NOW() compared with a DATETIME the
// application writes in Los Angeles. On Vow's sessions (UTC) NOW() is
// eight hours later as a wall time, and a session idle for 20 hours went
// as idle for more than a day. Where the system's times are not in the
// sessions' zone the rule stops and says so; where they are (UTC), the
// condition runs.
func TestConditionOnTheClock(t *testing.T) {
	t.Parallel()
	const policy = `version: 1
organization: {name: Test, contacts: {privacy: privacy@test.example}}
purposes:
  service: {legal_basis: contract}
systems:
  app:
    kind: KIND
    connection: {env: APP_DSN}
    ZONE
    tables:
      sessions:
        fields:
          id: system.operations
          created_at: system.operations
          last_seen: system.operations
retention:
  rules:
    - {name: idle sessions, table: "app:sessions", where: "WHERE", from: created_at, keep: 0d, brake: {share: 100%}}
`
	for _, tc := range []struct{ zone, offset, where, refused string }{
		{"time_zone: America/Los_Angeles", "-08:00", "last_seen < NOW() - INTERVAL 1 DAY", "reads the clock (now)"},
		{"time_zone: America/Los_Angeles", "-08:00", "last_seen < UTC_TIMESTAMP() - INTERVAL 1 DAY", "reads the clock (utc_timestamp)"},
		{"time_zone: America/Los_Angeles", "-08:00", "last_seen < TIMESTAMP('now') - INTERVAL 1 DAY", "reads the clock ('now')"},
		{"", "+00:00", "last_seen < NOW() - INTERVAL 1 DAY", ""},
	} {
		t.Run(tc.offset+" "+tc.where, func(t *testing.T) {
			t.Parallel()
			f := newFixtureSchema(t, "mysql", `
CREATE TABLE sessions (id BIGINT PRIMARY KEY, created_at DATETIME NOT NULL, last_seen DATETIME NOT NULL);
SET time_zone = '`+tc.offset+`';
INSERT INTO sessions VALUES (1, NOW() - INTERVAL 3 DAY, NOW() - INTERVAL 20 HOUR), (2, NOW() - INTERVAL 3 DAY, NOW() - INTERVAL 30 HOUR);
`, strings.NewReplacer("ZONE", tc.zone, "WHERE", tc.where).Replace(policy))
			f.engine.Now = func() time.Time { return time.Now().UTC() }
			rep, err := f.engine.Run(context.Background(), retention.Options{})
			if err != nil {
				t.Fatal(err)
			}
			r := resultOf(rep, "idle sessions")
			if tc.zone != "" {
				if r.Status != retention.StatusFailed || !strings.Contains(r.Error, tc.refused) || !strings.Contains(r.Error, "America/Los_Angeles") {
					t.Errorf("idle sessions: %+v; want it stopped", r)
				}
				if got := testdb.Dump(t, f.db, "SELECT id FROM sessions ORDER BY id"); got != "1\n2\n" {
					t.Errorf("sessions left %q, want both", got)
				}
				return
			}
			if r.Status != retention.StatusDone || r.Rows != 1 {
				t.Errorf("idle sessions: %+v; want session 2, idle for 30 hours", r)
			}
			if got := testdb.Dump(t, f.db, "SELECT id FROM sessions ORDER BY id"); got != "1\n" {
				t.Errorf("sessions left %q, want 1", got)
			}
		})
	}
}

// zonedMySQLHead opens a policy of one MySQL system; its time_zone and
// tables follow.
const zonedMySQLHead = `version: 1
organization: {name: Test, contacts: {privacy: privacy@test.example}}
purposes:
  service: {legal_basis: contract}
systems:
  app:
    kind: mysql
    connection: {env: APP_DSN}
`

// Vow's MySQL sessions are on UTC, where the server stamps a DATETIME ON
// UPDATE CURRENT_TIMESTAMP with UTC's wall time: in an application on
// Berlin time the rows a rule anonymised (in key ranges, and key by key
// for keyed pseudonyms) or detached from a purged parent said they
// changed an hour before they did. Vow sets such columns itself, in the
// system's zone; where that zone is not known the rule stops.
func TestStampedColumns(t *testing.T) {
	t.Parallel()
	const src = zonedMySQLHead + `    time_zone: ZONE
    tables:
      users:
        fields:
          id: {category: user.unique_id, identity: user_id}
          closed_at: system.operations
      sessions:
        fields:
          id: system.operations
          user_id: {category: user.unique_id, references: users.id, erase: nullify}
          actor: {category: user.unique_id, erase: hmac}
          last_seen: system.operations
          updated_at: system.operations
      visits:
        fields:
          id: system.operations
          ip: {category: user.device.ip_address, erase: nullify}
          at: system.operations
          updated_at: system.operations
retention:
  rules:
    - {name: closed accounts, table: "app:users", where: closed_at IS NOT NULL, from: closed_at, keep: 30d, brake: {share: 100%}}
    - {name: old sessions, table: "app:sessions", from: last_seen, keep: 30d, then: anonymise, brake: {share: 100%}}
    - {name: old visits, table: "app:visits", from: at, keep: 30d, then: anonymise, brake: {share: 100%}}
`
	const ddl = `
CREATE TABLE users (id BIGINT PRIMARY KEY, closed_at TIMESTAMP NULL);
CREATE TABLE sessions (id BIGINT PRIMARY KEY, user_id BIGINT, actor VARCHAR(100), last_seen TIMESTAMP NOT NULL,
  updated_at DATETIME NOT NULL DEFAULT '2026-01-01 00:00:00' ON UPDATE CURRENT_TIMESTAMP);
CREATE TABLE visits (id BIGINT PRIMARY KEY, ip VARCHAR(45), at TIMESTAMP NOT NULL,
  updated_at DATETIME(6) NOT NULL DEFAULT '2026-01-01 00:00:00' ON UPDATE CURRENT_TIMESTAMP(6));
SET time_zone = '+00:00';
INSERT INTO users VALUES (1, '2026-09-01 00:00:00'), (2, '2026-11-19 00:00:00'), (3, NULL);
INSERT INTO sessions (id, user_id, actor, last_seen) VALUES (1, 1, 'a1', '2026-11-20 00:00:00'), (2, 2, 'a2', '2026-09-01 00:00:00'), (3, 3, 'a3', '2026-11-20 00:00:00');
INSERT INTO visits (id, ip, at) VALUES (1, '192.0.2.1', '2026-09-01 00:00:00'), (2, '192.0.2.2', '2026-11-20 00:00:00');
`
	for _, tc := range []struct {
		name, zone, params, wantErr string
	}{
		{"Berlin", "Europe/Berlin", "", ""},
		{"UTC", "UTC", "", ""},
		{"zones disagree", "Europe/Berlin", "&loc=America%2FNew_York", "updated_at"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixtureSchema(t, "mysql", ddl, strings.Replace(src, "ZONE", tc.zone, 1))
			f.dsn += tc.params
			loc, err := time.LoadLocation(tc.zone)
			if err != nil {
				t.Fatal(err)
			}
			const stamps = "SELECT 's', id, user_id, actor, DATE_FORMAT(updated_at, '%Y-%m-%d %H:%i:%s') FROM sessions UNION ALL SELECT 'v', id, ip, '', DATE_FORMAT(updated_at, '%Y-%m-%d %H:%i:%s') FROM visits ORDER BY 1, 2"
			before := strings.Split(strings.TrimSpace(testdb.Dump(t, f.db, stamps)), "\n")
			rep, err := f.engine.Run(context.Background(), retention.Options{})
			if err != nil {
				t.Fatal(err)
			}
			after := strings.Split(strings.TrimSpace(testdb.Dump(t, f.db, stamps)), "\n")
			if tc.wantErr != "" {
				for _, rule := range []string{"closed accounts", "old sessions"} {
					if r := resultOf(rep, rule); r.Status != retention.StatusFailed || !strings.Contains(r.Error, tc.wantErr) {
						t.Errorf("%s: %+v; want it stopped, naming %s", rule, r, tc.wantErr)
					}
				}
				if !slices.Equal(after, before) {
					t.Errorf("rows changed:\nbefore %q\nafter  %q", before, after)
				}
				return
			}
			for _, rule := range []string{"closed accounts", "old sessions", "old visits"} {
				if r := resultOf(rep, rule); r.Status != retention.StatusDone || r.Rows != 1 {
					t.Errorf("%s: %+v; want one row", rule, r)
				}
			}
			now := time.Now()
			// Session 1 detached from its closed account, session 2 and
			// visit 1 anonymised.
			changed := map[string]bool{"s|1": true, "s|2": true, "v|1": true}
			for i, row := range after {
				cols := strings.Split(row, "|")
				if !changed[cols[0]+"|"+cols[1]] {
					if row != before[i] {
						t.Errorf("%q, was %q; want it as it was", row, before[i])
					}
					continue
				}
				at, err := time.ParseInLocation(time.DateTime, cols[4], loc)
				if err != nil {
					t.Fatal(err)
				}
				if d := now.Sub(at); d < -time.Minute || d > time.Minute {
					t.Errorf("%q: updated_at %s; want %s's wall time now, %s", row, cols[4], tc.zone, now.In(loc).Format(time.DateTime))
				}
			}
		})
	}
}

// A child whose reference is pseudonymised, and already holds the
// pseudonym (an earlier erasure pseudonymised the parent's key and its
// references and kept the parent), does not change when the parent is
// purged: the server would not stamp it, and neither does Vow.
func TestStampedChildAlreadyPseudonymised(t *testing.T) {
	t.Parallel()
	const src = zonedMySQLHead + `    time_zone: Asia/Tokyo
    tables:
      users:
        fields:
          id: {category: user.unique_id, identity: user_id}
          email: {category: user.contact.email, identity: email}
          closed_at: system.operations
      logins:
        fields:
          id: system.operations
          email: {category: user.contact.email, references: users.email, erase: hmac}
          updated_at: system.operations
retention:
  rules:
    - {name: closed accounts, table: "app:users", where: closed_at IS NOT NULL, from: closed_at, keep: 30d, brake: {share: 100%}}
`
	const ddl = `
CREATE TABLE users (id BIGINT PRIMARY KEY, email VARCHAR(100) NOT NULL UNIQUE, closed_at TIMESTAMP NULL);
CREATE TABLE logins (id BIGINT PRIMARY KEY, email VARCHAR(100),
  updated_at DATETIME NOT NULL DEFAULT '2026-01-01 00:00:00' ON UPDATE CURRENT_TIMESTAMP);
SET time_zone = '+00:00';
INSERT INTO users VALUES (1, 'hmac:0123456789abcdef', '2026-09-01 00:00:00'), (2, 'bob@example.com', '2026-09-01 00:00:00');
INSERT INTO logins (id, email) VALUES (1, 'hmac:0123456789abcdef'), (2, 'bob@example.com');
`
	f := newFixtureSchema(t, "mysql", ddl, src)
	if _, err := f.engine.Run(context.Background(), retention.Options{}); err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSpace(testdb.Dump(t, f.db, "SELECT id, email LIKE 'hmac:%', updated_at = '2026-01-01 00:00:00' FROM logins ORDER BY id")), "\n")
	if want := []string{"1|1|1", "2|1|0"}; !slices.Equal(got, want) {
		t.Errorf("logins %q, want %q: login 1 kept its pseudonym and its updated_at, login 2 pseudonymised and stamped", got, want)
	}
}
