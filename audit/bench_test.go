package audit_test

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vowprivacy/vow/audit"
	"github.com/vowprivacy/vow/internal/benchstat"
	"github.com/vowprivacy/vow/state"
)

// The audit harness is not part of the default run:
//
//	VOW_BENCH_AUDIT=1 go test ./audit -run TestAuditHarness -v -timeout 30m
//
// VOW_BENCH_ROUNDS (default 7), VOW_BENCH_APPENDS (appends per side and
// round, default 2000), VOW_BENCH_WRITERS (default "1,8") and
// VOW_BENCH_VERIFY (entries to verify, default 1000000) size it.
//
// Appends: Vow's chained Store.Append against a plain INSERT of the same
// columns into a table like the events table was before it was chained,
// each committed on its own (the same durability: one commit per entry),
// on the same store, with the same indexes. Rounds alternate which side goes first, the first
// round of each pair warms both and is dropped, and the table shows the
// median of the per-round ratios with their range. Verification: a log
// of VOW_BENCH_VERIFY entries is verified from the store, as vow audit
// verify does.
func TestAuditHarness(t *testing.T) {
	if os.Getenv("VOW_BENCH_AUDIT") == "" {
		t.Skip("set VOW_BENCH_AUDIT=1 to run the audit benchmark harness")
	}
	rounds := envInt("VOW_BENCH_ROUNDS", 7)
	appends := envInt("VOW_BENCH_APPENDS", 2000)
	verifyN := envInt("VOW_BENCH_VERIFY", 1_000_000)
	var writers []int
	for _, w := range strings.Split(cmp.Or(os.Getenv("VOW_BENCH_WRITERS"), "1,8"), ",") {
		n, err := strconv.Atoi(w)
		if err != nil || n < 1 {
			t.Fatalf("VOW_BENCH_WRITERS: %q", w)
		}
		writers = append(writers, n)
	}

	fmt.Printf("\n%-9s %-8s %14s %14s %22s\n", "store", "writers", "vow appends/s", "raw inserts/s", "ratio median (range)")
	for _, b := range backends {
		for _, w := range writers {
			s := openBench(t, b.newURL(t))
			raw := newRawTable(t, s)
			var ratios, vowRates, rawRates []float64
			for r := range rounds + 1 {
				sides := []func() float64{
					func() float64 {
						return rate(appends, w, func(i int) error { _, err := s.Append(context.Background(), benchEvent(i)); return err })
					},
					func() float64 { return rate(appends, w, func(i int) error { return raw(benchEvent(i)) }) },
				}
				var v, x float64
				if r%2 == 0 {
					v, x = sides[0](), sides[1]()
				} else {
					x, v = sides[1](), sides[0]()
				}
				if r == 0 {
					continue // warm-up
				}
				vowRates, rawRates = append(vowRates, v), append(rawRates, x)
				ratios = append(ratios, v/x)
			}
			fmt.Printf("%-9s %-8d %14.0f %14.0f %22s\n", b.name, w, benchstat.Median(vowRates), benchstat.Median(rawRates), benchstat.Of(ratios))
		}
	}

	fmt.Printf("\n%-9s %12s %12s %14s %22s\n", "store", "entries", "verify", "entries/s", "50M entries would take")
	for _, b := range backends {
		s := openBench(t, b.newURL(t))
		fill(t, s, verifyN)
		keys := newKeys(t)
		if _, _, err := (&audit.Log{Store: s, Keys: keys}).Seal(context.Background()); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		r, err := audit.Verify(context.Background(), audit.StoreSource{Store: s}, audit.TrustKeys(keys.PublicKey()))
		took := time.Since(start)
		if err != nil || !r.OK() || r.Entries != int64(verifyN) {
			t.Fatalf("verify: %+v, %v", r, err)
		}
		perSec := float64(verifyN) / took.Seconds()
		fmt.Printf("%-9s %12d %12s %14.0f %22s\n", b.name, verifyN, took.Round(time.Millisecond), perSec, (time.Duration(50e6/perSec) * time.Second).Round(time.Second))
	}
}

