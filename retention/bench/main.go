// Command bench measures Vow's retention purge against the floor — one raw
// DELETE … WHERE created_at < … — on real PostgreSQL and MariaDB, side by
// side in one run: throughput of each, and the p50/p99 latency of a
// concurrent application workload (point reads and writes from a Go load
// loop) while each runs, against the same workload idle.
//
// It builds a table of -rows rows (25% expired by default) per database,
// twice (once for each method). It is not part of the test run:
//
//	go run ./retention/bench -rows 2000000
//
// Servers default to those of internal/testdb (VOW_TEST_POSTGRES_URL,
// VOW_TEST_MYSQL_DSN); the program creates and drops its own databases.
package main

import (
	"cmp"
	"context"
	"database/sql"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/vowprivacy/vow/connector"
	"github.com/vowprivacy/vow/datastore"
	"github.com/vowprivacy/vow/internal/testdb"
	"github.com/vowprivacy/vow/policy"
	"github.com/vowprivacy/vow/retention"
	"github.com/vowprivacy/vow/state"
)

var (
	rows    = flag.Int("rows", 200_000, "rows in the table")
	expired = flag.Float64("expired", 0.25, "share of rows past retention")
	kinds   = flag.String("kinds", "postgres,mysql", "databases to measure")
	batch   = flag.Int("batch", 5000, "Vow's batch size")
	pause   = flag.Duration("pause", 0, "Vow's pause between batches")
	workers = flag.Int("workers", 4, "concurrent workload connections")
	idleFor = flag.Duration("idle", 10*time.Second, "how long to measure the idle workload")
)

const keepDays = 300 // rows span 400 days; older than 300 are expired

func main() {
	flag.Parse()
	log.SetFlags(0)
	ctx := context.Background()
	fmt.Printf("rows %d, expired %.0f%%, batch %d, pause %s, %d workload connections\n\n", *rows, *expired*100, *batch, *pause, *workers)
	fmt.Println("| database | method | rows deleted | time | rows/s | vs raw | workload p50 | workload p99 | p99 vs idle |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|")
	for _, kind := range strings.Split(*kinds, ",") {
		if err := measure(ctx, kind); err != nil {
			log.Fatalf("%s: %v", kind, err)
		}
	}
}

type target struct {
	kind, dsn string
	db        *sql.DB
}

func measure(ctx context.Context, kind string) error {
	t, cleanup, err := createDB(ctx, kind)
	if err != nil {
		return err
	}
	defer cleanup()
	cutoff := time.Now().UTC().AddDate(0, 0, -keepDays)

	if err := t.fill(ctx); err != nil {
		return err
	}
	idle := t.load(ctx, func(context.Context) (int64, error) { time.Sleep(*idleFor); return 0, nil })
	idle.print(kind, "idle workload", 0)

	raw := t.load(ctx, func(ctx context.Context) (int64, error) {
		res, err := t.db.ExecContext(ctx, t.rebind(`DELETE FROM events WHERE created_at < ?`), cutoff.Format("2006-01-02 15:04:05"))
		if err != nil {
			return 0, err
		}
		return res.RowsAffected()
	})
	if raw.err != nil {
		return raw.err
	}
	raw.pIdle = idle.p99
	raw.print(kind, "raw DELETE", 0)

	if err := t.fill(ctx); err != nil {
		return err
	}
	e, closeState, err := t.engine(ctx)
	if err != nil {
		return err
	}
	defer closeState()
	vow := t.load(ctx, func(ctx context.Context) (int64, error) {
		rep, err := e.Run(ctx, retention.Options{Batch: *batch, Pause: *pause})
		if err != nil {
			return 0, err
		}
		if rep.Failed() {
			return 0, fmt.Errorf("vow run: %s", rep.Rules[0].Error)
		}
		return rep.Rows(), nil
	})
	if vow.err != nil {
		return vow.err
	}
	vow.pIdle = idle.p99
	vow.print(kind, fmt.Sprintf("vow retention run (batch %d)", *batch), raw.rate())
	return nil
}

