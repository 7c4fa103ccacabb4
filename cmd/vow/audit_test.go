package main

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/vowprivacy/vow/keyring"
)

// TestAuditCommands: a command that appends leaves the log sealed; verify
// catches a changed entry and exits 1; a whole export verifies elsewhere
// with the public key alone; prune has a dry run.
func TestAuditCommands(t *testing.T) {
	t.Setenv(keyring.EnvVar, "")
	valid, err := os.ReadFile("../../policy/testdata/valid.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if _, err := keyring.Load(data, nil); err != nil {
		t.Fatal(err)
	}
	policyFile := writeFile(t, dir, "vow.yaml", string(valid))
	for range 3 {
		if code, _, errOut := vow(t, "check", "--record", policyFile, "--data-dir", data); code != 0 {
			t.Fatalf("check: code %d, err %q", code, errOut)
		}
	}
	code, out, errOut := vow(t, "audit", "verify", "--data-dir", data)
	if code != 0 || !strings.Contains(out, "3 entries (#1–#3)") || !strings.Contains(out, "sealed through #3") || !strings.Contains(out, "verified") {
		t.Fatalf("verify: code %d, out %q, err %q; want 3 entries sealed through #3 by the commands that wrote them", code, out, errOut)
	}

	export := filepath.Join(dir, "audit.jsonl")
	if code, _, errOut := vow(t, "audit", "export", "-o", export, "--data-dir", data); code != 0 {
		t.Fatalf("export: code %d, err %q", code, errOut)
	}
	if code, _, errOut := vow(t, "audit", "export", "-o", export, "--data-dir", data); code != 2 || !strings.Contains(errOut, "never overwrites") {
		t.Errorf("export over an existing file: code %d, err %q; want a refusal", code, errOut)
	}
	_, pub, _ := vow(t, "keys", "public", "--data-dir", data)
	elsewhere := t.TempDir()
	if code, out, errOut := vow(t, "audit", "verify", "--file", export, "--public-key", strings.TrimSpace(pub), "--data-dir", elsewhere); code != 0 || !strings.Contains(out, "verified") {
		t.Errorf("verify the export elsewhere: code %d, out %q, err %q", code, out, errOut)
	}
	if code, _, errOut := vow(t, "audit", "verify", "--file", export, "--data-dir", elsewhere); code != 2 || !strings.Contains(errOut, "--public-key") {
		t.Errorf("verify without any key: code %d, err %q; want a refusal naming --public-key", code, errOut)
	}

	if code, out, _ := vow(t, "audit", "prune", "--before", "2999-01-01", "--dry-run", "--data-dir", data); code != 0 || !strings.Contains(out, "would delete 3") {
		t.Errorf("prune dry run: code %d, out %q", code, out)
	}
	if code, _, errOut := vow(t, "audit", "prune", policyFile, "--data-dir", data); code != 2 || !strings.Contains(errOut, "retention.audit_log is not set") {
		t.Errorf("prune without a retention: code %d, err %q", code, errOut)
	}

	db, err := sql.Open("sqlite", filepath.Join(data, "vow.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(context.Background(), `UPDATE events SET actor = 'someone' WHERE seq = 2`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	code, out, _ = vow(t, "audit", "verify", "--data-dir", data)
	if code != 1 || !strings.Contains(out, "#2 changed") {
		t.Errorf("verify a changed log: code %d, out %q; want 1 and entry 2 named", code, out)
	}
	if code, _, errOut := vow(t, "audit", "prune", "--before", "2999-01-01", "--data-dir", data); code != 2 || !strings.Contains(errOut, "does not verify") {
		t.Errorf("prune a changed log: code %d, err %q; want a refusal", code, errOut)
	}
}
