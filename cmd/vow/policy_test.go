package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vowprivacy/vow/internal/testdb"
	"github.com/vowprivacy/vow/internal/testsmtp"
)

func TestRender(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pol := demoPolicy(t, dir)
	out := filepath.Join(dir, "privacy.html")
	tests := []struct {
		name     string
		args     []string
		code     int
		contains []string
	}{
		{"markdown", []string{"render", pol}, 0, []string{"# Privacy policy — Lumen", "## How long we keep it", "| 12 months after it is created |"}},
		{"summary", []string{"render", "--format", "summary", pol}, 0, []string{"# Privacy at a glance — Lumen", "we answer within 30 days"}},
		{"html to file", []string{"render", "--format", "html", "-o", out, pol}, 0, nil},
		{"bad format", []string{"render", "--format", "pdf", pol}, 2, []string{"--format must be md, html or summary"}},
		{"missing file", []string{"render", filepath.Join(dir, "nope.yaml")}, 2, []string{"no such file"}},
		{"bad templates", []string{"render", "--templates", dir, "--lang", "bad", pol}, 2, []string{"messages.yaml"}},
	}
	if err := os.MkdirAll(filepath.Join(dir, "bad"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "bad"), "messages.yaml", "title: [not, a, string]\n")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := vow(t, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tc.code, stdout, stderr)
			}
			for _, c := range tc.contains {
				if !strings.Contains(stdout+stderr, c) {
					t.Errorf("output lacks %q:\n%s%s", c, stdout, stderr)
				}
			}
			if tc.code == 2 && strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
				t.Errorf("want a one-line error, got:\n%s", stderr)
			}
		})
	}
	b, err := os.ReadFile(out)
	if err != nil || !strings.Contains(string(b), `<html lang="en">`) {
		t.Errorf("-o wrote %d bytes: %v", len(b), err)
	}
}

// TestPolicyCommands runs publish, accept, diff, list and notify through
// the CLI on SQLite and PostgreSQL state stores, with the real SMTP sink.
func TestPolicyCommands(t *testing.T) {
	t.Parallel()
	sink := testsmtp.Start(t)
	for name, stateURL := range map[string]func(t *testing.T, dir string) string{
		"sqlite":   func(t *testing.T, dir string) string { return filepath.Join(dir, "state.db") },
		"postgres": func(t *testing.T, dir string) string { return testdb.Postgres(t) },
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			pol := demoPolicy(t, dir)
			common := []string{"--state", stateURL(t, dir), "--data-dir", filepath.Join(dir, "data")}
			run := func(args ...string) (int, string, string) {
				t.Helper()
				return vow(t, append(args, common...)...)
			}
			must := func(args ...string) string {
				t.Helper()
				code, out, errOut := run(args...)
				if code != 0 {
					t.Fatalf("vow %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
				}
				return out
			}
			if out := must("policy", "list"); !strings.Contains(out, "No version published yet") {
				t.Errorf("list before publishing: %s", out)
			}
			if out := must("policy", "publish", pol); !strings.Contains(out, "Published v1") {
				t.Errorf("publish: %s", out)
			}
			if code, _, errOut := run("policy", "publish", pol); code != 2 || !strings.Contains(errOut, "unchanged") {
				t.Errorf("publishing again: %d %s", code, errOut)
			}
			ana := "ana-cli-" + name + "@policy.example"
			if out := must("policy", "accept", ana, "--source", "signup"); !strings.Contains(out, "accepted v1") {
				t.Errorf("accept: %s", out)
			}

			src, _ := os.ReadFile(pol)
			next := writeFile(t, dir, "next.yaml", strings.Replace(strings.Replace(string(src), "keep: 12 months", "keep: 24 months", 1), "minimum_age: 16", "minimum_age: 18", 1))
			code, out, _ := run("policy", "diff", "v1", next)
			if code != 1 || !strings.Contains(out, "MATERIAL We will keep audit logs for 24 months instead of 12 months.") || !strings.Contains(out, "rises from 16 to 18") {
				t.Errorf("diff v1 next.yaml: %d\n%s", code, out)
			}
			if code, out, _ := run("policy", "diff", pol, pol); code != 0 || !strings.Contains(out, "no change in meaning") {
				t.Errorf("diff of a file with itself: %d %s", code, out)
			}
			if code, _, errOut := run("policy", "diff", "v1", "v7"); code != 2 || !strings.Contains(errOut, "neither a policy file nor a published version") {
				t.Errorf("diff with an unknown version: %d %s", code, errOut)
			}

			out = must("policy", "publish", next, "--format", "json")
			var pub struct {
				Version struct {
					ID, Effective string
					Material      bool
				}
				NoticesScheduled int `json:"notices_scheduled"`
			}
			if err := json.Unmarshal([]byte(out), &pub); err != nil || pub.Version.ID != "v2" || !pub.Version.Material || pub.NoticesScheduled != 1 {
				t.Fatalf("publish v2: %s (%v)", out, err)
			}
			if out := must("policy", "list"); !strings.Contains(out, "v1 (current)") || !strings.Contains(out, "2 (material)") {
				t.Errorf("list: %s", out)
			}
			// The notice is due 30 days before v2 takes effect: today.
			if out := must("policy", "notify", "--dry-run"); !strings.Contains(out, "due     v2 email   "+ana) {
				t.Errorf("notify --dry-run: %s", out)
			}
			smtp := "--smtp=smtp://" + sink.Addr() + "?from=privacy@lumen.example"
			if out := must("policy", "notify", smtp, "--base-url", "https://lumen.example"); !strings.Contains(out, "sent    v2 email   "+ana) {
				t.Errorf("notify: %s", out)
			}
			ms := sink.WaitFor(t, ana)
			if len(ms) != 1 || !strings.Contains(ms[0].Text, "We will keep audit logs for 24 months instead of 12 months.") {
				t.Errorf("notice mail: %+v", ms)
			}
			if out := must("policy", "notify", smtp); !strings.Contains(out, "No notice is due") {
				t.Errorf("notify again: %s", out)
			}
		})
	}
}

