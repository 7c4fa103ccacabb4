package dsrbench

import (
	"context"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vowprivacy/vow/datastore"
	"github.com/vowprivacy/vow/internal/testdb"
	"github.com/vowprivacy/vow/policy"
)

func newDB(t *testing.T, kind string) string {
	if kind == "postgres" {
		return testdb.Postgres(t)
	}
	return testdb.MySQL(t)
}

// TestTiny generates a tiny database on each server, runs the harness once
// and checks that Vow and the floor read the same rows, that the erasures
// happened, and that the subjects' data was restored afterwards.
func TestTiny(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"postgres", "mysql"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			dsn := newDB(t, kind)
			if err := Generate(ctx, kind, dsn, Tiny, t.Logf); err != nil {
				t.Fatal(err)
			}
			if ok, err := Generated(ctx, kind, dsn, Tiny); !ok || err != nil {
				t.Fatalf("Generated = %v, %v; want true", ok, err)
			}
			if got := countAll(t, kind, dsn); got != TotalRows(Tiny) {
				t.Fatalf("database holds %d rows, TotalRows says %d", got, TotalRows(Tiny))
			}
			res, err := Run(ctx, Config{Kind: kind, DSN: dsn, Scale: Tiny, Runs: 1, Dir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			if len(res) != 4 {
				t.Fatalf("got %d results, want 4 (2 subjects × access, erasure)", len(res))
			}
			for _, r := range res {
				if r.Vow <= 0 || r.Floor <= 0 || r.PeakHeap == 0 {
					t.Errorf("%s %s: vow %s, floor %s, heap %d: not measured", r.Subject, r.Op, r.Vow, r.Floor, r.PeakHeap)
				}
				// The subject's own rows plus the invitees Vow does not
				// read; the floor must read exactly what Vow reads.
				if r.Op == "access" && (r.VowRows != r.FloorRows || r.VowRows < r.SubjectRows*9/10) {
					t.Errorf("%s access: Vow read %d rows, floor %d, subject has about %d", r.Subject, r.VowRows, r.FloorRows, r.SubjectRows)
				}
				if r.Op == "erasure" && (r.VowRows < r.SubjectRows*9/10 || r.FloorRows < r.SubjectRows*9/10) {
					t.Errorf("%s erasure: Vow changed %d rows, floor %d, subject has about %d", r.Subject, r.VowRows, r.FloorRows, r.SubjectRows)
				}
			}
			// Restored after the last erasure: the database is as generated.
			if got := countAll(t, kind, dsn); got != TotalRows(Tiny) {
				t.Errorf("after the runs the database holds %d rows, want %d", got, TotalRows(Tiny))
			}
			var b strings.Builder
			WriteReport(&b, res)
			if !strings.Contains(b.String(), "| "+dbName(kind)+" | heavy (300) | erasure |") {
				t.Errorf("report lacks the heavy erasure line:\n%s", b.String())
			}
		})
	}
}

// TestCLITiny runs the CLI mode once on a tiny database on each server:
// vow, built here, must read what the floor and the database's client
// read, erase what the floor erases (the harness compares the states
// left), and trace its phases from process start to exit.
func TestCLITiny(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"psql", "mariadb"} {
		if _, err := exec.LookPath(name); err != nil {
			t.Skipf("the CLI harness needs %s: %v", name, err)
		}
	}
	bin, err := BuildVow(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"postgres", "mysql"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			dsn := newDB(t, kind)
			if err := Generate(ctx, kind, dsn, Tiny, t.Logf); err != nil {
				t.Fatal(err)
			}
			res, err := RunCLI(ctx, Config{Kind: kind, DSN: dsn, Scale: Tiny, Runs: 1, Dir: t.TempDir(), Binary: bin})
			if err != nil {
				t.Fatal(err)
			}
			if len(res) != 4 {
				t.Fatalf("got %d results, want 4 (2 subjects × access, erasure)", len(res))
			}
			for _, r := range res {
				if !r.CLI || r.Vow <= 0 || r.Floor <= 0 || r.PeakHeap == 0 {
					t.Errorf("%s %s: cli %v, vow %s, floor %s, rss %d: not measured", r.Subject, r.Op, r.CLI, r.Vow, r.Floor, r.PeakHeap)
				}
				switch r.Op {
				case "access":
					if r.VowRows != r.FloorRows || r.ClientRows != r.FloorRows || r.VowRows < r.SubjectRows*9/10 || r.Client <= 0 {
						t.Errorf("%s access: the CLI read %d rows, the floor %d, the client %d (in %s); subject has about %d",
							r.Subject, r.VowRows, r.FloorRows, r.ClientRows, r.Client, r.SubjectRows)
					}
				case "erasure":
					if r.VowRows < r.SubjectRows*9/10 || r.FloorRows < r.SubjectRows*9/10 || len(r.ClientRatios) > 0 {
						t.Errorf("%s erasure: the CLI changed %d rows, floor %d, subject has about %d; client ratios %v (want none)",
							r.Subject, r.VowRows, r.FloorRows, r.SubjectRows, r.ClientRatios)
					}
				}
				var phases []string
				var sum time.Duration
				for _, s := range r.VowSteps {
					phases = append(phases, s.table)
					sum += s.d
				}
				for _, want := range []string{"process start", "request created", "users", "run finished", "state store closed", "exit"} {
					if !slices.Contains(phases, want) {
						t.Errorf("%s %s: phases %q lack %q", r.Subject, r.Op, phases, want)
					}
				}
				// The trace's wall clock against the harness's monotonic one.
				if d := sum - r.Vow; d < -time.Millisecond || d > time.Millisecond {
					t.Errorf("%s %s: phases add up to %s, the run took %s", r.Subject, r.Op, sum, r.Vow)
				}
			}
			if got := countAll(t, kind, dsn); got != TotalRows(Tiny) {
				t.Errorf("after the runs the database holds %d rows, want %d", got, TotalRows(Tiny))
			}
			var b strings.Builder
			WriteReport(&b, res)
			if !strings.Contains(b.String(), "| "+dbName(kind)+" | light (30) | access |") || !strings.Contains(b.String(), "process start") {
				t.Errorf("report lacks the light access line or the phases:\n%s", b.String())
			}
		})
	}
}

