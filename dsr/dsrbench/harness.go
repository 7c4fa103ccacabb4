package dsrbench

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vowprivacy/vow/connector"
	"github.com/vowprivacy/vow/datastore"
	"github.com/vowprivacy/vow/dsr"
	"github.com/vowprivacy/vow/internal/benchstat"
	"github.com/vowprivacy/vow/keyring"
	"github.com/vowprivacy/vow/policy"
	"github.com/vowprivacy/vow/state"
)

// Config is one harness run on one generated database.
type Config struct {
	// Kind is "postgres" or "mysql"; DSN the generated database.
	Kind, DSN string
	// Scale is the scale the database was generated with.
	Scale Scale
	// Runs is how many rounds each measurement gets (Vow and the floor
	// once each, the order alternating); medians are reported. 4 when
	// zero.
	Runs int
	// Dir is a scratch directory for Vow's state store, the access
	// packages and the floor's JSON files.
	Dir string
	// CPUProfile, if set, is a file name prefix: Vow's runs for the heavy
	// subject are profiled to <prefix>-<kind>-<op>.pprof (in-process only).
	CPUProfile string
	// Binary is the vow command RunCLI runs (BuildVow builds it).
	Binary string
	// Logf reports progress; nil is quiet.
	Logf func(string, ...any)
}

// Result is one line of the report: one operation for one subject.
type Result struct {
	Kind, Subject, Op string
	// SubjectRows is the number of rows generated for the subject.
	SubjectRows int64
	// VowRows and FloorRows are the rows read or changed.
	VowRows, FloorRows int64
	// Vow and Floor are the median times of the runs.
	Vow, Floor time.Duration
	// PeakHeap is the largest heap in use (bytes of live and not yet
	// swept objects, /memory/classes/heap/objects:bytes) sampled every
	// millisecond during Vow's runs.
	PeakHeap uint64
	// Ratios are Vow's time over the floor's, one per round.
	Ratios []float64
	// VowSteps and FloorSteps are per-table times of the last run (for
	// the CLI: its traced phases).
	VowSteps, FloorSteps []stepTime
	// CLI is set when Vow ran as a process (RunCLI): Vow's times are the
	// process's wall time, and PeakHeap is its peak RSS.
	CLI bool
	// Client is the median time of the database's client (psql, mariadb)
	// running the floor's statements as a process, ClientRows the rows it
	// printed, ClientRatios Vow's time over its per round (RunCLI, access
	// only).
	Client       time.Duration
	ClientRows   int64
	ClientRatios []float64
}

// Ratio is the median of the per-round ratios of Vow's time over the
// floor's: each round's two runs share the machine's state at that moment,
// which a ratio of the medians would pull apart.
func (r Result) Ratio() float64 { return benchstat.Median(r.Ratios) }

// Spread is the smallest and largest per-round ratio.
func (r Result) Spread() (lo, hi float64) { return slices.Min(r.Ratios), slices.Max(r.Ratios) }

// benchKey is the master key of Vow's keyring in the harness, in-process
// and in the CLI's data directory alike, so that the floor pseudonymises
// with the same keys as Vow.
var benchKey = bytes.Repeat([]byte{7}, 32)

func benchKeyring() (*keyring.Keyring, error) { return keyring.New(benchKey) }

// Run measures access and erasure for every subject of cfg.Scale, Vow
// against the floor, on one database.
func Run(ctx context.Context, cfg Config) ([]Result, error) {
	cfg = cfg.withDefaults()
	p, err := benchPolicy(cfg.Kind)
	if err != nil {
		return nil, err
	}
	store, err := state.Open(ctx, filepath.Join(cfg.Dir, "state-"+cfg.Kind+".db"), nil)
	if err != nil {
		return nil, err
	}
	defer store.Close()
	keys, err := benchKeyring()
	if err != nil {
		return nil, err
	}
	exports := filepath.Join(cfg.Dir, "exports-"+cfg.Kind)
	svc := &dsr.Service{
		Policy: p, Store: store, Keys: keys, ExportDir: exports,
		Datastores: datastore.Resolver{LookupEnv: func(k string) (string, bool) {
			if k == "BENCH_DSN" {
				return cfg.DSN, true
			}
			return "", false
		}},
		// As in vow serve's worker: pools stay open across requests.
		KeepConnections: true,
	}
	defer svc.Close()
	fl, err := newFloor(ctx, cfg, p, keys)
	if err != nil {
		return nil, err
	}
	defer fl.close()

	var out []Result
	for _, s := range Subjects(cfg.Scale) {
		for _, op := range []dsr.Type{dsr.Access, dsr.Erasure} {
			vow := contender{"vow", func(ctx context.Context, last bool) (outcome, error) {
				if cfg.CPUProfile != "" && s.Name == "heavy" && last {
					stop, err := startProfile(fmt.Sprintf("%s-%s-%s.pprof", cfg.CPUProfile, cfg.Kind, op))
					if err != nil {
						return outcome{}, err
					}
					defer stop()
				}
				return vowRun(ctx, svc, op, s)
			}}
			o, err := measure(ctx, cfg, fl.conn.DB(), s, op, []contender{fl.contender(op, s), vow})
			if err != nil {
				return nil, err
			}
			res := Result{Kind: cfg.Kind, Subject: s.Name, Op: string(op), SubjectRows: s.Rows}
			res.fill(o[1], o[0])
			out = append(out, res)
			os.RemoveAll(exports)
		}
	}
	return out, nil
}