func TestServePolicy(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pol := demoPolicy(t, dir)
	common := []string{"--state", filepath.Join(dir, "state.db"), "--data-dir", filepath.Join(dir, "data")}
	if code, out, errOut := vow(t, append([]string{"policy", "publish", pol}, common...)...); code != 0 {
		t.Fatalf("publish: %s %s", out, errOut)
	}
	base := startServe(t, append([]string{pol}, common...)...)
	for path, want := range map[string]string{
		"/privacy":             "Version v1",
		"/privacy/policy.md":   "# Privacy policy — Lumen",
		"/privacy/versions":    `"id": "v1"`,
		"/privacy/versions/v1": "<html lang=\"en\">",
	} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("GET %s (no token) = %d, want 200 containing %q", path, resp.StatusCode, want)
		}
	}

	// Acceptances through the API need a consent token.
	code, out, errOut := vow(t, append([]string{"token", "create", "app", "--scope", "consent", "--format", "json"}, common...)...)
	if code != 0 {
		t.Fatalf("token: %s %s", out, errOut)
	}
	var tok struct{ Secret string }
	if err := json.Unmarshal([]byte(out), &tok); err != nil {
		t.Fatal(err)
	}
	call := func(method, path, token, body string) (int, string) {
		t.Helper()
		return httpCall(t, method, base+path, token, body)
	}
	if code, _ := call("POST", "/v1/policy/acceptances", "", `{"subject":"a@example.com"}`); code != 401 {
		t.Errorf("accept without a token: %d", code)
	}
	if code, body := call("POST", "/v1/policy/acceptances", tok.Secret, `{"subject":"a@example.com","source":"signup"}`); code != 200 || !strings.Contains(body, `"version":"v1"`) {
		t.Errorf("accept: %d %s", code, body)
	}
	if code, body := call("POST", "/v1/policy/acceptances", tok.Secret, `{"subject":"a@example.com","version":"v9"}`); code != 400 || !strings.Contains(body, `"field":"version"`) {
		t.Errorf("accept an unknown version: %d %s", code, body)
	}
	if code, body := call("POST", "/v1/policy/acceptances", tok.Secret, `{"subject":" "}`); code != 400 || !strings.Contains(body, `"field":"subject"`) {
		t.Errorf("accept without a subject: %d %s", code, body)
	}
	if code, body := call("GET", "/v1/policy/acceptances/a@example.com", tok.Secret, ""); code != 200 || !strings.Contains(body, `"source":"signup"`) {
		t.Errorf("list acceptances: %d %s", code, body)
	}
	// The file a version was published from is the data map: tables,
	// columns, environment variables. The company's admins only.
	if code, _ := call("GET", "/privacy/versions/1/vow.yaml", "", ""); code != 401 {
		t.Errorf("the policy source without a token: %d, want 401", code)
	}
	code, out, _ = vow(t, append([]string{"token", "create", "dpo", "--scope", "admin", "--format", "json"}, common...)...)
	var admin struct{ Secret string }
	if err := json.Unmarshal([]byte(out), &admin); code != 0 || err != nil {
		t.Fatalf("admin token: %s", out)
	}
	if code, body := call("GET", "/privacy/versions/1/vow.yaml", admin.Secret, ""); code != 200 || !strings.Contains(body, "organization:") {
		t.Errorf("the policy source for an admin: %d %.80s", code, body)
	}
	req, _ := http.NewRequest("GET", base+"/privacy/versions/1/vow.yaml", nil)
	req.Header.Set("Authorization", "Bearer "+admin.Secret)
	if resp, err := http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
		if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") || strings.Contains(cc, "public") {
			t.Errorf("the admin-only source is sent with Cache-Control %q; no shared cache may keep it", cc)
		}
	}
}
