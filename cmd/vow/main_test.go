package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/vowprivacy/vow/dsr"
	"github.com/vowprivacy/vow/internal/testdb"
)

// vow runs the command line in-process and returns exit code and output.
func vow(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestVersion(t *testing.T) {
	code, out, _ := vow(t, "version")
	if code != 0 || !strings.HasPrefix(out, "vow ") {
		t.Fatalf("code %d, out %q", code, out)
	}
}

func TestCheck(t *testing.T) {
	valid, err := os.ReadFile("../../policy/testdata/valid.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	good := writeFile(t, dir, "good.yaml", string(valid))
	bad := writeFile(t, dir, "bad.yaml", strings.Replace(string(valid), "retention:", "retension:", 1))
	broken := writeFile(t, dir, "broken.yaml", "version: 1\norganization: [unclosed\n")
	tests := []struct {
		name     string
		args     []string
		code     int
		contains []string
	}{
		{"valid", []string{"check", good}, 0, []string{"good.yaml: policy OK"}},
		{"unknown key", []string{"check", bad}, 1, []string{"bad.yaml:54:1: error: unknown key \"retension\" in the policy, did you mean \"retention\"?", "  54 | retension:", "1 error(s)"}},
		{"syntax", []string{"check", broken}, 1, []string{"broken.yaml:", "[syntax]"}},
		{"missing file", []string{"check", filepath.Join(dir, "nope.yaml")}, 2, []string{"no such file"}},
		{"bad format flag", []string{"check", "--format", "xml", good}, 2, []string{"--format must be text or json"}},
		{"categories", []string{"check", "--categories"}, 0, []string{"user.contact.email", "user.financial.credit_card"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := vow(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out, errOut)
			}
			all := out + errOut
			for _, c := range tc.contains {
				if !strings.Contains(all, c) {
					t.Errorf("output lacks %q:\n%s", c, all)
				}
			}
			if tc.code == 2 && strings.Count(strings.TrimSpace(errOut), "\n") > 0 {
				t.Errorf("want a one-line error, got:\n%s", errOut)
			}
		})
	}
}

func TestCheckJSON(t *testing.T) {
	dir := t.TempDir()
	bad := writeFile(t, dir, "vow.yaml", "version: 1\norganization: {name: X, contacts: {privacy: p@x.example}}\nsystems:\n  app: {kind: postgress, connection: {env: X}}\n")
	code, out, _ := vow(t, "check", "--format", "json", bad)
	if code != 1 {
		t.Fatalf("exit %d", code)
	}
	var res checkJSON
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if res.Valid || res.Errors != 1 || res.Diagnostics[0].Code != "unknown-value" || res.Diagnostics[0].Pos.Line != 4 {
		t.Fatalf("unexpected: %+v", res)
	}
}

// eventNumber finds "recorded as event #N" in the demo's output.
func eventNumber(t *testing.T, out string) int {
	t.Helper()
	m := regexp.MustCompile(`recorded as event #(\d+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no event number in:\n%s", out)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// TestDemoThenInit runs the demo, then scaffolds a policy from the demo's
// database and checks it live: the starter policy must describe the
// database exactly (no drift), even though it leaves decisions to make.
func TestDemoThenInit(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	code, out, errOut := vow(t, "demo", "--dir", dir)
	if code != 0 {
		t.Fatalf("demo exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"0 error(s), 0 warning(s)", "Data map of Lumen Security GmbH", "app:users", "recorded as event #1"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
	// The demo leaves no live API token behind.
	if _, list, _ := vow(t, "token", "list", "--data-dir", filepath.Join(dir, "state"), "--state", filepath.Join(dir, "state", "vow.db"), "--format", "json"); !strings.Contains(list, `"revoked_at"`) || !strings.Contains(list, "demo-") {
		t.Errorf("tokens after the demo: %s; want its token revoked", list)
	}
	// A second run replaces the database and appends to the same store:
	// its check is recorded after everything the first run recorded.
	first := eventNumber(t, out)
	code, out, _ = vow(t, "demo", "--dir", dir)
	if code != 0 || eventNumber(t, out) <= first {
		t.Fatalf("second demo: exit %d, check recorded as event #%d after #%d\n%s", code, eventNumber(t, out), first, out)
	}

	starter := filepath.Join(dir, "starter.yaml")
	code, out, errOut = vow(t, "init", "--from", filepath.Join(dir, "app.db"), "-o", starter)
	if code != 0 {
		t.Fatalf("init exit %d\n%s%s", code, out, errOut)
	}
	if code, _, errOut := vow(t, "init", "--from", filepath.Join(dir, "app.db"), "-o", starter); code != 2 || !strings.Contains(errOut, "--force") {
		t.Fatalf("init over an existing file: %d %s", code, errOut)
	}
	// Unedited, the starter passes the live check; what it leaves to a
	// human are warnings, and no command acts on it until then.
	code, out, _ = vow(t, "check", "--live", "--format", "json", starter)
	var res checkJSON
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if code != 0 || res.Errors != 0 {
		t.Errorf("check --live of the unedited starter: exit %d, %d error(s)", code, res.Errors)
	}
	for _, d := range res.Diagnostics {
		switch d.Code {
		case "no-retention", "no-erasure-strategy", "starter-policy":
			// decisions the starter leaves to a human
		default:
			t.Errorf("starter policy: %s", d)
		}
	}
	for _, args := range [][]string{
		{"request", "plan", "--policy", starter, "--email", "a@example.com"},
		{"retention", "plan", starter},
		{"render", starter},
	} {
		if code, _, errOut := vow(t, args...); code != 2 || !strings.Contains(errOut, "is a starter policy") {
			t.Errorf("%v on a starter: exit %d, %s; want it refused", args[:2], code, errOut)
		}
	}
	if len(res.Systems) != 1 || !res.Systems[0].Reachable {
		t.Fatalf("live check did not reach the database: %+v", res.Systems)
	}
}

func TestCheckLiveErrors(t *testing.T) {
	dir := t.TempDir()
	pol := writeFile(t, dir, "vow.yaml", `version: 1
organization: {name: X, contacts: {privacy: p@x.example}}
purposes: {service: {legal_basis: contract, essential: true}}
systems:
  app:
    kind: postgres
    connection: {env: VOW_TEST_UNSET_DSN}
    tables:
      users: {fields: {id: system.operations}}
  other:
    kind: postgres
    connection: {env: VOW_TEST_DOWN_DSN}
    tables:
      users: {fields: {id: system.operations}}
  files:
    kind: sqlite
    connection: {path: missing.db}
    tables:
      users: {fields: {id: system.operations}}
`)
	t.Setenv("VOW_TEST_DOWN_DSN", "postgres://postgres:hunter2@127.0.0.1:1/app?connect_timeout=2")
	code, out, _ := vow(t, "check", "--live", pol)
	if code != 1 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	for _, want := range []string{"environment variable VOW_TEST_UNSET_DSN is not set", "live check of system other", "live check of system files", "[unreachable]"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "hunter2") {
		t.Errorf("password leaked:\n%s", out)
	}
}

func TestInitFromPostgres(t *testing.T) {
	dsn := testdb.Postgres(t)
	testdb.Exec(t, "postgres", dsn, `
CREATE TABLE customers (id bigserial PRIMARY KEY, email text NOT NULL, full_name text, created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers(id), total numeric, ip inet, created_at timestamptz NOT NULL);`)
	out := filepath.Join(t.TempDir(), "vow.yaml")
	if code, o, e := vow(t, "init", "--from", dsn, "-o", out, "--env", "SHOP_DSN"); code != 0 {
		t.Fatalf("init: %d %s %s", code, o, e)
	}
	src, _ := os.ReadFile(out)
	for _, want := range []string{"email: {category: user.contact.email, identity: email}", "customer_id: {category: user.unique_id, references: customers.id}", "ip: user.device.ip_address", "env: SHOP_DSN"} {
		if !strings.Contains(string(src), want) {
			t.Errorf("starter lacks %q:\n%s", want, src)
		}
	}
	if strings.Contains(string(src), dsn) {
		t.Error("the DSN was written into the policy")
	}
}

// TestStateOnBothStores records a check into a SQLite and a PostgreSQL
// state store and reads it back with `vow state`.
func TestStateOnBothStores(t *testing.T) {
	valid := filepath.Join("..", "..", "policy", "testdata", "valid.yaml")
	for _, tc := range []struct{ name, url string }{
		{"sqlite", filepath.Join(t.TempDir(), "state", "vow.db")},
		{"postgres", testdb.Postgres(t)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code, out, errOut := vow(t, "check", "--record", "--state", tc.url, valid); code != 0 {
				t.Fatalf("check: %d %s %s", code, out, errOut)
			}
			code, out, errOut := vow(t, "state", "--state", tc.url, "--format", "json")
			if code != 0 {
				t.Fatalf("state: %d %s", code, errOut)
			}
			var res struct {
				Dialect string
				Version int64
				Events  []struct{ Kind, Actor string }
			}
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatal(err, out)
			}
			if res.Dialect != tc.name || res.Version < 1 || len(res.Events) != 1 || res.Events[0].Kind != "policy.checked" {
				t.Fatalf("state: %+v", res)
			}
		})
	}
}

// TestPolicyFlagEverywhere: every command takes --policy; a policy file
// given as an argument where a command takes none is answered with that
// convention; with --format json the error is JSON too.
func TestPolicyFlagEverywhere(t *testing.T) {
	valid, err := os.ReadFile("../../policy/testdata/valid.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pol := writeFile(t, dir, "mine.yaml", string(valid))
	if code, out, errOut := vow(t, "check", "--policy", pol); code != 0 || !strings.Contains(out, "mine.yaml: policy OK") {
		t.Errorf("check --policy: %d %s %s", code, out, errOut)
	}
	code, _, errOut := vow(t, "request", "plan", pol, "--email", "a@example.com", "--data-dir", dir)
	if code != 2 || !strings.Contains(errOut, "--policy FILE") {
		t.Errorf("a policy file as an argument of request plan: %d %s; want the --policy hint", code, errOut)
	}
	code, _, errOut = vow(t, "request", "list", "--policy", filepath.Join(dir, "nope.yaml"), "--format", "json", "--data-dir", dir)
	var e struct {
		Error struct{ Message string } `json:"error"`
	}
	if code != 2 || json.Unmarshal([]byte(errOut), &e) != nil || !strings.Contains(e.Error.Message, "nope.yaml") {
		t.Errorf("an error with --format json: %d %q; want a JSON error naming the file", code, errOut)
	}
}

// TestRequestHelpListsTypes: the help of vow request and of --type names
// every request type there is.
func TestRequestHelpListsTypes(t *testing.T) {
	_, long, _ := vow(t, "request", "--help")
	_, create, _ := vow(t, "request", "create", "--help")
	for _, typ := range dsr.Types {
		if !strings.Contains(long, string(typ)) || !strings.Contains(create, string(typ)) {
			t.Errorf("request help does not name %s", typ)
		}
	}
}
