package connector

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrZoneUnknown reports times without a zone (PostgreSQL timestamp
// without time zone, MySQL DATETIME) on a server whose own time zone is
// not UTC, with no zone declared for them: the application may write
// them in the server's zone (DEFAULT now(), CURRENT_TIMESTAMP) or in UTC,
// and a cutoff read in the wrong one takes rows hours before their time.
var ErrZoneUnknown = errors.New("the time zone of times without one is not known")

// Wall reports whether a column of the given database type (with, on
// SQLite, its sample from [SampleTime]) holds wall times — times without
// a zone, instants only in a zone: PostgreSQL timestamp without time
// zone and date, MySQL DATETIME and DATE, SQLite text (and an empty
// column, which a mark fills with text). TIMESTAMP, timestamptz and
// SQLite's numbers are instants.
func Wall(kind, typ string, sample [2]string) bool {
	typ = strings.ToLower(typ)
	switch kind {
	case "postgres":
		// The schema's names ("timestamp(3) without time zone",
		// "timestamp with time zone[]") and the driver's ("timestamptz",
		// "_timestamp" for an array).
		typ = strings.TrimSuffix(strings.TrimPrefix(typ, "_"), "[]")
		return typ == "date" || strings.HasPrefix(typ, "timestamp") && !strings.HasPrefix(typ, "timestamptz") && !strings.Contains(typ, "with time zone")
	case "mysql":
		return typ == "date" || strings.HasPrefix(typ, "datetime")
	case "sqlite":
		// Text without a zone of its own, or nothing yet (a mark written
		// into an empty column is text). Text that ends in Z or an offset
		// ("…T12:00:00Z", Go's "… +0000 UTC") is compared as UTC.
		return sample[0] != "integer" && sample[0] != "real" && !zonedText(sample[1])
	}
	return false
}

// zonedText reports whether a SQLite time as text carries a zone after
// its time of day: Z, an offset, or a zone's name (Go's "+0000 UTC").
func zonedText(s string) bool {
	if len(s) <= 11 {
		return false
	}
	// After the day and its separator a time without a zone has digits,
	// ':' and '.' only: an offset, Z or a zone's name ("05:00:00 UTC",
	// Ruby's) is a zone.
	return strings.IndexFunc(s[11:], func(r rune) bool {
		return r == '+' || r == '-' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z'
	}) >= 0
}

// Located is a connector whose DSN can name the zone of its wall times
// (MySQL's loc).
type Located interface {
	// Loc returns the DSN's zone, and whether the DSN names one.
	Loc() (*time.Location, bool)
}

// ZoneOf returns the zone c's wall times are in: declared (the policy's
// time_zone, an IANA name), else the zone a MySQL DSN's loc names, else
// UTC where the server's own time zone is UTC — and always on SQLite,
// whose date functions write UTC. Elsewhere it fails with
// [ErrZoneUnknown], naming the server's zone. A declared zone and a DSN's
// loc that differ fail too.
func ZoneOf(ctx context.Context, c SQL, declared string) (*time.Location, error) {
	var loc *time.Location
	locSet := false
	if l, ok := c.(Located); ok {
		loc, locSet = l.Loc()
	}
	if declared != "" {
		zone, err := time.LoadLocation(declared)
		if err != nil {
			return nil, fmt.Errorf("time_zone %q: %w", declared, err)
		}
		if locSet && loc.String() != zone.String() {
			return nil, fmt.Errorf("the DSN's loc=%s and the policy's time_zone %s disagree about the zone of times without one: keep one", loc, zone)
		}
		return zone, nil
	}
	if locSet {
		return loc, nil
	}
	z, err := serverZone(ctx, c)
	if err != nil {
		return nil, err
	}
	switch {
	case z.roles != "":
		return nil, fmt.Errorf("%w: the database server's time zone is %s, but roles set their own for their sessions (%s; ALTER ROLE … SET timezone), and the application may write times without a zone in either; say which with time_zone on the system in the policy",
			ErrZoneUnknown, z.name, z.roles)
	case z.own != "":
		return nil, fmt.Errorf("%w: Vow's connection sets its own time zone (%s, from %s), which says nothing of the zone the application writes times without one in; say which with time_zone on the system in the policy",
			ErrZoneUnknown, z.name, z.own)
	case z.abbrev && z.name == "UTC", !z.abbrev && isUTC(z.name):
		return time.UTC, nil
	case z.abbrev:
		// An abbreviation the server took from its host when it started
		// (GMT in London's winter, BST in its summer): not a zone.
		return nil, fmt.Errorf("%w: the database server runs on its host's time zone (%s when it started), and the application may write times without a zone in it (CURRENT_TIMESTAMP) or in UTC; say which with time_zone on the system in the policy (the zone's IANA name, such as Europe/London, or UTC)",
			ErrZoneUnknown, z.name)
	}
	suggest := "its IANA name"
	if _, err := time.LoadLocation(z.name); err == nil && z.name != "Local" {
		suggest = z.name
	}
	return nil, fmt.Errorf("%w: the database server's time zone is %s, and the application may write times without a zone in it (DEFAULT now(), CURRENT_TIMESTAMP) or in UTC; say which on the system in the policy: time_zone: %s if the database fills them in or the application writes local time, time_zone: UTC if it writes UTC",
		ErrZoneUnknown, z.name, suggest)
}

// ServerOnUTC reports whether the database server gives the
// application's sessions UTC, and names the zone it gives them:
// PostgreSQL's TimeZone, MySQL's global time_zone (or the abbreviation of
// its host's zone, for SYSTEM); SQLite's date functions use UTC.
func ServerOnUTC(ctx context.Context, c SQL) (bool, string, error) {
	z, err := serverZone(ctx, c)
	if err != nil {
		return false, "", err
	}
	if z.abbrev {
		return z.name == "UTC", z.name, nil
	}
	return isUTC(z.name), z.name, nil
}

// zoneSetting is a server's time zone as serverZone reads it.
type zoneSetting struct {
	name string
	// abbrev: MySQL's SYSTEM zone, known only by the abbreviation its
	// host's zone had when the server started.
	abbrev bool
	// own names where Vow's PostgreSQL session took a TimeZone of its
	// own (its role's settings; its DSN's, when DefaultTimeZone could not
	// leave it out): not the application's.
	own string
	// roles lists the PostgreSQL roles whose sessions get another zone
	// ("app America/New_York"): the application's may be one of them.
	roles string
}

func serverZone(ctx context.Context, c SQL) (zoneSetting, error) {
	var z zoneSetting
	var err error
	switch c.Dialect().Kind() {
	case "postgres":
		// The zone of a session that sets none, not Vow's own (its DSN's
		// timezone, PGTZ): connector/postgres reads it.
		d, ok := c.(interface {
			DefaultTimeZone(context.Context) (string, string, error)
		})
		if !ok {
			return z, fmt.Errorf("connector: %T cannot read PostgreSQL's default time zone", c)
		}
		var source string
		if z.name, source, err = d.DefaultTimeZone(ctx); err != nil {
			return z, err
		}
		switch source {
		case "client", "session":
			z.own = "the DSN's timezone or PGTZ"
		case "user", "database user":
			// Vow's role's: the application's only if it shares the role.
			z.own = "its role's settings (ALTER ROLE … SET timezone)"
		}
		if z.own == "" {
			z.roles, err = roleZones(ctx, c, z.name)
		}
		return z, err // both translate their own errors
	case "mysql":
		err = c.DB().QueryRowContext(ctx, "SELECT CASE WHEN @@global.time_zone = 'SYSTEM' THEN @@system_time_zone ELSE @@global.time_zone END, @@global.time_zone = 'SYSTEM'").Scan(&z.name, &z.abbrev)
	default:
		z.name = "UTC"
	}
	if err != nil {
		return z, c.Translate(ctx, "read the server's time zone", err)
	}
	return z, nil
}

// roleZones lists the PostgreSQL roles whose sessions in this database
// get another TimeZone than the server's (ALTER ROLE … SET timezone):
// the application's may be one of them.
func roleZones(ctx context.Context, c SQL, server string) (string, error) {
	rows, err := c.DB().QueryContext(ctx, `SELECT r.rolname, substr(c, 10)
FROM pg_catalog.pg_db_role_setting s
JOIN pg_catalog.pg_roles r ON r.oid = s.setrole
CROSS JOIN LATERAL unnest(s.setconfig) AS c
WHERE lower(c) LIKE 'timezone=%' AND r.rolcanlogin
  AND s.setdatabase IN (0, (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database()))
ORDER BY 1`)
	if err != nil {
		return "", c.Translate(ctx, "read the roles' time zones", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var role, zone string
		if err := rows.Scan(&role, &zone); err != nil {
			return "", c.Translate(ctx, "read the roles' time zones", err)
		}
		if zone = strings.Trim(zone, "'\""); !sameRules(zone, server) {
			out = append(out, role+" "+zone)
		}
	}
	if err := rows.Err(); err != nil {
		return "", c.Translate(ctx, "read the roles' time zones", err)
	}
	return strings.Join(out, ", "), nil
}

// sameRules reports whether two zone names give the same offsets (UTC
// and Etc/UTC, US/Eastern and America/New_York): compared at the start
// and the middle of each month of this year and the next.
func sameRules(a, b string) bool {
	if strings.EqualFold(a, b) || isUTC(a) && isUTC(b) {
		return true
	}
	la, errA := time.LoadLocation(a)
	lb, errB := time.LoadLocation(b)
	if errA != nil || errB != nil {
		return false
	}
	year := time.Now().Year()
	for m := range 24 {
		for _, day := range []int{1, 15} {
			t := time.Date(year, time.Month(m+1), day, 12, 0, 0, 0, time.UTC)
			_, oa := t.In(la).Zone()
			_, ob := t.In(lb).Zone()
			if oa != ob {
				return false
			}
		}
	}
	return true
}

// isUTC reports whether a server's time zone name is UTC under one of its
// names.
func isUTC(name string) bool {
	switch strings.TrimPrefix(strings.ToLower(strings.TrimSpace(name)), "etc/") {
	case "utc", "uct", "gmt", "gmt0", "gmt+0", "gmt-0", "greenwich", "universal", "zulu", "z", "+00:00", "+00", "-00:00", "00:00":
		return true
	}
	return false
}

// wall is t as a wall time in zone, for a comparison with wall times that
// take rows before it. In the hour the clocks go back the wall times
// repeat: from a cutoff in the first pass, rows written in the second —
// up to an hour after the cutoff — would look older than it. Such a
// cutoff moves back to where the repeated wall times begin.
func wall(t time.Time, zone *time.Location) time.Time {
	t = t.In(zone)
	_, end := t.ZoneBounds()
	if end.IsZero() {
		return t
	}
	_, before := t.Zone()
	_, after := end.Zone()
	if drop := time.Duration(before-after) * time.Second; drop > 0 && end.Sub(t) < drop {
		return end
	}
	return t
}

// SessionZone names the time zone of c's sessions, in which the
// database's clock functions (NOW(), CURRENT_DATE) give wall times: on
// MySQL Vow's own, UTC; on PostgreSQL the server's TimeZone (or the
// DSN's); on SQLite UTC, which its date functions use.
func SessionZone(ctx context.Context, c SQL) (string, error) {
	if c.Dialect().Kind() != "postgres" {
		return "UTC", nil
	}
	var name string
	if err := c.DB().QueryRowContext(ctx, "SELECT current_setting('TimeZone')").Scan(&name); err != nil {
		return "", c.Translate(ctx, "read the session's time zone", err)
	}
	return name, nil
}

// SameZone reports whether zone is the zone a server names name.
func SameZone(zone *time.Location, name string) bool {
	return zone.String() == name || isUTC(zone.String()) && isUTC(name)
}
