package connector_test

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vowprivacy/vow/connector"
	"github.com/vowprivacy/vow/connector/sqlite"
)

func TestInstantOf(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 10, 24, 11, 4, 21, 500, time.UTC)
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	newYork, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		kind, typ string
		sample    [2]string
		zone      *time.Location
		at        time.Time
		want      any
	}{
		{"postgres", "timestamp without time zone", [2]string{}, nil, at, "2026-10-24 11:04:21"},
		{"postgres", "timestamp(3) without time zone", [2]string{}, berlin, at, "2026-10-24 13:04:21"},
		{"postgres", "timestamp with time zone", [2]string{}, berlin, at, at},
		{"postgres", "date", [2]string{}, nil, at, "2026-10-24"},
		{"postgres", "date", [2]string{}, berlin, at.Add(11 * time.Hour), "2026-10-25"},
		{"mysql", "datetime", [2]string{}, nil, at, "2026-10-24 11:04:21"},
		{"mysql", "datetime(6)", [2]string{}, newYork, at, "2026-10-24 07:04:21"},
		{"mysql", "date", [2]string{}, newYork, at.Add(-8 * time.Hour), "2026-10-23"},
		{"mysql", "timestamp(6)", [2]string{}, berlin, at, fmt.Sprintf("%d.000000", at.Unix())},
		{"sqlite", "TIMESTAMP", [2]string{"text", "2026-10-01 12:00:00.123 +0000 UTC"}, nil, at, "2026-10-24 11:04:21"},
		{"sqlite", "TEXT", [2]string{"text", "2026-10-01T12:00:00Z"}, nil, at, "2026-10-24T11:04:21"},
		{"sqlite", "TEXT", [2]string{"text", "2026-10-01T12:00:00"}, berlin, at, "2026-10-24T13:04:21"},
		{"sqlite", "INTEGER", [2]string{"integer", "1790000000"}, berlin, at, at.Unix()},
		{"sqlite", "INTEGER", [2]string{"integer", "1790000000000"}, nil, at, at.UnixMilli()},
		{"sqlite", "TIMESTAMP", [2]string{}, nil, at, "2026-10-24 11:04:21"},
		// The night Berlin's clocks go back, 02:00–03:00 comes twice. A
		// cutoff in the first pass stops where the repeated wall times
		// begin (a row of the second pass is up to an hour younger); one
		// in the second, before or after them stands; one in the hour
		// spring skips is its instant's wall time.
		{"postgres", "timestamp without time zone", [2]string{}, berlin, time.Date(2026, 10, 25, 0, 45, 0, 0, time.UTC), "2026-10-25 02:00:00"},
		{"postgres", "timestamp without time zone", [2]string{}, berlin, time.Date(2026, 10, 25, 0, 20, 0, 0, time.UTC), "2026-10-25 02:00:00"},
		{"mysql", "datetime", [2]string{}, berlin, time.Date(2026, 10, 25, 1, 45, 0, 0, time.UTC), "2026-10-25 02:45:00"},
		{"sqlite", "TEXT", [2]string{"text", "2026-10-01 12:00:00"}, berlin, time.Date(2026, 10, 24, 23, 59, 0, 0, time.UTC), "2026-10-25 01:59:00"},
		{"postgres", "timestamp without time zone", [2]string{}, berlin, time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC), "2026-03-29 03:30:00"},
		// SQLite text with a zone of its own is compared as UTC,
		// whatever the system's zone.
		{"sqlite", "TEXT", [2]string{"text", "2026-10-01T12:00:00Z"}, newYork, at, "2026-10-24T11:04:21"},
		{"sqlite", "TIMESTAMP", [2]string{"text", "2026-10-01 12:00:00.123 +0000 UTC"}, berlin, at, "2026-10-24 11:04:21"},
		{"sqlite", "TEXT", [2]string{"text", "2026-10-01T12:00:00-05:00"}, berlin, at, "2026-10-24T11:04:21"},
	} {
		got := connector.InstantOf(tc.kind, tc.typ, tc.sample, tc.zone, tc.at).Arg
		if tt, ok := tc.want.(time.Time); ok {
			if g, ok := got.(time.Time); !ok || !g.Equal(tt) {
				t.Errorf("InstantOf(%s, %s, %v, %s) = %v, want %v", tc.kind, tc.typ, tc.zone, tc.at, got, tc.want)
			}
			continue
		}
		if got != tc.want {
			t.Errorf("InstantOf(%s, %s, %v, %v, %s) = %v (%T), want %v", tc.kind, tc.typ, tc.sample, tc.zone, tc.at, got, got, tc.want)
		}
	}
	// A mark written in the first pass of the hour Berlin repeats is its
	// own wall time; only a cutoff moves back.
	first := time.Date(2026, 10, 25, 0, 45, 0, 0, time.UTC)
	if got := connector.ValueOf("postgres", "timestamp without time zone", [2]string{}, berlin, first).Arg; got != "2026-10-25 02:45:00" {
		t.Errorf("ValueOf(the first 02:45) = %v, want 2026-10-25 02:45:00", got)
	}
	// A mark written among UTC text keeps its suffix: without it, it would
	// be a time without a zone among times with one.
	for sample, want := range map[string]string{"2026-10-01T12:00:00Z": "2026-10-25T00:45:00Z", "2026-10-01 12:00:00 +0000 UTC": "2026-10-25 00:45:00 +0000 UTC"} {
		if got := connector.ValueOf("sqlite", "TEXT", [2]string{"text", sample}, berlin, first).Arg; got != want {
			t.Errorf("ValueOf(among %q) = %v, want %s", sample, got, want)
		}
	}
	// A hold's start before 1970 on a MariaDB TIMESTAMP: the epoch, not a
	// negative number, which FROM_UNIXTIME turns into NULL (and "held
	// since" into false for every row).
	// A Julian day four centuries back (UnixNano overflows before 1678).
	if got := connector.InstantOf("sqlite", "TIMESTAMP", [2]string{"real", "2461000.5"}, nil, time.Date(1626, 11, 20, 0, 0, 0, 0, time.UTC)).Arg; got != 2315267.5 {
		t.Errorf("InstantOf(1626, Julian days) = %v, want 2315267.5", got)
	}
	if got := connector.InstantOf("mysql", "timestamp", [2]string{}, nil, time.Date(1926, 1, 1, 0, 0, 0, 0, time.UTC)).Arg; got != "0" {
		t.Errorf("InstantOf before 1970 = %v, want 0", got)
	}
	if p := connector.InstantOf("mysql", "TIMESTAMP(6)", [2]string{}, nil, at).Param; p != "FROM_UNIXTIME(?)" {
		t.Errorf("InstantOf(mysql, TIMESTAMP(6)).Param = %q", p)
	}
	for _, tc := range [][2]string{{"mysql", "datetime"}, {"postgres", "timestamp with time zone"}, {"sqlite", "TIMESTAMP"}} {
		if p := connector.InstantOf(tc[0], tc[1], [2]string{}, nil, at).Param; p != "?" {
			t.Errorf("InstantOf(%s, %s).Param = %q, want ?", tc[0], tc[1], p)
		}
	}
}

