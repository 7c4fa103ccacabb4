// Command bench measures Vow's retention purge as users run it — the
// `vow retention run` command, a process of its own with its state store,
// lease and throttle — against the floor, one raw DELETE … WHERE
// created_at < …, and on MariaDB against pt-archiver (Percona Toolkit's
// `--purge --bulk-delete --limit 10000`) when it is installed: on real
// PostgreSQL and MariaDB, on the same table and with the same concurrent
// application workload (point reads and writes of live rows from a Go load
// loop).
//
// Every method gets the same treatment in every round: a freshly built
// table, a full read of it (the warm-up), the workload measured idle for
// -idle, then the purge under the workload. The order rotates from round to
// round. The report gives every measurement (the raw output) and, per
// method, the median of the per-round ratios — throughput over the raw
// DELETE's in the same round, the workload's p99 during the purge over its
// p99 idle — with their spread; and it fails unless every method of a
// round left the same rows.
//
//	go run ./retention/bench -rows 2000000 -rounds 3
//
// It is not part of the test run. Servers default to those of
// internal/testdb (VOW_TEST_POSTGRES_URL, VOW_TEST_MYSQL_DSN); the program
// creates and drops its own databases.
package main

import (
	"cmp"
	"context"
	"crypto/md5"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/vowprivacy/vow/connector"
	"github.com/vowprivacy/vow/internal/testdb"
	"github.com/vowprivacy/vow/internal/vowbin"
	"github.com/vowprivacy/vow/throttle"
)

// config is one harness run.
type config struct {
	rows    int
	expired float64
	// key is the table's primary key: "int" (row numbers, in the order
	// rows were written) or "uuid" (the md5 of the row number: random
	// order; a uuid on PostgreSQL, CHAR(32) on MariaDB).
	key      string
	kinds    []string
	rounds   int
	workers  int
	idle     time.Duration
	vow      string   // the vow binary
	vowFlags []string // extra flags of vow retention run
	// vowAlso are flags of a second vow method, measured alongside the
	// first in the same rounds (none: no second method).
	vowAlso []string
	// ptArchiver is pt-archiver's path; "" leaves it out.
	ptArchiver string
	logf       func(string, ...any)
}

// also names the second vow method; "" when there is none.
func (c config) also() string {
	// Empty, not nil, when -vow-also is not given: strings.Fields("")
	// returns an empty slice.
	if len(c.vowAlso) == 0 {
		return ""
	}
	return methodVow + " " + strings.Join(c.vowAlso, " ")
}

func main() {
	var (
		cfg   config
		kinds string
		flags string
		also  string
		rawTo string
	)
	flag.IntVar(&cfg.rows, "rows", 200_000, "rows in the table")
	flag.Float64Var(&cfg.expired, "expired", 0.25, "share of rows past retention")
	flag.StringVar(&cfg.key, "key", "int", "the table's primary key: int (in the order rows were written) or uuid (random order)")
	flag.StringVar(&kinds, "kinds", "postgres,mysql", "databases to measure")
	flag.IntVar(&cfg.rounds, "rounds", 3, "rounds; the order of the methods rotates")
	flag.IntVar(&cfg.workers, "workers", 4, "concurrent workload connections")
	flag.DurationVar(&cfg.idle, "idle", 5*time.Second, "how long to measure the idle workload before each purge")
	flag.StringVar(&flags, "vow-flags", "", "extra flags for vow retention run, space-separated (e.g. \"--batch-time 200ms\")")
	flag.StringVar(&also, "vow-also", "", "flags of a second vow retention run, measured as a method of its own in the same rounds (e.g. \"--latency-budget 1.5\")")
	flag.StringVar(&cfg.vow, "vow", "", "the vow binary (default: built from this checkout)")
	flag.StringVar(&rawTo, "raw", "", "also write the report to this file")
	noPT := flag.Bool("no-pt-archiver", false, "leave pt-archiver out even when installed")
	flag.Parse()
	log.SetFlags(0)
	cfg.kinds, cfg.vowFlags, cfg.vowAlso, cfg.logf = splitList(kinds), strings.Fields(flags), strings.Fields(also), log.Printf
	if cfg.key != "int" && cfg.key != "uuid" {
		log.Fatalf("-key %q: want int or uuid", cfg.key)
	}
	if p, err := exec.LookPath("pt-archiver"); err == nil && !*noPT {
		cfg.ptArchiver = p
	}
	ctx := context.Background()
	if cfg.vow == "" {
		bin, cleanup, err := buildVow(ctx)
		if err != nil {
			log.Fatal(err)
		}
		defer cleanup()
		cfg.vow = bin
	}
	var out io.Writer = os.Stdout
	if rawTo != "" {
		f, err := os.Create(rawTo)
		if err != nil {
			log.Fatal(err)
		}
		defer f.Close()
		out = io.MultiWriter(os.Stdout, f)
	}
	if err := run(ctx, cfg, out); err != nil {
		log.Fatal(err)
	}
}