func createDB(ctx context.Context, kind string) (*target, func(), error) {
	name := fmt.Sprintf("vowbench_%d", os.Getpid())
	switch kind {
	case "postgres":
		admin := testdb.PostgresAdminURL()
		adb, err := sql.Open("pgx", admin)
		if err != nil {
			return nil, nil, err
		}
		if _, err := adb.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
			return nil, nil, err
		}
		u, _ := url.Parse(admin)
		u.Path = "/" + name
		db, err := sql.Open("pgx", u.String())
		if err != nil {
			return nil, nil, err
		}
		return &target{kind: kind, dsn: u.String(), db: db}, func() {
			db.Close()
			_, _ = adb.ExecContext(ctx, "DROP DATABASE "+name+" WITH (FORCE)")
			adb.Close()
		}, nil
	case "mysql":
		cfg, err := gomysql.ParseDSN(testdb.MySQLAdminDSN())
		if err != nil {
			return nil, nil, err
		}
		adb, err := sql.Open("mysql", cfg.FormatDSN())
		if err != nil {
			return nil, nil, err
		}
		if _, err := adb.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
			return nil, nil, err
		}
		cfg.DBName, cfg.ParseTime = name, true
		db, err := sql.Open("mysql", cfg.FormatDSN())
		if err != nil {
			return nil, nil, err
		}
		return &target{kind: kind, dsn: cfg.FormatDSN(), db: db}, func() {
			db.Close()
			_, _ = adb.ExecContext(ctx, "DROP DATABASE "+name)
			adb.Close()
		}, nil
	}
	return nil, nil, fmt.Errorf("unknown kind %q", kind)
}

func (t *target) rebind(q string) string {
	return connector.DialectOf(t.kind).Rebind(q)
}

// fill (re)creates the table: ids in creation order over 400 days, so the
// oldest share (ids 1…expired·rows) is past a 300-day retention.
func (t *target) fill(ctx context.Context) error {
	start := time.Now()
	n := *rows
	span := 400.0 * 86400 / float64(n) // seconds between rows
	// Place the cutoff so that exactly the expired share is older.
	offset := float64(n)*(1-*expired)*span - keepDays*86400
	var stmts []string
	switch t.kind {
	case "postgres":
		stmts = []string{
			`DROP TABLE IF EXISTS events`,
			`CREATE TABLE events (id bigint PRIMARY KEY, account_id bigint NOT NULL, payload text NOT NULL, created_at timestamp NOT NULL)`,
			fmt.Sprintf(`INSERT INTO events SELECT g, g %% 10007, md5(g::text), (now() at time zone 'utc') - make_interval(secs => (%d - g) * %f + %f) FROM generate_series(1, %d) g`, n, span, offset, n),
			`CREATE INDEX events_created_at ON events (created_at)`,
			`CREATE INDEX events_account ON events (account_id)`,
			`VACUUM ANALYZE events`,
		}
	case "mysql":
		stmts = []string{
			`DROP TABLE IF EXISTS events`,
			`CREATE TABLE events (id bigint PRIMARY KEY, account_id bigint NOT NULL, payload varchar(64) NOT NULL, created_at datetime NOT NULL) ENGINE=InnoDB`,
			fmt.Sprintf(`INSERT INTO events SELECT seq, seq %% 10007, md5(seq), utc_timestamp() - INTERVAL ((%d - seq) * %f + %f) SECOND FROM seq_1_to_%d`, n, span, offset, n),
			`CREATE INDEX events_created_at ON events (created_at)`,
			`CREATE INDEX events_account ON events (account_id)`,
			`ANALYZE TABLE events`,
		}
	}
	for _, s := range stmts {
		if _, err := t.db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("fill: %s: %w", s[:min(len(s), 60)], err)
		}
	}
	log.Printf("%s: built %d rows in %s", t.kind, n, time.Since(start).Round(time.Second))
	return nil
}

