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

	"github.com/vowprivacy/vow/datastore"
	"github.com/vowprivacy/vow/dsr"
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
	// subject are profiled to <prefix>-<kind>-<op>.pprof.
	CPUProfile string
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
	// VowSteps and FloorSteps are per-table times of the last run.
	VowSteps, FloorSteps []stepTime
}

// Ratio is the median of the per-round ratios of Vow's time over the
// floor's: each round's two runs share the machine's state at that moment,
// which a ratio of the medians would pull apart.
func (r Result) Ratio() float64 { return medianOf(r.Ratios) }

// Spread is the smallest and largest per-round ratio.
func (r Result) Spread() (lo, hi float64) { return slices.Min(r.Ratios), slices.Max(r.Ratios) }

// Run measures access and erasure for every subject of cfg.Scale, Vow
// against the floor, on one database.
func Run(ctx context.Context, cfg Config) ([]Result, error) {
	if cfg.Runs <= 0 {
		cfg.Runs = 4
	}
	logf := cfg.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	p, ds := policy.Parse("vow.yaml", []byte(Policy(cfg.Kind, "BENCH_DSN")))
	if errs, _ := ds.Count(); errs > 0 || p == nil {
		var b strings.Builder
		ds.WriteText(&b, []byte(Policy(cfg.Kind, "BENCH_DSN")))
		return nil, fmt.Errorf("dsrbench: policy has errors:\n%s", b.String())
	}
	store, err := state.Open(ctx, filepath.Join(cfg.Dir, "state-"+cfg.Kind+".db"), nil)
	if err != nil {
		return nil, err
	}
	defer store.Close()
	keys, err := keyring.New(bytes.Repeat([]byte{7}, 32))
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
	plan, err := dsr.NewPlan(p, "customer", []string{"email"})
	if err != nil {
		return nil, err
	}
	conn, err := datastore.OpenDSN(ctx, cfg.Kind, cfg.DSN)
	if err != nil {
		return nil, err
	}
	defer conn.Close()

	var out []Result
	for _, s := range Subjects(cfg.Scale) {
		for _, op := range []dsr.Type{dsr.Access, dsr.Erasure} {
			res := Result{Kind: cfg.Kind, Subject: s.Name, Op: string(op), SubjectRows: s.Rows}
			var vows, floors []time.Duration
			// One unmeasured run of each warms the caches, the pools and
			// the code paths alike (an erasure's warm-up is its access's).
			if op == dsr.Access {
				if _, err := floorAccess(ctx, cfg.Kind, conn.DB(), plan, s.Email, filepath.Join(cfg.Dir, "floor.json")); err != nil {
					return nil, err
				}
				if _, _, _, _, err := vowRun(ctx, svc, op, s); err != nil {
					return nil, err
				}
			}
			for run := range cfg.Runs {
				var floorState, vowState map[string]string
				floor := func() error {
					if op == dsr.Erasure {
						if err := Restore(ctx, cfg.Kind, cfg.DSN, cfg.Scale, s); err != nil {
							return err
						}
					}
					start := time.Now()
					var fs floorStats
					if op == dsr.Access {
						fs, err = floorAccess(ctx, cfg.Kind, conn.DB(), plan, s.Email, filepath.Join(cfg.Dir, "floor.json"))
					} else {
						fs, err = floorErase(ctx, cfg.Kind, conn.DB(), plan, keys, s.Email)
					}
					if err != nil {
						return err
					}
					floors = append(floors, time.Since(start))
					res.FloorRows, res.FloorSteps = fs.rows, fs.steps
					if op == dsr.Erasure {
						floorState, err = blockDigest(ctx, conn.DB(), s)
					}
					return err
				}
				vow := func() error {
					if op == dsr.Erasure {
						if err := Restore(ctx, cfg.Kind, cfg.DSN, cfg.Scale, s); err != nil {
							return err
						}
					}
					var prof func()
					if cfg.CPUProfile != "" && s.Name == "heavy" && run == cfg.Runs-1 {
						if prof, err = startProfile(fmt.Sprintf("%s-%s-%s.pprof", cfg.CPUProfile, cfg.Kind, op)); err != nil {
							return err
						}
					}
					d, rows, steps, peak, err := vowRun(ctx, svc, op, s)
					if prof != nil {
						prof()
					}
					if err != nil {
						return err
					}
					vows = append(vows, d)
					res.VowRows, res.VowSteps = rows, steps
					res.PeakHeap = max(res.PeakHeap, peak)
					if op == dsr.Erasure {
						vowState, err = blockDigest(ctx, conn.DB(), s)
					}
					return err
				}
				// Whoever runs second may find the other's leftovers (a
				// checkpoint under way, pages it evicted), so the order
				// alternates between rounds.
				first, second := floor, vow
				if run%2 == 1 {
					first, second = vow, floor
				}
				if err := first(); err != nil {
					return nil, err
				}
				if err := second(); err != nil {
					return nil, err
				}
				if op == dsr.Erasure {
					// Both must leave the subject's rows in the same state,
					// or the floor is not the same work.
					for _, t := range tables {
						if vowState[t.name] != floorState[t.name] {
							return nil, fmt.Errorf("dsrbench: %s %s: after erasure, Vow and the floor left %s in different states", cfg.Kind, s.Name, t.name)
						}
					}
				}
				v, f := vows[len(vows)-1], floors[len(floors)-1]
				res.Ratios = append(res.Ratios, float64(v)/float64(f))
				logf("%s %s %s run %d: vow %s, floor %s", cfg.Kind, s.Name, op, run+1, v.Round(time.Millisecond), f.Round(time.Millisecond))
			}
			if op == dsr.Erasure {
				if err := Restore(ctx, cfg.Kind, cfg.DSN, cfg.Scale, s); err != nil {
					return nil, err
				}
			}
			res.Vow, res.Floor = median(vows), median(floors)
			out = append(out, res)
			os.RemoveAll(exports)
		}
	}
	return out, nil
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

// vowRun creates and runs one trusted request and returns its time, the
// rows it read or changed, per-step times and the peak heap.
func vowRun(ctx context.Context, svc *dsr.Service, op dsr.Type, s Subject) (time.Duration, int64, []stepTime, uint64, error) {
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
		return 0, 0, nil, 0, err
	}
	if r.Status != dsr.Completed || r.Result == nil {
		return 0, 0, nil, 0, fmt.Errorf("dsrbench: request %s ended %s: %s", r.ID, r.Status, r.LastError)
	}
	steps = append(steps, stepTime{"(finish)", d - last.Sub(start), 0})
	var rows int64
	for _, n := range r.Result.Rows {
		rows += n
	}
	return d, rows, steps, peak, nil
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

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func medianOf(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 0 {
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return s[len(s)/2]
}

// WriteReport prints the results as a Markdown table, then the per-table
// times of Vow and the floor of each line.
func WriteReport(w io.Writer, results []Result) {
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
