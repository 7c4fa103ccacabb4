package demo

import (
	"context"
	"database/sql"
	"path/filepath"
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
