package state

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestShredSQLite: a value deleted while the store is open is in none of
// its files (database, write-ahead log) after Shred.
func TestShredSQLite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	s := open(t, filepath.Join(dir, "vow.db"))
	const needle = "ada.lovelace@example.com"
	if _, err := s.InitMeta(ctx, "who", needle); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().ExecContext(ctx, `DELETE FROM meta WHERE key = 'who'`); err != nil {
		t.Fatal(err)
	}
	grep := func() []string {
		var found []string
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
			if bytes.Contains(b, []byte(needle)) {
				found = append(found, e.Name())
			}
		}
		return found
	}
	if len(grep()) == 0 {
		t.Fatal("the value was never on disk: the test proves nothing")
	}
	if err := s.Shred(ctx); err != nil {
		t.Fatal(err)
	}
	if found := grep(); len(found) > 0 {
		t.Fatalf("after Shred the deleted value is still in %v", found)
	}
}

// TestAppendLockInMigration: vow_audit_append takes the same advisory lock
// as the store's other appenders (chainLegacy).
func TestAppendLockInMigration(t *testing.T) {
	b, err := migrations.ReadFile("migrations/postgres/00008_audit_chain.sql")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(fmt.Sprintf("pg_advisory_xact_lock(%d)", appendLockID))) {
		t.Fatalf("vow_audit_append does not lock appendLockID %d", appendLockID)
	}
}

// TestAppendAfterClose: an append to a closed store fails, and never
// hangs; one whose context has ended is not queued.
func TestAppendAfterClose(t *testing.T) {
	t.Parallel()
	for _, started := range []bool{false, true} {
		s := open(t, filepath.Join(t.TempDir(), "vow.db"))
		if started {
			if _, err := s.Append(context.Background(), Event{Kind: "k"}); err != nil {
				t.Fatal(err)
			}
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := s.Append(ctx, Event{Kind: "k"}); err == nil {
			t.Errorf("started=%v: an append with an ended context succeeded", started)
		}
		s.Close()
		done := make(chan error, 1)
		go func() { _, err := s.Append(context.Background(), Event{Kind: "k"}); done <- err }()
		select {
		case err := <-done:
			if err == nil {
				t.Errorf("started=%v: an append to a closed store succeeded", started)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("started=%v: an append to a closed store hangs", started)
		}
	}
}

// TestShredReportsBusy: a reader holding the write-ahead log makes Shred
// fail, rather than claim the erased values are gone.
func TestShredReportsBusy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "vow.db")
	s := open(t, path)
	if _, err := s.InitMeta(ctx, "who", "someone@example.com"); err != nil {
		t.Fatal(err)
	}
	reader := open(t, path)
	tx, err := reader.DB().BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM meta`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().ExecContext(ctx, `DELETE FROM meta WHERE key = 'who'`); err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := s.Shred(sctx); err == nil {
		t.Fatal("Shred succeeded while a reader held the log")
	}
}

// TestStateFilesPrivate: the state's directory and database files are
// readable by their owner only, whatever the umask.
func TestStateFilesPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s := open(t, filepath.Join(dir, "vow.db"))
	if _, err := s.Append(context.Background(), Event{Kind: "k"}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("data directory mode %v (%v); want 0700", fi.Mode().Perm(), err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v; want no access for group or others", e.Name(), fi.Mode().Perm())
		}
	}
}
