package demo

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vowprivacy/vow/policy"
)

func TestGenerate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	res, err := Generate(context.Background(), dir, 1, now)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, r := range res.Rows {
		total += r.Rows
	}
	if len(res.Rows) != 11 || total < 50000 {
		t.Fatalf("rows: %+v (total %d)", res.Rows, total)
	}
	// Deterministic: a second run writes the same rows.
	res2, err := Generate(context.Background(), dir, 1, now)
	if err != nil {
		t.Fatal(err)
	}
	for i := range res.Rows {
		if res.Rows[i] != res2.Rows[i] {
			t.Fatalf("not deterministic: %+v vs %+v", res.Rows[i], res2.Rows[i])
		}
	}
	if _, ds, err := policy.Load(res.Policy); err != nil || len(ds) != 0 {
		t.Fatalf("demo policy: %v %v", err, ds)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, DatabaseFile)+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Retention needs something to do: some closed accounts are past the
	// 30-day grace period and some audit logs are older than 12 months.
	var expiredOrgs, oldLogs int
	if err := db.QueryRow(`SELECT count(*) FROM organizations WHERE deleted_at < ?`, now.AddDate(0, 0, -30)).Scan(&expiredOrgs); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`SELECT count(*) FROM audit_logs WHERE created_at < ?`, now.AddDate(-1, 0, 0)).Scan(&oldLogs); err != nil {
		t.Fatal(err)
	}
	if expiredOrgs == 0 || oldLogs == 0 {
		t.Fatalf("nothing expired: %d orgs, %d logs", expiredOrgs, oldLogs)
	}
}

// TestGenerateSparesOthersFiles: the demo never replaces what it did not
// write — someone's own app.db or vow.yaml, or /; it replaces only an
// earlier demo, and refuses a size below 1.
func TestGenerateSparesOthersFiles(t *testing.T) {
	ctx := context.Background()
	mine := t.TempDir()
	for name, body := range map[string]string{"app.db": "my own database", "vow.yaml": "my own policy"} {
		if err := os.WriteFile(filepath.Join(mine, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Generate(ctx, mine, 1, time.Now()); err == nil || !strings.Contains(err.Error(), "did not write") {
		t.Fatalf("Generate over someone's files = %v; want a refusal", err)
	}
	for name, body := range map[string]string{"app.db": "my own database", "vow.yaml": "my own policy"} {
		if b, _ := os.ReadFile(filepath.Join(mine, name)); string(b) != body {
			t.Errorf("%s was changed", name)
		}
	}
	if _, err := Generate(ctx, "/", 1, time.Now()); err == nil {
		t.Error("Generate wrote into /")
	}
	again := filepath.Join(t.TempDir(), "demo")
	for range 2 {
		if _, err := Generate(ctx, again, 1, time.Now()); err != nil {
			t.Fatalf("Generate into its own directory: %v", err)
		}
	}
	for _, size := range []Size{0, -1} {
		if _, err := Generate(ctx, t.TempDir(), size, time.Now()); err == nil {
			t.Errorf("size %d accepted", size)
		}
	}
}
