package main

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/vowprivacy/vow/datamap"
	"github.com/vowprivacy/vow/datastore"
	"github.com/vowprivacy/vow/demo"
	"github.com/vowprivacy/vow/drift"
	"github.com/vowprivacy/vow/policy"
	"github.com/vowprivacy/vow/state"
)

// demoEnv is what the demo's steps share: the sample database's directory
// (app.db, vow.yaml), the loaded policy, and the open state store.
type demoEnv struct {
	Dir     string
	Policy  *policy.Policy
	Store   *state.Store
	DataDir string // Vow's data directory for the demo (keys, exports)
	// StateURL is where the demo's state store is, for the commands it
	// suggests.
	StateURL string
}

// demoStep is one capability's part of the demo, run in order after the
// data map is shown. run writes its own text output (a.format == "text")
// and returns what the JSON output holds under name.
type demoStep struct {
	name  string
	title string
	run   func(cmd *cobra.Command, a *app, env *demoEnv) (any, error)
}

// demoSteps are the demo's parts, in the order they run.
func demoSteps() []demoStep {
	return []demoStep{
		{name: "requests", title: "Data-subject requests: access, then erasure", run: demoRequests},
		{name: "retention", title: "Retention: plan, then purge expired data", run: demoRetention},
		{name: "consent", title: "Consent and preferences", run: demoConsent},
		{name: "policy", title: "The privacy policy, rendered and versioned", run: demoPolicyStep},
		{name: "audit", title: "Vow's own audit log, sealed and verified", run: demoAudit},
	}
}

func (a *app) demoCommand() *cobra.Command {
	var dir string
	var size int
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Build a sample SaaS database and its policy, and show what Vow sees",
		Long: `Demo writes a sample application database (SQLite) for Lumen, a fictional
security-scanning SaaS, and the vow.yaml that declares it; checks the policy
and the database against each other; records the check in Vow's state store;
and prints the data map. Nothing else needs to be installed.`,
		Example: `  vow demo
  vow demo --dir /tmp/lumen --size 10   # ten times the rows
  vow check --live vow-demo/vow.yaml    # check it again yourself`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			start := time.Now()
			res, err := demo.Generate(ctx, dir, demo.Size(size), time.Now())
			if err != nil {
				return err
			}
			rows := map[string]int64{}
			var total int64
			for _, r := range res.Rows {
				rows["app:"+r.Table] = int64(r.Rows)
				total += int64(r.Rows)
			}
			if a.format == "text" {
				fmt.Fprintf(a.stdout, "Wrote %s (%d rows in %d tables) and %s in %s.\n\n", res.Database, total, len(res.Rows), res.Policy, time.Since(start).Round(time.Millisecond))
			}
			p, ds, err := policy.Load(res.Policy)
			if err != nil {
				return err
			}
			if p != nil {
				lds, _ := drift.Live(ctx, p, datastore.Resolver{BaseDir: res.Dir})
				ds = append(ds, lds...)
			}
			errs, warns := ds.Count()
			stateURL := cmp.Or(a.state, filepath.Join(res.Dir, "state", "vow.db"))
			store, err := state.Open(ctx, stateURL, a.logger)
			if err != nil {
				return err
			}
			defer store.Close()
			data, _ := json.Marshal(map[string]any{"file": res.Policy, "errors": errs, "warnings": warns, "live": true})
			ev, err := store.Append(ctx, state.Event{Kind: "policy.checked", Actor: "vow demo", Data: data})
			if err != nil {
				return err
			}
			m := datamap.Build(p, rows)
			out := map[string]any{"dir": res.Dir, "rows": res.Rows, "diagnostics": ds, "data_map": m, "event": ev.Seq}
			if a.format == "text" {
				if len(ds) > 0 {
					ds.WriteText(a.stdout, p.Source)
					fmt.Fprintln(a.stdout)
				}
				fmt.Fprintf(a.stdout, "vow check --live %s: %d error(s), %d warning(s); recorded as event #%d in %s\n\n", res.Policy, errs, warns, ev.Seq, redactURL(stateURL))
				if err := m.WriteText(a.stdout); err != nil {
					return err
				}
			}
			if errs > 0 {
				if a.format == "json" {
					return errors.Join(a.json(out), exitError{1})
				}
				return exitError{1}
			}
			env := &demoEnv{Dir: res.Dir, Policy: p, Store: store, DataDir: filepath.Join(res.Dir, "state"), StateURL: stateURL}
			for _, step := range demoSteps() {
				if a.format == "text" {
					fmt.Fprintf(a.stdout, "\n── %s ──\n\n", step.title)
				}
				v, err := step.run(cmd, a, env)
				if err != nil {
					return fmt.Errorf("demo: %s: %w", step.title, err)
				}
				out[step.name] = v
			}
			if a.format == "json" {
				return a.json(out)
			}
			fmt.Fprintf(a.stdout, "\nNext: edit %s (try a typo, or declare a column that does not exist) and run\n  go run ./cmd/vow check --live %s\n", res.Policy, res.Policy)
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "vow-demo", "directory to write the demo into (replaced if it holds an earlier demo)")
	cmd.Flags().IntVar(&size, "size", 1, "scale of the sample data (1 ≈ 60k rows)")
	return cmd
}
