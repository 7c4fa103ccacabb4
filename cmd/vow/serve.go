package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/vowprivacy/vow/apitoken"
	"github.com/vowprivacy/vow/consent"
	"github.com/vowprivacy/vow/dsr"
	"github.com/vowprivacy/vow/keyring"
	"github.com/vowprivacy/vow/policy"
	"github.com/vowprivacy/vow/server"
	"github.com/vowprivacy/vow/state"
)

// serveEnv is what `vow serve` hands every capability that mounts routes
// or runs a background worker.
type serveEnv struct {
	Policy     *policy.Policy
	PolicyFile string // absolute path of vow.yaml
	Store      *state.Store
	Keyring    *keyring.Keyring
	Tokens     *apitoken.Store
	Logger     *slog.Logger
	DataDir    string
	BaseURL    string // public URL of this server, without trailing slash, for links
	// Retention runs the policy's retention rules on their schedule.
	Retention bool
	// ScanEvery is how often the content scan runs (0: never); ScanFull
	// makes it read every row.
	ScanEvery time.Duration
	ScanFull  bool

	mu      sync.Mutex
	closers []func()
	// One of each per server, built on first use: the consent API and the
	// erasure of consent history must share one cache, and the request
	// routes and worker one set of connection pools.
	consent  *consent.Service
	requests *dsr.Service
}

// OnClose registers fn to run when the server has stopped (after the
// workers), in reverse order of registration.
func (e *serveEnv) OnClose(fn func()) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closers = append(e.closers, fn)
}

func (e *serveEnv) close() {
	e.mu.Lock()
	cs := e.closers
	e.closers = nil
	e.mu.Unlock()
	for i := len(cs) - 1; i >= 0; i-- {
		cs[i]()
	}
}

// serveMounts mounts each capability's routes, in this order. A mount
// gets the server's environment and its mux:
//
//	func mountIncidents(env *serveEnv, mux *server.Mux) error {
//		mux.Handle("GET /v1/incidents/{id}", apitoken.ScopeAdmin, h.get)
//		return nil
//	}
func serveMounts() []func(env *serveEnv, mux *server.Mux) error {
	return []func(env *serveEnv, mux *server.Mux) error{
		mountKeys, mountConsent, mountRequests, mountPolicy, mountIncidents,
	}
}

// serveWorkers are the background loops that run while the server runs.
// Each must return when ctx is done; an error is logged and does not stop
// the server.
func serveWorkers() []func(ctx context.Context, env *serveEnv) error {
	return []func(ctx context.Context, env *serveEnv) error{
		requestWorker, retentionWorker, policyNoticeWorker, auditWorker, incidentWorker, scanWorker,
	}
}

// buildMux mounts /healthz and every capability's routes.
func buildMux(env *serveEnv) (*server.Mux, error) {
	mux := server.NewMux(env.Tokens, env.Logger)
	mux.AddHealthCheck("state", func(ctx context.Context) error { return env.Store.DB().PingContext(ctx) })
	for _, mount := range serveMounts() {
		if err := mount(env, mux); err != nil {
			return nil, err
		}
	}
	return mux, nil
}

func (a *app) serveCommand() *cobra.Command {
	var addr, baseURL string
	var noRetention, scanFull bool
	var scanEvery time.Duration
	var behindProxy bool
	var cfg server.Config
	cmd := &cobra.Command{
		Use:   "serve [vow.yaml]",
		Short: "Serve Vow's HTTP API (consent, requests, …) for the policy",
		Long: `Serve runs Vow's HTTP API for the policy: consent lookups and changes, the
cookie banner, communication preferences and unsubscribe links, and the APIs of
other capabilities (data-subject requests, the published policy), plus their
background workers: verified requests are carried out as they come, policy
notices are sent when due, the retention rules run daily (--no-retention
to leave that to vow retention schedule), and the content scan of
vow check --live --scan runs daily (--scan-every), its outcome recorded in
the audit log and its errors logged as errors. Every /v1 route needs an API token
(vow token create) holding the route's scope; /healthz, the banner script and
signed links are public.

Several instances may share one PostgreSQL state store (--state postgres://…):
they must share the master key ($VOW_MASTER_KEY), and see each other's consent
changes within a second. It stops gracefully on SIGINT/SIGTERM.`,
		Example: `  vow token create backend --scope consent
  vow serve --addr 127.0.0.1:8080
  curl -H "Authorization: Bearer $TOKEN" localhost:8080/v1/consent/user-42
  VOW_STATE=postgres://vow@db/vow vow serve --addr :8080 --base-url https://privacy.example.com`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			file := a.policyArg(args)
			p, err := a.loadValidPolicy(file)
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("serve: listen on %s: %w", addr, err)
			}
			defer ln.Close()
			store, err := a.openState(cmd)
			if err != nil {
				return err
			}
			defer store.Close()
			k, err := a.openKeyring(cmd, a.dataDir, store)
			if err != nil {
				return err
			}
			abs, _ := filepath.Abs(file)
			env := &serveEnv{
				Policy: p, PolicyFile: abs, Store: store, Keyring: k, Tokens: apitoken.New(store),
				Logger: a.logger, DataDir: a.dataDir, Retention: !noRetention, ScanEvery: scanEvery, ScanFull: scanFull,
				BaseURL: strings.TrimSuffix(cmp.Or(baseURL, "http://"+ln.Addr().String()), "/"),
			}
			defer env.close()
			mux, err := buildMux(env)
			if err != nil {
				return err
			}
			if behindProxy {
				mux.SetClientIP(server.ForwardedIP)
			}
			return runServer(ctx, a, env, server.New(mux, cfg, a.logger), ln)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on")
	cmd.Flags().BoolVar(&behindProxy, "behind-proxy", false, "take client addresses (for rate limits) from the proxy's X-Forwarded-For")
	cmd.Flags().StringVar(&baseURL, "base-url", "", "public URL of this server, used in links (default http://ADDR)")
	cmd.Flags().BoolVar(&noRetention, "no-retention", false, "do not run the retention rules on their schedule (run vow retention schedule elsewhere)")
	cmd.Flags().DurationVar(&scanEvery, "scan-every", 24*time.Hour, "run the content scan of check --live --scan this often, recorded in the audit log (0: never)")
	cmd.Flags().BoolVar(&scanFull, "scan-full", false, "the scheduled content scan reads every row, not a sample")
	cmd.Flags().DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", server.DefaultConfig.ShutdownTimeout, "how long in-flight requests may finish after SIGTERM")
	cmd.Flags().DurationVar(&cfg.WriteTimeout, "write-timeout", server.DefaultConfig.WriteTimeout, "longest time to write one response")
	return cmd
}

// runServer serves until ctx is done and runs the workers meanwhile; it
// waits for the workers to return before returning.
func runServer(ctx context.Context, a *app, env *serveEnv, srv *server.Server, ln net.Listener) error {
	wctx, stopWorkers := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, w := range serveWorkers() {
		wg.Go(func() {
			if err := w(wctx, env); err != nil && !errors.Is(err, context.Canceled) {
				env.Logger.Error("serve: worker stopped", "err", err)
			}
		})
	}
	fmt.Fprintf(a.stdout, "vow serve: listening on %s (policy %s, state %s)\n", env.BaseURL, env.PolicyFile, redactURL(a.stateURL()))
	err := srv.Serve(ctx, ln)
	stopWorkers()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		env.Logger.Error("serve: workers did not stop within 30s")
	}
	fmt.Fprintln(a.stdout, "vow serve: stopped")
	return err
}