func openBench(t *testing.T, url string) *state.Store {
	t.Helper()
	s, err := state.Open(context.Background(), url, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// benchEvent is an entry the size of a typical request step.
func benchEvent(i int) state.Event {
	return state.Event{Kind: "request.step_done", Subject: fmt.Sprintf("req_%020d", i), Actor: "vow",
		Data: json.RawMessage(fmt.Sprintf(`{"step":"app#1","tables":%d,"rows":{"app:users":1,"app:memberships":3,"app:audit_logs":%d}}`, i%7, i%100))}
}

// newRawTable creates a table shaped like the events table before it was
// chained and returns a function inserting one event into it, committed.
func newRawTable(t *testing.T, s *state.Store) func(state.Event) error {
	t.Helper()
	ddl := `CREATE TABLE raw_events (seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, kind TEXT NOT NULL, subject TEXT, actor TEXT NOT NULL, data TEXT NOT NULL)`
	if s.Dialect() == state.DialectPostgres {
		ddl = `CREATE TABLE raw_events (seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at timestamptz NOT NULL, kind text NOT NULL, subject text, actor text NOT NULL, data text NOT NULL)`
	}
	// The same indexes as the events table, so that the difference is
	// the chain alone.
	for _, q := range []string{ddl,
		`CREATE INDEX raw_events_kind_seq ON raw_events (kind, seq)`,
		`CREATE INDEX raw_events_subject_seq ON raw_events (subject, seq) WHERE subject IS NOT NULL`,
		`CREATE INDEX raw_events_at ON raw_events (at)`,
	} {
		if _, err := s.DB().Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	// Prepared, as Vow's own append statement is.
	q, err := s.DB().Prepare(s.Rebind(`INSERT INTO raw_events (at, kind, subject, actor, data) VALUES (?, ?, ?, ?, ?)`))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	return func(e state.Event) error {
		var at any = time.Now().UTC()
		if s.Dialect() == state.DialectSQLite {
			at = time.Now().UTC().Format("2006-01-02T15:04:05.000000Z")
		}
		_, err := q.Exec(at, e.Kind, e.Subject, e.Actor, string(e.Data))
		return err
	}
}

// rate runs n calls of fn over w goroutines and returns calls a second.
func rate(n, w int, fn func(i int) error) float64 {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	next := make(chan int, n)
	for i := range n {
		next <- i
	}
	close(next)
	start := time.Now()
	for range w {
		wg.Go(func() {
			for i := range next {
				if err := fn(i); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		panic(firstErr)
	}
	return float64(n) / time.Since(start).Seconds()
}

// fill writes n chained entries straight into the events table, many to
// a transaction, as a long-running deployment would have accumulated.
func fill(t *testing.T, s *state.Store, n int) {
	t.Helper()
	ctx := context.Background()
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var prev []byte
	const batch = 5000
	for done := 0; done < n; {
		tx, err := s.DB().BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		stmt, err := tx.PrepareContext(ctx, s.Rebind(`INSERT INTO events (seq, at, kind, subject, actor, data, prev, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`))
		if err != nil {
			t.Fatal(err)
		}
		for k := 0; k < batch && done < n; k++ {
			e := benchEvent(done)
			e.Seq, e.At, e.Prev = int64(done+1), base.Add(time.Duration(done)*600*time.Millisecond), prev
			e.Hash = state.ChainHash(prev, e)
			var at any = e.At
			if s.Dialect() == state.DialectSQLite {
				at = e.At.Format("2006-01-02T15:04:05.000000Z")
			}
			if _, err := stmt.ExecContext(ctx, e.Seq, at, e.Kind, e.Subject, e.Actor, string(e.Data), e.Prev, e.Hash); err != nil {
				t.Fatal(err)
			}
			prev = e.Hash
			done++
		}
		stmt.Close()
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}
