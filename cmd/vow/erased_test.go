package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vowprivacy/vow/internal/testdb"
	"github.com/vowprivacy/vow/keyring"
)

// TestErasedLeavesNoTrace: after a person has used everything in Vow that
// keeps their identity — consent, a policy acceptance and a change notice,
// an access request and its package — and is then erased, neither Vow's
// data directory (every byte of every file, the SQLite WAL included) nor
// its PostgreSQL state holds their email address in any case. The demo's
// own erased subject is looked for too.
func TestErasedLeavesNoTrace(t *testing.T) {
	t.Setenv(keyring.EnvVar, "")
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "demo")
			data := filepath.Join(dir, "state")
			common := []string{"--data-dir", data}
			pgURL := ""
			if backend == "postgres" {
				pgURL = testdb.Postgres(t)
				common = append(common, "--state", pgURL)
			}
			code, out, errOut := vow(t, append([]string{"demo", "--dir", dir, "--format", "json"}, common...)...)
			if code != 0 {
				t.Fatalf("demo: code %d, err %s", code, errOut)
			}
			var demo struct {
				Requests struct{ Subject string } `json:"requests"`
			}
			if err := json.Unmarshal([]byte(out), &demo); err != nil || demo.Requests.Subject == "" {
				t.Fatalf("demo output: %v; no erased subject", err)
			}
			email := anotherUser(t, filepath.Join(dir, "app.db"), demo.Requests.Subject)
			mixed := strings.ToUpper(email[:1]) + email[1:]
			policyFile := filepath.Join(dir, "vow.yaml")

			must := func(args ...string) string {
				t.Helper()
				code, out, errOut := vow(t, append(args, common...)...)
				if code != 0 {
					t.Fatalf("vow %s: code %d, out %s, err %s", strings.Join(args, " "), code, out, errOut)
				}
				return out
			}
			must("consent", "set", mixed, "analytics=granted", "--policy", policyFile)
			must("consent", "set", email, "marketing=denied", "--policy", policyFile)
			must("policy", "accept", mixed)
			list := writeFile(t, dir, "notify.txt", email+"\n")
			must("policy", "publish", filepath.Join(dir, "vow.next.yaml"), "--notify-list", list,
				"--effective", time.Now().AddDate(0, 0, 40).Format(time.DateOnly))
			must("request", "create", "--type", "access", "--email", mixed, "--trusted", "--run", "--policy", policyFile)
			must("request", "create", "--type", "erasure", "--email", email, "--trusted", "--run", "--policy", policyFile)

			// An auditor who holds the address still finds what Vow did
			// for them, and the log still verifies.
			found := must("audit", "export", "--identity", mixed)
			for _, want := range []string{`"kind":"request.received"`, `"kind":"request.completed"`, `"kind":"policy.accepted"`, `"kind":"consent.recorded"`} {
				if strings.Count(found, want) == 0 {
					t.Errorf("audit export --identity: no %s entry:\n%s", want, found)
				}
			}
			if strings.Count(found, `"kind":"request.received"`) != 2 {
				t.Errorf("audit export --identity: want both requests:\n%s", found)
			}
			if out := must("audit", "verify"); !strings.Contains(out, "verified") {
				t.Errorf("audit verify after the erasure: %s", out)
			}

			for _, who := range []string{email, demo.Requests.Subject} {
				for _, leak := range grepDir(t, data, who) {
					t.Errorf("%s is still in %s", who, leak)
				}
				if pgURL != "" {
					for _, leak := range grepPostgres(t, pgURL, who) {
						t.Errorf("%s is still in PostgreSQL state: %s", who, leak)
					}
				}
			}
		})
	}
}

// anotherUser is the email of a demo user other than not.
func anotherUser(t *testing.T, appDB, not string) string {
	t.Helper()
	db, err := sql.Open("sqlite", appDB)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var email string
	if err := db.QueryRowContext(context.Background(), `SELECT email FROM users WHERE email <> ? ORDER BY id LIMIT 1`, not).Scan(&email); err != nil {
		t.Fatal(err)
	}
	return email
}

// grepDir returns the files under dir whose bytes hold s, in any case.
func grepDir(t *testing.T, dir, s string) []string {
	t.Helper()
	needle := bytes.ToLower([]byte(s))
	var found []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if i := bytes.Index(bytes.ToLower(b), needle); i >= 0 {
			found = append(found, path+": "+context80(b, i))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

func context80(b []byte, i int) string {
	lo, hi := max(i-40, 0), min(i+40, len(b))
	return strings.Map(func(r rune) rune {
		if r < 32 || r > 126 {
			return '.'
		}
		return r
	}, string(b[lo:hi]))
}

// grepPostgres returns the tables of the state database with a row whose
// text holds s, in any case.
func grepPostgres(t *testing.T, url, s string) []string {
	t.Helper()
	ctx := context.Background()
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT quote_ident(table_name) FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, n)
	}
	rows.Close()
	if len(tables) < 10 {
		t.Fatalf("only %d tables in the state database", len(tables))
	}
	var found []string
	for _, tbl := range tables {
		var row sql.NullString
		err := db.QueryRowContext(ctx, `SELECT t::text FROM `+tbl+` t WHERE position(lower($1) in lower(t::text)) > 0 LIMIT 1`, s).Scan(&row)
		if err == nil {
			found = append(found, tbl+": "+row.String)
		} else if err != sql.ErrNoRows {
			t.Fatal(err)
		}
	}
	return found
}
