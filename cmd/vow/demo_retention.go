package main

import (
	"fmt"
	"path/filepath"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/vowprivacy/vow/datastore"
	"github.com/vowprivacy/vow/hold"
	"github.com/vowprivacy/vow/retention"
)

// demoRetention plans Lumen's retention rules on the sample database, then
// runs them in batches and shows what went, what was kept under legal hold,
// and that a second run finds nothing left.
func demoRetention(cmd *cobra.Command, a *app, env *demoEnv) (any, error) {
	ctx := cmd.Context()
	k, err := a.openKeyring(cmd, env.DataDir, env.Store)
	if err != nil {
		return nil, err
	}
	e := &retention.Engine{
		Policy:     env.Policy,
		Datastores: datastore.Resolver{BaseDir: env.Dir},
		Store:      env.Store,
		Holds:      hold.New(env.Store),
		MAC:        k,
		Logger:     a.logger,
	}
	plan, err := e.Plan(ctx, nil)
	if err != nil {
		return nil, err
	}
	rep, err := e.Run(ctx, retention.Options{Batch: 2000, Actor: "vow demo"})
	if err != nil {
		return nil, err
	}
	again, err := e.Plan(ctx, nil)
	if err != nil {
		return nil, err
	}
	var left int64
	for _, r := range again.Rules {
		left += r.Rows
	}
	if a.format == "text" {
		fmt.Fprintf(a.stdout, "vow retention plan (a dry run) of %d rules:\n\n", len(plan.Rules))
		tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "RULE\tTABLE\tEXPIRED ROWS\tDEPENDENT ROWS\tKEPT (HOLD)\tWARNINGS")
		for _, r := range plan.Rules {
			var dep int64
			for _, c := range r.Cascade {
				dep += c.Rows
			}
			fmt.Fprintf(tw, "%s\t%s\t%d %s\t%d\t%d\t%d\n", r.Rule, r.Table, r.Rows, pastTense(r.Action), dep, r.Held, len(r.Warnings))
		}
		tw.Flush()
		for _, r := range plan.Rules {
			if r.Held > 0 && len(r.Warnings) > 0 {
				fmt.Fprintf(a.stdout, "\n%q keeps %d rows: %s\n", r.Rule, r.Held, r.Warnings[len(r.Warnings)-1])
				break
			}
		}
		fmt.Fprintln(a.stdout, "\nvow retention run (keyset batches of 2000, each its own transaction, checkpointed):")
		fmt.Fprintln(a.stdout)
		writeReport(a.stdout, rep)
		fmt.Fprintf(a.stdout, "\nA second plan finds %d expired rows left. The run is recorded: vow retention history --state %s\n", left, filepath.Join(env.Dir, "state", "vow.db"))
		fmt.Fprintf(a.stdout, "See every statement and warning: vow retention plan %s --state %s --data-dir %s\n", filepath.Join(env.Dir, "vow.yaml"), filepath.Join(env.Dir, "state", "vow.db"), env.DataDir)
	}
	return map[string]any{"plan": plan, "run": rep, "left": left}, nil
}
