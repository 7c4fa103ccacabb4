package dsr_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vowprivacy/vow/apitoken"
	"github.com/vowprivacy/vow/server"
)

// TestAPI drives the requests API of vow serve over HTTP.
func TestAPI(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "sqlite")
	tokens := apitoken.New(f.store)
	_, secret, err := tokens.Create(t.Context(), "backend", []string{apitoken.ScopeRequests})
	if err != nil {
		t.Fatal(err)
	}
	_, consentOnly, err := tokens.Create(t.Context(), "banner", []string{apitoken.ScopeConsent})
	if err != nil {
		t.Fatal(err)
	}
	mux := server.NewMux(tokens, slog.New(slog.DiscardHandler))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	f.svc.Mount(mux, srv.URL)

	call := func(method, path, token, body string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		b, _ := io.ReadAll(resp.Body)
		json.Unmarshal(b, &out)
		return resp.StatusCode, out
	}
	errField := func(out map[string]any) string {
		e, _ := out["error"].(map[string]any)
		s, _ := e["field"].(string)
		return s
	}

	// Bad input: 400 naming the field; no token or the wrong scope: refused.
	bad := []struct {
		body, field string
	}{
		{`{"type":"access","identities":{"email":"nope"},"verification":"trusted"}`, "identities.email"},
		{`{"type":"delete-me","identities":{"email":"a@b.example"}}`, "type"},
		{`{"type":"access","identities":{"email":"a@b.example"},"colour":"red"}`, "colour"},
		{`{"type":"access","identities":"a@b.example"}`, "identities"},
		{`{"type":"rectification","identities":{"user_id":"1"},"verification":"trusted"}`, "changes"},
	}
	for _, b := range bad {
		if code, out := call("POST", "/v1/requests", secret, b.body); code != 400 || errField(out) != b.field {
			t.Errorf("POST %s = %d %v, want 400 on %s", b.body, code, out, b.field)
		}
	}
	if code, _ := call("POST", "/v1/requests", "", `{}`); code != 401 {
		t.Errorf("no token: %d, want 401", code)
	}
	if code, _ := call("POST", "/v1/requests", consentOnly, `{}`); code != 403 {
		t.Errorf("consent-scoped token: %d, want 403", code)
	}

	code, out := call("POST", "/v1/requests", secret, `{"type":"access","identities":{"email":"ada@example.com"},"verification":"trusted"}`)
	if code != 201 || out["status"] != "executing" || out["created_by"] != "backend" {
		t.Fatalf("create = %d %v", code, out)
	}
	id := out["id"].(string)
	if _, err := f.svc.Run(t.Context(), id, nil); err != nil {
		t.Fatal(err)
	}
	if code, out = call("GET", "/v1/requests/"+id, secret, ""); code != 200 || out["status"] != "completed" {
		t.Fatalf("get = %d %v", code, out)
	}
	if code, _ = call("GET", "/v1/requests/req_missing", secret, ""); code != 404 {
		t.Errorf("unknown request: %d, want 404", code)
	}
	code, out = call("GET", "/v1/requests/"+id+"/export-link", secret, "")
	if code != 200 {
		t.Fatalf("export-link = %d %v", code, out)
	}
	link := out["url"].(string)
	resp, err := http.Get(link) // no token: the link is the authorisation
	if err != nil {
		t.Fatal(err)
	}
	zipData, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/zip" {
		t.Fatalf("download = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if zr, err := zip.NewReader(bytes.NewReader(zipData), int64(len(zipData))); err != nil || len(zr.File) < 3 {
		t.Errorf("downloaded package: %v", err)
	}
	if resp, _ := http.Get(link + "x"); resp.StatusCode != 404 {
		t.Errorf("forged link: %d, want 404", resp.StatusCode)
	}
	f.svc.Now = func() time.Time { return time.Now().Add(8 * 24 * time.Hour) }
	if resp, _ := http.Get(link); resp.StatusCode != 410 {
		t.Errorf("expired link: %d, want 410", resp.StatusCode)
	}
	f.svc.Now = nil
	// A link whose package is gone (purged, or its person erased) is
	// 410, not a 500.
	entries, _ := os.ReadDir(f.exports)
	for _, e := range entries {
		_ = os.Remove(filepath.Join(f.exports, e.Name()))
	}
	if resp, _ := http.Get(link); resp.StatusCode != 410 {
		t.Errorf("link to a deleted package: %d, want 410", resp.StatusCode)
	}
	if code, _ := call("GET", "/v1/requests?overdue=maybe", secret, ""); code != 400 {
		t.Errorf("?overdue=maybe: %d, want 400", code)
	}

	code, out = call("POST", "/v1/requests", secret, `{"type":"erasure","identities":{"user_id":"2"},"verification":"trusted"}`)
	if code != 201 {
		t.Fatalf("create erasure = %d %v", code, out)
	}
	eid := out["id"].(string)
	if code, _ = call("GET", "/v1/requests/"+eid+"/certificate", secret, ""); code != 409 {
		t.Errorf("certificate before completion: %d, want 409", code)
	}
	if _, err := f.svc.Run(t.Context(), eid, nil); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", srv.URL+"/v1/requests/"+eid+"/certificate", nil)
	req.Header.Set("Authorization", "Bearer "+secret)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(cert), `"signature"`) {
		t.Errorf("certificate = %s", cert)
	}
	if code, out = call("POST", "/v1/requests/"+eid+"/cancel", secret, `{"reason":"late"}`); code != 409 {
		t.Errorf("cancel a completed request: %d %v, want 409", code, out)
	}
	if code, out = call("GET", "/v1/requests?status=completed", secret, ""); code != 200 || len(out["requests"].([]any)) != 2 {
		t.Errorf("list = %d %v", code, out)
	}
	if code, out = call("GET", "/v1/requests?status=bogus", secret, ""); code != 400 || errField(out) != "status" {
		t.Errorf("list bad status = %d %v", code, out)
	}
}
