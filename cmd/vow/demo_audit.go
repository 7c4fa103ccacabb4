package main

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/vowprivacy/vow/audit"
	"github.com/vowprivacy/vow/state"
)

// demoAudit seals what the demo did, shows the newest entries and
// verifies the whole log.
func demoAudit(cmd *cobra.Command, a *app, env *demoEnv) (any, error) {
	ctx := cmd.Context()
	k, err := a.openKeyring(cmd, env.DataDir, env.Store)
	if err != nil {
		return nil, err
	}
	c, _, err := (&audit.Log{Store: env.Store, Keys: k, Witness: filepath.Join(env.DataDir, audit.WitnessFile)}).Seal(ctx)
	if err != nil {
		return nil, err
	}
	seq, _, err := env.Store.Head(ctx)
	if err != nil {
		return nil, err
	}
	recent, err := env.Store.Events(ctx, state.EventFilter{After: max(seq-8, 0)})
	if err != nil {
		return nil, err
	}
	start := time.Now()
	r, err := audit.Verify(ctx, audit.StoreSource{Store: env.Store}, audit.TrustKeys(k.Trusted()...))
	if err != nil {
		return nil, err
	}
	if !r.OK() {
		return nil, fmt.Errorf("the demo's own audit log does not verify: %s", r.Problems[0].Detail)
	}
	if a.format == "text" {
		fmt.Fprintf(a.stdout, "Everything above is in Vow's audit log, each entry chained to the one before, sealed at #%d with key %s. The newest:\n", c.Seq, k.ID())
		for _, e := range recent {
			fmt.Fprintf(a.stdout, "  #%-4d %s  %-26s %-14s %s\n", e.Seq, e.At.Format("15:04:05"), e.Kind, e.Actor, e.Subject)
		}
		fmt.Fprintln(a.stdout)
		a.printReport(r, time.Since(start))
		fmt.Fprintf(a.stdout, "Check it yourself (change an entry first, and see it caught):\n  go run ./cmd/vow audit verify --state %s --data-dir %s\n", redactURL(env.StateURL), env.DataDir)
	}
	return r, nil
}
