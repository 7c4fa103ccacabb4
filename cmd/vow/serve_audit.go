package main

import (
	"context"
	"path/filepath"
	"time"

	"github.com/vowprivacy/vow/audit"
	"github.com/vowprivacy/vow/dsr"
)

// auditSealInterval is how often vow serve seals the audit log: the
// longest an entry stays unsealed while the server runs.
const auditSealInterval = time.Minute

// auditPruneInterval is how often vow serve prunes the audit log by the
// policy's retention.audit_log.
const auditPruneInterval = 24 * time.Hour

// ownRetention enforces the retention the policy declares for Vow's own
// records: request records (retention.requests), then the audit log
// (retention.audit_log), which records the first.
func ownRetention(ctx context.Context, env *serveEnv, log *audit.Log) {
	if keep := env.Policy.Retention.Requests; !keep.IsZero() {
		svc, err := env.requestService()
		if err == nil {
			var p dsr.Purged
			p, err = svc.PurgeRecords(ctx, keep.Before(time.Now()), "vow serve", false)
			if err == nil && p.Requests > 0 {
				env.Logger.Info("requests: purged the records of ended requests", "requests", p.Requests, "before", p.Before)
			}
		}
		if err != nil {
			env.Logger.Error("requests: purge records", "err", err)
		}
	}
	if keep := env.Policy.Retention.AuditLog; !keep.IsZero() {
		p, err := log.Prune(ctx, keep.Before(time.Now()), "vow serve", false)
		switch {
		case err != nil:
			env.Logger.Error("audit: prune", "err", err)
		case p.Deleted > 0:
			env.Logger.Info("audit: pruned", "entries", p.Deleted, "through", p.Through, "before", p.Before)
		}
	}
}

// auditWorker seals the audit log every minute, and once a day enforces
// the retention of Vow's own records.
func auditWorker(ctx context.Context, env *serveEnv) error {
	log := &audit.Log{Store: env.Store, Keys: env.Keyring, Witness: filepath.Join(env.DataDir, audit.WitnessFile)}
	t := time.NewTicker(auditSealInterval)
	defer t.Stop()
	var pruned time.Time
	for {
		if _, _, err := log.Seal(ctx); err != nil {
			env.Logger.Warn("audit: seal", "err", err)
		}
		if time.Since(pruned) >= auditPruneInterval {
			ownRetention(ctx, env, log)
			pruned = time.Now()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
