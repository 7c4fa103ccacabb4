package retention

import (
	"fmt"
	"testing"
	"time"

	"github.com/vowprivacy/vow/connector"
)

func TestTimeArg(t *testing.T) {
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
		got := timeArg(tc.kind, tc.typ, tc.sample, at)
		if tt, ok := tc.want.(time.Time); ok {
			if g, ok := got.(time.Time); !ok || !g.Equal(tt) {
				t.Errorf("timeArg(%s, %s) = %v, want %v", tc.kind, tc.typ, got, tc.want)
			}
			continue
		}
		if got != tc.want {
			t.Errorf("timeArg(%s, %s, %v) = %v (%T), want %v", tc.kind, tc.typ, tc.sample, got, got, tc.want)
		}
	}
	// A hold's start before 1970 on a MariaDB TIMESTAMP: the epoch, not a
	// negative number, which FROM_UNIXTIME turns into NULL (and "held
	// since" into false for every row).
	if got := timeArg("mysql", "timestamp", [2]string{}, time.Date(1926, 1, 1, 0, 0, 0, 0, time.UTC)); got != "0" {
		t.Errorf("timeArg before 1970 = %v, want 0", got)
	}
	if p := connector.TimeParam("mysql", "TIMESTAMP(6)"); p != "FROM_UNIXTIME(?)" {
		t.Errorf("TimeParam(mysql, TIMESTAMP(6)) = %q", p)
	}
	for _, tc := range [][2]string{{"mysql", "datetime"}, {"postgres", "timestamp with time zone"}, {"sqlite", "TIMESTAMP"}} {
		if p := connector.TimeParam(tc[0], tc[1]); p != "?" {
			t.Errorf("TimeParam(%s, %s) = %q, want ?", tc[0], tc[1], p)
		}
	}
}

func TestWindowAdapts(t *testing.T) {
	t.Parallel()
	j := &job{intKeys: true, keyMin: 1, keyMax: 1_000_000, countHint: 250_000}
	w := newWindow(j, 1000)
	if w.width != 4000 {
		t.Fatalf("initial width %d, want 4000 (one expired row in four)", w.width)
	}
	w.adjust(4000) // denser than expected: shrink, at most to a quarter
	if w.width != 1000 {
		t.Errorf("after a 4000-row batch width %d, want 1000", w.width)
	}
	w.adjust(0) // nothing expired there: grow, at most double
	if w.width != 2000 {
		t.Errorf("after an empty batch width %d, want 2000", w.width)
	}
	hi, last := w.next([]any{int64(999_000)})
	if !last || hi[0] != int64(1_000_000) {
		t.Errorf("last window ends at %v (last %v), want the highest key", hi, last)
	}
}