func TestPolicyIsClean(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"postgres", "mysql"} {
		src := Policy(kind, "BENCH_DSN")
		p, ds := policy.Parse("vow.yaml", []byte(src))
		if errs, warns := ds.Count(); errs > 0 || warns > 0 || p == nil {
			var b strings.Builder
			ds.WriteText(&b, []byte(src))
			t.Fatalf("%s policy: %d errors, %d warnings:\n%s", kind, errs, warns, b.String())
		}
		if n := len(tables); n < 15 {
			t.Errorf("schema has %d tables, want ≥ 15", n)
		}
	}
}

func countAll(t *testing.T, kind, dsn string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	c, err := datastore.OpenDSN(ctx, kind, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var total int64
	for _, tb := range tables {
		var n int64
		if err := c.DB().QueryRowContext(ctx, "SELECT count(*) FROM "+tb.name).Scan(&n); err != nil {
			t.Fatal(err)
		}
		total += n
	}
	return total
}

// TestBench is the benchmark of issue 3 item 10. It runs only with
// VOW_BENCH=1:
//
//	VOW_BENCH=1 VOW_BENCH_ROWS=10000000 go test ./dsr/dsrbench -run TestBench -v -timeout 0
//
// VOW_BENCH_ROWS     background rows (default 1,000,000; 10,000,000 is full scale)
// VOW_BENCH_HEAVY    rows of the heavy subject (default 110,000)
// VOW_BENCH_RUNS     rounds per measurement, order alternating, medians reported (default 4)
// VOW_BENCH_KINDS    databases, comma-separated (default postgres,mysql)
// VOW_BENCH_POSTGRES_DSN, VOW_BENCH_MYSQL_DSN
//
//	an existing database to use instead of a fresh one: generated when
//	empty, reused when generated before at the same scale
//
// VOW_BENCH_CPUPROFILE  file prefix for CPU profiles of Vow's heavy runs
// VOW_BENCH_OUT         also write the report to this file
func TestBench(t *testing.T) {
	benchmark(t, func(ctx context.Context, cfg Config) ([]Result, error) {
		cfg.CPUProfile = os.Getenv("VOW_BENCH_CPUPROFILE")
		return Run(ctx, cfg)
	})
}

// TestCLIBench is the benchmark of issue 14 item 3: requests through the
// CLI, a process per request, against the floor and the database's
// client. It builds the vow command and takes the same variables as
// TestBench (VOW_BENCH=1 and the rest):
//
//	VOW_BENCH=1 VOW_BENCH_ROWS=1000000 go test ./dsr/dsrbench -run TestCLIBench -v -timeout 0
func TestCLIBench(t *testing.T) {
	benchmark(t, func(ctx context.Context, cfg Config) ([]Result, error) {
		bin, err := BuildVow(ctx, t.TempDir())
		if err != nil {
			return nil, err
		}
		cfg.Binary = bin
		return RunCLI(ctx, cfg)
	})
}

// benchmark generates (or reuses) a database per kind and runs one mode
// of the harness on each, then reports.
func benchmark(t *testing.T, run func(context.Context, Config) ([]Result, error)) {
	if os.Getenv("VOW_BENCH") != "1" {
		t.Skip("set VOW_BENCH=1 to run the request benchmark")
	}
	sc := Scale{Rows: envInt(t, "VOW_BENCH_ROWS", 1_000_000), Heavy: envInt(t, "VOW_BENCH_HEAVY", Full.Heavy), Light: Full.Light}
	kinds := strings.Split(envStr("VOW_BENCH_KINDS", "postgres,mysql"), ",")
	ctx := context.Background()
	var all []Result
	for _, kind := range kinds {
		dsn := os.Getenv("VOW_BENCH_" + strings.ToUpper(kind) + "_DSN")
		if dsn == "" {
			dsn = newDB(t, kind)
		}
		ok, err := Generated(ctx, kind, dsn, sc)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			start := time.Now()
			if err := Generate(ctx, kind, dsn, sc, t.Logf); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: generated %d rows in %s", kind, TotalRows(sc), time.Since(start).Round(time.Second))
		}
		res, err := run(ctx, Config{Kind: kind, DSN: dsn, Scale: sc, Runs: int(envInt(t, "VOW_BENCH_RUNS", 4)), Dir: t.TempDir(), Logf: t.Logf})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, res...)
	}
	var b strings.Builder
	WriteReport(&b, all)
	t.Logf("scale: %d rows in total (%d background), heavy subject %d rows, light %d\n\n%s", TotalRows(sc), sc.Rows, sc.Heavy, sc.Light, b.String())
	if out := os.Getenv("VOW_BENCH_OUT"); out != "" {
		if err := os.WriteFile(out, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func envStr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func envInt(t *testing.T, k string, def int64) int64 {
	v := os.Getenv(k)
	if v == "" {
		return def
	}
	n, err := strconv.ParseInt(strings.ReplaceAll(v, "_", ""), 10, 64)
	if err != nil {
		t.Fatalf("%s=%q: want a number", k, v)
	}
	return n
}
