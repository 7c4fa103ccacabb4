package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/vowprivacy/vow/dsr"
)

// demoRequests picks one of Lumen's users, answers their access request
// with a package, then erases them and verifies the certificate.
func demoRequests(cmd *cobra.Command, a *app, env *demoEnv) (any, error) {
	ctx := cmd.Context()
	k, err := a.openKeyring(cmd, env.DataDir, env.Store)
	if err != nil {
		return nil, err
	}
	// The demo sends no email: its requests are trusted.
	svc, err := requestService(env.Policy, env.Store, k, env.Dir, env.DataDir, "", a.logger, false, nil)
	if err != nil {
		return nil, err
	}
	email, err := demoSubject(ctx, filepath.Join(env.Dir, "app.db"))
	if err != nil {
		return nil, err
	}
	ids := dsr.Identities{"email": email}
	out := map[string]any{"subject": email}
	text := a.format == "text"

	access, err := svc.Create(ctx, dsr.NewRequest{Type: dsr.Access, Identities: ids, Verification: dsr.VerifyTrusted, CreatedBy: "vow demo"})
	if err != nil {
		return nil, err
	}
	if access, err = svc.Run(ctx, access.ID, nil); err != nil {
		return nil, err
	}
	pkg := filepath.Join(svc.ExportDir, access.Result.Export)
	out["access"] = access
	if text {
		fmt.Fprintf(a.stdout, "%s asks for a copy of their data (request %s, due %s).\n", email, access.ID, access.Deadline.Format("2006-01-02"))
		fmt.Fprintf(a.stdout, "  %s: %s\n", access.Status, access.Result.Message)
		fmt.Fprintf(a.stdout, "  package: %s (one JSON file per table, manifest.json, index.html)\n\n", pkg)
	}

	erasure, err := svc.Create(ctx, dsr.NewRequest{Type: dsr.Erasure, Identities: ids, Verification: dsr.VerifyTrusted, CreatedBy: "vow demo"})
	if err != nil {
		return nil, err
	}
	if text {
		fmt.Fprintf(a.stdout, "Then they ask to be forgotten (request %s):\n", erasure.ID)
	}
	if erasure, err = svc.Run(ctx, erasure.ID, nil); err != nil {
		return nil, err
	}
	certFile := filepath.Join(env.Dir, "erasure-certificate.json")
	if err := os.WriteFile(certFile, erasure.Result.Certificate, 0o644); err != nil {
		return nil, err
	}
	c, err := dsr.VerifyCertificate(erasure.Result.Certificate, k.PublicKey())
	if err != nil {
		return nil, err
	}
	out["erasure"] = erasure
	if !text {
		return out, nil
	}
	fmt.Fprintf(a.stdout, "  %s: %s\n", erasure.Status, erasure.Result.Message)
	for _, t := range c.Tables {
		if t.Rows == 0 {
			continue
		}
		line := fmt.Sprintf("    %-24s %-8s %5d rows", t.System+":"+t.Table, t.Action, t.Rows)
		if t.Reason != "" {
			line += " — " + t.Reason
		}
		fmt.Fprintln(a.stdout, line)
	}
	if _, err := os.Stat(pkg); errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(a.stdout, "  Vow forgets them too: the access package above is deleted, and no request keeps their email.\n")
	}
	fmt.Fprintf(a.stdout, "  certificate: %s, signed by key %s, verified\n", certFile, k.ID())
	fmt.Fprintf(a.stdout, "  check it yourself: go run ./cmd/vow certificate verify %s --data-dir %s\n", certFile, env.DataDir)
	return out, nil
}

// demoSubject picks the most active user of the demo database who is
// not also an organization's billing contact, so the erasure shows every
// strategy on one person.
func demoSubject(ctx context.Context, path string) (string, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return "", err
	}
	defer db.Close()
	var email string
	err = db.QueryRowContext(ctx, `SELECT u.email FROM users u
		WHERE u.deleted_at IS NULL AND u.email NOT IN (SELECT billing_email FROM organizations WHERE billing_email IS NOT NULL)
		ORDER BY (SELECT count(*) FROM audit_logs l WHERE l.actor_id = u.id) DESC, u.id LIMIT 1`).Scan(&email)
	if err != nil {
		return "", fmt.Errorf("demo: pick a subject: %w", err)
	}
	return email, nil
}