func (cfg Config) withDefaults() Config {
	if cfg.Runs <= 0 {
		cfg.Runs = 4
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	return cfg
}

// benchPolicy is the parsed bench policy for a kind of database.
func benchPolicy(kind string) (*policy.Policy, error) {
	src := Policy(kind, "BENCH_DSN")
	p, ds := policy.Parse("vow.yaml", []byte(src))
	if errs, _ := ds.Count(); errs > 0 || p == nil {
		var b strings.Builder
		ds.WriteText(&b, []byte(src))
		return nil, fmt.Errorf("dsrbench: policy has errors:\n%s", b.String())
	}
	return p, nil
}

// fill sets the times, rows and ratios of a result from Vow's and the
// floor's outcomes, round by round.
func (r *Result) fill(vow, floor []outcome) {
	last := len(vow) - 1
	r.Vow, r.Floor = medianTime(vow), medianTime(floor)
	r.VowRows, r.FloorRows = vow[last].rows, floor[last].rows
	r.VowSteps, r.FloorSteps = vow[last].steps, floor[last].steps
	for _, o := range vow {
		r.PeakHeap = max(r.PeakHeap, o.peak)
	}
	r.Ratios = ratios(vow, floor)
}

// floor is the hand-written SQL on a pooled connection of the harness.
type floor struct {
	kind string
	conn connector.SQL
	plan *dsr.Plan
	keys *keyring.Keyring
	json string // where the access floor writes its file
}

func newFloor(ctx context.Context, cfg Config, p *policy.Policy, keys *keyring.Keyring) (*floor, error) {
	plan, err := dsr.NewPlan(p, "customer", []string{"email"})
	if err != nil {
		return nil, err
	}
	conn, err := datastore.OpenDSN(ctx, cfg.Kind, cfg.DSN)
	if err != nil {
		return nil, err
	}
	return &floor{kind: cfg.Kind, conn: conn, plan: plan, keys: keys, json: filepath.Join(cfg.Dir, "floor.json")}, nil
}

func (f *floor) close() { f.conn.Close() }

// contender is the floor's side of a measurement of op for s.
func (f *floor) contender(op dsr.Type, s Subject) contender {
	return contender{"floor", func(ctx context.Context, _ bool) (outcome, error) {
		start := time.Now()
		var fs floorStats
		var err error
		if op == dsr.Access {
			fs, err = floorAccess(ctx, f.kind, f.conn.DB(), f.plan, s.Email, f.json)
		} else {
			fs, err = floorErase(ctx, f.kind, f.conn.DB(), f.plan, f.keys, s.Email)
		}
		if err != nil {
			return outcome{}, err
		}
		return outcome{d: time.Since(start), rows: fs.rows, steps: fs.steps}, nil
	}}
}

// contender is one side of a measurement: Vow in-process, Vow's CLI, the
// floor or a database client. run does the work once; last is true in
// the last measured round (for a profile).
type contender struct {
	name string
	run  func(ctx context.Context, last bool) (outcome, error)
}

// outcome is what one run of a contender took and did.
type outcome struct {
	d     time.Duration
	rows  int64      // rows read or changed
	steps []stepTime // per table or phase
	peak  uint64     // peak heap (in-process) or RSS (a process)
}

// measure runs op for s: one unmeasured run of each contender warms the
// caches, the pools and the code paths alike (an erasure's warm-up is its
// access's), then cfg.Runs rounds of one run each. Whoever runs second may
// find the others' leftovers (a checkpoint under way, pages it evicted),
// so the order rotates between rounds. Each erasure starts from the
// subject's rows as generated, and after each round every contender must
// have left them in the same state, or they did not do the same work. It
// returns each contender's outcomes in round order.
func measure(ctx context.Context, cfg Config, db *sql.DB, s Subject, op dsr.Type, cs []contender) ([][]outcome, error) {
	if op == dsr.Access {
		for _, c := range cs {
			if _, err := c.run(ctx, false); err != nil {
				return nil, fmt.Errorf("dsrbench: %s %s: warm-up of %s: %w", cfg.Kind, s.Name, c.name, err)
			}
		}
	}
	out := make([][]outcome, len(cs))
	for run := range cfg.Runs {
		left := make([]map[string]string, len(cs))
		for k := range cs {
			i := (k + run) % len(cs)
			if op == dsr.Erasure {
				if err := Restore(ctx, cfg.Kind, cfg.DSN, cfg.Scale, s); err != nil {
					return nil, err
				}
			}
			o, err := cs[i].run(ctx, run == cfg.Runs-1)
			if err != nil {
				return nil, fmt.Errorf("dsrbench: %s %s %s: %s: %w", cfg.Kind, s.Name, op, cs[i].name, err)
			}
			out[i] = append(out[i], o)
			if op == dsr.Erasure {
				if left[i], err = blockDigest(ctx, db, s); err != nil {
					return nil, err
				}
			}
		}
		if op == dsr.Erasure {
			for i := 1; i < len(cs); i++ {
				for _, t := range tables {
					if left[i][t.name] != left[0][t.name] {
						return nil, fmt.Errorf("dsrbench: %s %s: after erasure, %s and %s left %s in different states", cfg.Kind, s.Name, cs[i].name, cs[0].name, t.name)
					}
				}
			}
		}
		var b strings.Builder
		for i, c := range cs {
			fmt.Fprintf(&b, ", %s %s", c.name, out[i][run].d.Round(time.Millisecond))
		}
		cfg.Logf("%s %s %s run %d%s", cfg.Kind, s.Name, op, run+1, b.String())
	}
	if op == dsr.Erasure {
		if err := Restore(ctx, cfg.Kind, cfg.DSN, cfg.Scale, s); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ratios are a's times over b's, round by round.
func ratios(a, b []outcome) []float64 {
	out := make([]float64, len(a))
	for i := range a {
		out[i] = float64(a[i].d) / float64(b[i].d)
	}
	return out
}

func medianTime(runs []outcome) time.Duration {
	ds := make([]time.Duration, len(runs))
	for i, o := range runs {
		ds[i] = o.d
	}
	return benchstat.Median(ds)
}

// blockDigest hashes what is left of a subject's rows, per table, so that
// the states after Vow's and the floor's erasures can be compared.
func blockDigest(ctx context.Context, db *sql.DB, s Subject) (map[string]string, error) {
	out := map[string]string{}
	base := blockBase(s.block)
	for _, t := range tables {
		rows, err := db.QueryContext(ctx, fmt.Sprintf("SELECT * FROM %s WHERE id >= %d AND id < %d ORDER BY id", t.name, base, base+100_000_000))
		if err != nil {
			return nil, fmt.Errorf("dsrbench: digest %s: %w", t.name, err)
		}
		h := sha256.New()
		vals := make([]any, len(t.cols))
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return nil, err
			}
			for _, v := range vals {
				if b, ok := v.([]byte); ok {
					v = string(b)
				}
				fmt.Fprintf(h, "%v\x1f", v)
			}
			h.Write([]byte{'\n'})
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, err
		}
		out[t.name] = hex.EncodeToString(h.Sum(nil))
	}
	return out, nil
}

func startProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// vowRun creates and runs one trusted request in-process and returns its
// time, the rows it read or changed, per-step times and the peak heap.
func vowRun(ctx context.Context, svc *dsr.Service, op dsr.Type, s Subject) (outcome, error) {
	runtime.GC()
	stop := sampleHeap()
	start := time.Now()
	last := start
	var steps []stepTime
	r, err := svc.Create(ctx, dsr.NewRequest{Type: op, Subject: "customer", Identities: dsr.Identities{"email": s.Email}, Verification: dsr.VerifyTrusted, CreatedBy: "bench"})
	if err == nil {
		r, err = svc.Run(ctx, r.ID, func(p dsr.Progress) {
			if p.Done {
				now := time.Now()
				steps = append(steps, stepTime{strings.TrimPrefix(p.Step, "app:"), now.Sub(last), p.Rows})
				last = now
			}
		})
	}
	d := time.Since(start)
	peak := stop()
	if err != nil {
		return outcome{}, err
	}
	if r.Status != dsr.Completed || r.Result == nil {
		return outcome{}, fmt.Errorf("dsrbench: request %s ended %s: %s", r.ID, r.Status, r.LastError)
	}
	steps = append(steps, stepTime{"(finish)", d - last.Sub(start), 0})
	var rows int64
	for _, n := range r.Result.Rows {
		rows += n
	}
	return outcome{d: d, rows: rows, steps: steps, peak: peak}, nil
}

// sampleHeap samples the heap in use every millisecond until the returned
// function is called, which returns the peak.
func sampleHeap() func() uint64 {
	const name = "/memory/classes/heap/objects:bytes"
	sample := []metrics.Sample{{Name: name}}
	var (
		peak uint64
		wg   sync.WaitGroup
	)
	done := make(chan struct{})
	read := func() {
		metrics.Read(sample)
		if v := sample[0].Value.Uint64(); v > peak {
			peak = v
		}
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			read()
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		wg.Wait()
		read()
		return peak
	}
}

// WriteReport prints the results as a Markdown table, then the per-table
// times of Vow and the floor of each line. Results of the CLI (RunCLI)
// get a table of their own, then the phases the CLI traced.
func WriteReport(w io.Writer, results []Result) {
	var inProcess, cli []Result
	for _, r := range results {
		if r.CLI {
			cli = append(cli, r)
		} else {
			inProcess = append(inProcess, r)
		}
	}
	if len(inProcess) > 0 {
		writeInProcess(w, inProcess)
	}
	if len(cli) > 0 {
		writeCLI(w, cli)
	}
}

func writeInProcess(w io.Writer, results []Result) {
	fmt.Fprintln(w, "| database | subject (rows) | request | Vow | floor | Vow / floor | spread | Vow peak heap | rows read/changed (Vow, floor) |")
	fmt.Fprintln(w, "|---|---|---|---:|---:|---:|---:|---:|---|")
	for _, r := range results {
		lo, hi := r.Spread()
		fmt.Fprintf(w, "| %s | %s (%d) | %s | %s | %s | %.2f× | %.2f–%.2f | %.1f MiB | %d, %d |\n",
			dbName(r.Kind), r.Subject, r.SubjectRows, r.Op, fmtDur(r.Vow), fmtDur(r.Floor), r.Ratio(), lo, hi,
			float64(r.PeakHeap)/(1<<20), r.VowRows, r.FloorRows)
	}
	for _, r := range results {
		fmt.Fprintf(w, "\nPer table, %s, %s subject, %s (last run): Vow | floor\n\n", dbName(r.Kind), r.Subject, r.Op)
		floor := map[string]stepTime{}
		for _, s := range r.FloorSteps {
			floor[s.table] = s
		}
		for _, s := range r.VowSteps {
			f := floor[s.table]
			fmt.Fprintf(w, "    %-16s %7d rows  %9s | %9s\n", s.table, s.rows, fmtDur(s.d), fmtDur(f.d))
		}
	}
}

func writeCLI(w io.Writer, results []Result) {
	fmt.Fprintln(w, "| database | subject (rows) | request | vow CLI | floor | CLI / floor | spread | client | CLI / client | spread | CLI peak RSS | rows (CLI, floor, client) |")
	fmt.Fprintln(w, "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
	for _, r := range results {
		lo, hi := r.Spread()
		client, vsClient, clientRows := "–", "–", ""
		clientSpread := "–"
		if len(r.ClientRatios) > 0 {
			client, vsClient = fmtDur(r.Client), fmt.Sprintf("%.2f×", benchstat.Median(r.ClientRatios))
			clientSpread = fmt.Sprintf("%.2f–%.2f", slices.Min(r.ClientRatios), slices.Max(r.ClientRatios))
			clientRows = fmt.Sprintf(", %d", r.ClientRows)
		}
		fmt.Fprintf(w, "| %s | %s (%d) | %s | %s | %s | %.2f× | %.2f–%.2f | %s | %s | %s | %.1f MiB | %d, %d%s |\n",
			dbName(r.Kind), r.Subject, r.SubjectRows, r.Op, fmtDur(r.Vow), fmtDur(r.Floor), r.Ratio(), lo, hi,
			client, vsClient, clientSpread, float64(r.PeakHeap)/(1<<20), r.VowRows, r.FloorRows, clientRows)
	}
	for _, r := range results {
		fmt.Fprintf(w, "\nPhases of the CLI, %s, %s subject, %s (last run):\n\n", dbName(r.Kind), r.Subject, r.Op)
		for _, s := range r.VowSteps {
			fmt.Fprintf(w, "    %-30s %7d rows  %9s\n", s.table, s.rows, fmtDur(s.d))
		}
	}
}

func dbName(kind string) string {
	if kind == "mysql" {
		return "MariaDB"
	}
	return "PostgreSQL"
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	default:
		return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000)
	}
}
