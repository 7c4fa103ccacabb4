package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/vowprivacy/vow/datastore"
	"github.com/vowprivacy/vow/drift"
	"github.com/vowprivacy/vow/policy"
	"github.com/vowprivacy/vow/scan"
	"github.com/vowprivacy/vow/state"
)

// scanLease keeps instances sharing a state store from scanning at once.
const scanLease = "scan:content"

// scanWorker runs the content scan of check --live --scan on its schedule
// (env.ScanEvery; never when 0) and records each run in the audit log:
// how many errors and warnings, by code and policy path — never a value.
// Errors (forbidden data, unprotected secrets) are logged as errors, so
// that log alerting sees them.
func scanWorker(ctx context.Context, env *serveEnv) error {
	if env.ScanEvery <= 0 {
		return nil
	}
	for {
		wait, err := nextScan(ctx, env)
		if err != nil {
			env.Logger.Error("scan: cannot read when the last scan ran; trying again in a minute", "err", err)
			wait = time.Minute
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		if err := scanOnce(ctx, env); err != nil && ctx.Err() == nil {
			env.Logger.Error("scan: the scheduled content scan failed; it runs again at its next time", "err", err)
			// Record the failure so that the next run waits its turn
			// rather than retrying at once in a loop.
			recordScan(ctx, env, nil, err)
		}
	}
}

// firstScanDelay is how long a server with no scan on record waits before
// its first: a server that restarts in a loop must not scan each time.
const firstScanDelay = time.Minute

// nextScan is how long until the next scan is due: ScanEvery after the
// last recorded one (by any instance), or soon.
func nextScan(ctx context.Context, env *serveEnv) (time.Duration, error) {
	evs, err := env.Store.Events(ctx, state.EventFilter{Kind: "scan.completed", Since: time.Now().Add(-env.ScanEvery), Limit: state.MaxEventLimit})
	if err != nil || len(evs) == 0 {
		return firstScanDelay, err
	}
	return time.Until(evs[len(evs)-1].At.Add(env.ScanEvery)), nil
}

func scanOnce(ctx context.Context, env *serveEnv) error {
	hctx, release, err := env.Store.Hold(ctx, state.Lease{Name: scanLease, Holder: state.NewHolder(), TTL: time.Minute})
	if errors.Is(err, state.ErrLeaseHeld) {
		return nil // another instance is scanning
	}
	if err != nil {
		return fmt.Errorf("scan: take the lease: %w", err)
	}
	defer release()
	// Another instance may have finished a scan just before this one took
	// the lease.
	evs, err := env.Store.Events(hctx, state.EventFilter{Kind: "scan.completed", Since: time.Now().Add(-env.ScanEvery / 2), Limit: 1})
	if err != nil {
		return fmt.Errorf("scan: read the last scan: %w", err)
	}
	if len(evs) > 0 {
		return nil
	}
	start := time.Now()
	rep, err := scan.Run(hctx, env.Policy, datastore.Resolver{BaseDir: filepath.Dir(env.PolicyFile)}, scan.Options{Full: env.ScanFull, Pause: 10 * time.Millisecond})
	if err != nil {
		return err
	}
	ds := drift.Content(env.Policy, rep)
	for _, d := range ds {
		args := []any{"code", d.Code, "path", d.Path, "line", d.Pos.Line, "msg", d.Message}
		if d.Severity == policy.Error {
			env.Logger.Error("scan: a promise of the policy is broken", args...)
		} else {
			env.Logger.Warn("scan: the data differs from the policy", args...)
		}
	}
	env.Logger.Info("scan: content scan done", "took", time.Since(start).Round(time.Millisecond), "diagnostics", len(ds))
	recordScan(hctx, env, ds, nil)
	return nil
}

// recordScan appends the outcome of a scan to the audit log.
func recordScan(ctx context.Context, env *serveEnv, ds policy.Diagnostics, failed error) {
	errs, warns := ds.Count()
	type found struct {
		Code string `json:"code"`
		Path string `json:"path"`
		Line int    `json:"line"`
	}
	data := map[string]any{"errors": errs, "warnings": warns, "full": env.ScanFull}
	var list []found
	for _, d := range ds {
		list = append(list, found{d.Code, d.Path, d.Pos.Line})
	}
	if list != nil {
		data["found"] = list
	}
	if failed != nil {
		data["failed"] = failed.Error()
	}
	b, _ := json.Marshal(data)
	if _, err := env.Store.Append(context.WithoutCancel(ctx), state.Event{Kind: "scan.completed", Actor: "vow serve", Data: b}); err != nil {
		env.Logger.Error("scan: record the scan", "err", err)
	}
}
