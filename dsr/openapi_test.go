package dsr_test

import (
	"testing"

	"github.com/vowprivacy/vow/internal/openapitest"
	"github.com/vowprivacy/vow/server"
)

// TestOpenAPI checks that docs/openapi.yaml documents every requests
// route with its method and the token scope it needs.
func TestOpenAPI(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "sqlite")
	mux := server.NewMux(nil, nil)
	f.svc.Mount(mux, "http://x")
	openapitest.Check(t, "../docs/openapi.yaml", mux.Routes())
}
