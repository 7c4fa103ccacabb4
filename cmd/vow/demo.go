package main

import (
	"cmp"
	"encoding/json"
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
			if a.format == "json" {
				return a.json(map[string]any{"dir": res.Dir, "rows": res.Rows, "diagnostics": ds, "data_map": m, "event": ev.Seq})
			}
			if len(ds) > 0 {
				ds.WriteText(a.stdout, p.Source)
				fmt.Fprintln(a.stdout)
			}
			fmt.Fprintf(a.stdout, "vow check --live %s: %d error(s), %d warning(s); recorded as event #%d in %s\n\n", res.Policy, errs, warns, ev.Seq, redactURL(stateURL))
			if err := m.WriteText(a.stdout); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "\nNext: edit %s (try a typo, or declare a column that does not exist) and run\n  go run ./cmd/vow check --live %s\n", res.Policy, res.Policy)
			if errs > 0 {
				return exitError{1}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "vow-demo", "directory to write the demo into (replaced if it holds an earlier demo)")
	cmd.Flags().IntVar(&size, "size", 1, "scale of the sample data (1 ≈ 60k rows)")
	return cmd
}
