package main

import (
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vowprivacy/vow/internal/testdb"
	"github.com/vowprivacy/vow/policy"
	"github.com/vowprivacy/vow/state"
)

// TestScanDemo: on the demo, whose policy promises no card numbers, a
// clean database passes check --live --scan; card numbers planted in
// scan findings' titles and a token pasted into a file path are found by
// a full scan, the cards as an error at the column's line (exit 1), and
// vow scan lists them, masked, in text and JSON.
func TestScanDemo(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "demo")
	data := filepath.Join(t.TempDir(), "data")
	if code, _, errOut := vow(t, "demo", "--dir", dir, "--data-dir", data); code != 0 {
		t.Fatalf("demo: %s", errOut)
	}
	pol := filepath.Join(dir, "vow.yaml")
	if code, out, errOut := vow(t, "check", "--live", "--scan", pol); code != 0 {
		t.Fatalf("check --live --scan of the clean demo: %d\n%s%s", code, out, errOut)
	}
	testdb.Exec(t, "sqlite", filepath.Join(dir, "app.db"), `
UPDATE findings SET title = 'Hardcoded test card 4111-1111-1111-1111 in fixtures' WHERE id IN (3, 42);
UPDATE findings SET file_path = 'config/prod.env: GITHUB_TOKEN=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' WHERE id = 4;`)

	code, out, errOut := vow(t, "check", "--live", "--scan", "--full", pol)
	if code != 1 || !strings.Contains(out, "vow.yaml:131:11: error: app:findings.title holds payment card (user.financial.credit_card) (2 of ") {
		t.Errorf("check --live --scan --full: exit %d\n%s%s\nwant exit 1 and the cards at findings.title", code, out, errOut)
	}
	if !strings.Contains(out, "[secret-in-data]") || !strings.Contains(out, "app:findings.file_path") {
		t.Errorf("the pasted token is not reported:\n%s", out)
	}
	if code, out, errOut := vow(t, "check", "--scan", pol); code != 2 || !strings.Contains(errOut, "with --live") {
		t.Errorf("--scan without --live: %d %s %s", code, out, errOut)
	}

	code, out, errOut = vow(t, "scan", "--full", "--table", "app:findings", pol)
	if code != 0 || !strings.Contains(out, "app:findings.title") || !strings.Contains(out, "•••• •••• •••• 1111") || !strings.Contains(out, "scanned 1 table(s)") {
		t.Errorf("vow scan: %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = vow(t, "scan", "--table", "app:users", "--format", "json", pol)
	var rep struct {
		Sample  int
		Systems []struct {
			Name   string
			Tables []struct {
				Name    string
				Method  string
				Rows    int
				Columns []struct {
					Name     string
					Findings []struct{ Category, Example string }
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 0 {
		t.Fatalf("scan --format json: %d %v\n%s%s", code, err, out, errOut)
	}
	if len(rep.Systems) != 1 || len(rep.Systems[0].Tables) != 1 || rep.Systems[0].Tables[0].Rows == 0 {
		t.Fatalf("scan of app:users: %+v", rep)
	}
	for _, c := range rep.Systems[0].Tables[0].Columns {
		for _, f := range c.Findings {
			if strings.Contains(f.Example, "@") && !strings.Contains(f.Example, "•") {
				t.Errorf("an unmasked example: %s %+v", c.Name, f)
			}
		}
	}
	if strings.Contains(out, ".example\"") && strings.Contains(out, "@") {
		for _, line := range strings.Split(out, "\n") {
			if strings.Contains(line, "@") && !strings.Contains(line, "•") {
				t.Errorf("the JSON report shows a value: %s", line)
			}
		}
	}
}

// TestScheduledScan: the scan vow serve runs on its schedule records its
// outcome in the audit log — errors and warnings by code and policy line,
// never a value — and an instance that finds a recent scan on record
// does not scan again.
func TestScheduledScan(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "demo")
	data := filepath.Join(t.TempDir(), "data")
	if code, _, errOut := vow(t, "demo", "--dir", dir, "--data-dir", data); code != 0 {
		t.Fatalf("demo: %s", errOut)
	}
	testdb.Exec(t, "sqlite", filepath.Join(dir, "app.db"), `UPDATE users SET name = 'card 4111 1111 1111 1111' WHERE id <= 3;`)
	p, _, err := policy.Load(filepath.Join(dir, "vow.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	store, err := state.Open(t.Context(), filepath.Join(t.TempDir(), "vow.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	env := &serveEnv{Policy: p, PolicyFile: p.File, Store: store, Logger: slog.New(slog.DiscardHandler), ScanEvery: time.Hour, ScanFull: true}
	for range 2 {
		if err := scanOnce(t.Context(), env); err != nil {
			t.Fatal(err)
		}
	}
	evs, err := store.Events(t.Context(), state.EventFilter{Kind: "scan.completed"})
	if err != nil || len(evs) != 1 {
		t.Fatalf("%d scans recorded (%v); want 1: the second finds the first on record", len(evs), err)
	}
	var got struct {
		Errors int
		Found  []struct {
			Code string
			Path string
			Line int
		}
	}
	if err := json.Unmarshal(evs[0].Data, &got); err != nil {
		t.Fatal(err)
	}
	if got.Errors != 1 || len(got.Found) == 0 || got.Found[0].Code != "forbidden-data" || got.Found[0].Path != "systems.app.tables.users.fields.name" || got.Found[0].Line == 0 {
		t.Errorf("recorded %s; want one forbidden-data error at users.name", evs[0].Data)
	}
	if strings.Contains(string(evs[0].Data), "4111") || strings.Contains(string(evs[0].Data), "1111") {
		t.Errorf("the record holds the value: %s", evs[0].Data)
	}
}

// TestScanUnknownTable: a --table that names nothing fails, rather than
// pass a check that scanned nothing.
func TestScanUnknownTable(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "demo")
	if code, _, errOut := vow(t, "demo", "--dir", dir, "--data-dir", filepath.Join(t.TempDir(), "data")); code != 0 {
		t.Fatalf("demo: %s", errOut)
	}
	pol := filepath.Join(dir, "vow.yaml")
	for _, args := range [][]string{
		{"scan", "--table", "app:usres", pol},
		{"check", "--live", "--scan", "--table", "ap", pol},
	} {
		if code, _, errOut := vow(t, args...); code != 2 || !strings.Contains(errOut, "names no table") {
			t.Errorf("%v: exit %d, %s; want a refusal naming the table", args, code, errOut)
		}
	}
}
