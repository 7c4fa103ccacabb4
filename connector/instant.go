package connector

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Instant is an instant (a cutoff, the start of a hold) as a statement
// compares it with a timestamp column: the placeholder to write where the
// value goes, and the argument it binds. The two come together so that
// no statement pairs the argument of one column type with the placeholder
// of another.
type Instant struct {
	// Param is the placeholder: "?", or on MySQL/MariaDB for a TIMESTAMP
	// "FROM_UNIXTIME(?)", the instant in the session's own time zone.
	Param string
	// Arg is the value Param binds.
	Arg any
}

// InstantOf writes t for a timestamp column of the given database type.
// A wall time (a column [Wall] reports: PostgreSQL timestamp without time
// zone, MySQL DATETIME, SQLite text) is written as text in zone, the zone
// the column's times are in ([ZoneOf]; nil is UTC), and a date as the
// day; a MariaDB TIMESTAMP gets Unix seconds behind FROM_UNIXTIME; SQLite
// numbers take the form the column's values are stored in (Unix seconds
// or milliseconds, Julian days), read from sample ([SampleTime]).
func InstantOf(kind, typ string, sample [2]string, zone *time.Location, t time.Time) Instant {
	return Instant{Param: timeParam(kind, typ), Arg: timeArg(kind, typ, sample, zone, t, true)}
}

// ValueOf writes t as InstantOf does, for a value written into the column
// (a grace period's mark) rather than compared with it: a wall time is
// t's own in zone, even in the hour the clocks go back, where InstantOf
// moves a cutoff back.
func ValueOf(kind, typ string, sample [2]string, zone *time.Location, t time.Time) Instant {
	return Instant{Param: timeParam(kind, typ), Arg: timeArg(kind, typ, sample, zone, t, false)}
}

func timeArg(kind, typ string, sample [2]string, zone *time.Location, t time.Time, cutoff bool) any {
	if zone == nil {
		zone = time.UTC
	}
	typ = strings.ToLower(typ)
	if Wall(kind, typ, sample) {
		w := t.In(zone)
		if cutoff {
			w = wall(t, zone)
		}
		switch {
		case typ == "date":
			return w.Format(time.DateOnly)
		case kind == "sqlite":
			return sqliteText(w, sample)
		}
		return w.Format("2006-01-02 15:04:05.999999")
	}
	t = t.UTC()
	switch kind {
	case "postgres":
		return t
	case "mysql":
		if strings.HasPrefix(typ, "timestamp") {
			// An instant, as Unix seconds that timeParam's FROM_UNIXTIME
			// reads: MariaDB compares a TIMESTAMP with a literal in the
			// session's time zone (Vow's sessions are on UTC, but an
			// instant needs none). Before 1970, which no TIMESTAMP holds,
			// it is the epoch: FROM_UNIXTIME of a negative number is NULL,
			// and "still held since" would be false for every row.
			if t.Unix() < 0 {
				return "0"
			}
			return fmt.Sprintf("%d.%06d", t.Unix(), t.Nanosecond()/1000)
		}
		return t
	}
	switch sample[0] {
	case "integer":
		// The bound is SampleTime's (timeForm): milliseconds from 1e11.
		if n, err := strconv.ParseInt(sample[1], 10, 64); err == nil && (n >= 100_000_000_000 || n <= -100_000_000_000) {
			return t.UnixMilli()
		}
		return t.Unix()
	case "real":
		// Seconds and nanoseconds apart: UnixNano overflows outside
		// 1678–2262, and a keep of 400 years made every row expired.
		return float64(t.Unix())/86400 + float64(t.Nanosecond())/float64(24*time.Hour) + 2440587.5
	}
	// Text with a zone of its own (UTC: SampleTime refuses others),
	// compared as UTC; a value written takes the column's suffix, or it
	// would be text without a zone among times with one.
	if !cutoff {
		return sqliteText(t, sample) + utcSuffix(sample[1])
	}
	return sqliteText(t, sample)
}

