package main

import (
	"context"
	"time"

	"github.com/vowprivacy/vow/server"
)

// mountIncidents mounts the breach register's API.
func mountIncidents(env *serveEnv, mux *server.Mux) error {
	newRegister(env.Policy, env.PolicyFile, env.Store).Mount(mux)
	return nil
}

// incidentCheckInterval is how often vow serve looks for deadlines near.
const incidentCheckInterval = time.Minute

// incidentWorker warns of breach deadlines as they near.
func incidentWorker(ctx context.Context, env *serveEnv) error {
	reg := newRegister(env.Policy, env.PolicyFile, env.Store)
	al, err := incidentAlerter(env.Policy, env.Logger)
	if err != nil {
		return err
	}
	t := time.NewTicker(incidentCheckInterval)
	defer t.Stop()
	for {
		if _, err := reg.Check(ctx, al); err != nil {
			env.Logger.Error("breach: a deadline warning was not delivered; it is tried again in a minute", "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
