package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vowprivacy/vow/demo"
)

func TestRetentionCLI(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	res, err := demo.Generate(context.Background(), dir, 1, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	common := []string{"--data-dir", filepath.Join(dir, "data"), "--state", filepath.Join(dir, "state.db")}
	vowIn := func(args ...string) (int, string, string) {
		return vow(t, append(args, common...)...)
	}
	code, out, errOut := vowIn("retention", "plan", "--format", "json", res.Policy)
	if code != 0 {
		t.Fatalf("plan: code %d: %s", code, errOut)
	}
	var plan struct {
		Rules []struct {
			Rule       string
			Rows, Held int64
			Statements []string
		}
	}
	if err := json.Unmarshal([]byte(out), &plan); err != nil {
		t.Fatal(err)
	}
	if len(plan.Rules) != 6 || plan.Rules[0].Rows == 0 || len(plan.Rules[0].Statements) == 0 {
		t.Fatalf("plan: %+v", plan)
	}
	code, out, _ = vowIn("retention", "plan", "--rule", "closed accounts", res.Policy)
	if code != 0 || !strings.Contains(out, "kept under legal hold") || !strings.Contains(out, "§147 AO") {
		t.Errorf("text plan: %d\n%s", code, out)
	}
	code, out, _ = vowIn("hold", "add", "email:nobody@example.com", "--reason", "Litigation", "--by", "legal")
	if code != 0 || !strings.Contains(out, "placed hold_") {
		t.Fatalf("hold add: %d %s", code, out)
	}
	id := strings.Fields(out)[1]
	code, out, _ = vowIn("retention", "run", "--batch", "2000", res.Policy)
	if code != 0 || !strings.Contains(out, "free-plan findings") || !strings.Contains(out, "ok,") {
		t.Fatalf("run: %d\n%s", code, out)
	}
	code, out, _ = vowIn("retention", "run", "--format", "json", res.Policy)
	var rep struct {
		Status string
		Rules  []struct{ Rows int64 }
	}
	if err := json.Unmarshal([]byte(out), &rep); code != 0 || err != nil || rep.Status != "ok" {
		t.Fatalf("second run: %d %v %s", code, err, out)
	}
	for _, r := range rep.Rules {
		if r.Rows != 0 {
			t.Errorf("second run removed rows: %s", out)
		}
	}
	code, out, _ = vowIn("retention", "history", "--format", "json")
	if code != 0 || strings.Count(out, `"id": "ret_`) != 2 {
		t.Errorf("history: %d %s", code, out)
	}
	if code, out, _ = vowIn("hold", "release", id, "--note", "settled"); code != 0 {
		t.Errorf("release: %d %s", code, out)
	}
	if code, out, _ = vowIn("hold", "list"); code != 0 || !strings.Contains(out, "no legal holds") {
		t.Errorf("list: %d %s", code, out)
	}
	if code, _, errOut = vowIn("hold", "add", "ada@example.com", "--reason", "x"); code != 2 || !strings.Contains(errOut, "kind:value") {
		t.Errorf("bad subject: %d %s", code, errOut)
	}

	// A condition the database rejects: exit 1, the rule's file:line.
	src, _ := os.ReadFile(res.Policy)
	bad := writeFile(t, dir, "bad.yaml", strings.Replace(string(src), "where: deleted_at IS NOT NULL", "where: deleted_att IS NOT NULL", 1))
	code, out, _ = vowIn("retention", "plan", bad)
	if code != 1 || !strings.Contains(out, "bad.yaml:") || !strings.Contains(out, "rejects") {
		t.Errorf("bad where: %d\n%s", code, out)
	}

	// An error in the retention rules stops a run, at its file:line.
	broken := writeFile(t, dir, "broken.yaml", strings.Replace(string(src), "table: app:audit_logs", "table: app:audit_log", 1))
	code, _, errOut = vowIn("retention", "run", broken)
	if code != 2 || !strings.Contains(errOut, "broken.yaml:") || !strings.Contains(errOut, "audit_log") {
		t.Errorf("broken rule: %d %s", code, errOut)
	}
}