// sqliteText writes t as SQLite text times compare with it: they compare
// as text, so the cutoff stops at the seconds (a value in the same second
// with a fraction or zone sorts after it), and ISO 8601 with a T, or with
// a space (the form Go drivers write), as the column's values are.
func sqliteText(t time.Time, sample [2]string) string {
	if len(sample[1]) > 10 && sample[1][10] == 'T' {
		return t.Format("2006-01-02T15:04:05")
	}
	return t.Format("2006-01-02 15:04:05")
}

func timeParam(kind, typ string) string {
	if kind == "mysql" && strings.HasPrefix(strings.ToLower(typ), "timestamp") {
		return "FROM_UNIXTIME(?)"
	}
	return "?"
}

// ErrMixedTimes reports a SQLite column whose times are stored in more
// than one form (numbers and text, say, or Unix seconds and Julian days):
// SQLite orders every number before every text, and a number by its
// value, so no cutoff written in one form selects the expired rows of the
// other.
var ErrMixedTimes = errors.New("times stored in more than one form")

// SampleTime returns the form of SQLite's times in table.column, which
// [InstantOf] needs to write an instant the way the column stores them:
// "text" and the newest value; for numbers "integer" and the newest as an
// integer (Unix seconds, or milliseconds past 1e11), or "real" and the
// newest (Julian days). Numbers are told apart by their size, not their
// storage class: a column declared TIMESTAMP stores a Julian day at noon,
// a whole number, as an integer, and Unix seconds from a float as reals.
// It is empty elsewhere, or when the column has no value. It fails with
// [ErrMixedTimes] when the column's lowest and highest values are not of
// one form: a cutoff would then take rows by form, not by date.
func SampleTime(ctx context.Context, c SQL, table, column string) ([2]string, error) {
	d := c.Dialect()
	if d.Kind() != "sqlite" {
		return [2]string{}, nil
	}
	// The lowest and the highest value are of the lowest and the highest
	// storage class in the column (SQLite orders numbers, then text, then
	// blobs). Each in its own subquery: SQLite answers a lone min() or
	// max() with one index lookup, both in one SELECT with a scan.
	col, t := d.Column(column), d.Ident(table)
	var loClass, lo, hiClass, hi sql.NullString
	err := c.DB().QueryRowContext(ctx, "SELECT typeof(lo), CAST(lo AS TEXT), typeof(hi), CAST(hi AS TEXT) FROM "+
		"(SELECT min("+col+") AS lo FROM "+t+"), (SELECT max("+col+") AS hi FROM "+t+")").Scan(&loClass, &lo, &hiClass, &hi)
	if err != nil {
		return [2]string{}, c.Translate(ctx, "read the form of "+table+"."+column, err)
	}
	if loClass.String == "null" || hiClass.String == "null" {
		return [2]string{}, nil
	}
	loForm, hiForm := timeForm(loClass.String, lo.String), timeForm(hiClass.String, hi.String)
	mixed := func(a, b string) error {
		return fmt.Errorf("%s.%s holds %s and %s: %w; SQLite compares them by form, not by date, so no cutoff selects the right rows. Rewrite them in one form first (Unix seconds as text, say: UPDATE %s SET %s = datetime(%s, 'unixepoch') WHERE typeof(%s) = 'integer')",
			table, column, a, b, ErrMixedTimes, t, col, col, col)
	}
	if loForm != hiForm {
		return [2]string{}, mixed(loForm, hiForm)
	}
	// Numbers are ordered by value: a form whose range lies between the
	// lowest and the highest value can hide between them (Julian days
	// between a default 0 and today's Unix seconds). One index probe.
	lv, _ := strconv.ParseFloat(lo.String, 64)
	hv, _ := strconv.ParseFloat(hi.String, 64)
	var hidden, between string
	switch {
	case loForm == "Unix seconds" && lv < 1e6 && hv >= 1e6: // the highest, seconds too, is then past 1e7
		hidden, between = "Julian days", col+" >= 1e6 AND "+col+" < 1e7"
	case loForm == "Unix milliseconds" && lv < 0 && hv > 0:
		hidden, between = "Unix seconds or Julian days", col+" > -1e11 AND "+col+" < 1e11"
	}
	if hidden != "" {
		var n int
		if err := c.DB().QueryRowContext(ctx, "SELECT count(*) FROM (SELECT 1 FROM "+t+" WHERE "+between+" LIMIT 1)").Scan(&n); err != nil {
			return [2]string{}, c.Translate(ctx, "read the form of "+table+"."+column, err)
		}
		if n > 0 {
			return [2]string{}, mixed(loForm, hidden)
		}
	}
	// Text compares character by character: only ISO 8601 dates (alone,
	// or with a space or a T after the day, the same in the lowest and the
	// highest value) compare as times. Unix seconds a TEXT column turned into
	// text sort before every date.
	if loForm == "text values" {
		if !isoDate(lo.String) || !isoDate(hi.String) {
			return [2]string{}, fmt.Errorf("%s.%s holds text that is not an ISO 8601 date (%q … %q): %w; compared as text with a date it selects rows by characters, not by time. Rewrite them as dates first (Unix seconds, say: UPDATE %s SET %s = datetime(%s, 'unixepoch'))",
				table, column, lo.String, hi.String, ErrMixedTimes, t, col, col)
		}
		// A date alone sorts as its midnight with either separator.
		if a, b := sep(lo.String), sep(hi.String); a != b && a != "dates alone" && b != "dates alone" {
			return [2]string{}, mixed(a, b)
		}
		// Times that carry a zone are compared as UTC text, those that do
		// not as wall times in the system's zone: not both at once. And
		// as text an offset is digits: 09:00-04:00 sorts before 12:00Z.
		switch lz, hz := zonedText(lo.String), zonedText(hi.String); {
		case lz != hz:
			return [2]string{}, fmt.Errorf("%s.%s holds times with a zone and times without one (%q … %q): %w; the first compare as UTC, the others as wall times in the system's zone, so no cutoff selects both right. Rewrite them in one form first (in UTC, with a Z)",
				table, column, lo.String, hi.String, ErrMixedTimes)
		case lz && (utcSuffix(lo.String) == "" || utcSuffix(hi.String) == ""):
			return [2]string{}, fmt.Errorf("%s.%s holds times with an offset (%q … %q): %w; as text an offset is compared as digits, not as the instant it names. Rewrite them in UTC first (UPDATE %s SET %s = strftime('%%Y-%%m-%%dT%%H:%%M:%%fZ', %s) WHERE strftime('%%Y-%%m-%%dT%%H:%%M:%%fZ', %s) IS NOT NULL; forms SQLite cannot read, such as Go's \"-0400 EDT\", by hand)",
				table, column, lo.String, hi.String, ErrMixedTimes, t, col, col, col)
		}
	}
	switch hiForm {
	case "Julian days":
		return [2]string{"real", hi.String}, nil
	case "Unix seconds", "Unix milliseconds":
		f, _ := strconv.ParseFloat(hi.String, 64)
		return [2]string{"integer", strconv.FormatInt(int64(f), 10)}, nil
	}
	return [2]string{hiClass.String, hi.String}, nil
}

