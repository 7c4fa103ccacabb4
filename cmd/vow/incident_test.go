package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vowprivacy/vow/internal/openapitest"
	"github.com/vowprivacy/vow/keyring"
	"github.com/vowprivacy/vow/policy"
	"github.com/vowprivacy/vow/server"
)

// TestIncidentCLIAndAPI: an incident recorded from the command line is
// counted, drafted and closed, the API serves the same register to an
// admin token and names the field at fault, and the audit log verifies.
func TestIncidentCLIAndAPI(t *testing.T) {
	t.Setenv(keyring.EnvVar, "")
	dir := filepath.Join(t.TempDir(), "demo")
	data := filepath.Join(dir, "state")
	if code, _, errOut := vow(t, "demo", "--dir", dir, "--data-dir", data, "--format", "json"); code != 0 {
		t.Fatalf("demo: %d %s", code, errOut)
	}
	pol := filepath.Join(dir, "vow.yaml")
	run := func(want int, args ...string) string {
		t.Helper()
		code, out, errOut := vow(t, append(args, "--policy", pol, "--data-dir", data)...)
		if code != want {
			t.Fatalf("vow %s: code %d, want %d: %s %s", strings.Join(args, " "), code, want, out, errOut)
		}
		return out + errOut
	}
	out := run(0, "incident", "open", "--title", "Backup bucket readable by anyone", "--system", "app", "--category", "user.contact", "--format", "json")
	var inc struct {
		ID       string `json:"id"`
		Deadline string `json:"deadline"`
	}
	if err := json.Unmarshal([]byte(out), &inc); err != nil || !strings.HasPrefix(inc.ID, "inc_") {
		t.Fatalf("open: %v %s", err, out)
	}
	if out := run(2, "incident", "open", "--title", "x", "--system", "crm"); !strings.Contains(out, `no system "crm"`) {
		t.Errorf("unknown system: %s", out)
	}
	users := countRows(t, filepath.Join(dir, "app.db"), "users")
	if out := run(0, "incident", "assess", inc.ID); !strings.Contains(out, fmt.Sprintf("affected: about %d subjects", users)) {
		t.Errorf("assess: %s", out)
	}
	if out := run(0, "incident", "draft", inc.ID); !strings.Contains(out, "Art. 33(3)(a)") || !strings.Contains(out, "the draft is not complete") {
		t.Errorf("draft of an incomplete incident: %s", out)
	}
	if out := run(2, "incident", "close", inc.ID); !strings.Contains(out, "assess the risk first") {
		t.Errorf("close unassessed: %s", out)
	}
	run(0, "incident", "update", inc.ID, "--risk", "unlikely", "--consequences", "None: the bucket held encrypted archives only.", "--measures", "Public access removed; bucket policy audited.")
	if out := run(0, "incident", "show", inc.ID); !strings.Contains(out, "none (unlikely)") {
		t.Errorf("show: %s", out)
	}
	csvOut := run(0, "incident", "subjects", inc.ID)
	if n := strings.Count(csvOut, "\n"); n != users+1 || !strings.HasPrefix(csvOut, "kind,table,email,identities\ncustomer,app:users,") {
		t.Errorf("subjects: %d lines, starting %.80q", n, csvOut)
	}
	run(0, "incident", "close", inc.ID)
	if out := run(0, "incident", "list"); !strings.Contains(out, "no incidents") {
		t.Errorf("list after close: %s", out)
	}

	_, tokOut, _ := vow(t, "token", "create", "dpo", "--scope", "admin", "--data-dir", data, "--format", "json")
	var tok struct{ Secret string }
	_ = json.Unmarshal([]byte(tokOut), &tok)
	base := startServe(t, pol, "--data-dir", data, "--no-retention")
	call := func(method, path, body string) (int, string) {
		t.Helper()
		return httpCall(t, method, base+path, tok.Secret, body)
	}
	if code, body := call("POST", "/v1/incidents", `{"title":"x","categories":["user.shoe_size"]}`); code != 400 || !strings.Contains(body, `"field":"categories"`) {
		t.Errorf("POST bad category: %d %s", code, body)
	}
	code, body := call("POST", "/v1/incidents", `{"title":"Phished admin","systems":["app"],"risk":"high"}`)
	if code != 201 {
		t.Fatalf("POST: %d %s", code, body)
	}
	var created struct{ ID string }
	_ = json.Unmarshal([]byte(body), &created)
	if code, body := call("POST", "/v1/incidents/"+created.ID+"/close", ``); code != 409 || !strings.Contains(body, "incident_state") {
		t.Errorf("close before notifying: %d %s", code, body)
	}
	if code, body := call("GET", "/v1/incidents/"+created.ID+"/draft?to=subjects", ``); code != 200 || !strings.Contains(body, "Phished admin") {
		t.Errorf("draft: %d %s", code, body)
	}
	if code, body := call("GET", "/v1/incidents?all=true", ``); code != 200 || strings.Count(body, `"id":"inc_`) != 2 {
		t.Errorf("list: %d %s", code, body)
	}
	if code, body := call("GET", "/v1/incidents/inc_nope", ``); code != 404 {
		t.Errorf("unknown: %d %s", code, body)
	}
	if code, out, errOut := vow(t, "audit", "verify", "--data-dir", data); code != 0 || !strings.Contains(out, "verified") {
		t.Errorf("audit verify: %d %s %s", code, out, errOut)
	}
}

func countRows(t *testing.T, dbFile, table string) int {
	t.Helper()
	db, err := sql.Open("sqlite", dbFile)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(context.Background(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestIncidentOpenAPI: docs/openapi.yaml documents every incident route
// with its method and scope.
func TestIncidentOpenAPI(t *testing.T) {
	dir := t.TempDir()
	p, _, err := policy.Load("../../demo/vow.yaml")
	if err != nil {
		t.Fatal(err)
	}
	mux := server.NewMux(nil, nil)
	if err := mountIncidents(&serveEnv{Policy: p, PolicyFile: filepath.Join(dir, "vow.yaml")}, mux); err != nil {
		t.Fatal(err)
	}
	openapitest.Check(t, "../../docs/openapi.yaml", mux.Routes())
}