// buildVow builds the vow command of this checkout into a temporary
// directory.
func buildVow(ctx context.Context) (string, func(), error) {
	dir, err := os.MkdirTemp("", "vowbench-bin")
	if err != nil {
		return "", nil, err
	}
	bin, err := vowbin.Build(ctx, dir)
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	return bin, func() { os.RemoveAll(dir) }, nil
}

// run measures every kind of cfg and writes the report to w.
func run(ctx context.Context, cfg config, w io.Writer) error {
	fmt.Fprintf(w, "rows %d, keys %s, expired %.0f%%, %d rounds, %d workload connections, idle %s, vow retention run %s",
		cfg.rows, cmp.Or(cfg.key, "int"), cfg.expired*100, cfg.rounds, cfg.workers, cfg.idle, strings.Join(cfg.vowFlags, " "))
	if also := cfg.also(); also != "" {
		fmt.Fprintf(w, ", and %s", also)
	}
	fmt.Fprint(w, "\n\n")
	for _, kind := range cfg.kinds {
		rounds, server, err := measure(ctx, cfg, kind)
		if err != nil {
			return fmt.Errorf("%s: %w", kind, err)
		}
		fmt.Fprintf(w, "%s: %s\n\n", dbLabel(kind), server)
		sums, err := summarize(rounds, methodRaw)
		if err != nil {
			return fmt.Errorf("%s: %w", kind, err)
		}
		writeRounds(w, dbLabel(kind), rounds)
		fmt.Fprintln(w)
		writeSummary(w, dbLabel(kind), methodRaw, sums)
		if rate, p99, ok := versus(rounds, methodVow, methodPTArchiver); ok {
			fmt.Fprintf(w, "\n%s: vow retention run / pt-archiver, per round: throughput %s, workload p99 %s\n", dbLabel(kind), rate, p99)
		}
		if also := cfg.also(); also != "" {
			if rate, p99, ok := versus(rounds, also, methodVow); ok {
				fmt.Fprintf(w, "\n%s: %s / %s, per round: throughput %s, workload p99 %s\n", dbLabel(kind), also, methodVow, rate, p99)
			}
		}
		fmt.Fprintln(w)
	}
	return nil
}

const keepDays = 300 // expired rows are 301–400 days old, live rows 0–299