// utcSuffix returns how a SQLite time as text says it is UTC — "Z",
// "+00:00", Go's " +0000 UTC" — or "" when it does not.
func utcSuffix(s string) string {
	// Go's time.String() of time.Now() ends with its monotonic clock
	// reading ("… +0000 UTC m=+0.001"), which a driver may have written.
	if i := strings.Index(s, " m="); i > 0 {
		s = s[:i]
	}
	for _, suffix := range []string{"Z", "z", "+00:00", "-00:00", "+0000", " +0000 UTC"} {
		if strings.HasSuffix(s, suffix) {
			return suffix
		}
	}
	return ""
}

// isoDate reports whether s starts with a date as YYYY-MM-DD.
func isoDate(s string) bool {
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return false
	}
	for i, c := range []byte(s[:10]) {
		if i != 4 && i != 7 && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// sep names what follows an ISO date's day, which decides how the date
// sorts among others of the same day.
func sep(s string) string {
	switch {
	case len(s) == 10:
		return "dates alone"
	case s[10] == 'T':
		return "dates with a T after the day"
	case s[10] == ' ':
		return "dates with a space after the day"
	}
	return fmt.Sprintf("dates with %q after the day", s[10])
}

// timeForm names the form of one SQLite value of a time column: its
// storage class for text and blobs, and for a number what its size says
// it counts (Julian days are about 2.4 million; Unix seconds, of any date
// from 1970 to 5138, below 1e11; milliseconds above).
func timeForm(class, text string) string {
	if class != "integer" && class != "real" {
		return class + " values"
	}
	v, _ := strconv.ParseFloat(text, 64)
	switch {
	case v >= 1e6 && v < 1e7:
		return "Julian days"
	case math.Abs(v) >= 1e11:
		return "Unix milliseconds"
	}
	return "Unix seconds"
}

// CheckCutoffDay fails with [ErrMixedTimes] when a SQLite column of text
// dates holds, on the day of t, dates written with another separator
// after the day (a space, a T) than the one [InstantOf] writes a cutoff
// at t with: on that day such a date compares by its separator, not its
// time, and a row of the afternoon would be taken with the morning's.
// SampleTime sees the lowest and the highest value only; this looks at
// the one day where a difference would take a row early (one index range
// over the day). Elsewhere, and for other forms, it does nothing.
//
// zone is the zone of the column's times ([ZoneOf]; nil is UTC).
func CheckCutoffDay(ctx context.Context, c SQL, table, column string, sample [2]string, zone *time.Location, t time.Time) error {
	d := c.Dialect()
	if d.Kind() != "sqlite" || sample[0] != "text" {
		return nil
	}
	written := " "
	if len(sample[1]) > 10 && sample[1][10] == 'T' {
		written = "T"
	}
	if zone == nil {
		zone = time.UTC
	}
	day, col := wall(t, zone).Format(time.DateOnly), d.Column(column)
	var n int
	err := c.DB().QueryRowContext(ctx, "SELECT count(*) FROM (SELECT 1 FROM "+d.Ident(table)+" WHERE "+col+" >= ? AND "+col+" < ? AND length("+col+") > 10 AND substr("+col+", 11, 1) <> ? LIMIT 1)",
		day, day+"z", written).Scan(&n)
	if err != nil {
		return c.Translate(ctx, "read the dates of "+table+"."+column, err)
	}
	if n > 0 {
		return fmt.Errorf("%s.%s holds, on %s, dates written with another separator after the day than %q: %w; on that day they compare by the separator, not the time. Rewrite them in one form first (UPDATE %s SET %s = replace(%s, 'T', ' ') WHERE substr(%s, 11, 1) = 'T')",
			table, column, day, written, ErrMixedTimes, d.Ident(table), col, col, col)
	}
	// A time in another form than the column's lowest and highest (a
	// zone where they have none, an offset where they are UTC) compares
	// as digits. Only near the cutoff's day can that take a row early:
	// an offset moves a time by 14 hours at most, and the column's own
	// zone (Kiritimati's +14 against -12:00) by two days. One index range.
	other := "substr(" + col + ", 12) GLOB '*[A-Za-z+-]*'" // as zonedText reads one
	if zonedText(sample[1]) {
		other = "NOT (" + col + " GLOB '*[Zz]' OR " + col + " GLOB '*[+-]00:00' OR " + col + " GLOB '*+0000' OR " + col + " GLOB '* +0000 UTC*')"
	}
	from, to := wall(t, zone).AddDate(0, 0, -2).Format(time.DateOnly), wall(t, zone).AddDate(0, 0, 2).Format(time.DateOnly)
	var odd sql.NullString
	err = c.DB().QueryRowContext(ctx, "SELECT "+col+" FROM "+d.Ident(table)+" WHERE "+col+" >= ? AND "+col+" < ? AND "+other+" LIMIT 1", from, to).Scan(&odd)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return c.Translate(ctx, "read the dates of "+table+"."+column, err)
	}
	if odd.Valid {
		return fmt.Errorf("%s.%s holds, near %s, %q among times written as %q: %w; as text a zone or an offset is compared as digits, not as the instant it names. Rewrite them in one form first (in UTC, with a Z)",
			table, column, day, odd.String, sample[1], ErrMixedTimes)
	}
	return nil
}
