package retention_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vowprivacy/vow/internal/benchstat"
	"github.com/vowprivacy/vow/internal/testdb"
	"github.com/vowprivacy/vow/retention"
)

// TestPartitionDropVersusDelete is the harness behind docs/benchmarks.md
// for whole-partition purges: a PostgreSQL table of N rows in 20 monthly
// range partitions, half of them expired, purged by Vow's retention run
// (which drops the expired partitions) against the raw DELETE of the same
// rows. Each round builds a fresh table for each method, the order
// alternating; it reports the median of per-round ratios with its spread,
// and checks that both left exactly the same rows. On request only:
//
//	VOW_BENCH_PARTITION_ROWS=20000000 go test ./retention -run TestPartitionDropVersusDelete -v -timeout 2h
func TestPartitionDropVersusDelete(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("VOW_BENCH_PARTITION_ROWS"))
	if n <= 0 {
		t.Skip("set VOW_BENCH_PARTITION_ROWS to run the partition benchmark")
	}
	rounds := 3
	if r, _ := strconv.Atoi(os.Getenv("VOW_BENCH_ROUNDS")); r > 0 {
		rounds = r
	}
	// 20 partitions of 30 days, the cutoff (keep 300d from the test
	// clock's 2026-11-20) on the boundary of the 10th: the expired rows are
	// exactly those of the first ten partitions, which Vow drops whole.
	cutoff := now.AddDate(0, 0, -300)
	first := cutoff.AddDate(0, 0, -300)
	build := func(t *testing.T) *fixture {
		var b strings.Builder
		b.WriteString("CREATE TABLE events (id bigint NOT NULL, created_at timestamptz NOT NULL, body text, PRIMARY KEY (id, created_at)) PARTITION BY RANGE (created_at);\n")
		for m := range 20 {
			from, to := first.AddDate(0, 0, 30*m), first.AddDate(0, 0, 30*(m+1))
			fmt.Fprintf(&b, "CREATE TABLE events_%02d PARTITION OF events FOR VALUES FROM ('%s') TO ('%s');\n", m, from.Format(time.RFC3339), to.Format(time.RFC3339))
		}
		f := newFixtureSchema(t, "postgres", b.String(), strings.Replace(partitionPolicy, "keep: 90d", "keep: 300d", 1))
		span := first.AddDate(0, 0, 600).Sub(first).Seconds()
		for from := 1; from <= n; from += 1_000_000 {
			testdb.Exec(t, "postgres", f.dsn, fmt.Sprintf(`INSERT INTO events SELECT i, '%s'::timestamptz + (i * %f / %d) * interval '1 second', 'event ' || i FROM generate_series(%d, %d) i`,
				first.Format(time.RFC3339), span, n+1, from, min(n, from+999_999)))
		}
		testdb.Exec(t, "postgres", f.dsn, "VACUUM ANALYZE events")
		return f
	}
	vow := func(t *testing.T, f *fixture) (time.Duration, int64) {
		start := time.Now()
		rep, err := f.engine.Run(context.Background(), retention.Options{Approve: []string{"events"}})
		if err != nil {
			t.Fatal(err)
		}
		rr := resultOf(rep, "events")
		if rr.Status != "done" {
			t.Fatalf("run: %+v", rr)
		}
		// The dropped partitions' rows are the statistics' estimate.
		return time.Since(start), rr.Rows + rr.PartitionRows
	}
	raw := func(t *testing.T, f *fixture) (time.Duration, int64) {
		start := time.Now()
		res, err := f.db.Exec(`DELETE FROM events WHERE created_at < $1`, cutoff)
		if err != nil {
			t.Fatal(err)
		}
		rows, _ := res.RowsAffected()
		return time.Since(start), rows
	}
	var ratios []float64
	var tv, tr []time.Duration
	for round := range rounds {
		fv, fr := build(t), build(t)
		want := int64(fv.count(t, `SELECT count(*) FROM events WHERE created_at < $1`, ts(cutoff)))
		var dv, dr time.Duration
		var nv, nr int64
		if round%2 == 0 {
			dv, nv = vow(t, fv)
			dr, nr = raw(t, fr)
		} else {
			dr, nr = raw(t, fr)
			dv, nv = vow(t, fv)
		}
		if nr != want || nv < want*95/100 || nv > want*105/100 {
			t.Fatalf("round %d: Vow reports %d rows removed, the DELETE %d; want %d each (Vow's within 5%%, an estimate)", round, nv, nr, want)
		}
		left := `SELECT count(*), coalesce(sum(id), 0) FROM events`
		if a, b := testdb.Dump(t, fv.db, left), testdb.Dump(t, fr.db, left); a != b {
			t.Fatalf("round %d: the rows left differ: %s vs %s", round, a, b)
		}
		tv, tr = append(tv, dv), append(tr, dr)
		ratios = append(ratios, dr.Seconds()/dv.Seconds())
		t.Logf("round %d: %d rows; Vow %s, DELETE %s", round, want, dv.Round(time.Millisecond), dr.Round(time.Millisecond))
	}
	sp := benchstat.Of(ratios)
	t.Logf("rows %d in 20 partitions; %d rounds, order alternating", n, rounds)
	t.Logf("Vow (partitions dropped) median %s; raw DELETE median %s", benchstat.Median(tv).Round(time.Millisecond), benchstat.Median(tr).Round(time.Millisecond))
	t.Logf("Vow's throughput / the DELETE's: median %.0f× (min %.0f, max %.0f)", sp.Median, sp.Min, sp.Max)
}
