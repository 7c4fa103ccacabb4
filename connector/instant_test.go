package connector_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/vowprivacy/vow/connector"
)

func TestInstantOf(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 10, 24, 11, 4, 21, 500, time.UTC)
	for _, tc := range []struct {
		kind, typ string
		sample    [2]string
		want      any
	}{
		{"postgres", "timestamp without time zone", [2]string{}, "2026-10-24 11:04:21"},
		{"postgres", "timestamp with time zone", [2]string{}, at},
		{"postgres", "date", [2]string{}, "2026-10-24"},
		{"mysql", "datetime", [2]string{}, at},
		{"mysql", "timestamp(6)", [2]string{}, fmt.Sprintf("%d.000000", at.Unix())},
		{"sqlite", "TIMESTAMP", [2]string{"text", "2026-10-01 12:00:00.123 +0000 UTC"}, "2026-10-24 11:04:21"},
		{"sqlite", "TEXT", [2]string{"text", "2026-10-01T12:00:00Z"}, "2026-10-24T11:04:21"},
		{"sqlite", "INTEGER", [2]string{"integer", "1790000000"}, at.Unix()},
		{"sqlite", "INTEGER", [2]string{"integer", "1790000000000"}, at.UnixMilli()},
		{"sqlite", "TIMESTAMP", [2]string{}, "2026-10-24 11:04:21"},
	} {
		got := connector.InstantOf(tc.kind, tc.typ, tc.sample, at).Arg
		if tt, ok := tc.want.(time.Time); ok {
			if g, ok := got.(time.Time); !ok || !g.Equal(tt) {
				t.Errorf("InstantOf(%s, %s) = %v, want %v", tc.kind, tc.typ, got, tc.want)
			}
			continue
		}
		if got != tc.want {
			t.Errorf("InstantOf(%s, %s, %v) = %v (%T), want %v", tc.kind, tc.typ, tc.sample, got, got, tc.want)
		}
	}
	// A hold's start before 1970 on a MariaDB TIMESTAMP: the epoch, not a
	// negative number, which FROM_UNIXTIME turns into NULL (and "held
	// since" into false for every row).
	if got := connector.InstantOf("mysql", "timestamp", [2]string{}, time.Date(1926, 1, 1, 0, 0, 0, 0, time.UTC)).Arg; got != "0" {
		t.Errorf("InstantOf before 1970 = %v, want 0", got)
	}
	if p := connector.InstantOf("mysql", "TIMESTAMP(6)", [2]string{}, at).Param; p != "FROM_UNIXTIME(?)" {
		t.Errorf("InstantOf(mysql, TIMESTAMP(6)).Param = %q", p)
	}
	for _, tc := range [][2]string{{"mysql", "datetime"}, {"postgres", "timestamp with time zone"}, {"sqlite", "TIMESTAMP"}} {
		if p := connector.InstantOf(tc[0], tc[1], [2]string{}, at).Param; p != "?" {
			t.Errorf("InstantOf(%s, %s).Param = %q, want ?", tc[0], tc[1], p)
		}
	}
}
