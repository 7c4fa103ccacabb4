package main

import (
	"context"
	"path/filepath"
	"time"

	"github.com/vowprivacy/vow/dsr"
	"github.com/vowprivacy/vow/server"
)

// mountRequests mounts the requests API.
func mountRequests(env *serveEnv, mux *server.Mux) error {
	svc, err := env.requestService()
	if err != nil {
		return err
	}
	svc.Mount(mux, env.BaseURL)
	return nil
}

// requestWorker runs due requests and purges expired packages.
func requestWorker(ctx context.Context, env *serveEnv) error {
	svc, err := env.requestService()
	if err != nil {
		return err
	}
	return svc.Work(ctx, 10*time.Second)
}

// requestService returns the server's request service, shared by the API
// and the worker: it keeps its datastore pools open across requests (they
// close with the server) and erases consent history through the server's
// consent service.
func (e *serveEnv) requestService() (*dsr.Service, error) {
	cons := e.consentService()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.requests != nil {
		return e.requests, nil
	}
	svc, err := requestService(e.Policy, e.Store, e.Keyring, filepath.Dir(e.PolicyFile), e.DataDir, e.BaseURL, e.Logger, true, cons)
	if err != nil {
		return nil, err
	}
	svc.KeepConnections = true
	e.requests = svc
	e.closers = append(e.closers, func() {
		if err := svc.Close(); err != nil {
			e.Logger.Warn("requests: close datastore connections", "err", err)
		}
	})
	return svc, nil
}
