package main

import (
	"context"
	"path/filepath"
	"time"

	"github.com/vowprivacy/vow/dsr"
	"github.com/vowprivacy/vow/server"
)

func init() {
	serveMounts = append(serveMounts, func(env *serveEnv, mux *server.Mux) error {
		svc, err := serveRequestService(env)
		if err != nil {
			return err
		}
		svc.Mount(mux, env.BaseURL)
		return nil
	})
	serveWorkers = append(serveWorkers, func(ctx context.Context, env *serveEnv) error {
		svc, err := serveRequestService(env)
		if err != nil {
			return err
		}
		// The worker runs request after request: keep the pools open.
		svc.KeepConnections = true
		defer svc.Close()
		return svc.Work(ctx, 10*time.Second)
	})
}

// serveRequestService wires the request service of vow serve.
func serveRequestService(env *serveEnv) (*dsr.Service, error) {
	return requestService(env.Policy, env.Store, env.Keyring, filepath.Dir(env.PolicyFile), env.DataDir, env.BaseURL, env.Logger, true)
}