const policyYAML = `version: 1
organization: {name: Bench, contacts: {privacy: privacy@bench.example}}
purposes:
  service: {legal_basis: contract}
systems:
  app:
    kind: KIND
    connection: {env: BENCH_DSN}
    tables:
      events:
        primary_key: [id]
        fields:
          id: system.operations
          account_id: {category: user.unique_id}
          payload: system.operations
          created_at: system.operations
retention:
  rules:
    - name: events
      table: app:events
      from: created_at
      keep: 300d
`

func (t *target) engine(ctx context.Context) (*retention.Engine, func(), error) {
	p, _ := policy.Parse("bench.yaml", []byte(strings.Replace(policyYAML, "KIND", t.kind, 1)))
	if p == nil {
		return nil, nil, fmt.Errorf("bench policy does not parse")
	}
	dir, err := os.MkdirTemp("", "vowbench")
	if err != nil {
		return nil, nil, err
	}
	store, err := state.Open(ctx, dir+"/state.db", nil)
	if err != nil {
		return nil, nil, err
	}
	e := &retention.Engine{Policy: p, Store: store,
		Datastores: datastore.Resolver{LookupEnv: func(string) (string, bool) { return t.dsn, true }}}
	return e, func() { store.Close(); os.RemoveAll(dir) }, nil
}

// result is one measured phase.
type result struct {
	n        int64
	took     time.Duration
	ops      int
	p50, p99 time.Duration
	pIdle    time.Duration
	err      error
}

func (r result) rate() float64 { return float64(r.n) / r.took.Seconds() }

func (r result) print(kind, method string, rawRate float64) {
	vs, rate, n := "", "", ""
	if r.n > 0 {
		rate = fmt.Sprintf("%.0f", r.rate())
		n = fmt.Sprint(r.n)
		if rawRate > 0 {
			vs = fmt.Sprintf("%.2f×", r.rate()/rawRate)
		} else {
			vs = "1.00×"
		}
	}
	ratio := ""
	if r.pIdle > 0 {
		ratio = fmt.Sprintf("%.2f×", float64(r.p99)/float64(r.pIdle))
	}
	fmt.Printf("| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", map[string]string{"postgres": "PostgreSQL", "mysql": "MariaDB"}[kind], method, n, cmp.Or(r.took.Round(time.Millisecond).String(), ""), rate, vs, ms(r.p50), ms(r.p99), ratio)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

// load runs the workload while work runs, and returns work's row count and
// time with the workload's latency percentiles over that window. The
// workload: 80% point reads and 20% updates of live rows by primary key,
// on separate connections.
func (t *target) load(ctx context.Context, work func(context.Context) (int64, error)) result {
	live := int64(float64(*rows) * *expired) // ids above this are live
	stop := make(chan struct{})
	var (
		mu        sync.Mutex
		lat       []time.Duration
		wg        sync.WaitGroup
		recording atomic.Bool
	)
	t.db.SetMaxOpenConns(*workers + 4)
	for w := range *workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			var mine []time.Duration
			read := t.rebind(`SELECT payload FROM events WHERE id = ?`)
			write := t.rebind(`UPDATE events SET payload = ? WHERE id = ?`)
			for {
				select {
				case <-stop:
					mu.Lock()
					lat = append(lat, mine...)
					mu.Unlock()
					return
				default:
				}
				id := live + 1 + rng.Int64N(int64(*rows)-live)
				s := time.Now()
				var err error
				if rng.IntN(5) == 0 {
					_, err = t.db.ExecContext(ctx, write, fmt.Sprint(rng.Int()), id)
				} else {
					var p string
					err = t.db.QueryRowContext(ctx, read, id).Scan(&p)
				}
				if err != nil {
					log.Printf("workload: %v", err)
				}
				if recording.Load() {
					mine = append(mine, time.Since(s))
				}
			}
		}()
	}
	time.Sleep(500 * time.Millisecond) // warm up
	recording.Store(true)
	start := time.Now()
	n, err := work(ctx)
	took := time.Since(start)
	close(stop)
	wg.Wait()
	slices.Sort(lat)
	r := result{n: n, took: took, ops: len(lat), err: err}
	if len(lat) > 0 {
		r.p50, r.p99 = lat[len(lat)/2], lat[len(lat)*99/100]
	}
	return r
}
