package main

import (
	"context"
	"time"

	"github.com/vowprivacy/vow/audit"
)

func init() { serveWorkers = append(serveWorkers, auditWorker) }

// auditSealInterval is how often vow serve seals the audit log: the
// longest an entry stays unsealed while the server runs.
const auditSealInterval = time.Minute

// auditPruneInterval is how often vow serve prunes the audit log by the
// policy's retention.audit_log.
const auditPruneInterval = 24 * time.Hour

// auditWorker seals the audit log every minute and prunes it once a day.
func auditWorker(ctx context.Context, env *serveEnv) error {
	log := &audit.Log{Store: env.Store, Keys: env.Keyring}
	t := time.NewTicker(auditSealInterval)
	defer t.Stop()
	var pruned time.Time
	for {
		if _, _, err := log.Seal(ctx); err != nil {
			env.Logger.Warn("audit: seal", "err", err)
		}
		if keep := env.Policy.Retention.AuditLog; !keep.IsZero() && time.Since(pruned) >= auditPruneInterval {
			p, err := log.Prune(ctx, keep.Before(time.Now()), "vow serve", false)
			switch {
			case err != nil:
				env.Logger.Error("audit: prune", "err", err)
			case p.Deleted > 0:
				env.Logger.Info("audit: pruned", "entries", p.Deleted, "through", p.Through, "before", p.Before)
			}
			pruned = time.Now()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