// measure runs cfg's rounds on kind and returns them, with the server's
// cache size beside the table's: whether the table fits decides whether
// a purge's rows cost memory or I/O.
func measure(ctx context.Context, cfg config, kind string) (rounds [][]measured, server string, err error) {
	t, cleanup, err := createDB(ctx, kind, cfg)
	if err != nil {
		return nil, "", err
	}
	defer cleanup()
	methods := []string{methodRaw, methodVow}
	if kind == "mysql" && cfg.ptArchiver != "" {
		methods = append(methods, methodPTArchiver)
	}
	also := cfg.also()
	if also != "" {
		methods = append(methods, also)
	}
	vowDir, err := os.MkdirTemp("", "vowbench")
	if err != nil {
		return nil, "", err
	}
	defer os.RemoveAll(vowDir)
	if err := os.WriteFile(filepath.Join(vowDir, "vow.yaml"), []byte(strings.Replace(policyYAML, "KIND", kind, 1)), 0o600); err != nil {
		return nil, "", err
	}
	purge := map[string]func(context.Context) (int64, error){
		methodRaw: func(ctx context.Context) (int64, error) {
			res, err := t.db.ExecContext(ctx, t.rebind(`DELETE FROM events WHERE created_at < ?`), t.cutoff().Format("2006-01-02 15:04:05"))
			if err != nil {
				return 0, err
			}
			return res.RowsAffected()
		},
		methodVow:        func(ctx context.Context) (int64, error) { return t.vowRun(ctx, vowDir, false, cfg.vowFlags) },
		methodPTArchiver: t.ptArchive,
	}
	if also != "" {
		purge[also] = func(ctx context.Context) (int64, error) { return t.vowRun(ctx, vowDir, false, cfg.vowAlso) }
	}
	// The vow binary's first start (page cache, the state store's
	// creation) is not any round's: a dry run on a table built for it.
	if err := t.fill(ctx); err != nil {
		return nil, "", err
	}
	if _, err := t.vowRun(ctx, vowDir, true, cfg.vowFlags); err != nil {
		return nil, "", fmt.Errorf("warm-up dry run: %w", err)
	}
	if server, err = t.sizes(ctx); err != nil {
		return nil, "", err
	}
	for r := range cfg.rounds {
		var round []measured
		for _, m := range rotation(methods, r) {
			if err := t.fill(ctx); err != nil {
				return nil, "", err
			}
			if err := t.warm(ctx); err != nil {
				return nil, "", err
			}
			idle := t.load(ctx, func(context.Context) (int64, error) { time.Sleep(cfg.idle); return 0, nil })
			res := t.load(ctx, purge[m])
			if res.err != nil {
				return nil, "", fmt.Errorf("%s: %w", m, res.err)
			}
			left, err := t.fingerprint(ctx)
			if err != nil {
				return nil, "", err
			}
			// Not only alike: right. Every method must have removed
			// exactly ids 1…expiredRows and said so.
			if want := t.expected(); left != want || res.n != t.expiredRows() {
				return nil, "", fmt.Errorf("round %d: %s reported %d rows and left %s; want %d rows reported and %s left", r+1, m, res.n, left, t.expiredRows(), want)
			}
			got := measured{method: m, rows: res.n, took: res.took, p50: res.p50, p99: res.p99, idle: idle.p99, left: left,
				readP99: res.readP99, writeP99: res.writeP99, idleReadP99: idle.readP99, idleWriteP99: idle.writeP99}
			cfg.logf("%s round %d: %s %d rows in %s, p99 %s (idle %s)", kind, r+1, m, got.rows, got.took.Round(time.Millisecond), ms(got.p99), ms(got.idle))
			round = append(round, got)
		}
		rounds = append(rounds, round)
	}
	return rounds, server, nil
}

type target struct {
	kind, dsn string
	db        *sql.DB
	cfg       config
	built     time.Time // when the table was last filled; ages count from it
}