// TestSampleTime: the form of a SQLite column's times is its newest
// value's, and a column whose values are in more than one form (numbers
// and text, text and blobs) is refused: SQLite orders every number before
// every text, so no cutoff in one form selects the other's rows by date.
func TestSampleTime(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "app.db")
	if err := os.WriteFile(path, nil, 0o600); err != nil { // Open never creates one
		t.Fatal(err)
	}
	c, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, tc := range []struct {
		name, values string
		want         [2]string
		mixed        bool
		typ          string // the column's declared type; TIMESTAMP when empty
	}{
		{"empty", "(NULL)", [2]string{}, false, ""},
		{"text", "('2026-01-01 00:00:00'), ('2026-03-01 12:00:00'), (NULL)", [2]string{"text", "2026-03-01 12:00:00"}, false, ""},
		{"seconds", "(1790000000), (1700000000)", [2]string{"integer", "1790000000"}, false, ""},
		// A float's Unix seconds are stored as reals; they are seconds all
		// the same (read as Julian days they took nothing).
		{"seconds as reals", "(1700000000.25), (1790000000.5)", [2]string{"integer", "1790000000"}, false, ""},
		{"milliseconds", "(1700000000000.0), (1790000000000)", [2]string{"integer", "1790000000000"}, false, ""},
		// A Julian day at noon is a whole number, which a TIMESTAMP column
		// stores as an integer: Julian days still (read as Unix seconds
		// every row was older than any cutoff).
		{"julian days", "(2461000.625), (julianday('2026-11-20 12:00:00'))", [2]string{"real", "2461365"}, false, ""},
		{"numbers and text", "('2026-01-01 00:00:00'), (1790000000)", [2]string{}, true, ""},
		{"text and blobs", "('2026-01-01 00:00:00'), (x'00')", [2]string{}, true, ""},
		{"seconds and julian days", "(2461000.625), (1790000000)", [2]string{}, true, ""},
		{"seconds and milliseconds", "(1790000000), (1790000000000)", [2]string{}, true, ""},
		// Julian days between a default 0 and Unix seconds: the lowest and
		// the highest agree, a probe finds them.
		{"julian days hidden", "(0), (2461364.5), (1790000000)", [2]string{}, true, ""},
		{"a default 0 and seconds", "(0), (1700000000), (1790000000)", [2]string{"integer", "1790000000"}, false, ""},
		{"seconds as text", "('1700000000'), ('1790000000')", [2]string{}, true, "TEXT"},
		{"a space and a T", "('2026-01-01 00:00:00'), ('2026-11-19T08:00:00')", [2]string{}, true, ""},
		{"dates alone and with times", "('2026-01-01'), ('2026-11-19 08:00:00')", [2]string{"text", "2026-11-19 08:00:00"}, false, ""},
		{"dates", "('2026-01-01'), ('2026-11-19')", [2]string{"text", "2026-11-19"}, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			table := strings.ReplaceAll(tc.name, " ", "_")
			if _, err := c.DB().ExecContext(ctx, "CREATE TABLE "+table+" (at "+cmp.Or(tc.typ, "TIMESTAMP")+"); INSERT INTO "+table+" (at) VALUES "+tc.values); err != nil {
				t.Fatal(err)
			}
			got, err := connector.SampleTime(ctx, c, table, "at")
			if tc.mixed {
				if !errors.Is(err, connector.ErrMixedTimes) || !strings.Contains(err.Error(), table+".at holds") {
					t.Errorf("SampleTime = %v, %v; want ErrMixedTimes naming the column", got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("SampleTime = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// TestCheckCutoffDay: a date with the other separator matters on the
// cutoff's day only, where it compares by the separator.
func TestCheckCutoffDay(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "app.db")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.DB().ExecContext(ctx, `CREATE TABLE v (at TEXT); CREATE INDEX v_at ON v (at);
INSERT INTO v VALUES ('2026-10-20 09:00:00'), ('2026-10-21T08:00:00'), ('2026-10-21'), ('2026-10-22T10:00:00')`); err != nil {
		t.Fatal(err)
	}
	sample := [2]string{"text", "2026-10-22T10:00:00"}
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		day   time.Time
		zone  *time.Location
		mixed bool
	}{
		{time.Date(2026, 10, 21, 12, 0, 0, 0, time.UTC), nil, false}, // a T and a date alone that day
		{time.Date(2026, 10, 20, 12, 0, 0, 0, time.UTC), nil, true},  // a space that day
		{time.Date(2026, 10, 23, 12, 0, 0, 0, time.UTC), nil, false}, // nothing that day
		// 20:00 UTC on the 19th is the 20th in Tokyo, the day with a space.
		{time.Date(2026, 10, 19, 20, 0, 0, 0, time.UTC), tokyo, true},
	} {
		err := connector.CheckCutoffDay(ctx, c, "v", "at", sample, tc.zone, tc.day)
		if got := errors.Is(err, connector.ErrMixedTimes); got != tc.mixed {
			t.Errorf("CheckCutoffDay(%s) = %v; want mixed: %v", tc.day.Format(time.DateOnly), err, tc.mixed)
		}
	}
	if err := connector.CheckCutoffDay(ctx, c, "v", "at", [2]string{"integer", "1790000000"}, nil, time.Now()); err != nil {
		t.Errorf("CheckCutoffDay of numbers = %v; want nil", err)
	}
}

func TestWall(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		kind, typ string
		sample    [2]string
		want      bool
	}{
		{"postgres", "timestamp without time zone", [2]string{}, true},
		{"postgres", "timestamp(3) without time zone", [2]string{}, true},
		{"postgres", "timestamp", [2]string{}, true},
		{"postgres", "_timestamp", [2]string{}, true},
		{"postgres", "timestamp without time zone[]", [2]string{}, true},
		{"postgres", "date", [2]string{}, true},
		{"postgres", "timestamp with time zone", [2]string{}, false},
		{"postgres", "timestamptz", [2]string{}, false},
		{"postgres", "_timestamptz", [2]string{}, false},
		{"postgres", "timestamp with time zone[]", [2]string{}, false},
		{"mysql", "datetime(6)", [2]string{}, true},
		{"mysql", "date", [2]string{}, true},
		{"mysql", "timestamp", [2]string{}, false},
		{"sqlite", "TEXT", [2]string{"text", "2026-10-01 12:00:00"}, true},
		{"sqlite", "TEXT", [2]string{}, true},
		{"sqlite", "TEXT", [2]string{"text", "2026-10-01T12:00:00Z"}, false},
		{"sqlite", "TEXT", [2]string{"text", "2026-10-01T12:00:00+02:00"}, false},
		{"sqlite", "DATETIME", [2]string{"text", "2026-10-01 12:00:00 +0000 UTC"}, false},
		{"sqlite", "DATETIME", [2]string{"text", "2026-10-01 12:00:00.1 +0000 UTC m=+0.001"}, false},
		{"sqlite", "INTEGER", [2]string{"integer", "1790000000"}, false},
	} {
		if got := connector.Wall(tc.kind, tc.typ, tc.sample); got != tc.want {
			t.Errorf("Wall(%s, %s, %v) = %v, want %v", tc.kind, tc.typ, tc.sample, got, tc.want)
		}
	}
}
