// Package demo builds Vow's demonstration: a realistic sample database for
// Lumen, a fictional security-scanning SaaS (organizations, users, projects,
// scans and findings, cloud credentials, API tokens, audit logs, invoices,
// email preferences), and the vow.yaml that declares it. Generation is
// deterministic, so the demo prints the same numbers on every machine.
package demo

import (
	"context"
	"database/sql"
	_ "embed"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Policy is the demo's vow.yaml.
//
//go:embed vow.yaml
var Policy []byte

// Files names what Generate writes.
const (
	PolicyFile   = "vow.yaml"
	DatabaseFile = "app.db"
)

// Marker marks a directory as the demo's: Generate replaces what an
// earlier demo wrote there, and refuses a directory holding anything
// else — someone's own app.db or vow.yaml.
const Marker = ".vow-demo"

// claim makes dir the demo's: a new or empty directory, or one an earlier
// demo made.
func claim(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case os.IsNotExist(err):
	case err != nil:
		return fmt.Errorf("demo: %w", err)
	case len(entries) > 0:
		if _, err := os.Stat(filepath.Join(dir, Marker)); err != nil {
			return fmt.Errorf("demo: %s holds files the demo did not write (%s, …): give --dir a new or empty directory, or one an earlier demo made; nothing was changed", dir, entries[0].Name())
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, Marker), []byte("written by vow demo; the demo replaces what it wrote here\n"), 0o644); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	return nil
}

// Result reports what Generate wrote.
type Result struct {
	Dir      string
	Policy   string
	Database string
	// Rows is the number of rows per table, in creation order.
	Rows []TableRows
}

// TableRows is a row count.
type TableRows struct {
	Table string
	Rows  int
}

// Size scales the sample: 1 is the default (about 60k rows).
type Size int

// Generate writes the demo into dir, replacing an earlier demo there. now
// anchors the sample timestamps, so that some rows are past their
// retention period.
func Generate(ctx context.Context, dir string, size Size, now time.Time) (*Result, error) {
	if size < 1 {
		return nil, fmt.Errorf("demo: size %d: give 1 (about 60k rows) or more", size)
	}
	if err := claim(dir); err != nil {
		return nil, err
	}
	dbPath := filepath.Join(dir, DatabaseFile)
	for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
		if err := os.Remove(dbPath + suffix); err != nil && !os.IsNotExist(err) {
			return nil, fmt.Errorf("demo: remove old database: %w", err)
		}
	}
	policyPath := filepath.Join(dir, PolicyFile)
	if err := os.WriteFile(policyPath, Policy, 0o644); err != nil {
		return nil, fmt.Errorf("demo: write policy: %w", err)
	}
	db, err := sql.Open("sqlite", "file:"+dbPath+"?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)")
	if err != nil {
		return nil, fmt.Errorf("demo: open database: %w", err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, schema); err != nil {
		return nil, fmt.Errorf("demo: create schema: %w", err)
	}
	g := &generator{rng: rand.New(rand.NewPCG(2026, 11)), now: now.UTC().Truncate(time.Second), size: int(size)}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	defer tx.Rollback()
	rows, err := g.fill(ctx, tx)
	if err != nil {
		return nil, fmt.Errorf("demo: fill: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("demo: commit: %w", err)
	}
	return &Result{Dir: dir, Policy: policyPath, Database: dbPath, Rows: rows}, nil
}

const schema = `
CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL);
CREATE TABLE organizations (
  id INTEGER PRIMARY KEY, name TEXT NOT NULL, plan TEXT NOT NULL CHECK (plan IN ('free','team','enterprise')),
  billing_email TEXT NOT NULL, created_at TIMESTAMP NOT NULL, deleted_at TIMESTAMP);
CREATE TABLE users (
  id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT NOT NULL, password_hash TEXT NOT NULL,
  last_login_ip TEXT, created_at TIMESTAMP NOT NULL, deleted_at TIMESTAMP,
  processing_restricted INTEGER NOT NULL DEFAULT 0);
CREATE INDEX users_email_lower ON users(lower(email));
CREATE TABLE memberships (
  org_id INTEGER NOT NULL REFERENCES organizations(id), user_id INTEGER NOT NULL REFERENCES users(id),
  role TEXT NOT NULL, created_at TIMESTAMP NOT NULL, PRIMARY KEY (org_id, user_id));
CREATE TABLE projects (
  id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL REFERENCES organizations(id), name TEXT NOT NULL,
  repo_url TEXT, created_at TIMESTAMP NOT NULL);
CREATE TABLE scans (
  id INTEGER PRIMARY KEY, project_id INTEGER NOT NULL REFERENCES projects(id), triggered_by INTEGER REFERENCES users(id),
  status TEXT NOT NULL, created_at TIMESTAMP NOT NULL, finished_at TIMESTAMP);
CREATE INDEX scans_created_at ON scans(created_at);
CREATE TABLE findings (
  id INTEGER PRIMARY KEY, scan_id INTEGER NOT NULL REFERENCES scans(id), severity TEXT NOT NULL,
  title TEXT NOT NULL, file_path TEXT, created_at TIMESTAMP NOT NULL);
CREATE INDEX findings_created_at ON findings(created_at);
CREATE TABLE cloud_credentials (
  id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL REFERENCES organizations(id), provider TEXT NOT NULL,
  access_key_id TEXT NOT NULL, secret_ciphertext BLOB NOT NULL, created_by INTEGER REFERENCES users(id), created_at TIMESTAMP NOT NULL);
CREATE TABLE api_tokens (
  id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id), name TEXT NOT NULL, token_hash TEXT NOT NULL,
  last_used_ip TEXT, created_at TIMESTAMP NOT NULL, expires_at TIMESTAMP);
CREATE TABLE audit_logs (
  id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL REFERENCES organizations(id), actor_id INTEGER REFERENCES users(id),
  action TEXT NOT NULL, ip_address TEXT, user_agent TEXT, created_at TIMESTAMP NOT NULL);
CREATE INDEX audit_logs_created_at ON audit_logs(created_at);
CREATE TABLE invoices (
  id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL REFERENCES organizations(id), amount_cents INTEGER NOT NULL,
  currency TEXT NOT NULL, billing_name TEXT NOT NULL, billing_address TEXT NOT NULL, vat_number TEXT, issued_at TIMESTAMP NOT NULL);
CREATE TABLE email_preferences (
  user_id INTEGER PRIMARY KEY REFERENCES users(id), product_updates INTEGER NOT NULL, marketing INTEGER NOT NULL,
  updated_at TIMESTAMP NOT NULL);
`
