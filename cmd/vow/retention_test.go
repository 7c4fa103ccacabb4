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
	"github.com/vowprivacy/vow/retention"
	"github.com/vowprivacy/vow/throttle"
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

func TestWriteReportThrottle(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name string
		st   *throttle.Stats
		want []string // in the rule's throttle line; nil: no line
	}{
		{"a throttle that never acted", &throttle.Stats{Batches: 4, MinSize: 1000, MaxSize: 8000}, nil},
		{"backed off", &throttle.Stats{Batches: 4, Backoffs: 1, MinSize: 500, MaxSize: 1000, Reason: "lock waits 5 ≥ 4"},
			[]string{"backed off after 1 of 4 batches", "last: lock waits 5 ≥ 4"}},
		{"a canary", &throttle.Stats{Batches: 4, MinSize: 1000, MaxSize: 8000, LatencyBase: ms, LatencyMax: 2 * ms},
			[]string{"canary median 1ms before the run, up to 2ms during batches"}},
		{"a canary's baseline taken again", &throttle.Stats{Batches: 400, MinSize: 1000, MaxSize: 8000, LatencyBase: 3 * ms, LatencyMax: 4 * ms, Rebaselines: 2},
			[]string{"canary median 3ms when last taken again (2 times in the run), up to 4ms during batches"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			writeReport(&b, &retention.Report{Rules: []retention.RuleResult{{Rule: "events", Status: retention.StatusDone, Throttle: tt.st}}})
			line := ""
			for l := range strings.Lines(b.String()) {
				if strings.HasPrefix(l, "events: throttled:") {
					line = l
				}
			}
			if tt.want == nil {
				if line != "" {
					t.Fatalf("a throttle line where none was due: %q", line)
				}
				return
			}
			for _, w := range tt.want {
				if !strings.Contains(line, w) {
					t.Errorf("throttle line %q lacks %q\nreport:\n%s", line, w, b.String())
				}
			}
		})
	}
}
