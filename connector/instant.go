package connector

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
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
// PostgreSQL's timestamp without time zone gets a UTC text (a time.Time
// would be shifted by the session's time zone); a MariaDB TIMESTAMP gets
// Unix seconds behind FROM_UNIXTIME; SQLite has no time type, so the
// instant takes the form the column's values are stored in (text, Unix
// seconds or milliseconds, Julian day), read from sample ([SampleTime]).
func InstantOf(kind, typ string, sample [2]string, t time.Time) Instant {
	return Instant{Param: timeParam(kind, typ), Arg: timeArg(kind, typ, sample, t)}
}

func timeArg(kind, typ string, sample [2]string, t time.Time) any {
	t = t.UTC()
	typ = strings.ToLower(typ)
	switch kind {
	case "postgres":
		switch {
		case typ == "date":
			return t.Format(time.DateOnly)
		case strings.HasPrefix(typ, "timestamp") && !strings.Contains(typ, "with time zone"):
			return t.Format("2006-01-02 15:04:05.999999")
		}
		return t
	case "mysql":
		if strings.HasPrefix(typ, "timestamp") {
			// An instant, as Unix seconds that timeParam's FROM_UNIXTIME
			// reads: MariaDB compares a TIMESTAMP with a literal in the
			// session's time zone, and the driver writes a time in the
			// DSN's loc; where they differ (a server on local time) a
			// literal cutoff lands hours off. Before 1970, which no
			// TIMESTAMP holds, it is the epoch: FROM_UNIXTIME of a
			// negative number is NULL, and "still held since" would be
			// false for every row.
			if t.Unix() < 0 {
				return "0"
			}
			return fmt.Sprintf("%d.%06d", t.Unix(), t.Nanosecond()/1000)
		}
		return t
	}
	switch sample[0] {
	case "integer":
		if n, err := strconv.ParseInt(sample[1], 10, 64); err == nil && n > 100_000_000_000 {
			return t.UnixMilli()
		}
		return t.Unix()
	case "real":
		return float64(t.UnixNano())/float64(24*time.Hour) + 2440587.5
	}
	// Text: ISO 8601 with a T, or with a space (the form Go drivers write).
	// Values compare as text, so the cutoff stops at the seconds: a value
	// in the same second with a fraction or zone sorts after it.
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
// than one form (numbers and text, say): SQLite orders values by their
// storage class before their value — every number before every text — so
// no cutoff written in one form selects the expired rows of the other.
var ErrMixedTimes = errors.New("times stored in more than one form")

// SampleTime returns SQLite's storage class and the text of the newest
// value of table.column, which [InstantOf] needs to write an instant the
// way the column stores them; empty elsewhere, or when the column is empty.
// It fails with [ErrMixedTimes] when the column's values are not all
// numbers, all text or all blobs: a cutoff would then compare one form
// with another and take rows by form, not by date.
func SampleTime(ctx context.Context, c SQL, table, column string) ([2]string, error) {
	d := c.Dialect()
	if d.Kind() != "sqlite" {
		return [2]string{}, nil
	}
	// The lowest and the highest value are of the lowest and the highest
	// storage class in the column (SQLite orders numbers, then text, then
	// blobs); with an index on the column both are one lookup.
	col := d.Column(column)
	var lo, hi, v sql.NullString
	err := c.DB().QueryRowContext(ctx, "SELECT typeof(min("+col+")), typeof(max("+col+")), CAST(max("+col+") AS TEXT) FROM "+d.Ident(table)).Scan(&lo, &hi, &v)
	if err != nil {
		return [2]string{}, c.Translate(ctx, "read the form of "+table+"."+column, err)
	}
	if lo.String == "null" || hi.String == "null" {
		return [2]string{}, nil
	}
	form := func(class string) string {
		if class == "integer" || class == "real" {
			return "number"
		}
		return class
	}
	if form(lo.String) != form(hi.String) {
		return [2]string{}, fmt.Errorf("%s.%s holds %s and %s values: %w; SQLite compares them by form, not by date, so no cutoff selects the right rows. Rewrite them in one form first (for Unix seconds as text: UPDATE %s SET %s = datetime(%s, 'unixepoch') WHERE typeof(%s) = 'integer')",
			table, column, form(lo.String), form(hi.String), ErrMixedTimes, d.Ident(table), col, col, col)
	}
	return [2]string{hi.String, v.String}, nil
}
