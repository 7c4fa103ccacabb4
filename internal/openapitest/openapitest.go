// Package openapitest checks docs/openapi.yaml against the routes a
// capability mounts, so the API reference cannot fall behind the code.
package openapitest

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"go.yaml.in/yaml/v3"

	"github.com/vowprivacy/vow/server"
)

// Check fails t for every route that the OpenAPI document at path does
// not describe with its method, or describes with another token scope
// (x-vow-scope), or as authenticated when it is public (security: []).
func Check(t *testing.T, path string, routes []server.Route) {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI string                    `yaml:"openapi"`
		Paths   map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(src, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("%s: openapi %q, want 3.1.0", path, doc.OpenAPI)
	}
	if len(routes) == 0 {
		t.Fatal("no routes to check")
	}
	for _, r := range routes {
		method, p, _ := strings.Cut(r.Pattern, " ")
		op, ok := doc.Paths[p][strings.ToLower(method)].(map[string]any)
		if !ok {
			t.Errorf("%s is not in %s", r.Pattern, path)
			continue
		}
		scope, _ := op["x-vow-scope"].(string)
		_, public := op["security"]
		switch {
		case r.Scope == server.Public && !public:
			t.Errorf("%s is public but the document does not say security: []", r.Pattern)
		case r.Scope != server.Public && scope != r.Scope:
			t.Errorf("%s needs scope %q, the document says %q", r.Pattern, r.Scope, scope)
		}
	}
}

// Validate fails t if the document at path is not a valid OpenAPI
// document (kin-openapi's loader and validator).
func Validate(t *testing.T, path string) {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromFile(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("%s is not valid OpenAPI: %v", path, err)
	}
}

// CheckExist fails t for every operation the document at path describes
// that routes do not serve: the reference must not promise what is not
// there.
func CheckExist(t *testing.T, path string, routes []server.Route) {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(src, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	served := map[string]bool{}
	for _, r := range routes {
		served[r.Pattern] = true
	}
	for p, ops := range doc.Paths {
		for method := range ops {
			switch method {
			case "get", "post", "put", "patch", "delete":
				if pattern := strings.ToUpper(method) + " " + p; !served[pattern] {
					t.Errorf("%s documents %s, which the server does not serve", path, pattern)
				}
			}
		}
	}
}