func createDB(ctx context.Context, kind string, cfg config) (*target, func(), error) {
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
		return &target{kind: kind, dsn: u.String(), db: db, cfg: cfg}, func() {
			db.Close()
			_, _ = adb.ExecContext(ctx, "DROP DATABASE "+name+" WITH (FORCE)")
			adb.Close()
		}, nil
	case "mysql":
		mc, err := gomysql.ParseDSN(testdb.MySQLAdminDSN())
		if err != nil {
			return nil, nil, err
		}
		adb, err := sql.Open("mysql", mc.FormatDSN())
		if err != nil {
			return nil, nil, err
		}
		if _, err := adb.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
			return nil, nil, err
		}
		mc.DBName, mc.ParseTime = name, true
		db, err := sql.Open("mysql", mc.FormatDSN())
		if err != nil {
			return nil, nil, err
		}
		return &target{kind: kind, dsn: mc.FormatDSN(), db: db, cfg: cfg}, func() {
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

// expiredRows is how many of the table's rows are past retention: ids
// 1…expiredRows.
func (t *target) expiredRows() int64 { return int64(float64(t.cfg.rows) * t.cfg.expired) }

// cutoff is the rule's cutoff as the raw DELETE and pt-archiver use it.
// Rows are 301–400 or 0–299 days old, so a cutoff taken a few minutes
// later (vow's, at its own start) divides them the same way.
func (t *target) cutoff() time.Time { return t.built.UTC().AddDate(0, 0, -keepDays) }

// fill (re)creates the table: ids in creation order; ids up to
// expiredRows spread over 301–400 days ago, the rest over the last 299
// days.
func (t *target) fill(ctx context.Context) error {
	start := time.Now()
	n, e := int64(t.cfg.rows), t.expiredRows()
	// Seconds ago of row g: expired rows from 400 down to 301 days, live
	// ones from 299 days down to now.
	age := func(g string) string {
		return fmt.Sprintf("CASE WHEN %[1]s <= %[2]d THEN %[3]d - (%[1]s - 1) * %[4]f ELSE %[5]d - (%[1]s - %[2]d) * %[6]f END",
			g, e, 400*86400, 99.0*86400/float64(max(e, 1)), 299*86400, 299.0*86400/float64(max(n-e, 1)))
	}
	var stmts []string
	switch t.kind {
	case "postgres":
		keyType, key := "bigint", "g"
		if t.cfg.key == "uuid" {
			keyType, key = "uuid", "md5(g::text)::uuid"
		}
		stmts = []string{
			`DROP TABLE IF EXISTS events`,
			`CREATE TABLE events (id ` + keyType + ` PRIMARY KEY, account_id bigint NOT NULL, payload text NOT NULL, created_at timestamp NOT NULL)`,
			fmt.Sprintf(`INSERT INTO events SELECT %s, g %% 10007, md5(g::text), (now() at time zone 'utc') - make_interval(secs => %s) FROM generate_series(1, %d) g`, key, age("g"), n),
			`CREATE INDEX events_created_at ON events (created_at)`,
			`CREATE INDEX events_account ON events (account_id)`,
			`VACUUM ANALYZE events`,
			// The build's WAL is flushed now, not by a checkpoint in the
			// middle of a measurement.
			`CHECKPOINT`,
		}
	case "mysql":
		keyType, key := "bigint", "seq"
		if t.cfg.key == "uuid" {
			keyType, key = "char(32)", "md5(seq)"
		}
		stmts = []string{
			`DROP TABLE IF EXISTS events`,
			`CREATE TABLE events (id ` + keyType + ` PRIMARY KEY, account_id bigint NOT NULL, payload varchar(64) NOT NULL, created_at datetime NOT NULL) ENGINE=InnoDB`,
			fmt.Sprintf(`INSERT INTO events SELECT %s, seq %% 10007, md5(seq), utc_timestamp() - INTERVAL (%s) SECOND FROM seq_1_to_%d`, key, age("seq"), n),
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
	t.built = time.Now()
	t.cfg.logf("%s: built %d rows in %s", t.kind, n, time.Since(start).Round(time.Second))
	return nil
}

// warm reads the whole table once, the same for every method.
func (t *target) warm(ctx context.Context) error {
	var n, l sql.NullInt64
	if err := t.db.QueryRowContext(ctx, `SELECT count(*), sum(length(payload)) FROM events`).Scan(&n, &l); err != nil {
		return fmt.Errorf("warm: %w", err)
	}
	return nil
}

// expected is the fingerprint of the rows a purge must leave: rows
// expiredRows+1 … rows — by their ids, or with uuid keys by their
// account_id (the row number modulo 10007) and none expired.
func (t *target) expected() string {
	lo, hi := t.expiredRows()+1, int64(t.cfg.rows)
	if t.cfg.key == "uuid" {
		var sum int64
		for g := lo; g <= hi; g++ {
			sum += g % 10007
		}
		return fmt.Sprintf("%d rows, accounts summing %d, 0 expired", hi-lo+1, sum)
	}
	return fmt.Sprintf("%d rows, ids %d… summing %d", hi-lo+1, lo, (lo+hi)*(hi-lo+1)/2)
}

// fingerprint sums up the rows left.
func (t *target) fingerprint(ctx context.Context) (string, error) {
	var n, sum, lo sql.NullInt64
	if t.cfg.key == "uuid" {
		q := t.rebind(`SELECT count(*), sum(account_id), count(CASE WHEN created_at < ? THEN 1 END) FROM events`)
		if err := t.db.QueryRowContext(ctx, q, t.cutoff().Format("2006-01-02 15:04:05")).Scan(&n, &sum, &lo); err != nil {
			return "", fmt.Errorf("fingerprint: %w", err)
		}
		return fmt.Sprintf("%d rows, accounts summing %d, %d expired", n.Int64, sum.Int64, lo.Int64), nil
	}
	if err := t.db.QueryRowContext(ctx, `SELECT count(*), sum(id), min(id) FROM events`).Scan(&n, &sum, &lo); err != nil {
		return "", fmt.Errorf("fingerprint: %w", err)
	}
	return fmt.Sprintf("%d rows, ids %d… summing %d", n.Int64, lo.Int64, sum.Int64), nil
}

// key is row g's primary key, as the workload looks it up.
func (t *target) key(g int64) any {
	if t.cfg.key != "uuid" {
		return g
	}
	h := fmt.Sprintf("%x", md5.Sum([]byte(strconv.FormatInt(g, 10))))
	if t.kind == "postgres" {
		return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
	}
	return h
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

// vowRun runs `vow retention run` as a user does and returns the rows it
// reports.
func (t *target) vowRun(ctx context.Context, dir string, dryRun bool, flags []string) (int64, error) {
	args := []string{"--policy", filepath.Join(dir, "vow.yaml"), "--data-dir", filepath.Join(dir, "data"), "--format", "json",
		"retention", "run", "--approve", "events"}
	if dryRun {
		args = append(args, "--dry-run")
	}
	args = append(args, flags...)
	cmd := exec.CommandContext(ctx, t.cfg.vow, args...)
	cmd.Env = append(os.Environ(), "BENCH_DSN="+t.dsn, "VOW_STATE=")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return 0, fmt.Errorf("vow retention run: %w: %s", err, stderr.String())
	}
	var rep struct {
		Status string `json:"status"`
		Rules  []struct {
			Rows          int64           `json:"rows"`
			PartitionRows int64           `json:"partition_rows_estimated"`
			Throttle      *throttle.Stats `json:"throttle"`
		} `json:"rules"`
	}
	if err := json.Unmarshal(out, &rep); err != nil {
		return 0, fmt.Errorf("vow retention run printed %q: %w", out, err)
	}
	if rep.Status != "ok" || len(rep.Rules) != 1 {
		return 0, fmt.Errorf("vow retention run: status %s: %s", rep.Status, out)
	}
	if th := rep.Rules[0].Throttle; th != nil && !dryRun {
		// How the run paced itself explains its numbers.
		t.cfg.logf("  vow's throttle: %d batches of %d–%d rows, %d backoffs, slept %s, canary median %s at its last baseline (taken again %d times), up to %s during; last reason: %s",
			th.Batches, th.MinSize, th.MaxSize, th.Backoffs, th.Slept.Round(time.Millisecond), ms(th.LatencyBase), th.Rebaselines, ms(th.LatencyMax), cmp.Or(th.Reason, "none"))
	}
	return rep.Rules[0].Rows + rep.Rules[0].PartitionRows, nil
}

// ptDeleted reads the DELETE count of pt-archiver's --statistics.
var ptDeleted = regexp.MustCompile(`(?m)^DELETE\s+(\d+)`)

// sizes says how large the server's buffer cache is and how large the
// events table and its indexes are.
func (t *target) sizes(ctx context.Context) (string, error) {
	var cache, table int64
	var name, q string
	switch t.kind {
	case "postgres":
		name = "shared_buffers"
		q = `SELECT (SELECT setting::bigint * 8192 FROM pg_settings WHERE name = 'shared_buffers'), pg_total_relation_size('events')`
	default:
		name = "innodb_buffer_pool_size"
		q = `SELECT @@innodb_buffer_pool_size, (SELECT data_length + index_length FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'events')`
	}
	if err := t.db.QueryRowContext(ctx, q).Scan(&cache, &table); err != nil {
		return "", fmt.Errorf("server and table sizes: %w", err)
	}
	return fmt.Sprintf("%s %s; the events table with its indexes %s", name, mib(cache), mib(table)), nil
}

// mib writes n bytes in MiB.
func mib(n int64) string { return fmt.Sprintf("%d MiB", (n+1<<19)>>20) }

// ptArchive purges with pt-archiver, as its documentation suggests for a
// purge: in primary-key order, 10,000 rows a statement, committed each.
func (t *target) ptArchive(ctx context.Context) (int64, error) {
	mc, err := gomysql.ParseDSN(t.dsn)
	if err != nil {
		return 0, err
	}
	host, port, _ := strings.Cut(mc.Addr, ":")
	src := fmt.Sprintf("h=%s,P=%s,u=%s,D=%s,t=events", host, cmpOr(port, "3306"), mc.User, mc.DBName)
	if mc.Passwd != "" {
		src += ",p=" + mc.Passwd
	}
	cmd := exec.CommandContext(ctx, t.cfg.ptArchiver, "--source", src,
		"--where", "created_at < '"+t.cutoff().Format("2006-01-02 15:04:05")+"'",
		"--purge", "--bulk-delete", "--limit", "10000", "--commit-each", "--statistics", "--no-check-charset")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return 0, fmt.Errorf("pt-archiver: %w: %s", err, stderr.String())
	}
	m := ptDeleted.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("pt-archiver printed no DELETE count: %s", out)
	}
	return strconv.ParseInt(string(m[1]), 10, 64)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// result is one measured phase.
type result struct {
	n        int64
	took     time.Duration
	p50, p99 time.Duration
	// readP99 and writeP99 split p99 by kind: a write waits for its
	// commit's log flush, which a purge's commits can delay; a read waits
	// for a core.
	readP99, writeP99 time.Duration
	err               error
}

// load runs the workload while work runs, and returns work's row count and
// time with the workload's latency percentiles over that window. The
// workload: 80% point reads and 20% updates of live rows by primary key,
// on separate connections.
func (t *target) load(ctx context.Context, work func(context.Context) (int64, error)) result {
	live := t.expiredRows() // ids above this are live
	stop := make(chan struct{})
	var (
		mu            sync.Mutex
		lat           []time.Duration
		reads, writes []time.Duration
		wg            sync.WaitGroup
		recording     atomic.Bool
	)
	t.db.SetMaxOpenConns(t.cfg.workers + 4)
	for w := range t.cfg.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			var mine, myReads, myWrites []time.Duration
			read := t.rebind(`SELECT payload FROM events WHERE id = ?`)
			write := t.rebind(`UPDATE events SET payload = ? WHERE id = ?`)
			for {
				select {
				case <-stop:
					mu.Lock()
					lat = append(lat, mine...)
					reads, writes = append(reads, myReads...), append(writes, myWrites...)
					mu.Unlock()
					return
				default:
				}
				id := live + 1 + rng.Int64N(int64(t.cfg.rows)-live)
				s := time.Now()
				var err error
				isWrite := rng.IntN(5) == 0
				if isWrite {
					_, err = t.db.ExecContext(ctx, write, fmt.Sprint(rng.Int()), t.key(id))
				} else {
					var p string
					err = t.db.QueryRowContext(ctx, read, t.key(id)).Scan(&p)
				}
				if err != nil {
					log.Printf("workload: %v", err)
				}
				if recording.Load() {
					d := time.Since(s)
					mine = append(mine, d)
					if isWrite {
						myWrites = append(myWrites, d)
					} else {
						myReads = append(myReads, d)
					}
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
	r := result{n: n, took: took, err: err}
	if len(lat) > 0 {
		r.p50, r.p99 = lat[len(lat)/2], lat[len(lat)*99/100]
	}
	r.readP99, r.writeP99 = p99Of(reads), p99Of(writes)
	return r
}

func p99Of(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[len(ds)*99/100]
}
