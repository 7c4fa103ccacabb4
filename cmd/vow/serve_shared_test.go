package main

import (
	"bytes"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/vowprivacy/vow/consent"
	"github.com/vowprivacy/vow/dsr"
	"github.com/vowprivacy/vow/keyring"
	"github.com/vowprivacy/vow/policy"
	"github.com/vowprivacy/vow/state"
)

// An erasure run by the server must be seen by the server's consent API at
// once: both use one consent service, so its cache forgets the subject.
// With one instance each (as before), the API went on answering "allowed"
// from its cache after the subject was erased.
func TestServeSharesConsentWithErasure(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := t.TempDir()
	p, ds, err := policy.Load(demoPolicy(t, dir))
	if errs, _ := ds.Count(); err != nil || errs > 0 {
		t.Fatalf("demo policy: %v %v", err, ds)
	}
	store, err := state.Open(ctx, filepath.Join(dir, "state.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	k, err := keyring.New(bytes.Repeat([]byte{3}, 32))
	if err != nil {
		t.Fatal(err)
	}
	env := &serveEnv{Policy: p, PolicyFile: p.File, Store: store, Keyring: k, Logger: slog.New(slog.DiscardHandler), DataDir: dir}
	defer env.close()

	api := env.consentService()
	reqs, err := env.requestService()
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := env.requestService(); again != reqs {
		t.Error("the request routes and worker get two request services")
	}
	const ada = "ada@example.com"
	if _, err := api.Record(ctx, []consent.Change{{Subject: ada, Purpose: "marketing", Status: consent.Granted, Source: "api", RecordedBy: "test"}}); err != nil {
		t.Fatal(err)
	}
	if ok, err := api.Allowed(ctx, ada, "marketing"); err != nil || !ok {
		t.Fatalf("Allowed before erasure = %v, %v; want true", ok, err) // and now cached
	}
	for _, hook := range reqs.EraseHooks {
		if _, err := hook(ctx, dsr.Identities{"email": ada}); err != nil {
			t.Fatal(err)
		}
	}
	if ok, err := api.Allowed(ctx, ada, "marketing"); err != nil || ok {
		t.Errorf("Allowed after erasure = %v, %v; want false (the API answers from a stale cache)", ok, err)
	}
}
