package scan_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vowprivacy/vow/internal/benchstat"
	"github.com/vowprivacy/vow/internal/testdb"
	"github.com/vowprivacy/vow/scan"
)

// TestScanVersusSelect is the harness behind docs/benchmarks.md: a full
// content scan of a PostgreSQL table against a plain SELECT of the same
// columns whose every byte is read (the floor: what reading the data
// costs), in rounds whose order alternates, each warmed alike, reporting
// the median of per-round ratios with its spread and the scan's peak heap.
// It runs only on request:
//
//	VOW_BENCH_SCAN_ROWS=10000000 go test ./scan -run TestScanVersusSelect -v -timeout 2h
func TestScanVersusSelect(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("VOW_BENCH_SCAN_ROWS"))
	if n <= 0 {
		t.Skip("set VOW_BENCH_SCAN_ROWS to run the scan benchmark")
	}
	rounds := 5
	if r, _ := strconv.Atoi(os.Getenv("VOW_BENCH_ROUNDS")); r > 0 {
		rounds = r
	}
	dsn := testdb.Postgres(t)
	start := time.Now()
	// Realistic rows: a unique email, a name (of some 1,600, as people
	// share names), a line of free text that gives a phone number now and
	// then, a JSON document with a unique IP address; 1 in 1,000 holds a
	// card.
	testdb.Exec(t, "postgres", dsn, `CREATE TABLE events (id bigint PRIMARY KEY, email text, name text, note text, payload jsonb, created_at timestamptz)`)
	// In chunks: one statement has the test database's time limit.
	for from := 1; from <= n; from += 500_000 {
		testdb.Exec(t, "postgres", dsn, fmt.Sprintf(`
INSERT INTO events
SELECT i, 'user' || i || '@example.com', (ARRAY['Emma','Liam','Olivia','Noah','Sofia','Lucas','Mia','Mateo','Amara','Ravi','Chen','Fatima','Jonas','Ingrid','Pierre','Giulia','Sven','Aisha','Diego','Hannah'])[1 + i %% 20] || ' ' ||
    (ARRAY['Smith','García','Müller','Rossi','Dubois','Kowalski','Nakamura','Okafor','Patel','Johansson','Silva','Novak','Andersen','Keller','Moreau','Costa','Wei','Haddad','Ivanova','Byrne'])[1 + (i / 20) %% 20] || (CASE WHEN i %% 3 = 0 THEN '-' || (ARRAY['Lee','Ng','Ortiz','Berg'])[1 + i %% 4] ELSE '' END),
  CASE WHEN i %% 1000 = 0 THEN 'paid with 4111 1111 1111 1111' WHEN i %% 7 = 0 THEN 'call me on +44 20 7946 ' || lpad((i %% 10000)::text, 4, '0') ELSE 'export finished in ' || (i %% 900) || ' ms' END,
  jsonb_build_object('ip', '203.0.' || (i %% 250) || '.' || (1 + i %% 250), 'plan', 'pro', 'seats', i %% 40),
  now() - (i || ' seconds')::interval
FROM generate_series(%d, %d) i`, from, min(n, from+499_999)))
	}
	testdb.Exec(t, "postgres", dsn, `VACUUM ANALYZE events`)
	t.Logf("generated %d rows in %s", n, time.Since(start).Round(time.Second))
	c := open(t, "postgres", dsn)
	schema, err := c.Introspect(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	table := schema.Table("events")
	var size int64
	if err := c.DB().QueryRowContext(t.Context(), `SELECT sum(octet_length(email) + octet_length(name) + octet_length(note) + octet_length(payload::text)) FROM events`).Scan(&size); err != nil {
		t.Fatal(err)
	}

	floor := func(ctx context.Context) (time.Duration, error) {
		start := time.Now()
		rows, err := c.DB().QueryContext(ctx, `SELECT "email", "name", "note", "payload" FROM "events"`)
		if err != nil {
			return 0, err
		}
		defer rows.Close()
		raw := make([]sql.RawBytes, 4)
		dest := []any{&raw[0], &raw[1], &raw[2], &raw[3]}
		var sum int
		for rows.Next() {
			if err := rows.Scan(dest...); err != nil {
				return 0, err
			}
			for _, v := range raw {
				for _, b := range v {
					sum += int(b)
				}
			}
		}
		_ = sum
		return time.Since(start), rows.Err()
	}
	var peak atomic.Uint64
	vow := func(ctx context.Context) (time.Duration, error) {
		runtime.GC()
		stop := watchHeap(&peak)
		defer stop()
		start := time.Now()
		batch, _ := strconv.Atoi(os.Getenv("VOW_BENCH_BATCH"))
		rt, err := scan.ScanTable(ctx, c, table, scan.Options{Full: true, Batch: batch})
		if err == nil && rt.Rows != n {
			err = fmt.Errorf("scanned %d rows of %d", rt.Rows, n)
		}
		return time.Since(start), err
	}
	ctx := t.Context()
	for _, warm := range []func(context.Context) (time.Duration, error){floor, vow} {
		if _, err := warm(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var ratios []float64
	var fl, vs []time.Duration
	for round := range rounds {
		var f, v time.Duration
		var err1, err2 error
		if round%2 == 0 {
			f, err1 = floor(ctx)
			v, err2 = vow(ctx)
		} else {
			v, err2 = vow(ctx)
			f, err1 = floor(ctx)
		}
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		fl, vs = append(fl, f), append(vs, v)
		ratios = append(ratios, v.Seconds()/f.Seconds())
	}
	mb := float64(size) / 1e6
	t.Logf("rows %d, %.0f MB of text; %d rounds, order alternating", n, mb, rounds)
	t.Logf("SELECT (floor): median %s (%.0f MB/s)", benchstat.Median(fl).Round(time.Millisecond), mb/benchstat.Median(fl).Seconds())
	t.Logf("vow scan --full: median %s (%.0f MB/s)", benchstat.Median(vs).Round(time.Millisecond), mb/benchstat.Median(vs).Seconds())
	t.Logf("scan / SELECT: %s; peak heap during the scan %.1f MiB", benchstat.Of(ratios), float64(peak.Load())/(1<<20))
}

// watchHeap samples the live heap every 10 ms into peak until stopped.
func watchHeap(peak *atomic.Uint64) func() {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			select {
			case <-done:
				return
			case <-t.C:
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > peak.Load() {
					peak.Store(ms.HeapInuse)
				}
			}
		}
	}()
	return func() { close(done) }
}
