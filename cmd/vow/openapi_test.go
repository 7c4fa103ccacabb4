package main

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/vowprivacy/vow/apitoken"
	"github.com/vowprivacy/vow/internal/openapitest"
	"github.com/vowprivacy/vow/keyring"
	"github.com/vowprivacy/vow/policy"
	"github.com/vowprivacy/vow/state"
)

// TestOpenAPIWholeServer: docs/openapi.yaml is valid OpenAPI, documents
// every route vow serve mounts with its method and scope, and documents
// nothing it does not serve.
func TestOpenAPIWholeServer(t *testing.T) {
	openapitest.Validate(t, "../../docs/openapi.yaml")
	dir := t.TempDir()
	p, _, err := policy.Load("../../demo/vow.yaml")
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	s, err := state.Open(context.Background(), filepath.Join(dir, "vow.db"), logger)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	k, err := keyring.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	env := &serveEnv{Policy: p, PolicyFile: filepath.Join(dir, "vow.yaml"), Store: s, Keyring: k, Tokens: apitoken.New(s),
		Logger: logger, DataDir: dir, BaseURL: "http://127.0.0.1"}
	defer env.close()
	mux, err := buildMux(env)
	if err != nil {
		t.Fatal(err)
	}
	routes := mux.Routes()
	openapitest.Check(t, "../../docs/openapi.yaml", routes)
	openapitest.CheckExist(t, "../../docs/openapi.yaml", routes)
}
