package consent_test

import (
	"testing"

	"github.com/vowprivacy/vow/internal/openapitest"
	"github.com/vowprivacy/vow/server"
)

// TestOpenAPI checks that docs/openapi.yaml documents every consent route
// with its method and the token scope it needs.
func TestOpenAPI(t *testing.T) {
	t.Parallel()
	e := setup(t, "sqlite")
	mux := server.NewMux(nil, nil)
	if err := e.svc.Mount(mux, "http://x"); err != nil {
		t.Fatal(err)
	}
	openapitest.Check(t, "../docs/openapi.yaml", mux.Routes())
}
