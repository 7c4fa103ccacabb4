package versions

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/vowprivacy/vow/audit"
	"github.com/vowprivacy/vow/identity"
)

// Erased says what [Service.Erase] did.
type Erased struct {
	// Acceptances counts the acceptances now kept under the pseudonym.
	Acceptances int64 `json:"acceptances"`
	// Notices counts the notices to the person: those not yet sent are
	// deleted, those sent are kept under the pseudonym.
	Notices int64 `json:"notices"`
}

// Erase removes a person from the policy's records, as part of their
// erasure. Their acceptances stay, as proof of what they agreed to, under
// the pseudonym the audit log names them by (audit.Subject), so that
// whoever can name them again can still show it; notices to them that
// are not yet sent are deleted, and those sent keep only the pseudonym.
// An email address is matched in any case. Erasing twice is harmless.
func (s *Service) Erase(ctx context.Context, value string) (Erased, error) {
	var e Erased
	if s.Keys == nil {
		return e, errNoKeys
	}
	v := identity.Canonical(value)
	if v == "" {
		return e, fmt.Errorf("versions: erase: the subject is empty")
	}
	ps := audit.Subject(s.Keys, v)
	match := func(col string) string { return col + ` = ?` }
	if _, err := identity.Normalize(identity.Email, v); err == nil {
		// Stored as given (Ada@Example.com); v is lower-cased.
		match = func(col string) string { return `lower(` + col + `) = ?` }
	}
	tx, err := s.Store.DB().BeginTx(ctx, nil)
	if err != nil {
		return e, s.Store.Wrap(err, "versions: erase")
	}
	defer func() { _ = tx.Rollback() }()
	// Two spellings of the address may have accepted one version: the
	// pseudonym keeps the first acceptance, and the rest go.
	if err := s.moveAcceptances(ctx, tx, match("subject"), v, ps, &e); err != nil {
		return Erased{}, err
	}
	for _, st := range []struct {
		q    string
		args []any
	}{
		{`DELETE FROM policy_notices WHERE channel = 'email' AND status <> 'sent' AND ` + match("recipient"), []any{v}},
		{`UPDATE policy_notices SET recipient = ?, last_error = '' WHERE channel = 'email' AND ` + match("recipient"), []any{ps, v}},
	} {
		res, err := tx.ExecContext(ctx, s.Store.Rebind(st.q), st.args...)
		if err != nil {
			return Erased{}, s.Store.Wrap(err, "versions: erase")
		}
		n, _ := res.RowsAffected()
		e.Notices += n
	}
	if err := tx.Commit(); err != nil {
		return Erased{}, s.Store.Wrap(err, "versions: erase")
	}
	return e, nil
}

// moveAcceptances files the acceptances whose subject matches v under ps,
// one per version: the earliest, unless ps holds one already.
func (s *Service) moveAcceptances(ctx context.Context, tx *sql.Tx, cond, v, ps string, e *Erased) error {
	rows, err := tx.QueryContext(ctx, s.Store.Rebind(`SELECT subject, version_id FROM policy_acceptances WHERE `+cond+` ORDER BY accepted_at, subject`), v)
	if err != nil {
		return s.Store.Wrap(err, "versions: erase")
	}
	type acc struct{ subject, version string }
	var found []acc
	for rows.Next() {
		var a acc
		if err := rows.Scan(&a.subject, &a.version); err != nil {
			rows.Close()
			return s.Store.Wrap(err, "versions: erase")
		}
		found = append(found, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return s.Store.Wrap(err, "versions: erase")
	}
	for _, a := range found {
		res, err := tx.ExecContext(ctx, s.Store.Rebind(`UPDATE policy_acceptances SET subject = ? WHERE subject = ? AND version_id = ? AND NOT EXISTS (
			SELECT 1 FROM policy_acceptances o WHERE o.subject = ? AND o.version_id = ?)`), ps, a.subject, a.version, ps, a.version)
		if err != nil {
			return s.Store.Wrap(err, "versions: erase")
		}
		if n, _ := res.RowsAffected(); n > 0 {
			e.Acceptances += n
			continue
		}
		if _, err := tx.ExecContext(ctx, s.Store.Rebind(`DELETE FROM policy_acceptances WHERE subject = ? AND version_id = ?`), a.subject, a.version); err != nil {
			return s.Store.Wrap(err, "versions: erase")
		}
	}
	return nil
}
