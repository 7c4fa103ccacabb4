package main

import (
	"context"
	"path/filepath"

	"github.com/vowprivacy/vow/datastore"
	"github.com/vowprivacy/vow/hold"
	"github.com/vowprivacy/vow/retention"
)

// retentionWorker runs the retention rules on their schedule. Several instances
// sharing a PostgreSQL state store take turns: a lease per rule lets one
// run it at a time, and another resumes it from its checkpoint if that
// instance dies.
func retentionWorker(ctx context.Context, env *serveEnv) error {
	if !env.Retention || len(env.Policy.Retention.Rules) == 0 {
		return nil
	}
	s := &retention.Scheduler{Engine: &retention.Engine{
		Policy:     env.Policy,
		Datastores: datastore.Resolver{BaseDir: filepath.Dir(env.PolicyFile)},
		Store:      env.Store,
		Holds:      hold.New(env.Store),
		MAC:        env.Keyring,
		Logger:     env.Logger,
	}}
	return s.Run(ctx)
}
